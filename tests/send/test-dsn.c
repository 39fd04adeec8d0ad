/* test-dsn.c: DSN (RFC 3461), REQUIRETLS (RFC 8689) and BINARYMIME
 * (RFC 3030) against the scripted fault server, which records the exact
 * commands sent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/smtp/mk-smtp-client-private.h"
#include "mk-test-fault-server.h"
#include "mk-test-utils.h"

#define GREETING "S: 220 fault.example ESMTP\n"

static MkSmtpClient *
connect_client (MkFaultServer *server)
{
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (client, "timeout", 10.0 * mk_test_time_scale (), NULL);
  reply = mk_smtp_client_connect (client, mk_fault_server_get_address (server),
                                  mk_fault_server_get_port (server), NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

static void
quit (MkSmtpClient *client)
{
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = mk_smtp_client_quit (client, NULL, &error);
  g_assert_no_error (error);
}

static void
assert_server_happy (MkFaultServer *server)
{
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
}

/* ---- the transaction's per-recipient parameters --------------------------- */

static gboolean
write_hello (GOutputStream *stream, gpointer user_data, GCancellable *cancellable, GError **error)
{
  return g_output_stream_write_all (stream, "Subject: x\r\n\r\nhello\r\n", 21, NULL, cancellable,
                                    error);
}

static gboolean
step_per_recipient (MkSmtpClient *client, gpointer data, GCancellable *cancellable, GError **error)
{
  static const char *const to[]
      = { "a@example.org", "b@example.org", "a@example.org", "c@example.org", NULL };
  static const char *const a[] = { "NOTIFY=NEVER", NULL };
  static const char *const b[] = { "NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;b@example.org", NULL };
  static const char *const again[] = { "NOTIFY=DELAY", NULL };
  static const char *const *const own[] = { a, b, again, NULL };
  static const char *const every[] = { "X-EVERY", NULL };

  return mk_smtp_client_run_transaction_full (client, "s@example.org", to, NULL, every, own, -1,
                                              write_hello, NULL, NULL, cancellable, error);
}

static void
test_per_recipient_options (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new (GREETING "C: EHLO *\nS: 250-fault.example\nS: 250 DSN\n"
                                      "C: MAIL FROM:<s@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<a@example.org> X-EVERY NOTIFY=NEVER\nS: 250 ok\n"
                                      "C: RCPT TO:<b@example.org> X-EVERY NOTIFY=SUCCESS,FAILURE "
                                      "ORCPT=rfc822;b@example.org\nS: 250 ok\n"
                                      "C: RCPT TO:<c@example.org> X-EVERY\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 ok\n"
                                      "C: QUIT\nS: 221 bye\nCLOSE\n",
                             NULL);
  g_autoptr (MkSmtpClient) client = connect_client (server);
  g_autoptr (GError) error = NULL;

  g_assert_true (mk_smtp_client_run_step (client, step_per_recipient, NULL, NULL, &error));
  g_assert_no_error (error);
  quit (client);
  assert_server_happy (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();
  g_test_add_func ("/dsn/transaction/per-recipient", test_per_recipient_options);
  return g_test_run ();
}
