/* test-auth-non-loopback.c: no cleartext password to a host that is not loopback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Hostile-peers rule 9, catalogue T53 (Go's CVE-2017-15042 rule, msmtp's):
 * over a plaintext connection to a host that is not loopback, PLAIN, LOGIN
 * and XOAUTH2 are refused before a byte of AUTH is written
 * (MK_SMTP_ERROR_TLS, DESIGN.md "Errors by layer"), unless the caller sets
 * allow-plaintext-auth; mechanisms that send no cleartext secret (CRAM-MD5,
 * SCRAM) are allowed, and login() picks them over a cleartext one the
 * policy refuses.
 *
 * Every other test listens on loopback, where the rule does not apply. This
 * program first moves itself into a network namespace of its own (so it
 * needs root or CAP_SYS_ADMIN: without them it fails, it never skips),
 * brings up `lo` there and gives it documentation addresses (RFC 5737
 * 192.0.2.25, RFC 3849 2001:db8::25). The fault server listens on those:
 * not loopback addresses to the client, yet nothing can leave the
 * namespace.
 */
#include "config.h"

/* unshare() and CLONE_NEWNET */
#define _GNU_SOURCE

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "test-client-util.h"

#define NON_LOOPBACK_IPV4 "192.0.2.25"
#define NON_LOOPBACK_IPV6 "2001:db8::25"

#define USER "user"
#define PASSWORD "secret"
/* base64 ("\0user\0secret"), RFC 4616 */
#define PLAIN_RESPONSE "AHVzZXIAc2VjcmV0"
/* RFC 2195's example challenge */
#define CRAM_CHALLENGE "<1896.697170952@example>"

#define GREETING "S: 220 mail.example ESMTP\n"

typedef struct
{
  const char *address; /* where the fault server listens */
  MkFaultServerListen family;
  Mode mode;
} Target;

static MkFaultServer *
server_on (const Target *target, const char *script)
{
  MkFaultServerOptions options = { 0 };

  options.listen = target->family;
  options.listen_address = target->address;
  return mk_fault_server_new (script, &options);
}

/* A client that read @server's greeting; the scripts end with the client
 * closing (EOF). */
static MkSmtpClient *
connect_to (MkFaultServer *server, gboolean allow_plaintext_auth, Mode mode)
{
  MkSmtpClient *client = mk_smtp_client_new ();
  g_autoptr (GError) error = NULL;

  g_object_set (client, "local-hostname", "client.example", "timeout", 10 * mk_test_time_scale (),
                "allow-plaintext-auth", allow_plaintext_auth, NULL);
  mk_smtp_reply_unref (t_connect_server (client, server, mode, &error));
  g_assert_no_error (error);
  return client;
}

/* login() and auth() with each cleartext mechanism: refused by policy,
 * and not one byte of AUTH on the wire. */
static void
test_cleartext_refused (gconstpointer data)
{
  const Target *target = data;
  static const char *const mechanisms[] = { "PLAIN", "LOGIN", "XOAUTH2" };
  g_autoptr (MkFaultServer) server = server_on (target, GREETING "C: EHLO client.example\n"
                                                                 "S: 250-mail.example\n"
                                                                 "S: 250 AUTH PLAIN LOGIN XOAUTH2\n"
                                                                 "EOF\n");
  g_autoptr (MkSmtpClient) client = connect_to (server, FALSE, target->mode);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  reply = t_login (client, USER, PASSWORD, target->mode, &error);
  g_assert_null (reply);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS);
  g_assert_nonnull (strstr (error->message, target->address));
  g_assert_null (strstr (error->message, PASSWORD));
  g_clear_error (&error);
  for (gsize i = 0; i < G_N_ELEMENTS (mechanisms); i++)
    {
      reply = t_auth (client, mechanisms[i], USER, PASSWORD, target->mode, &error);
      g_assert_null (reply);
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS);
      g_clear_error (&error);
    }
  g_assert_true (mk_smtp_client_is_connected (client));
  mk_smtp_client_close (client);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "EHLO client.example\r\n");
}

/* The caller's explicit opt-in lets PLAIN through. */
static void
test_cleartext_allowed (gconstpointer data)
{
  const Target *target = data;
  g_autoptr (MkFaultServer) server
      = server_on (target, GREETING "C: EHLO client.example\n"
                                    "S: 250-mail.example\n"
                                    "S: 250 AUTH PLAIN LOGIN XOAUTH2\n"
                                    "C: AUTH PLAIN " PLAIN_RESPONSE "\n"
                                    "S: 235 2.7.0 ok\n"
                                    "EOF\n");
  g_autoptr (MkSmtpClient) client = connect_to (server, TRUE, target->mode);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  reply = t_login (client, USER, PASSWORD, target->mode, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
  mk_smtp_client_close (client);
  t_server_done (server);
}

/* No cleartext secret, no refusal: login() passes over PLAIN (refused by
 * the policy) to CRAM-MD5 rather than fail; SCRAM's first message goes out
 * (its refusal is an authentication error, not a TLS one). */
static void
test_no_cleartext_secret (gconstpointer data)
{
  const Target *target = data;
  g_autofree char *challenge
      = g_base64_encode ((const guchar *)CRAM_CHALLENGE, strlen (CRAM_CHALLENGE));
  g_autofree char *digest = g_compute_hmac_for_string (G_CHECKSUM_MD5, (const guchar *)PASSWORD,
                                                       strlen (PASSWORD), CRAM_CHALLENGE, -1);
  g_autofree char *answer = g_strconcat (USER, " ", digest, NULL);
  g_autofree char *response = g_base64_encode ((const guchar *)answer, strlen (answer));
  g_autofree char *script
      = g_strdup_printf (GREETING "C: EHLO client.example\n"
                                  "S: 250-mail.example\n"
                                  "S: 250 AUTH PLAIN CRAM-MD5 LOGIN\n"
                                  "C: AUTH CRAM-MD5\n"
                                  "S: 334 %s\n"
                                  "C: %s\n"
                                  "S: 235 ok\n"
                                  "EOF\n---\n" GREETING "C: EHLO client.example\n"
                                  "S: 250-mail.example\n"
                                  "S: 250 AUTH SCRAM-SHA-256 PLAIN\n"
                                  "C: AUTH SCRAM-SHA-256*\n"
                                  "S: 535 5.7.8 no\n"
                                  "EOF\n",
                         challenge, response);
  g_autoptr (MkFaultServer) server = server_on (target, script);
  g_autoptr (GError) error = NULL;
  MkSmtpClient *client;
  MkSmtpReply *reply;

  client = connect_to (server, FALSE, target->mode);
  reply = t_login (client, USER, PASSWORD, target->mode, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
  mk_smtp_reply_unref (reply);
  g_object_unref (client);

  client = connect_to (server, FALSE, target->mode);
  reply = t_login (client, USER, PASSWORD, target->mode, &error);
  g_assert_null (reply);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
  g_object_unref (client);
  t_server_done (server);
}

/* Runs @argv (ip …), failing the test if it does not succeed. */
static void
run (const char *const *argv)
{
  g_autofree char *command = g_strjoinv (" ", (char **)argv);
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    g_error ("%s: %s %s", command, error->message, err != NULL ? err : "");
}

/* A private network namespace whose `lo` carries the test addresses. */
static void
enter_private_network (void)
{
  g_autofree char *ip = NULL;

  /* Before any thread: a thread keeps the namespace it was created in. */
  if (unshare (CLONE_NEWNET) != 0)
    g_error ("unshare (CLONE_NEWNET) failed: %s. This test moves itself into a network "
             "namespace of its own to listen on non-loopback addresses: it needs root or "
             "CAP_SYS_ADMIN",
             g_strerror (errno));
  ip = mk_test_find_program ("ip", "iproute2");
  run ((const char *const[]){ ip, "link", "set", "lo", "up", NULL });
  run (
      (const char *const[]){ ip, "-4", "addr", "add", NON_LOOPBACK_IPV4 "/32", "dev", "lo", NULL });
  /* nodad: usable at once, not tentative. */
  run ((const char *const[]){ ip, "-6", "addr", "add", NON_LOOPBACK_IPV6 "/128", "dev", "lo",
                              "nodad", NULL });
}

static void
add_tests (const char *name, GTestDataFunc func)
{
  static const Target targets[] = {
    { NON_LOOPBACK_IPV4, MK_FAULT_SERVER_LISTEN_IPV4, MODE_SYNC },
    { NON_LOOPBACK_IPV4, MK_FAULT_SERVER_LISTEN_IPV4, MODE_ASYNC },
    { NON_LOOPBACK_IPV6, MK_FAULT_SERVER_LISTEN_IPV6, MODE_SYNC },
    { NON_LOOPBACK_IPV6, MK_FAULT_SERVER_LISTEN_IPV6, MODE_ASYNC },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *path
          = g_strdup_printf ("/client/auth-non-loopback/%s/%s/%s",
                             targets[i].family == MK_FAULT_SERVER_LISTEN_IPV4 ? "ipv4" : "ipv6",
                             targets[i].mode == MODE_SYNC ? "sync" : "async", name);

      g_test_add_data_func (path, &targets[i], func);
    }
}

int
main (int argc, char **argv)
{
  enter_private_network ();
  g_test_init (&argc, &argv, NULL);

  add_tests ("cleartext-refused", test_cleartext_refused);
  add_tests ("cleartext-allowed", test_cleartext_allowed);
  add_tests ("no-cleartext-secret", test_no_cleartext_secret);

  return g_test_run ();
}
