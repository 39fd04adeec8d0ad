/* test-peers.c: the real peers start, offer what the tests rely on, and
 * never outlive the test program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything here talks to the peers with raw GIO connections or Python's
 * smtplib, not with libmailkit: it proves the harness the library's own
 * tests stand on.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-peer.h"
#include "mk-test-utils.h"

/* Seconds for one raw reply or one connect (scaled). */
#define RAW_TIMEOUT 20
/* A reply longer than this many lines is a broken peer, not a long EHLO. */
#define RAW_REPLY_MAX_LINES 100
/* Seconds for Postfix to hand a message to its Maildir (scaled). */
#define DELIVERY_TIMEOUT 30.0
/* Seconds to wait for a stopped peer's processes to be gone (scaled). */
#define GONE_TIMEOUT 20.0

static const char *const test_users[] = { MK_TEST_PEER_USER ":" MK_TEST_PEER_PASSWORD, NULL };

/* ---- a raw SMTP/LMTP conversation ---- */

typedef struct
{
  GSocketConnection *connection;
  GDataInputStream *input;
} Raw;

static void
raw_free (Raw *raw)
{
  g_io_stream_close (G_IO_STREAM (raw->connection), NULL, NULL);
  g_object_unref (raw->input);
  g_object_unref (raw->connection);
  g_free (raw);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Raw, raw_free)

/* A reply: its code and each line's text after the code and separator. */
typedef struct
{
  int code;
  GStrv lines;
} Reply;

static void
reply_free (Reply *reply)
{
  g_strfreev (reply->lines);
  g_free (reply);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static Reply *
raw_read_reply (Raw *raw)
{
  g_autoptr (GStrvBuilder) lines = g_strv_builder_new ();
  Reply *reply = g_new0 (Reply, 1);

  for (guint n = 0;; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *line = g_data_input_stream_read_line (raw->input, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_assert_cmpuint (n, <, RAW_REPLY_MAX_LINES);
      g_strchomp (line);
      g_assert_cmpuint (strlen (line), >=, 3);
      reply->code = (int)g_ascii_strtoll (line, NULL, 10);
      g_strv_builder_add (lines, line[3] != '\0' ? line + 4 : "");
      if (line[3] != '-')
        break;
    }
  reply->lines = g_strv_builder_end (lines);
  return reply;
}

static Raw *
raw_connect (GSocketConnectable *address, int expected_greeting)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) greeting = NULL;
  Raw *raw = g_new0 (Raw, 1);

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, (guint)(RAW_TIMEOUT * mk_test_time_scale ()));
  raw->connection = g_socket_client_connect (client, address, NULL, &error);
  g_assert_no_error (error);
  raw->input
      = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (raw->connection)));
  g_data_input_stream_set_newline_type (raw->input, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  greeting = raw_read_reply (raw);
  g_assert_cmpint (greeting->code, ==, expected_greeting);
  return raw;
}

static void
raw_write (Raw *raw, const char *text)
{
  g_autoptr (GError) error = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (raw->connection));

  g_output_stream_write_all (output, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads a reply and checks its code. */
static void
raw_expect (Raw *raw, int expected_code)
{
  g_autoptr (Reply) reply = raw_read_reply (raw);

  if (reply->code != expected_code)
    g_error ("expected %d, got %d %s", expected_code, reply->code, reply->lines[0]);
}

/* Sends @command and CRLF, reads the reply and checks its code. */
static Reply *
raw_command (Raw *raw, const char *command, int expected_code)
{
  g_autofree char *line = g_strconcat (command, "\r\n", NULL);
  Reply *reply;

  raw_write (raw, line);
  reply = raw_read_reply (raw);
  if (reply->code != expected_code)
    g_error ("%s: expected %d, got %d %s", command, expected_code, reply->code, reply->lines[0]);
  return reply;
}

/* Whether an EHLO/LHLO reply (lines after the first) has @keyword, alone or
 * followed by parameters. Case-insensitive. */
static gboolean
has_extension (const Reply *ehlo, const char *keyword)
{
  gsize length = strlen (keyword);

  for (guint i = 1; ehlo->lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (ehlo->lines[i], keyword, length) == 0
        && (ehlo->lines[i][length] == '\0' || ehlo->lines[i][length] == ' '))
      return TRUE;
  return FALSE;
}

/* Whether it has exactly @line (keyword and parameters), case-insensitive. */
static gboolean
has_line (const Reply *ehlo, const char *line)
{
  for (guint i = 1; ehlo->lines[i] != NULL; i++)
    if (g_ascii_strcasecmp (ehlo->lines[i], line) == 0)
      return TRUE;
  return FALSE;
}

/* A short message whose Subject the checks look for. */
static char *
test_message (const char *subject)
{
  return g_strdup_printf ("From: <sender@example.org>\r\n"
                          "To: <" MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN ">\r\n"
                          "Subject: %s\r\n"
                          "Message-ID: <%s@test.example>\r\n"
                          "\r\n"
                          "First line.\r\n"
                          ".A line that starts with a dot.\r\n",
                          subject, subject);
}

/* The same, dot-stuffed and ended for DATA. */
static char *
test_message_for_data (const char *subject)
{
  g_autofree char *message = test_message (subject);
  g_auto (GStrv) parts = g_strsplit (message, "\r\n.", -1);
  g_autofree char *stuffed = g_strjoinv ("\r\n..", parts);

  return g_strconcat (stuffed, ".\r\n", NULL);
}

static char *
parsed_subject (GBytes *data)
{
  gsize length = 0;
  const char *bytes = g_bytes_get_data (data, &length);
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (bytes, length);
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  g_autoptr (GMimeMessage) message = g_mime_parser_construct_message (parser, NULL);

  g_assert_nonnull (message);
  return g_strdup (g_mime_message_get_subject (message));
}

static gboolean
strv_equal (const char *const *strv, const char *first, ...)
{
  va_list args;
  const char *expected = first;
  guint i = 0;

  va_start (args, first);
  for (; expected != NULL; expected = va_arg (args, const char *), i++)
    if (strv == NULL || strv[i] == NULL || strcmp (strv[i], expected) != 0)
      {
        va_end (args);
        return FALSE;
      }
  va_end (args);
  return strv != NULL && strv[i] == NULL;
}

/* Runs tests/peers/smtplib-check.py with @args; it must print OK. */
static void
smtplib_check (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup (mk_test_python ()));
  g_ptr_array_add (argv, g_build_filename (mk_test_srcdir (), "peers", "smtplib-check.py", NULL));
  g_ptr_array_add (argv, g_strdup_printf ("--cafile=%s", mk_test_certs_get ()->ca_file));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("smtplib-check.py failed: %s%s", out, err);
  g_assert_true (g_str_has_prefix (out, "OK TLS"));
}

/* ---- aiosmtpd ---- */

static void
test_aiosmtpd_ehlo (void)
{
  const MkTestAiosmtpdOptions options = { .starttls = TRUE, .smtputf8 = TRUE, .users = test_users };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autoptr (Reply) ehlo = raw_command (raw, "EHLO client.example", 250);
  g_autoptr (Reply) auth = NULL;

  g_assert_cmpstr (mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT), ==, "127.0.0.1");
  g_assert_cmpuint (mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), >, 0);
  g_assert_true (has_extension (ehlo, "SMTPUTF8"));
  g_assert_true (has_extension (ehlo, "STARTTLS"));
  g_assert_true (has_extension (ehlo, "8BITMIME"));
  g_assert_false (has_extension (ehlo, "PIPELINING")); /* unless asked for */
  /* AUTH only after STARTTLS unless the options allow it. */
  g_assert_false (has_extension (ehlo, "AUTH"));
  auth = raw_command (raw, "AUTH PLAIN AHRlc3R1c2VyAHRlc3QtcGFzc3dvcmQ=", 538);
  g_clear_pointer (&auth, reply_free);
  auth = raw_command (raw, "QUIT", 221);
}

static void
test_aiosmtpd_plaintext_auth_ipv6 (void)
{
  const MkTestAiosmtpdOptions options
      = { .ipv6 = TRUE, .users = test_users, .auth_plaintext = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autoptr (Reply) ehlo = raw_command (raw, "EHLO client.example", 250);
  /* base64 of "\0testuser\0test-password" and of a wrong password */
  g_autoptr (Reply) wrong = raw_command (raw, "AUTH PLAIN AHRlc3R1c2VyAHdyb25n", 535);
  g_autoptr (Reply) right = raw_command (raw, "AUTH PLAIN AHRlc3R1c2VyAHRlc3QtcGFzc3dvcmQ=", 235);

  g_assert_cmpstr (mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT), ==, "::1");
  g_assert_true (has_line (ehlo, "AUTH LOGIN PLAIN"));
  g_assert_false (has_extension (ehlo, "STARTTLS"));
}

static void
test_aiosmtpd_send (void)
{
  const char *const refuse[]
      = { "gone@example.org=550 5.1.1 No such user", "busy@example.org=450 4.2.1 Try later", NULL };
  const MkTestAiosmtpdOptions options
      = { .smtputf8 = TRUE, .pipelining = TRUE, .refuse_rcpt = refuse };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autofree char *data = test_message_for_data ("aiosmtpd raw send");
  g_autofree char *expected = test_message ("aiosmtpd raw send");
  g_autofree char *subject = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const MkTestMessage *message;
  Reply *reply;

  reply = raw_command (raw, "EHLO client.example", 250);
  g_assert_true (has_extension (reply, "PIPELINING"));
  reply_free (reply);
  /* The envelope in one write (RFC 2920), the replies read in order. */
  raw_write (raw, "MAIL FROM:<sender@example.org> BODY=8BITMIME SMTPUTF8\r\n"
                  "RCPT TO:<one@example.org>\r\n"
                  "RCPT TO:<gone@example.org>\r\n"
                  "RCPT TO:<busy@example.org>\r\n"
                  "RCPT TO:<two@example.org>\r\n"
                  "DATA\r\n");
  for (guint i = 0; i < 6; i++)
    {
      const int codes[] = { 250, 250, 550, 450, 250, 354 };

      reply = raw_read_reply (raw);
      g_assert_cmpint (reply->code, ==, codes[i]);
      if (i == 2)
        g_assert_cmpstr (reply->lines[0], ==, "5.1.1 No such user");
      reply_free (reply);
    }
  raw_write (raw, data);
  raw_expect (raw, 250);
  reply_free (raw_command (raw, "QUIT", 221));

  messages = mk_test_peer_get_messages (peer);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (message->mail_from, ==, "sender@example.org");
  g_assert_true (
      strv_equal ((const char *const *)message->mail_options, "BODY=8BITMIME", "SMTPUTF8", NULL));
  g_assert_true (strv_equal ((const char *const *)message->rcpt_tos, "one@example.org",
                             "two@example.org", NULL));
  g_assert_true (strv_equal ((const char *const *)message->rcpt_options, "", "", NULL));
  g_assert_cmpstr (message->helo, ==, "client.example");
  g_assert_null (message->auth_user);
  g_assert_false (message->tls);
  /* Exactly the bytes sent, dot-unstuffed. */
  g_assert_cmpmem (g_bytes_get_data (message->data, NULL), g_bytes_get_size (message->data),
                   expected, strlen (expected));
  subject = parsed_subject (message->data);
  g_assert_cmpstr (subject, ==, "aiosmtpd raw send");
}

static void
test_aiosmtpd_lmtp_unix (void)
{
  const char *const refuse_rcpt[] = { "unknown@example.org=550 5.1.1 Unknown user", NULL };
  const char *const refuse_after[] = { "full@example.org=452 4.2.2 Mailbox full", NULL };
  const MkTestAiosmtpdOptions options = {
    .lmtp = TRUE,
    .unix_socket = TRUE,
    .refuse_rcpt = refuse_rcpt,
    .refuse_after_data = refuse_after,
  };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autofree char *data = test_message_for_data ("lmtp per recipient");
  g_autoptr (Reply) first = NULL;
  g_autoptr (Reply) second = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const MkTestMessage *message;

  g_assert_true (g_str_has_prefix (mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT), "/"));
  g_assert_cmpuint (mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), ==, 0);
  reply_free (raw_command (raw, "EHLO client.example", 500)); /* LMTP wants LHLO */
  reply_free (raw_command (raw, "LHLO client.example", 250));
  reply_free (raw_command (raw, "MAIL FROM:<sender@example.org>", 250));
  reply_free (raw_command (raw, "RCPT TO:<ok@example.org>", 250));
  reply_free (raw_command (raw, "RCPT TO:<unknown@example.org>", 550));
  reply_free (raw_command (raw, "RCPT TO:<full@example.org>", 250));
  reply_free (raw_command (raw, "DATA", 354));
  raw_write (raw, data);
  /* RFC 2033 section 4.2: one reply per accepted recipient, in order. */
  first = raw_read_reply (raw);
  second = raw_read_reply (raw);
  g_assert_cmpint (first->code, ==, 250);
  g_assert_nonnull (strstr (first->lines[0], "<ok@example.org>"));
  g_assert_cmpint (second->code, ==, 452);
  g_assert_cmpstr (second->lines[0], ==, "4.2.2 Mailbox full");
  reply_free (raw_command (raw, "QUIT", 221));

  messages = mk_test_peer_get_messages (peer);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_true (strv_equal ((const char *const *)message->rcpt_tos, "ok@example.org",
                             "full@example.org", NULL));
  g_assert_true (strv_equal ((const char *const *)message->delivered, "ok@example.org", NULL));
}

static void
test_aiosmtpd_tls_auth (void)
{
  const MkTestAiosmtpdOptions starttls_options = { .starttls = TRUE, .users = test_users };
  const MkTestAiosmtpdOptions implicit_options = { .implicit_tls = TRUE, .users = test_users };
  g_autoptr (MkTestPeer) starttls = mk_test_peer_start_aiosmtpd (&starttls_options);
  g_autoptr (MkTestPeer) implicit = mk_test_peer_start_aiosmtpd (&implicit_options);
  g_autofree char *starttls_port
      = g_strdup_printf ("--port=%u", mk_test_peer_get_port (starttls, MK_TEST_SERVICE_DEFAULT));
  g_autofree char *implicit_port
      = g_strdup_printf ("--port=%u", mk_test_peer_get_port (implicit, MK_TEST_SERVICE_DEFAULT));
  const char *const over_starttls[] = { "--host=127.0.0.1",
                                        starttls_port,
                                        "--tls=starttls",
                                        "--user=" MK_TEST_PEER_USER,
                                        "--password=" MK_TEST_PEER_PASSWORD,
                                        "--mail-from=sender@example.org",
                                        "--rcpt-to=rcpt@example.org",
                                        NULL };
  const char *const over_implicit[] = { "--host=127.0.0.1",
                                        implicit_port,
                                        "--tls=implicit",
                                        "--user=" MK_TEST_PEER_USER,
                                        "--password=" MK_TEST_PEER_PASSWORD,
                                        "--mechanism=LOGIN",
                                        "--mail-from=sender@example.org",
                                        "--rcpt-to=rcpt@example.org",
                                        NULL };
  g_autoptr (GPtrArray) messages = NULL;
  const MkTestMessage *message;

  smtplib_check (over_starttls);
  smtplib_check (over_implicit);

  messages = mk_test_peer_get_messages (starttls);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (message->auth_user, ==, MK_TEST_PEER_USER);
  g_assert_true (message->tls);
  g_clear_pointer (&messages, g_ptr_array_unref);

  messages = mk_test_peer_get_messages (implicit);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (message->auth_user, ==, MK_TEST_PEER_USER);
  g_assert_true (message->tls);
}

/* ---- smtp-sink ---- */

static void
test_smtp_sink_ehlo (void)
{
  const MkTestSmtpSinkOptions quiet = { .no_pipelining = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_smtp_sink (NULL);
  g_autoptr (MkTestPeer) no_pipelining = mk_test_peer_start_smtp_sink (&quiet);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (GSocketConnectable) address2
      = mk_test_peer_get_address (no_pipelining, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autoptr (Raw) raw2 = raw_connect (address2, 220);
  g_autoptr (Reply) ehlo = raw_command (raw, "EHLO client.example", 250);
  g_autoptr (Reply) ehlo2 = raw_command (raw2, "EHLO client.example", 250);

  g_assert_true (has_extension (ehlo, "PIPELINING"));
  g_assert_true (has_extension (ehlo, "DSN"));
  g_assert_true (has_extension (ehlo, "8BITMIME"));
  g_assert_true (has_extension (ehlo, "ENHANCEDSTATUSCODES"));
  g_assert_false (has_extension (ehlo, "STARTTLS"));
  g_assert_false (has_extension (ehlo2, "PIPELINING"));
  g_assert_true (has_extension (ehlo2, "DSN"));
}

static void
test_smtp_sink_save (void)
{
  const MkTestSmtpSinkOptions options = { .save_messages = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_smtp_sink (&options);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autofree char *data = test_message_for_data ("smtp-sink save");
  g_autofree char *subject = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const MkTestMessage *message;

  reply_free (raw_command (raw, "EHLO client.example", 250));
  reply_free (raw_command (raw, "MAIL FROM:<sender@example.org> BODY=8BITMIME", 250));
  reply_free (raw_command (raw, "RCPT TO:<one@example.org> NOTIFY=SUCCESS,FAILURE", 250));
  reply_free (raw_command (raw, "RCPT TO:<two@example.org>", 250));
  reply_free (raw_command (raw, "DATA", 354));
  raw_write (raw, data);
  raw_expect (raw, 250);
  reply_free (raw_command (raw, "QUIT", 221));

  messages = mk_test_peer_wait_messages (peer, 1, RAW_TIMEOUT);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (message->mail_from, ==, "sender@example.org");
  g_assert_true (strv_equal ((const char *const *)message->mail_options, "BODY=8BITMIME", NULL));
  g_assert_true (strv_equal ((const char *const *)message->rcpt_tos, "one@example.org",
                             "two@example.org", NULL));
  g_assert_true (
      strv_equal ((const char *const *)message->rcpt_options, "NOTIFY=SUCCESS,FAILURE", "", NULL));
  g_assert_cmpstr (message->helo, ==, "client.example");
  subject = parsed_subject (message->data);
  g_assert_cmpstr (subject, ==, "smtp-sink save");
}

static void
test_smtp_sink_lmtp (void)
{
  const MkTestSmtpSinkOptions options = { .lmtp = TRUE, .unix_socket = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_smtp_sink (&options);
  g_autoptr (GSocketConnectable) address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (address, 220);
  g_autofree char *data = test_message_for_data ("smtp-sink lmtp");
  g_autoptr (Reply) first = NULL;
  g_autoptr (Reply) second = NULL;

  reply_free (raw_command (raw, "LHLO client.example", 250));
  reply_free (raw_command (raw, "MAIL FROM:<sender@example.org>", 250));
  reply_free (raw_command (raw, "RCPT TO:<one@example.org>", 250));
  reply_free (raw_command (raw, "RCPT TO:<two@example.org>", 250));
  reply_free (raw_command (raw, "DATA", 354));
  raw_write (raw, data);
  /* One reply per recipient, then the session goes on. */
  first = raw_read_reply (raw);
  second = raw_read_reply (raw);
  g_assert_cmpint (first->code, ==, 250);
  g_assert_cmpint (second->code, ==, 250);
  reply_free (raw_command (raw, "NOOP", 250));
  reply_free (raw_command (raw, "QUIT", 221));
}

/* ---- Postfix + Dovecot ---- */

static void
test_postfix_ehlo (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (GSocketConnectable) smtp = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (GSocketConnectable) submission
      = mk_test_peer_get_address (peer, MK_TEST_SERVICE_SUBMISSION);
  g_autoptr (Raw) raw = raw_connect (smtp, 220);
  g_autoptr (Raw) raw_submission = raw_connect (submission, 220);
  g_autoptr (Reply) ehlo = raw_command (raw, "EHLO client.example", 250);
  g_autoptr (Reply) ehlo_submission = raw_command (raw_submission, "EHLO client.example", 250);
  g_autoptr (Reply) mail = NULL;
  g_autofree char *size = g_strdup_printf ("SIZE %d", MK_TEST_POSTFIX_SIZE_LIMIT);

  g_assert_true (peer == mk_test_peer_get_postfix ()); /* one per program */
  g_assert_true (has_extension (ehlo, "CHUNKING"));
  g_assert_true (has_line (ehlo, size));
  g_assert_true (has_extension (ehlo, "STARTTLS"));
  g_assert_true (has_extension (ehlo, "PIPELINING"));
  g_assert_true (has_extension (ehlo, "SMTPUTF8"));
  g_assert_true (has_extension (ehlo, "DSN"));
  g_assert_true (has_extension (ehlo, "8BITMIME"));
  g_assert_true (has_extension (ehlo, "ENHANCEDSTATUSCODES"));
  g_assert_false (has_extension (ehlo, "AUTH"));
  /* Submission: STARTTLS first, AUTH only after it, no mail before. */
  g_assert_true (has_extension (ehlo_submission, "STARTTLS"));
  g_assert_false (has_extension (ehlo_submission, "AUTH"));
  mail = raw_command (raw_submission, "MAIL FROM:<sender@example.org>", 530);
}

static void
test_postfix_deliver (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (GSocketConnectable) smtp = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (smtp, 220);
  g_autofree char *data = test_message_for_data ("postfix to maildir");
  g_autoptr (GPtrArray) messages = NULL;
  const MkTestMessage *message = NULL;
  g_autofree char *subject = NULL;
  Reply *reply;

  reply_free (raw_command (raw, "EHLO client.example", 250));
  reply_free (raw_command (raw, "MAIL FROM:<sender@example.org>", 250));
  reply_free (raw_command (raw, "RCPT TO:<" MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN ">", 250));
  reply = raw_command (raw, "RCPT TO:<nobody@" MK_TEST_POSTFIX_DOMAIN ">", 550);
  g_assert_true (g_str_has_prefix (reply->lines[0], "5.1.1 "));
  reply_free (reply);
  reply_free (raw_command (raw, "RCPT TO:<someone@elsewhere.example>", 554)); /* no relay */
  reply_free (raw_command (raw, "DATA", 354));
  raw_write (raw, data);
  raw_expect (raw, 250);
  reply_free (raw_command (raw, "QUIT", 221));

  /* Delivery is asynchronous; other tests of this program add messages. */
  for (guint wanted = 1; message == NULL && wanted < 100; wanted++)
    {
      g_clear_pointer (&messages, g_ptr_array_unref);
      messages = mk_test_peer_wait_messages (peer, wanted, DELIVERY_TIMEOUT);
      for (guint i = 0; i < messages->len; i++)
        {
          const MkTestMessage *candidate = g_ptr_array_index (messages, i);
          g_autofree char *candidate_subject = parsed_subject (candidate->data);

          if (g_strcmp0 (candidate_subject, "postfix to maildir") == 0)
            message = candidate;
        }
      if (messages->len < wanted)
        break;
    }
  if (message == NULL)
    g_error ("the message did not reach %s; see %s", mk_test_peer_get_spool_dir (peer),
             mk_test_peer_get_log (peer));
  g_assert_true (g_str_has_prefix (message->path, mk_test_peer_get_spool_dir (peer)));
  g_assert_cmpstr (message->mail_from, ==, "sender@example.org");
  g_assert_true (strv_equal ((const char *const *)message->rcpt_tos,
                             MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN, NULL));
  subject = parsed_subject (message->data);
  g_assert_cmpstr (subject, ==, "postfix to maildir");
}

static void
test_postfix_smtputf8 (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (GSocketConnectable) smtp = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (Raw) raw = raw_connect (smtp, 220);
  g_autofree char *data = test_message_for_data ("utf8 to virtual");
  gboolean found = FALSE;

  reply_free (raw_command (raw, "EHLO client.example", 250));
  reply_free (raw_command (raw, "MAIL FROM:<sénder@example.org> SMTPUTF8", 250));
  reply_free (raw_command (raw, "RCPT TO:<josé@" MK_TEST_POSTFIX_UTF8_DOMAIN ">", 250));
  reply_free (raw_command (raw, "DATA", 354));
  raw_write (raw, data);
  raw_expect (raw, 250);
  reply_free (raw_command (raw, "QUIT", 221));

  for (guint wanted = 1; !found && wanted < 100; wanted++)
    {
      g_autoptr (GPtrArray) messages = mk_test_peer_wait_messages (peer, wanted, DELIVERY_TIMEOUT);

      for (guint i = 0; i < messages->len; i++)
        {
          const MkTestMessage *message = g_ptr_array_index (messages, i);

          if (g_str_has_prefix (message->path, mk_test_peer_get_utf8_maildir (peer))
              && g_strcmp0 (message->mail_from, "sénder@example.org") == 0)
            found = TRUE;
        }
      if (messages->len < wanted)
        break;
    }
  if (!found)
    g_error ("the SMTPUTF8 message did not reach %s; see %s", mk_test_peer_get_utf8_maildir (peer),
             mk_test_peer_get_log (peer));
}

static void
test_postfix_tls_auth (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autofree char *submission
      = g_strdup_printf ("--port=%u", mk_test_peer_get_port (peer, MK_TEST_SERVICE_SUBMISSION));
  g_autofree char *submissions
      = g_strdup_printf ("--port=%u", mk_test_peer_get_port (peer, MK_TEST_SERVICE_SUBMISSIONS));
  const char *const over_starttls[] = { "--host=127.0.0.1",
                                        submission,
                                        "--tls=starttls",
                                        "--user=" MK_TEST_PEER_USER,
                                        "--password=" MK_TEST_PEER_PASSWORD,
                                        "--mail-from=sender@example.org",
                                        "--rcpt-to=" MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN,
                                        "--subject=postfix submission",
                                        NULL };
  const char *const over_implicit[] = { "--host=127.0.0.1",
                                        submissions,
                                        "--tls=implicit",
                                        "--user=" MK_TEST_PEER_USER,
                                        "--password=" MK_TEST_PEER_PASSWORD,
                                        "--mechanism=LOGIN",
                                        NULL };

  smtplib_check (over_starttls);
  smtplib_check (over_implicit);
}

static void
test_dovecot_lmtp (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (GSocketConnectable) lmtp = mk_test_peer_get_address (peer, MK_TEST_SERVICE_LMTP);
  g_autoptr (Raw) raw = raw_connect (lmtp, 220);
  g_autoptr (Reply) lhlo = raw_command (raw, "LHLO client.example", 250);
  g_autoptr (Reply) unknown = NULL;

  g_assert_true (g_str_has_prefix (mk_test_peer_get_host (peer, MK_TEST_SERVICE_LMTP), "/"));
  g_assert_true (has_extension (lhlo, "CHUNKING"));
  g_assert_true (has_extension (lhlo, "PIPELINING"));
  g_assert_true (has_extension (lhlo, "ENHANCEDSTATUSCODES"));
  reply_free (raw_command (raw, "MAIL FROM:<sender@example.org>", 250));
  reply_free (raw_command (raw, "RCPT TO:<" MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN ">", 250));
  unknown = raw_command (raw, "RCPT TO:<nobody@" MK_TEST_POSTFIX_DOMAIN ">", 550);
  g_assert_true (g_str_has_prefix (unknown->lines[0], "5.1.1 "));
  reply_free (raw_command (raw, "RSET", 250));
}

/* ---- nothing outlives the test program ---- */

#define PIDS_FILE_VARIABLE "MK_TEST_PEERS_PIDS_FILE"

static void
append_pid_file (GString *pids, const char *path)
{
  g_autofree char *text = mk_test_read_file (path, NULL);

  g_string_append_printf (pids, "%d\n", atoi (text));
}

/* In the child: starts one of each peer, writes every PID that must go away
 * (and the child's temporary folder) to the file named by the parent. */
static void
start_peers_and_record (void)
{
  const MkTestAiosmtpdOptions options = { .starttls = TRUE };
  MkTestPeer *aiosmtpd = mk_test_peer_start_aiosmtpd (&options);
  MkTestPeer *postfix = mk_test_peer_get_postfix ();
  g_autofree char *postfix_dir = g_path_get_dirname (mk_test_peer_get_log (postfix));
  g_autofree char *peer_dir = g_path_get_dirname (postfix_dir);
  g_autofree char *postfix_master
      = g_build_filename (postfix_dir, "queue", "pid", "master.pid", NULL);
  g_autofree char *dovecot_master
      = g_build_filename (peer_dir, "dovecot", "run", "master.pid", NULL);
  g_autoptr (GString) pids = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  g_string_append_printf (pids, "%s\n", mk_test_tmpdir ());
  g_string_append_printf (pids, "%d\n%d\n", mk_test_peer_get_pid (aiosmtpd),
                          mk_test_peer_get_pid (postfix));
  append_pid_file (pids, postfix_master);
  append_pid_file (pids, dovecot_master);
  g_string_append_printf (pids, "%d\n", mk_test_peer_get_pid (mk_test_peer_start_smtp_sink (NULL)));
  g_file_set_contents (g_getenv (PIDS_FILE_VARIABLE), pids->str, -1, &error);
  g_assert_no_error (error);
}

/* Whether @pid is gone; a zombie counts as gone (its parent, possibly an
 * init that reaps late, has not collected it yet). */
static gboolean
process_gone (int pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *after_name;

  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return TRUE;
  after_name = strrchr (stat, ')');
  return after_name != NULL && (after_name[2] == 'Z' || after_name[2] == 'X');
}

/* `ps` lines (zombies left out) that mention @text. */
static char *
ps_lines_mentioning (const char *text)
{
  const char *argv[] = { "ps", "-eo", "pid=,stat=,args=", NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) found = g_string_new (NULL);
  int status = 0;

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", 3);

      if (g_strv_length (fields) == 3 && fields[1][0] != 'Z' && strstr (fields[2], text) != NULL)
        g_string_append_printf (found, "%s\n", lines[i]);
    }
  return g_string_free (g_steal_pointer (&found), FALSE);
}

/* After the child ended: every peer process it recorded must be gone. */
static void
check_nothing_left_behind (const char *pids_path)
{
  g_autofree char *text = mk_test_read_file (pids_path, NULL);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gint64 deadline
      = g_get_monotonic_time () + (gint64)(GONE_TIMEOUT * mk_test_time_scale () * G_USEC_PER_SEC);
  gboolean all_gone = FALSE;
  g_autofree char *left = NULL;

  g_assert_cmpuint (g_strv_length (lines), >=, 5);
  while (!all_gone && g_get_monotonic_time () < deadline)
    {
      all_gone = TRUE;
      for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
        all_gone = all_gone && process_gone (atoi (lines[i]));
      if (!all_gone)
        g_usleep (20000);
    }
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    if (!process_gone (atoi (lines[i])))
      g_error ("peer process %s outlived its test program", lines[i]);
  /* Nothing else started from the child's folder either (Dovecot's helpers
   * name their configuration file). */
  left = ps_lines_mentioning (lines[0]);
  g_assert_cmpstr (left, ==, "");
}

/* How the child test program ends, with its peers running. */
typedef enum
{
  END_FAILED_ASSERTION, /* in a g_test_trap child, GLib _exit()s: no handler runs */
  END_ABORT,            /* as a failed assertion ends a normal test run */
  END_EXIT,             /* returns without stopping them */
  END_SIGKILL,          /* nothing of the program runs any more */
} ChildEnd;

static void
check_cleanup (gconstpointer data)
{
  ChildEnd end = GPOINTER_TO_INT (data);
  g_autofree char *pids = NULL;

  if (g_test_subprocess ())
    {
      start_peers_and_record ();
      switch (end)
        {
        case END_FAILED_ASSERTION:
          g_assert_cmpint (1, ==, 2);
          break;
        case END_ABORT:
          abort ();
        case END_EXIT:
          break;
        case END_SIGKILL:
          raise (SIGKILL);
          break;
        }
      return;
    }
  pids = g_strdup (g_getenv (PIDS_FILE_VARIABLE));
  g_unlink (pids); /* what an earlier child wrote */
  g_test_trap_subprocess (NULL, (guint64)(120 * mk_test_time_scale () * G_USEC_PER_SEC),
                          G_TEST_SUBPROCESS_DEFAULT);
  if (end == END_EXIT)
    g_test_trap_assert_passed ();
  else
    g_test_trap_assert_failed ();
  check_nothing_left_behind (pids);
}

int
main (int argc, char **argv)
{
  /* Where the clean-up children write their PIDs, inherited by them; set
   * before any thread exists (setenv is not thread-safe). */
  if (g_getenv (PIDS_FILE_VARIABLE) == NULL)
    {
      g_autofree char *pids = g_build_filename (mk_test_tmpdir (), "child-pids", NULL);

      g_setenv (PIDS_FILE_VARIABLE, pids, TRUE);
    }
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/peers/aiosmtpd/ehlo", test_aiosmtpd_ehlo);
  g_test_add_func ("/peers/aiosmtpd/plaintext-auth-ipv6", test_aiosmtpd_plaintext_auth_ipv6);
  g_test_add_func ("/peers/aiosmtpd/send", test_aiosmtpd_send);
  g_test_add_func ("/peers/aiosmtpd/lmtp-unix", test_aiosmtpd_lmtp_unix);
  g_test_add_func ("/peers/aiosmtpd/tls-auth", test_aiosmtpd_tls_auth);
  g_test_add_func ("/peers/smtp-sink/ehlo", test_smtp_sink_ehlo);
  g_test_add_func ("/peers/smtp-sink/save", test_smtp_sink_save);
  g_test_add_func ("/peers/smtp-sink/lmtp", test_smtp_sink_lmtp);
  g_test_add_func ("/peers/postfix/ehlo", test_postfix_ehlo);
  g_test_add_func ("/peers/postfix/deliver", test_postfix_deliver);
  g_test_add_func ("/peers/postfix/smtputf8", test_postfix_smtputf8);
  g_test_add_func ("/peers/postfix/tls-auth", test_postfix_tls_auth);
  g_test_add_func ("/peers/dovecot/lmtp", test_dovecot_lmtp);
  g_test_add_data_func ("/peers/cleanup/failed-assertion", GINT_TO_POINTER (END_FAILED_ASSERTION),
                        check_cleanup);
  g_test_add_data_func ("/peers/cleanup/abort", GINT_TO_POINTER (END_ABORT), check_cleanup);
  g_test_add_data_func ("/peers/cleanup/exit", GINT_TO_POINTER (END_EXIT), check_cleanup);
  g_test_add_data_func ("/peers/cleanup/sigkill", GINT_TO_POINTER (END_SIGKILL), check_cleanup);

  return g_test_run ();
}
