/* test-hostile.c: the hostile-peer catalogue's cases that no layer's own
 * tests show, against the scripted fault server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test is named /hostile/CLASS/CASE after the catalogue's classes (A
 * greeting, B disconnects, C 421, D malformed replies, E timeouts, F TLS,
 * G STARTTLS, H authentication, I envelope, J DATA, L local resources,
 * M LMTP); the comment in front of each names its items (T…).
 * docs/threat-model.md maps every item to its test, here or elsewhere.
 * Every network test asserts the exact bytes the client sent and the error
 * it reported (domain, code, and the stage named in the message), and runs
 * the blocking calls and then the async ones against a fresh server.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "tests/smtp/test-client-util.h"

#define GREETING "S: 220 mail.example ESMTP\n"
#define EHLO_PLAIN                                                                                 \
  "C: EHLO client.example\n"                                                                       \
  "S: 250-mail.example\n"                                                                          \
  "S: 250 8BITMIME\n"
#define EHLO_STARTTLS                                                                              \
  "C: EHLO client.example\n"                                                                       \
  "S: 250-mail.example\n"                                                                          \
  "S: 250 STARTTLS\n"
#define MAIL_OK "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
#define QUIT                                                                                       \
  "C: QUIT\n"                                                                                      \
  "S: 221 bye\n"                                                                                   \
  "CLOSE\n"

/* The password every authentication test uses, and its base64 forms
 * (alone, and in PLAIN's "\0user\0password"): none may ever appear in an
 * error message or a trace. */
#define CANARY "S3cr3t-CANARY-4f9a"
#define CANARY_B64 "UzNjcjN0LUNBTkFSWS00Zjlh"
#define CANARY_PLAIN_B64 "AHVzZXIAUzNjcjN0LUNBTkFSWS00Zjlh"

static const char *const one_recipient[] = { "bob@example.org", NULL };
static const char *const three_recipients[]
    = { "b@example.org", "c@example.org", "d@example.org", NULL };

static MkSmtpClient *
new_client (double timeout)
{
  MkSmtpClient *client = mk_smtp_client_new ();

  g_object_set (client, "local-hostname", "client.example", "timeout",
                timeout * mk_test_time_scale (), "tls-ca-file", mk_test_certs_get ()->ca_file,
                "tls-server-name", "localhost", NULL);
  return client;
}

static void
connect_ok (MkSmtpClient *client, MkFaultServer *server, Mode mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) greeting = t_connect_server (client, server, mode, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (greeting), ==, 220);
}

/* @error is @domain/@code and its message names @stage (the command or
 * step it failed at) and never the password in any form. */
static void
assert_failed_at (const GError *error, GQuark domain, int code, const char *stage)
{
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_error (error, domain, code);
  g_assert_nonnull (strstr (error->message, stage));
  g_assert_null (strstr (error->message, CANARY));
  g_assert_null (strstr (error->message, CANARY_B64));
  g_assert_null (strstr (error->message, CANARY_PLAIN_B64));
}

/* The server's script ended as written, and the client sent exactly
 * @transcript on connection @index. */
static void
assert_sent (MkFaultServer *server, guint index, const char *transcript)
{
  g_assert_cmpstr (mk_fault_server_get_transcript (server, index), ==, transcript);
}

/* The session ended at a failure: @error as assert_failed_at() wants it,
 * the client no longer connected, the server's script ended as written
 * and the client sent exactly @transcript on the first connection. */
static void
assert_session_failed (MkSmtpClient *client, MkFaultServer *server, const GError *error,
                       GQuark domain, int code, const char *stage, const char *transcript)
{
  assert_failed_at (error, domain, code, stage);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  assert_sent (server, 0, transcript);
}

/* QUIT answered, and the server's script ended as written. */
static void
quit_ok (MkSmtpClient *client, MkFaultServer *server, Mode mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = t_quit (client, mode, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 221);
  t_server_done (server);
}

/* mk_smtp_client_send_message(), the blocking or the async way. */
static gboolean
t_send_message (MkSmtpClient *client, GMimeMessage *message, Mode mode, GError **error)
{
  MkTestAsync async;
  gboolean ok;

  if (mode == MODE_SYNC)
    return mk_smtp_client_send_message (client, message, NULL, NULL, NULL, NULL, NULL, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_send_message_async (client, message, NULL, NULL, NULL, NULL, NULL,
                                     mk_test_async_callback, &async);
  ok = mk_smtp_client_send_message_finish (client, mk_test_async_wait (&async), NULL, error);
  mk_test_async_clear (&async);
  return ok;
}

/* Sends "x\n" to @to: the message and its final dot went out (the server
 * read them whole) and no confirmation came, so the outcome is delivery
 * unknown, naming the end of data, and the session is closed. */
static void
assert_delivery_unknown (MkSmtpClient *client, MkFaultServer *server, const char *const *to,
                         Mode mode)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (t_sendmail (client, "a@example.org", to, "x\n", NULL, NULL, NULL, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN, "End of data");
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "x\r\n.\r\n");
}

static gboolean
collect_trace (MkSmtpClient *client, const char *line, gpointer user_data)
{
  g_string_append_printf (user_data, "%s\n", line);
  return TRUE;
}

static void
assert_no_secret (const char *text)
{
  g_assert_null (strstr (text, CANARY));
  g_assert_null (strstr (text, CANARY_B64));
  g_assert_null (strstr (text, CANARY_PLAIN_B64));
}

/* ---- A: connection and greeting --------------------------------------- */

/* Connects to a server playing @script: connect() fails with @code, names
 * the greeting, and the client sent nothing. A refused greeting (@reply_code
 * not 0) is kept as the last reply and quoted in the message. */
static void
assert_greeting_fails (const char *script, Mode mode, int code, guint reply_code)
{
  g_autoptr (MkFaultServer) server = t_server (script);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = t_connect_server (client, server, mode, &error);

  g_assert_null (reply);
  if (reply_code != 0)
    {
      MkSmtpReply *last = mk_smtp_client_get_last_reply (client);

      g_assert_cmpuint (mk_smtp_reply_get_code (last), ==, reply_code);
      g_assert_nonnull (strstr (error->message, mk_smtp_reply_get_text (last)));
    }
  assert_session_failed (client, server, error, MK_SMTP_ERROR, code, "reeting", "");
}

/* T2: accepted, then closed without a byte. */
static void
test_closed_before_greeting (Mode mode)
{
  assert_greeting_fails ("CLOSE\n", mode, MK_SMTP_ERROR_SERVER_DISCONNECTED, 0);
}

/* T3: a server that accepts and says nothing: the greeting times out, the
 * socket is closed, nothing was sent. */
static void
test_greeting_timeout (Mode mode)
{
  g_autoptr (MkFaultServer) server = t_server ("EOF\n");
  g_autoptr (MkSmtpClient) client = new_client (0.5);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  gint64 start = g_get_monotonic_time ();

  reply = t_connect_server (client, server, mode, &error);
  g_assert_null (reply);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * mk_test_time_scale ());
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  assert_sent (server, 0, "");
}

/* T6: well-formed replies that are no greeting (the EAST greeting set):
 * MK_SMTP_ERROR_CONNECT with the reply kept, nothing sent. */
static void
test_odd_greeting_codes (Mode mode)
{
  const guint codes[] = { 221, 354, 500, 501, 530 };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *script = g_strdup_printf ("S: %u odd greeting\nEOF\n", codes[i]);

      assert_greeting_fails (script, mode, MK_SMTP_ERROR_CONNECT, codes[i]);
    }
}

/* T8: text, a TLS record or a reply with a mismatched continuation before
 * the greeting: a protocol error, never a hang, nothing sent. */
static void
test_garbage_before_greeting (Mode mode)
{
  const char *const garbage[] = {
    "S: hello there\nS: 220 hi\n",
    "R: \\x16\\x03\\x01\\x00\\x05hello\nS: 220 hi\n",
    "S: 220-first\nS: 250 second\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autofree char *script = g_strconcat (garbage[i], "EOF\n", NULL);

      assert_greeting_fails (script, mode, MK_SMTP_ERROR_RESPONSE, 0);
    }
}

/* ---- B: disconnect at each stage -------------------------------------- */

/* T9: closed in the middle of the EHLO reply: no capability learnt from the
 * half reply, nothing sent after EHLO. */
static void
test_close_mid_ehlo (Mode mode)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250-AUTH PLAIN\n"
                                                        "CLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, mode);
  g_assert_false (
      t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED, "EHLO");
  g_assert_null (mk_smtp_client_get_capabilities (client));
  g_assert_false (mk_smtp_client_has_extn (client, "AUTH"));
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  assert_sent (server, 0, "EHLO client.example\r\n");
}

/* What the client sent after STARTTLS: nothing, or a TLS handshake record,
 * never a command in cleartext. */
static void
assert_only_handshake_after_starttls (MkFaultServer *server, guint index)
{
  static const char before[] = "EHLO client.example\r\nSTARTTLS\r\n";
  GBytes *sent = mk_fault_server_get_transcript_bytes (server, index);
  gsize length;
  const char *bytes = g_bytes_get_data (sent, &length);

  g_assert_cmpuint (length, >=, strlen (before));
  g_assert_cmpmem (bytes, strlen (before), before, strlen (before));
  if (length > strlen (before))
    g_assert_cmphex ((guchar)bytes[strlen (before)], ==, 0x16);
}

/* T10: the server closes after its 220 to STARTTLS, before the handshake
 * or in the middle of it (after the client's hello): the session ends with
 * an error and nothing private follows in cleartext. */
static void
test_close_during_starttls (Mode mode)
{
  /* A close is the end of the TLS stream (GIO's error, from net/); a
   * reset is a lost connection. */
  const struct
  {
    gboolean hello_first; /* wait for the client's hello */
    const char *ending;
    GQuark domain;
    int code;
  } cases[] = {
    { FALSE, "CLOSE", G_TLS_ERROR, G_TLS_ERROR_EOF },
    { TRUE, "CLOSE", G_TLS_ERROR, G_TLS_ERROR_EOF },
    { TRUE, "RESET", MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *ending = g_strdup_printf (
          "SLEEP %u\n%s\n", cases[i].hello_first ? (guint)(200 * mk_test_time_scale ()) : 0,
          cases[i].ending);
      g_autofree char *script
          = g_strconcat (GREETING EHLO_STARTTLS "C: STARTTLS\nS: 220 go ahead\n", ending, NULL);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = new_client (10);
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = NULL;

      g_test_message ("after the 220: %s", ending);
      g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
      connect_ok (client, server, mode);
      reply = t_login (client, "user", CANARY, mode, &error);
      g_assert_null (reply);
      assert_failed_at (error, cases[i].domain, cases[i].code, "STARTTLS");
      g_assert_false (mk_smtp_client_is_connected (client));
      t_server_done (server);
      if (cases[i].domain == G_TLS_ERROR)
        assert_only_handshake_after_starttls (server, 0);
    }
}

/* T11: closed once AUTH is sent: disconnected, no other mechanism tried
 * (the server allows one connection only), no secret in the error. */
static void
test_close_after_auth (Mode mode)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 AUTH PLAIN LOGIN\n"
                                                        "C: AUTH PLAIN " CANARY_PLAIN_B64 "\n"
                                                        "CLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GString) trace = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  mk_smtp_client_set_debuglevel (client, 1);
  g_signal_connect (client, "trace", G_CALLBACK (collect_trace), trace);
  connect_ok (client, server, mode);
  reply = t_login (client, "user", CANARY, mode, &error);
  g_assert_null (reply);
  assert_session_failed (client, server, error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED,
                         "AUTH", "EHLO client.example\r\nAUTH PLAIN " CANARY_PLAIN_B64 "\r\n");
  assert_no_secret (trace->str);
}

/* T12: closed after MAIL, or after RCPT 2 of 3 (lock step, and pipelined):
 * disconnected, never DATA. */
typedef struct
{
  const char *script; /* after the greeting */
  const char *sent;
  const char *stage;
} CloseCase;

static const CloseCase close_cases[] = {
  { EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nCLOSE\n",
    "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n", "MAIL" },
  { EHLO_PLAIN MAIL_OK "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                       "C: RCPT TO:<c@example.org>\nCLOSE\n",
    "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
    "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n",
    "RCPT" },
  { "C: EHLO client.example\nS: 250-mail.example\nS: 250 PIPELINING\n"
    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b@example.org>\nC: RCPT TO:<c@example.org>\n"
    "C: RCPT TO:<d@example.org>\nC: DATA\nS: 250 ok\nS: 250 ok\nCLOSE\n",
    "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
    "RCPT TO:<c@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n",
    "RCPT" },
};

static void
run_close_case (const CloseCase *c, Mode mode)
{
  g_autofree char *script = g_strconcat (GREETING, c->script, NULL);
  g_autoptr (MkFaultServer) server = t_server (script);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, mode);
  g_assert_false (t_sendmail (client, "a@example.org", three_recipients, "x\n", NULL, NULL, NULL,
                              mode, &error));
  assert_session_failed (client, server, error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED,
                         c->stage, c->sent);
}

static void
test_close_after_mail (Mode mode)
{
  run_close_case (&close_cases[0], mode);
}

static void
test_close_after_rcpt (Mode mode)
{
  run_close_case (&close_cases[1], mode);
}

static void
test_close_after_rcpt_pipelined (Mode mode)
{
  run_close_case (&close_cases[2], mode);
}

/* A message far larger than any socket buffers on loopback hold, as a
 * stream over one shared block: the client is still writing it when the
 * server goes away or stops reading. */
#define BIG_BLOCK (1024 * 1024)
#define BIG_BLOCKS 64

static GInputStream *
big_message (void)
{
  g_autofree char *text = g_malloc (BIG_BLOCK);
  g_autoptr (GBytes) block = NULL;
  GInputStream *stream = g_memory_input_stream_new ();

  for (gsize i = 0; i < BIG_BLOCK; i++)
    text[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
  block = g_bytes_new_take (g_steal_pointer (&text), BIG_BLOCK);
  for (int i = 0; i < BIG_BLOCKS; i++)
    g_memory_input_stream_add_bytes (G_MEMORY_INPUT_STREAM (stream), block);
  return stream;
}

/* T13: the connection is reset after 354 while the body is being sent:
 * not delivered and safe to retry, never delivery unknown, since the final
 * dot never left. The reset is GIO's error, passed on unchanged as
 * DESIGN.md's "Errors by layer" says of I/O errors. */
static void
test_reset_during_body (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN MAIL_OK "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                              "C: DATA\nS: 354 go\nC-BYTES: 4096\nRESET\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GInputStream) message = big_message ();
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, mode);
  g_assert_false (
      t_sendmail_stream (client, "a@example.org", one_recipient, message, NULL, mode, &error));
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
                 || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
                 || g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED));
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_true (g_str_has_prefix (mk_fault_server_get_transcript (server, 0),
                                   "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
                                   "RCPT TO:<bob@example.org>\r\nDATA\r\n"));
}

/* ---- C: 421 at each stage --------------------------------------------- */

/* T16: 421 to STARTTLS (asked for by tls-mode) and to AUTH: the session
 * ends at once, without RSET or QUIT, with the reply kept. */
static void
test_421_to_starttls_and_auth (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_STARTTLS "C: STARTTLS\nS: 421 4.3.2 shutting down\nCLOSE\n"
                                         "---\n" GREETING "C: EHLO client.example\n"
                                         "S: 250-mail.example\n"
                                         "S: 250 AUTH PLAIN LOGIN\n"
                                         "C: AUTH PLAIN " CANARY_PLAIN_B64 "\n"
                                         "S: 421 4.3.2 shutting down\nCLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  connect_ok (client, server, mode);
  g_assert_false (
      t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, "STARTTLS");
  g_assert_nonnull (strstr (error->message, "421"));
  g_assert_true (mk_smtp_reply_is_transient (mk_smtp_client_get_last_reply (client)));
  g_assert_false (mk_smtp_client_is_connected (client));
  g_clear_error (&error);

  g_object_set (client, "tls-mode", MK_TLS_MODE_NONE, NULL);
  connect_ok (client, server, mode);
  reply = t_login (client, "user", CANARY, mode, &error);
  g_assert_null (reply);
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION, "AUTH");
  g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==, 421);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  assert_sent (server, 0, "EHLO client.example\r\nSTARTTLS\r\n");
  assert_sent (server, 1, "EHLO client.example\r\nAUTH PLAIN " CANARY_PLAIN_B64 "\r\n");
}

/* T17: 421 to RCPT 2 of 3: closed at once (no RCPT 3, no DATA, no RSET),
 * a temporary failure that names the recipient and keeps the reply. */
static void
test_421_to_rcpt_2_of_3 (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN MAIL_OK "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                                              "C: RCPT TO:<c@example.org>\nS: 421 closing\n"
                                              "CLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, mode);
  g_assert_false (t_sendmail (client, "a@example.org", three_recipients, "x\n", NULL, NULL,
                              &refused, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED, "RCPT");
  g_assert_nonnull (strstr (error->message, "421 closing"));
  g_assert_nonnull (strstr (error->message, "nothing was sent"));
  g_assert_nonnull (refused);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "c@example.org")), ==,
                    421);
  g_assert_false (g_hash_table_contains (refused, "b@example.org"));
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  assert_sent (server, 0,
               "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
               "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n");
}

/* ---- D: malformed replies --------------------------------------------- */

/* T25: a bare CR inside a reply is refused (it would hide a second reply
 * from a parser that split on it); the session is not reused. */
static void
test_bare_cr_in_reply (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: NOOP\nR: 250 OK\\r250 fake\\r\\n\nDRAIN\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, mode);
  reply = t_noop (client, mode, &error);
  g_assert_null (reply);
  assert_session_failed (client, server, error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE, "NOOP",
                         "NOOP\r\n");
}

/* T30: an enhanced status code whose class contradicts the basic code:
 * the basic code decides, the contradicting enhanced code is not reported,
 * the text is kept as sent. */
static void
test_enhanced_code_mismatch (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nS: 250 5.1.1 odd but ok\n"
                                      "C: RCPT TO:<b@example.org>\nS: 550 2.0.0 nope\n"
                                      "C: RCPT TO:<c@example.org>\nS: 250 2.1.5 ok\n"
                                      "C: RCPT TO:<d@example.org>\nS: 250 5.0.0 fine\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                      "S: 250 4.0.0 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  MkSmtpReply *nope;

  connect_ok (client, server, mode);
  g_assert_true (t_sendmail (client, "a@example.org", three_recipients, "x\n", NULL, NULL, &refused,
                             mode, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  nope = g_hash_table_lookup (refused, "b@example.org");
  g_assert_cmpuint (mk_smtp_reply_get_code (nope), ==, 550);
  g_assert_true (mk_smtp_reply_is_permanent (nope));
  g_assert_null (mk_smtp_reply_get_enhanced_code (nope));
  g_assert_cmpstr (mk_smtp_reply_get_text (nope), ==, "2.0.0 nope");
  g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==, 250);
  g_assert_null (mk_smtp_reply_get_enhanced_code (mk_smtp_client_get_last_reply (client)));
  quit_ok (client, server, mode);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "x\r\n.\r\n");
}

/* ---- E: timeouts and slow peers --------------------------------------- */

/* T33: the server stops reading during DATA (its window fills): the write
 * times out, the session closes, and the outcome is a timeout, not
 * delivery unknown (the final dot never left). */
static void
test_server_stops_reading (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN MAIL_OK "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                              "C: DATA\nS: 354 go\nSTALL\n");
  g_autoptr (MkSmtpClient) client = new_client (0.5);
  g_autoptr (GInputStream) message = big_message ();
  g_autoptr (GError) error = NULL;
  gint64 start;

  connect_ok (client, server, mode);
  start = g_get_monotonic_time ();
  g_assert_false (
      t_sendmail_stream (client, "a@example.org", one_recipient, message, NULL, mode, &error));
  g_test_message ("error: %s", error->message);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC * mk_test_time_scale ());
  g_assert_false (mk_smtp_client_is_connected (client));
  /* A stalled server reads nothing, so it cannot see the client close:
   * freeing it ends the script. */
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
  g_assert_true (g_str_has_prefix (mk_fault_server_get_transcript (server, 0),
                                   "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
                                   "RCPT TO:<bob@example.org>\r\nDATA\r\n"));
}

/* T35: the server says 220 to STARTTLS and then nothing: the handshake
 * times out, nothing follows in cleartext. */
static void
test_handshake_stall (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_STARTTLS "C: STARTTLS\nS: 220 go ahead\nSTALL\n");
  g_autoptr (MkSmtpClient) client = new_client (0.5);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  gint64 start;

  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  connect_ok (client, server, mode);
  start = g_get_monotonic_time ();
  reply = t_login (client, "user", CANARY, mode, &error);
  g_assert_null (reply);
  assert_failed_at (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "STARTTLS");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * mk_test_time_scale ());
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
}

/* T36: after a timeout the connection is closed and never reused: a late
 * reply cannot be paired with a later command; the next connection is a
 * fresh one. */
static void
test_no_reuse_after_timeout (Mode mode)
{
  /* The late reply comes three times the client's timeout after NOOP. */
  g_autofree char *script = g_strdup_printf (GREETING "C: NOOP\nSLEEP %u\nS: 250 late\n"
                                                      "---\n" GREETING "C: NOOP\n"
                                                      "S: 250 fresh\n" QUIT,
                                             (guint)(900 * mk_test_time_scale ()));
  g_autoptr (MkFaultServer) server = t_server (script);
  g_autoptr (MkSmtpClient) client = new_client (0.3);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, mode);
  reply = t_noop (client, mode, &error);
  g_assert_null (reply);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_clear_error (&error);
  reply = t_noop (client, mode, &error);
  g_assert_null (reply);
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED, "connect");
  g_clear_error (&error);

  g_object_set (client, "timeout", 10 * mk_test_time_scale (), NULL);
  connect_ok (client, server, mode);
  reply = t_noop (client, mode, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "fresh");
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  quit_ok (client, server, mode);
  assert_sent (server, 0, "NOOP\r\n");
  assert_sent (server, 1, "NOOP\r\nQUIT\r\n");
}

/* ---- G: STARTTLS ------------------------------------------------------ */

/* T44: STARTTLS advertised, then refused with each code of the EAST
 * matrix: with tls-mode STARTTLS the session ends with MK_SMTP_ERROR_TLS;
 * no plaintext fallback, no AUTH, no MAIL. */
static void
test_starttls_refused (Mode mode)
{
  const guint codes[] = { 454, 502, 500, 501, 530, 221, 354 };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *script = g_strdup_printf (
          GREETING EHLO_STARTTLS "C: STARTTLS\nS: %u no TLS today\nDRAIN\n", codes[i]);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = new_client (10);
      g_autoptr (GError) error = NULL;

      g_test_message ("STARTTLS answered %u", codes[i]);
      g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
      connect_ok (client, server, mode);
      g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                                  mode, &error));
      assert_session_failed (client, server, error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, "STARTTLS",
                             "EHLO client.example\r\nSTARTTLS\r\n");
    }
}

/* T48: what the server offered before TLS is forgotten: the EHLO sent
 * again over TLS decides. Before: AUTH PLAIN and SMTPUTF8; after: AUTH
 * LOGIN only. login() uses LOGIN, and an international address is refused
 * before MAIL. */
static void
test_capabilities_refreshed (Mode mode)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250-AUTH PLAIN\n"
                                                        "S: 250-SMTPUTF8\n"
                                                        "S: 250 STARTTLS\n"
                                                        "C: STARTTLS\n"
                                                        "S: 220 go ahead\n"
                                                        "TLS\n"
                                                        "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 AUTH LOGIN\n"
                                                        "C: AUTH LOGIN\n"
                                                        "S: 334 VXNlcm5hbWU6\n"
                                                        "C: dXNlcg==\n"
                                                        "S: 334 UGFzc3dvcmQ6\n"
                                                        "C: " CANARY_B64 "\n"
                                                        "S: 235 ok\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  const char *const international[] = { "jörg@exämple.org", NULL };

  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  connect_ok (client, server, mode);
  reply = t_login (client, "user", CANARY, mode, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
  g_assert_false (mk_smtp_client_has_extn (client, "SMTPUTF8"));
  g_assert_false (
      t_sendmail (client, "a@example.org", international, "x\n", NULL, NULL, NULL, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED, "SMTPUTF8");
  g_clear_error (&error);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  quit_ok (client, server, mode);
  assert_sent (server, 0,
               "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nAUTH LOGIN\r\n"
               "dXNlcg==\r\n" CANARY_B64 "\r\nQUIT\r\n");
}

/* T49: EHLO refused (EAST D_1: the server hides EHLO and so STARTTLS) while
 * TLS is required: the client says HELO (as smtplib does; it carries
 * nothing private), finds no STARTTLS and fails with MK_SMTP_ERROR_TLS
 * before AUTH or MAIL. */
static void
test_ehlo_refused_tls_required (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\nS: 502 what\n"
                           "C: HELO client.example\nS: 250 hello\nDRAIN\n");
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  connect_ok (client, server, mode);
  reply = t_login (client, "user", CANARY, mode, &error);
  g_assert_null (reply);
  assert_session_failed (client, server, error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, "STARTTLS",
                         "EHLO client.example\r\nHELO client.example\r\n");
}

/* ---- H: authentication ------------------------------------------------ */

/* T51: credentials but no AUTH offered, before TLS and after it:
 * MK_SMTP_ERROR_NOT_SUPPORTED, nothing sent for it (the caller then sends
 * no mail; mkmail stops). */
static void
test_no_auth_offered (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN QUIT "---\n" GREETING EHLO_STARTTLS
                                           "C: STARTTLS\nS: 220 go ahead\nTLS\n" EHLO_PLAIN QUIT);
  g_autoptr (GError) error = NULL;

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (MkSmtpClient) client = new_client (10);
      g_autoptr (MkSmtpReply) reply = NULL;

      g_object_set (client, "tls-mode", round == 0 ? MK_TLS_MODE_NONE : MK_TLS_MODE_STARTTLS, NULL);
      connect_ok (client, server, mode);
      reply = t_login (client, "user", CANARY, mode, &error);
      g_assert_null (reply);
      assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED, "AUTH");
      g_clear_error (&error);
      g_assert_true (mk_smtp_client_is_connected (client));
      reply = t_quit (client, mode, &error);
      g_assert_no_error (error);
    }
  t_server_done (server);
  assert_sent (server, 0, "EHLO client.example\r\nQUIT\r\n");
  assert_sent (server, 1, "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nQUIT\r\n");
}

/* T54–T56: a mechanism's challenges that are garbage (not base64), or
 * longer than any reply line may be: the exchange is cancelled with "*" or
 * the session closed; an error, no secret anywhere. */
static void
test_hostile_challenges (Mode mode)
{
  g_autofree char *huge = g_strnfill (10000, 'Q');
  g_autofree char *script = g_strconcat (
      /* LOGIN with a challenge that is not base64. */
      GREETING "C: EHLO client.example\nS: 250 AUTH LOGIN\n"
               "C: AUTH LOGIN\nS: 334 !!not*base64!!\nC: \\*\nS: 501 cancelled\n" QUIT
               /* CRAM-MD5 with a rubbish challenge (curl test932). */
               "---\n" GREETING "C: EHLO client.example\nS: 250 AUTH CRAM-MD5\n"
               "C: AUTH CRAM-MD5\nS: 334 Zm9v!!!\nC: \\*\nS: 501 cancelled\n" QUIT
               /* A challenge line over the reply line limit. */
               "---\n" GREETING "C: EHLO client.example\nS: 250 AUTH LOGIN\n"
               "C: AUTH LOGIN\nS: 334 ",
      huge, "\nDRAIN\n", NULL);
  g_autoptr (MkFaultServer) server = t_server (script);
  const int codes[]
      = { MK_SMTP_ERROR_AUTHENTICATION, MK_SMTP_ERROR_AUTHENTICATION, MK_SMTP_ERROR_RESPONSE };
  const char *const mechanisms[] = { "LOGIN", "CRAM-MD5", "LOGIN" };
  const char *const stages[] = { "SASL", "SASL", "AUTH" };

  for (gsize round = 0; round < G_N_ELEMENTS (codes); round++)
    {
      g_autoptr (MkSmtpClient) client = new_client (10);
      g_autoptr (GString) trace = g_string_new (NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = NULL;

      mk_smtp_client_set_debuglevel (client, 1);
      g_signal_connect (client, "trace", G_CALLBACK (collect_trace), trace);
      connect_ok (client, server, mode);
      reply = t_auth (client, mechanisms[round], "user", CANARY, mode, &error);
      g_assert_null (reply);
      assert_failed_at (error, MK_SMTP_ERROR, codes[round], stages[round]);
      assert_no_secret (trace->str);
      if (codes[round] == MK_SMTP_ERROR_AUTHENTICATION)
        {
          g_clear_error (&error);
          g_assert_true (mk_smtp_client_is_connected (client));
          reply = t_quit (client, mode, &error);
          g_assert_no_error (error);
        }
      else
        g_assert_false (mk_smtp_client_is_connected (client));
    }
  t_server_done (server);
  assert_sent (server, 0, "EHLO client.example\r\nAUTH LOGIN\r\n*\r\nQUIT\r\n");
  assert_sent (server, 1, "EHLO client.example\r\nAUTH CRAM-MD5\r\n*\r\nQUIT\r\n");
  assert_sent (server, 2, "EHLO client.example\r\nAUTH LOGIN\r\n");
}

/* T57: a 64 KiB password: PLAIN goes without the initial response (which
 * would pass RFC 4954's line limit), the credentials only ever base64; a
 * user name with CR and LF travels encoded too. */
static void
test_long_credentials (Mode mode)
{
  g_autofree char *password = g_strnfill (64 * 1024, 'p');
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autofree char *encoded = NULL;
  g_autofree char *script = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  memcpy (password, CANARY, strlen (CANARY));
  g_byte_array_append (payload, (const guint8 *)"\0us\r\ner", 7);
  g_byte_array_append (payload, (const guint8 *)"", 1);
  g_byte_array_append (payload, (const guint8 *)password, strlen (password));
  encoded = g_base64_encode (payload->data, payload->len);
  script = g_strconcat (GREETING "C: EHLO client.example\nS: 250 AUTH PLAIN\n"
                                 "C: AUTH PLAIN\nS: 334 \nC: ",
                        encoded, "\nS: 235 ok\n" QUIT, NULL);
  server = t_server (script);
  connect_ok (client, server, mode);
  reply = t_auth (client, "PLAIN", "us\r\ner", password, mode, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  quit_ok (client, server, mode);
  expected = g_strconcat ("EHLO client.example\r\nAUTH PLAIN\r\n", encoded, "\r\nQUIT\r\n", NULL);
  assert_sent (server, 0, expected);
}

/* ---- I: envelope and command injection -------------------------------- */

/* T61: a quoted local part holding CRLF, given as a string or built by
 * GMime (which keeps the CRLF): refused before anything is sent, EHLO
 * included. */
static void
test_quoted_local_part_crlf (Mode mode)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = g_mime_message_new (TRUE);
  g_autoptr (GMimeTextPart) body = g_mime_text_part_new_with_subtype ("plain");
  const char *const evil[] = { "\"evil\r\nRCPT TO:<x@example.net>\"@example.org", NULL };
  gboolean ok;

  connect_ok (client, server, mode);
  g_assert_false (
      t_sendmail (client, "a@example.org", evil, "x\n", NULL, NULL, NULL, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "recipient");
  g_clear_error (&error);

  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, "A", "a@example.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, "Evil",
                              "\"evil\r\nRCPT TO:<x@example.net>\"@example.org");
  g_mime_text_part_set_text (body, "x\n");
  g_mime_message_set_mime_part (message, GMIME_OBJECT (body));
  ok = t_send_message (client, message, mode, &error);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_true (g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID)
                 || g_error_matches (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID));
  g_clear_error (&error);
  g_assert_true (mk_smtp_client_is_connected (client));
  quit_ok (client, server, mode);
  assert_sent (server, 0, "QUIT\r\n");
}

/* T63: malformed paths: trailing text, an ESMTP parameter smuggled after
 * the path, nested brackets, a path over RFC 5321's 256 octets, a local
 * part over 64: refused before MAIL, as sender and as recipient; an empty
 * recipient and "<>" too. The null sender ("<>", or "" as in smtplib) is
 * valid for MAIL (bounces) and nowhere else. */
static void
test_address_syntax (Mode mode)
{
  g_autofree char *label = g_strnfill (300, 'd');
  g_autofree char *local = g_strnfill (65, 'l');
  g_autofree char *long_path = g_strdup_printf ("u@%s.example.org", label);
  g_autofree char *long_local = g_strdup_printf ("%s@example.org", local);
  const char *const bad[] = { "<a@example.org>x",
                              "a@example.org> SIZE=1",
                              "<<a@example.org>>",
                              long_path,
                              long_local,
                              "",
                              "<>" };
  const gsize bad_senders = 5;
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<>\nS: 250 ok\n"
                                      "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  const char *const to_b[] = { "b@example.org", NULL };

  connect_ok (client, server, mode);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *const to[] = { bad[i], NULL };

      g_test_message ("recipient '%s'", bad[i]);
      g_assert_false (
          t_sendmail (client, "a@example.org", to, "x\n", NULL, NULL, NULL, mode, &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
      g_clear_error (&error);
      if (i < bad_senders)
        {
          g_test_message ("sender '%s'", bad[i]);
          g_assert_false (t_sendmail (client, bad[i], to_b, "x\n", NULL, NULL, NULL, mode, &error));
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
          g_clear_error (&error);
        }
    }
  g_assert_true (t_sendmail (client, "<>", to_b, "x\n", NULL, NULL, NULL, mode, &error));
  g_assert_no_error (error);
  quit_ok (client, server, mode);
  assert_sent (server, 0,
               "EHLO client.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
               "x\r\n.\r\nQUIT\r\n");
}

/* T67: DATA answered with anything but 354: the body is never sent (it
 * would be read as commands), MK_SMTP_ERROR_DATA naming DATA, RSET unless
 * the server is closing. */
static void
test_data_not_354 (Mode mode)
{
  const guint codes[] = { 250, 550, 503, 451 };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *script = g_strdup_printf (
          GREETING EHLO_PLAIN MAIL_OK "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: %u not now\nC: RSET\nS: 250 ok\n" QUIT,
          codes[i]);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = new_client (10);
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = NULL;

      g_test_message ("DATA answered %u", codes[i]);
      connect_ok (client, server, mode);
      g_assert_false (t_sendmail (client, "a@example.org", one_recipient,
                                  "QUIT\r\nRSET\r\n.\r\nMAIL FROM:<x@example.net>\r\n", NULL, NULL,
                                  NULL, mode, &error));
      assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, "DATA");
      g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==,
                        codes[i]);
      g_clear_error (&error);
      quit_ok (client, server, mode);
      assert_sent (server, 0,
                   "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<bob@example.org>\r\nDATA\r\nRSET\r\nQUIT\r\n");
    }
}

/* ---- J: the DATA stream ----------------------------------------------- */

/* T75: an empty message goes out as smtplib sends it, one empty line and
 * the terminator, and is delivered. */
static void
test_empty_body (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN MAIL_OK "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                              "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                              "S: 250 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, mode);
  g_assert_true (
      t_sendmail (client, "a@example.org", one_recipient, "", NULL, NULL, NULL, mode, &error));
  g_assert_no_error (error);
  quit_ok (client, server, mode);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "\r\n.\r\n");
}

/* ---- F: TLS ----------------------------------------------------------- */

/* T42: under TLS the server cuts the connection without close_notify
 * before answering the final dot: never success, delivery unknown. */
static void
test_tls_truncated_before_reply (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_STARTTLS "C: STARTTLS\nS: 220 go ahead\nTLS\n" EHLO_PLAIN MAIL_OK
                                         "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                         "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nCLOSE-NO-NOTIFY\n");
  g_autoptr (MkSmtpClient) client = new_client (10);

  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  connect_ok (client, server, mode);
  assert_delivery_unknown (client, server, one_recipient, mode);
}

/* ---- L: local resources ----------------------------------------------- */

/* T86: a directory, a FIFO, a character device, a dangling symlink as an
 * attachment: refused when added, with the path in the message, before
 * any connection. */
static void
test_special_files (Mode mode)
{
  g_autofree char *dir = mk_test_make_subdir (mode == MODE_SYNC ? "special-sync" : "special-async");
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *dangling = g_build_filename (dir, "dangling", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  const char *const paths[] = { dir, fifo, "/dev/zero", dangling };

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_cmpint (symlink (missing, dangling), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
      g_autoptr (GError) error = NULL;

      g_assert_false (mk_message_builder_add_attachment (builder, paths[i], NULL, NULL, &error));
      g_assert_nonnull (error);
      g_test_message ("error: %s", error->message);
      g_assert_true (error->domain == G_IO_ERROR);
      g_assert_nonnull (strstr (error->message, paths[i]));
    }
}

/* T90: a message with many file attachments is sent with the descriptors
 * it found: each file is open only while it is read. */
#define MANY_ATTACHMENTS 300

static guint
open_descriptors (void)
{
  g_autoptr (GDir) fds = g_dir_open ("/proc/self/fd", 0, NULL);
  guint count = 0;

  g_assert_nonnull (fds);
  while (g_dir_read_name (fds) != NULL)
    count++;
  return count;
}

static void
test_many_attachments (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN MAIL_OK "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                              "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                              "S: 250 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = mk_test_make_subdir (mode == MODE_SYNC ? "many-sync" : "many-async");
  g_autofree char *path = g_build_filename (dir, "a.txt", NULL);
  gboolean ok;
  guint before;

  g_assert_true (g_file_set_contents (path, "attached\n", -1, NULL));
  g_assert_true (mk_message_builder_set_from (builder, "a@example.org", NULL));
  g_assert_true (mk_message_builder_add_to (builder, "bob@example.org", NULL));
  for (int i = 0; i < MANY_ATTACHMENTS; i++)
    g_assert_true (mk_message_builder_add_attachment (builder, path, NULL, NULL, &error));
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);

  connect_ok (client, server, mode);
  before = open_descriptors ();
  ok = t_send_message (client, message, mode, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (open_descriptors (), ==, before);
  quit_ok (client, server, mode);
  g_assert_nonnull (strstr (mk_fault_server_get_data_string (server, 0), "YXR0YWNoZWQK"));
}

/* ---- M: LMTP ---------------------------------------------------------- */

static MkSmtpClient *
new_lmtp_client (void)
{
  MkSmtpClient *client = mk_lmtp_client_new ();

  g_object_set (client, "local-hostname", "client.example", "timeout", 10 * mk_test_time_scale (),
                NULL);
  return client;
}

#define LHLO                                                                                       \
  "S: 220 lmtp ready\n"                                                                            \
  "C: LHLO client.example\n"                                                                       \
  "S: 250 lmtp\n"

/* T94: fewer replies after the data than accepted recipients, then the
 * connection closes: delivery unknown, never success. (The catalogue also
 * asks that the recipients already answered keep their definite result;
 * docs/threat-model.md lists that as a known gap.) */
static void
test_lmtp_fewer_replies (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server_unix (LHLO MAIL_OK "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                                    "C: RCPT TO:<c@example.org>\nS: 250 ok\n"
                                    "C: RCPT TO:<d@example.org>\nS: 250 ok\n"
                                    "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                    "S: 250 b delivered\nS: 550 c unknown\nCLOSE\n");
  g_autoptr (MkSmtpClient) client = new_lmtp_client ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  MkSmtpReply *reply;

  connect_ok (client, server, mode);
  g_assert_false (
      t_sendmail (client, "a@example.org", three_recipients, "x\n", NULL, NULL, &refused, mode,
                  &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN, "End of data");
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "x\r\n.\r\n");
  /* The replies that came are kept: c was refused; b (250) and d (no
   * reply) are not in the table. */
  g_assert_nonnull (refused);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  reply = g_hash_table_lookup (refused, "c@example.org");
  g_assert_nonnull (reply);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 550);
}

/* T96: a recipient given twice is sent once, and one reply is read for
 * it after the data (RFC 2033 §4.2: one per accepted RCPT). */
static void
test_lmtp_duplicate_recipient (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server_unix (LHLO MAIL_OK "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                                    "C: RCPT TO:<c@example.org>\nS: 250 ok\n"
                                    "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                    "S: 250 b delivered\nS: 250 c delivered\n"
                                    "C: NOOP\nS: 250 in step\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_lmtp_client ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  const char *const to[] = { "b@example.org", "c@example.org", "b@example.org", NULL };

  connect_ok (client, server, mode);
  g_assert_true (
      t_sendmail (client, "a@example.org", to, "x\n", NULL, NULL, &refused, mode, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  reply = t_noop (client, mode, &error);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "in step");
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  quit_ok (client, server, mode);
}

/* T97: an LMTP socket path that does not exist, is a regular file or a
 * folder, or that we may not open: a connection error at once, no hang. */
static void
test_lmtp_socket_errors (Mode mode)
{
  g_autofree char *dir = mk_test_make_subdir (mode == MODE_SYNC ? "lmtp-sync" : "lmtp-async");
  g_autofree char *missing = g_build_filename (dir, "missing.sock", NULL);
  g_autofree char *regular = g_build_filename (dir, "regular.sock", NULL);
  const char *const paths[] = { missing, regular, dir };

  g_assert_true (g_file_set_contents (regular, "not a socket", -1, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (MkSmtpClient) client = new_lmtp_client ();
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = t_connect (client, paths[i], 0, mode, &error);

      g_assert_null (reply);
      g_assert_nonnull (error);
      g_test_message ("%s: %s", paths[i], error->message);
      g_assert_true (error->domain == G_IO_ERROR);
      g_assert_false (mk_smtp_client_is_connected (client));
    }
}

/* T97: an SMTP client pointed at an LMTP server, which refuses EHLO and
 * HELO: MK_SMTP_ERROR_HELO at once, not a hang, no MAIL. */
static void
test_smtp_client_at_lmtp_server (Mode mode)
{
  g_autoptr (MkFaultServer) server
      = t_server_unix ("S: 220 lmtp ready\n"
                       "C: EHLO client.example\nS: 500 5.5.1 use LHLO\n"
                       "C: HELO client.example\nS: 500 5.5.1 use LHLO\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client (10);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, mode);
  g_assert_false (
      t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL, mode, &error));
  assert_failed_at (error, MK_SMTP_ERROR, MK_SMTP_ERROR_HELO, "HELO");
  g_clear_error (&error);
  quit_ok (client, server, mode);
  assert_sent (server, 0, "EHLO client.example\r\nHELO client.example\r\nQUIT\r\n");
}

/* ---- registration ----------------------------------------------------- */

typedef struct
{
  const char *path;
  void (*run) (Mode mode);
} HostileTest;

static const HostileTest tests[] = {
  { "/hostile/A/closed-before-greeting", test_closed_before_greeting },
  { "/hostile/A/greeting-timeout", test_greeting_timeout },
  { "/hostile/A/odd-greeting-codes", test_odd_greeting_codes },
  { "/hostile/A/garbage-before-greeting", test_garbage_before_greeting },
  { "/hostile/B/close-mid-ehlo", test_close_mid_ehlo },
  { "/hostile/B/close-during-starttls", test_close_during_starttls },
  { "/hostile/B/close-after-auth", test_close_after_auth },
  { "/hostile/B/close-after-mail", test_close_after_mail },
  { "/hostile/B/close-after-rcpt-2-of-3", test_close_after_rcpt },
  { "/hostile/B/close-after-rcpt-2-of-3-pipelined", test_close_after_rcpt_pipelined },
  { "/hostile/B/reset-during-body", test_reset_during_body },
  { "/hostile/C/421-to-starttls-and-auth", test_421_to_starttls_and_auth },
  { "/hostile/C/421-to-rcpt-2-of-3", test_421_to_rcpt_2_of_3 },
  { "/hostile/D/bare-cr-in-reply", test_bare_cr_in_reply },
  { "/hostile/D/enhanced-code-mismatch", test_enhanced_code_mismatch },
  { "/hostile/E/server-stops-reading-during-data", test_server_stops_reading },
  { "/hostile/E/handshake-stall", test_handshake_stall },
  { "/hostile/E/no-reuse-after-timeout", test_no_reuse_after_timeout },
  { "/hostile/F/tls-truncated-before-reply", test_tls_truncated_before_reply },
  { "/hostile/G/starttls-refused", test_starttls_refused },
  { "/hostile/G/capabilities-refreshed", test_capabilities_refreshed },
  { "/hostile/G/ehlo-refused-tls-required", test_ehlo_refused_tls_required },
  { "/hostile/H/no-auth-offered", test_no_auth_offered },
  { "/hostile/H/hostile-challenges", test_hostile_challenges },
  { "/hostile/H/long-credentials", test_long_credentials },
  { "/hostile/I/quoted-local-part-crlf", test_quoted_local_part_crlf },
  { "/hostile/I/address-syntax", test_address_syntax },
  { "/hostile/I/data-not-354", test_data_not_354 },
  { "/hostile/J/empty-body", test_empty_body },
  { "/hostile/L/special-files", test_special_files },
  { "/hostile/L/many-attachments", test_many_attachments },
  { "/hostile/M/lmtp-fewer-replies", test_lmtp_fewer_replies },
  { "/hostile/M/lmtp-duplicate-recipient", test_lmtp_duplicate_recipient },
  { "/hostile/M/lmtp-socket-errors", test_lmtp_socket_errors },
  { "/hostile/M/smtp-client-at-lmtp-server", test_smtp_client_at_lmtp_server },
};

/* The blocking calls, then the async ones, each against its own server. */
static void
run_both (gconstpointer data)
{
  const HostileTest *test = data;

  g_test_message ("sync");
  test->run (MODE_SYNC);
  g_test_message ("async");
  test->run (MODE_ASYNC);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();
  for (gsize i = 0; i < G_N_ELEMENTS (tests); i++)
    g_test_add_data_func (tests[i].path, &tests[i], run_both);
  return g_test_run ();
}
