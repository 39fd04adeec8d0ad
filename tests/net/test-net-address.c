/* test-net-address.c: host:port parsing, smtplib's rule plus IPv6 brackets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libmailkit/mailkit.h>

#include "mk-test-utils.h"

typedef struct
{
  const char *address;
  const char *host; /* NULL: an error is expected */
  guint16 port;
} AddressCase;

static const AddressCase cases[] = {
  /* smtplib: one colon splits, the rest is the port */
  { "mail.example", "mail.example", 25 },
  { "mail.example:2525", "mail.example", 2525 },
  { "127.0.0.1:587", "127.0.0.1", 587 },
  { "mail.example:0", "mail.example", 25 }, /* port 0: the default, as smtplib */
  { "mail.example:", NULL, 0 },             /* smtplib: "nonnumeric port" */
  { "mail.example:smtp", NULL, 0 },
  { "mail.example:+25", NULL, 0 }, /* stricter than Python's int() */
  { "mail.example: 25", NULL, 0 },
  { "mail.example:65536", NULL, 0 },
  { "mail.example:123456", NULL, 0 },
  { "mail.example:65535", "mail.example", 65535 },
  { ":25", NULL, 0 },
  /* several colons: an IPv6 address, never split (smtplib's rule too) */
  { "::1", "::1", 25 },
  { "2001:db8::1", "2001:db8::1", 25 },
  { "fe80::1%eth0", "fe80::1%eth0", 25 },
  /* brackets: how a port goes with IPv6 */
  { "[::1]:2525", "::1", 2525 },
  { "[::1]", "::1", 25 },
  { "[2001:db8::1]:465", "2001:db8::1", 465 },
  { "[::1]:", NULL, 0 },
  { "[::1]x", NULL, 0 },
  { "[::1", NULL, 0 },
  { "[]:25", NULL, 0 },
  /* a unix socket path is never split */
  { "/run/dovecot/lmtp", "/run/dovecot/lmtp", 0 },
  { "/tmp/odd:name", "/tmp/odd:name", 0 },
  { "", NULL, 0 },
};

static void
test_table (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *host = NULL;
      guint16 port = 1;
      gboolean ok;

      g_test_message ("address “%s”", cases[i].address);
      ok = mk_net_parse_host_port (cases[i].address, 25, &host, &port, &error);
      if (cases[i].host == NULL)
        {
          g_assert_false (ok);
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
          g_assert_null (host);
          g_assert_cmpuint (port, ==, 1);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpstr (host, ==, cases[i].host);
          g_assert_cmpuint (port, ==, cases[i].port);
        }
    }
}

static void
test_error_names_input (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;

  g_assert_false (mk_net_parse_host_port ("mail.example:x25", 25, &host, &port, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Nonnumeric port"));
  g_assert_nonnull (strstr (error->message, "mail.example:x25"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/address/table", test_table);
  g_test_add_func ("/net/address/error-names-input", test_error_names_input);
  return g_test_run ();
}
