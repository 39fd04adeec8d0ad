/* test-client-desync.c: a reply nobody asked for ends the session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Hostile-peers rule 7, catalogue T28, T29, T95: a server that sends more
 * replies than commands is out of step; the client stops there
 * (MK_SMTP_ERROR_RESPONSE, the session closed, nothing more sent), and
 * never counts a message delivered on the strength of a reply paired with
 * the wrong command. And the other side: replies that are legitimately
 * waiting (a pipelined group answered in one segment, a 221 followed by
 * anything) are no desync. Against the scripted fault server, sync and
 * async.
 */
#include "config.h"

#include <string.h>

#include "test-client-util.h"

#define GREETING "S: 220 mail.example ESMTP\n"
#define EHLO_PIPELINING                                                                            \
  "C: EHLO client.example\n"                                                                       \
  "S: 250-mail.example\n"                                                                          \
  "S: 250 PIPELINING\n"
#define QUIT                                                                                       \
  "C: QUIT\n"                                                                                      \
  "S: 221 bye\n"                                                                                   \
  "CLOSE\n"

/* How long the server keeps quiet before its late, unsolicited reply, and
 * how long the test waits for that reply to arrive (ms, unscaled): the
 * call before it has long finished, the call after it finds it waiting. */
#define LATE_REPLY_MS 200
#define LATE_REPLY_WAIT_MS 600

static MkSmtpClient *
new_client (gboolean lmtp)
{
  MkSmtpClient *client = lmtp ? mk_lmtp_client_new () : mk_smtp_client_new ();

  g_object_set (client, "local-hostname", "client.example", "timeout", 10 * mk_test_time_scale (),
                NULL);
  return client;
}

/* A client that read @server's greeting. */
static MkSmtpClient *
greeted_client (MkFaultServer *server, gboolean lmtp, Mode mode)
{
  MkSmtpClient *client = new_client (lmtp);
  g_autoptr (GError) error = NULL;

  mk_smtp_reply_unref (t_connect_server (client, server, mode, &error));
  g_assert_no_error (error);
  return client;
}

/* The desync error, and a client that is closed and stays closed. */
static void
assert_desync (MkSmtpClient *client, GError *error, Mode mode)
{
  g_autoptr (GError) next_error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
  g_assert_nonnull (strstr (error->message, "not asked for"));
  g_assert_false (mk_smtp_client_is_connected (client));
  reply = t_noop (client, mode, &next_error);
  g_assert_null (reply);
  g_assert_error (next_error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
}

/* A script in which the server waits quietly, then sends @late. */
static char *
late_reply_script (const char *before, const char *late)
{
  return g_strdup_printf ("%sQUIET %u\nS: %s\nEOF\n", before,
                          (guint)(LATE_REPLY_MS * mk_test_time_scale ()), late);
}

/* Lets what the server sends meanwhile arrive (@ms unscaled). */
static void
wait_ms (guint ms)
{
  g_usleep ((gulong)(ms * mk_test_time_scale ()) * 1000);
}

/* T28: NOOP answered twice in one segment. */
static void
test_noop_twice (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: NOOP\nR: 250 OK\\r\\n250 OK\\r\\n\nEOF\n");
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  reply = t_noop (client, MODE (data), &error);
  g_assert_null (reply);
  g_assert_nonnull (strstr (error->message, "“250 OK”"));
  assert_desync (client, error, MODE (data));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "NOOP\r\n");
}

/* T28: the extra reply comes in a segment of its own, after NOOP's: the
 * next command finds it waiting and is not sent. */
static void
test_late_extra_reply (gconstpointer data)
{
  g_autofree char *script = late_reply_script (GREETING "C: NOOP\nS: 250 OK\n", "250 OK");
  g_autoptr (MkFaultServer) server = t_server (script);
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) noop = NULL;
  g_autoptr (MkSmtpReply) mail = NULL;

  noop = t_noop (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (noop), ==, 250);
  wait_ms (LATE_REPLY_WAIT_MS);
  mail = t_mail (client, "a@example.org", NULL, MODE (data), &error);
  g_assert_null (mail);
  g_assert_nonnull (strstr (error->message, "before the command was sent"));
  assert_desync (client, error, MODE (data));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "NOOP\r\n");
}

/* T28: a reply before any command after EHLO (in a later segment), and
 * bytes after the greeting before EHLO (in its segment). */
static void
test_reply_after_ehlo (gconstpointer data)
{
  g_autofree char *script = late_reply_script (GREETING EHLO_PIPELINING, "250 unsolicited");
  g_autoptr (MkFaultServer) server = t_server (script);
  g_autoptr (MkFaultServer) greeting_server = t_server (GREETING "S: 250 too soon\nEOF\n");
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_no_error (error);
  wait_ms (LATE_REPLY_WAIT_MS);
  reply = t_rset (client, MODE (data), &error);
  g_assert_null (reply);
  g_assert_nonnull (strstr (error->message, "“250 unsolicited”"));
  assert_desync (client, error, MODE (data));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "EHLO client.example\r\n");
  g_clear_error (&error);

  g_clear_object (&client);
  client = new_client (FALSE);
  reply = t_connect_server (client, greeting_server, MODE (data), &error);
  g_assert_null (reply);
  g_assert_nonnull (strstr (error->message, "Greeting"));
  assert_desync (client, error, MODE (data));
  t_server_done (greeting_server);
  g_assert_cmpstr (mk_fault_server_get_transcript (greeting_server, 0), ==, "");
}

/* T29: a line slipped in among the replies to a pipelined MAIL, RCPT,
 * DATA: a well-formed one shifts every reply after it (DATA would be
 * answered 250 and the 354 left waiting), a malformed one breaks the
 * parser. Either way the message is not sent, let alone reported
 * delivered, and nothing follows DATA on the wire. */
static void
test_pipelined_garbage (gconstpointer data)
{
  static const char *const injected[] = { "250 2.0.0 junk", "garbage" };

  for (gsize i = 0; i < G_N_ELEMENTS (injected); i++)
    {
      g_autofree char *script
          = g_strdup_printf (GREETING EHLO_PIPELINING "C: MAIL FROM:<a@example.org>\n"
                                                      "C: RCPT TO:<b@example.org>\n"
                                                      "C: DATA\n"
                                                      "S: 250 sender ok\n"
                                                      "S: %s\n"
                                                      "S: 250 recipient ok\n"
                                                      "S: 354 go ahead\n"
                                                      "EOF\n",
                             injected[i]);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
      const char *const to[] = { "b@example.org", NULL };
      g_autoptr (GHashTable) refused = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GError) next_error = NULL;

      g_assert_false (t_sendmail (client, "a@example.org", to, "hi\n", NULL, NULL, &refused,
                                  MODE (data), &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
      g_assert_null (refused);
      g_assert_false (mk_smtp_client_is_connected (client));
      g_assert_null (t_noop (client, MODE (data), &next_error));
      g_assert_error (next_error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
      t_server_done (server);
      g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                       "EHLO client.example\r\n"
                       "MAIL FROM:<a@example.org>\r\n"
                       "RCPT TO:<b@example.org>\r\n"
                       "DATA\r\n");
    }
}

/* The end of data answered twice (lock-step, no PIPELINING): which of the
 * two is the answer to the message cannot be told, so it may have been
 * delivered, and is not reported delivered. */
static void
test_extra_final (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250 mail.example\n"
                                                        "C: MAIL FROM:<a@example.org>\n"
                                                        "S: 250 ok\n"
                                                        "C: RCPT TO:<b@example.org>\n"
                                                        "S: 250 ok\n"
                                                        "C: DATA\n"
                                                        "S: 354 go\n"
                                                        "DATA-UNTIL-DOT\n"
                                                        "S: 250 queued\n"
                                                        "S: 550 rejected\n"
                                                        "EOF\n");
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  const char *const to[] = { "b@example.org", NULL };
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (
      t_sendmail (client, "a@example.org", to, "hi\n", NULL, NULL, &refused, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN);
  g_assert_nonnull (strstr (error->message, "“550 rejected”"));
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\n"
                   "MAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<b@example.org>\r\n"
                   "DATA\r\n"
                   "hi\r\n.\r\n");
}

/* T95: an LMTP server answers the end of data once more than there are
 * accepted recipients. sendmail() cannot say which reply was whose: the
 * message may have been delivered (MK_SMTP_ERROR_DELIVERY_UNKNOWN, the
 * desync named in the message), never "delivered". The low-level data()
 * reports the desync itself. */
static void
test_lmtp_extra_final (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server_unix ("S: 220 lmtp ready\n"
                       "C: LHLO client.example\n"
                       "S: 250-lmtp\n"
                       "S: 250 PIPELINING\n"
                       "C: MAIL FROM:<a@example.org>\n"
                       "C: RCPT TO:<b@example.org>\n"
                       "C: RCPT TO:<c@example.org>\n"
                       "C: DATA\n"
                       "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
                       "DATA-UNTIL-DOT\n"
                       "S: 250 b delivered\nS: 250 c delivered\nS: 250 extra\n"
                       "EOF\n"
                       "---\n"
                       "S: 220 lmtp ready\n"
                       "C: LHLO client.example\nS: 250 lmtp\n"
                       "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                       "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                       "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                       "S: 250 b delivered\nS: 250 extra\n"
                       "EOF\n");
  const char *const to[] = { "b@example.org", "c@example.org", NULL };
  g_autoptr (MkSmtpClient) client = greeted_client (server, TRUE, MODE (data));
  g_autoptr (MkSmtpClient) lowlevel = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) next_error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_assert_false (
      t_sendmail (client, "a@example.org", to, "hi\n", NULL, NULL, &refused, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN);
  g_assert_nonnull (strstr (error->message, "not asked for"));
  g_assert_null (refused);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_assert_null (t_noop (client, MODE (data), &next_error));
  g_assert_error (next_error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
  g_clear_error (&error);

  lowlevel = greeted_client (server, TRUE, MODE (data));
  g_assert_true (t_ehlo_or_helo_if_needed (lowlevel, MODE (data), &error));
  mk_smtp_reply_unref (t_mail (lowlevel, "a@example.org", NULL, MODE (data), &error));
  mk_smtp_reply_unref (t_rcpt (lowlevel, "b@example.org", NULL, MODE (data), &error));
  g_assert_no_error (error);
  reply = t_data (lowlevel, "hi\n", MODE (data), &error);
  g_assert_null (reply);
  assert_desync (lowlevel, error, MODE (data));

  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "LHLO client.example\r\n"
                   "MAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<b@example.org>\r\n"
                   "RCPT TO:<c@example.org>\r\n"
                   "DATA\r\n"
                   "hi\r\n.\r\n");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 1), ==,
                   "LHLO client.example\r\n"
                   "MAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<b@example.org>\r\n"
                   "DATA\r\n"
                   "hi\r\n.\r\n");
}

/* Under TLS the unsolicited reply may wait in a TLS record of its own,
 * inside OpenSSL or still on the socket: a greeting and a reply after it as
 * two records in one TCP segment (implicit TLS), so the reply is there when
 * the greeting is. */
static void
test_tls_record (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server ("TLS\nCORK\nSPLIT 14\nS: 220 greeting\nS: 250 extra\nEOF\n");
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new_ssl ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_object_set (client, "tls-ca-file", mk_test_certs_get ()->ca_file, "timeout",
                10 * mk_test_time_scale (), NULL);
  reply = t_connect_server (client, server, MODE (data), &error);
  g_assert_null (reply);
  g_assert_nonnull (strstr (error->message, "“250 extra”"));
  assert_desync (client, error, MODE (data));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "");
}

/* No false positive under TLS: the session tickets a TLS 1.3 server sends
 * after the handshake are records without data, on the socket when EHLO
 * goes out after STARTTLS. */
static void
test_tls_session_tickets (gconstpointer data)
{
  MkFaultServerOptions options = { .tls_session_tickets = TRUE };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (GREETING "C: EHLO client.example\n"
                                                                   "S: 250-mail.example\n"
                                                                   "S: 250 STARTTLS\n"
                                                                   "C: STARTTLS\n"
                                                                   "S: 220 go ahead\n"
                                                                   "TLS\n"
                                                                   "C: EHLO client.example\n"
                                                                   "S: 250 mail.example\n"
                                                                   "C: NOOP\n"
                                                                   "S: 250 in step\n" QUIT,
                                                          &options);
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) starttls = NULL;
  g_autoptr (MkSmtpReply) noop = NULL;
  g_autoptr (MkSmtpReply) quit = NULL;

  g_object_set (client, "tls-ca-file", mk_test_certs_get ()->ca_file, NULL);
  starttls = t_starttls (client, MODE (data), &error);
  g_assert_no_error (error);
  wait_ms (LATE_REPLY_MS);
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_no_error (error);
  noop = t_noop (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mk_smtp_reply_get_text (noop), ==, "in step");
  quit = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  t_server_done (server);
}

/* RFC 5321 §3.8: a server may announce its shutdown (421) at any time. One
 * that follows a reply is no desync: the next command gets it as its
 * reply, and the session closes as after any 421. */
static void
test_unsolicited_421 (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: NOOP\nR: 250 OK\\r\\n421 4.4.2 idle too long\\r\\n\nCLOSE\n");
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) first = NULL;
  g_autoptr (MkSmtpReply) second = NULL;

  first = t_noop (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (first), ==, 250);
  second = t_noop (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (second), ==, 421);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "NOOP\r\nNOOP\r\n");
}

/* No false positive: a two-line greeting in one segment is one reply; the
 * replies to a pipelined MAIL, RCPT×3, DATA wait in one segment while the
 * client reads them one by one; the next command finds the session in
 * step; a 221 followed by more ends quit() well. */
static void
test_pipelined_in_one_segment (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server ("S: 220-mail.example ESMTP\nS: 220 two lines\n" EHLO_PIPELINING
                  "C: MAIL FROM:<a@example.org>\n"
                  "C: RCPT TO:<b@example.org>\n"
                  "C: RCPT TO:<c@example.org>\n"
                  "C: RCPT TO:<d@example.org>\n"
                  "C: DATA\n"
                  "R: 250 ok\\r\\n250 ok\\r\\n250 ok\\r\\n250 ok\\r\\n"
                  "354 go\\r\\n\n"
                  "DATA-UNTIL-DOT\n"
                  "S: 250 queued\n"
                  "C: NOOP\nS: 250 in step\n"
                  "C: QUIT\nR: 221 bye\\r\\n250 after bye\\r\\n\n"
                  "CLOSE\n");
  const char *const to[] = { "b@example.org", "c@example.org", "d@example.org", NULL };
  g_autoptr (MkSmtpClient) client = greeted_client (server, FALSE, MODE (data));
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) noop = NULL;
  g_autoptr (MkSmtpReply) quit = NULL;

  g_assert_true (
      t_sendmail (client, "a@example.org", to, "hi\n", NULL, NULL, &refused, MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  noop = t_noop (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mk_smtp_reply_get_text (noop), ==, "in step");
  quit = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (quit), ==, 221);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "hi\r\n.\r\n");
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    GTestDataFunc func;
  } tests[] = {
    { "noop-answered-twice", test_noop_twice },
    { "late-extra-reply", test_late_extra_reply },
    { "reply-after-ehlo", test_reply_after_ehlo },
    { "pipelined-garbage", test_pipelined_garbage },
    { "extra-final", test_extra_final },
    { "lmtp-extra-final", test_lmtp_extra_final },
    { "tls-record", test_tls_record },
    { "unsolicited-421", test_unsolicited_421 },
    { "tls-session-tickets", test_tls_session_tickets },
    { "pipelined-in-one-segment", test_pipelined_in_one_segment },
  };

  g_test_init (&argc, &argv, NULL);
  /* Sync and async twins, as test-client.c's t_add() makes them. */
  for (Mode mode = MODE_SYNC; mode <= MODE_ASYNC; mode++)
    for (gsize i = 0; i < G_N_ELEMENTS (tests); i++)
      {
        g_autofree char *path = g_strdup_printf (
            "/client/desync/%s/%s", mode == MODE_SYNC ? "sync" : "async", tests[i].name);

        g_test_add_data_func (path, GINT_TO_POINTER (mode), tests[i].func);
      }
  return g_test_run ();
}
