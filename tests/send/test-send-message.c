/* test-send-message.c: mk_smtp_client_send_message() against the scripted
 * fault server, which records the exact bytes it was sent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-failing-stream.h"
#include "mk-test-fault-server.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"

/* ---- helpers ----------------------------------------------------------- */

/* Sends @message the sync or the async way. */
static gboolean
send_message (MkSmtpClient *client, GMimeMessage *message, const char *from, const char *const *to,
              gboolean async, GHashTable **refused, GError **error)
{
  MkTestAsync wait;
  gboolean ok;

  if (!async)
    return mk_smtp_client_send_message (client, message, from, to, NULL, NULL, refused, NULL,
                                        error);
  mk_test_async_init (&wait);
  mk_smtp_client_send_message_async (client, message, from, to, NULL, NULL, NULL,
                                     mk_test_async_callback, &wait);
  ok = mk_smtp_client_send_message_finish (client, mk_test_async_wait (&wait), refused, error);
  mk_test_async_clear (&wait);
  return ok;
}

/* The server's side of one accepted message: EHLO with @capabilities
 * (each a "250-" line; the last line is added), MAIL and one RCPT each for
 * @n_recipients, DATA, the data, 250, QUIT. */
static char *
accepting_script (const char *capabilities, const char *mail_line, guint n_recipients)
{
  GString *script = g_string_new ("S: 220 fault ready\nC: EHLO *\nS: 250-fault\n");

  if (capabilities != NULL)
    g_string_append (script, capabilities);
  g_string_append_printf (script, "S: 250 HELP\nC: %s\nS: 250 ok\n", mail_line);
  for (guint i = 0; i < n_recipients; i++)
    g_string_append (script, "C: RCPT TO:*\nS: 250 ok\n");
  g_string_append (script, "C: DATA\nS: 354 go ahead\nDATA-UNTIL-DOT\nS: 250 queued\n"
                           "C: QUIT\nS: 221 bye\nCLOSE\n");
  return g_string_free (script, FALSE);
}

static char *
data_string (MkFaultServer *server)
{
  GBytes *data = mk_fault_server_get_data (server, 0);

  return g_strndup (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

static void
assert_crlf_only (const char *data)
{
  for (const char *p = data; *p != '\0'; p++)
    {
      if (*p == '\n')
        g_assert_true (p > data && p[-1] == '\r');
      if (*p == '\r')
        g_assert_true (p[1] == '\n');
    }
}

static gsize
longest_line (const char *data)
{
  gsize longest = 0, current = 0;

  for (const char *p = data; *p != '\0'; p++)
    {
      if (*p == '\r' || *p == '\n')
        current = 0;
      else
        longest = MAX (longest, ++current);
    }
  return longest;
}

/* ---- envelope, Bcc, SIZE ----------------------------------------------- */

static const char basic_message[] = "From: Alice <alice@example.org>\n"
                                    "To: To One <to@example.net>\n"
                                    "Cc: cc@example.net\n"
                                    "Bcc: Hidden <bcc@example.net>\n"
                                    "Subject: hello\n"
                                    "Date: Mon, 02 Jan 2023 10:00:00 +0000\n"
                                    "Message-Id: <fixed@example.org>\n"
                                    "MIME-Version: 1.0\n"
                                    "Content-Type: text/plain; charset=us-ascii\n"
                                    "\n"
                                    "line one\n"
                                    ".dot line\n"
                                    "last\n";

static const char basic_wire[] = "From: Alice <alice@example.org>\r\n"
                                 "To: To One <to@example.net>\r\n"
                                 "Cc: cc@example.net\r\n"
                                 "Subject: hello\r\n"
                                 "Date: Mon, 02 Jan 2023 10:00:00 +0000\r\n"
                                 "Message-Id: <fixed@example.org>\r\n"
                                 "MIME-Version: 1.0\r\n"
                                 "Content-Type: text/plain; charset=us-ascii\r\n"
                                 "\r\n"
                                 "line one\r\n"
                                 "..dot line\r\n"
                                 "last\r\n"
                                 ".\r\n";

typedef struct
{
  guint calls;
  guint64 last_sent;
  guint64 last_total;
} Progress;

static void
on_progress (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  Progress *progress = user_data;

  g_assert_cmpuint (sent, >=, progress->last_sent);
  progress->calls++;
  progress->last_sent = sent;
  progress->last_total = total;
}

static void
test_basic (gconstpointer async)
{
  g_autofree char *script
      = accepting_script ("S: 250-SIZE 1000000\n", "MAIL FROM:<alice@example.org> SIZE=*", 3);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (basic_message);
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  const char *transcript, *size_option;
  Progress progress = { 0 };

  g_signal_connect (client, "progress", G_CALLBACK (on_progress), &progress);
  g_assert_true (
      send_message (client, message, NULL, NULL, GPOINTER_TO_INT (async), &refused, &error));
  g_assert_no_error (error);
  g_assert_nonnull (refused);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  /* To, Cc, Bcc in that order; no Bcc header; CRLF; the dot stuffed. */
  transcript = mk_fault_server_get_transcript (server, 0);
  g_assert_nonnull (strstr (transcript, "RCPT TO:<to@example.net>\r\nRCPT TO:<cc@example.net>\r\n"
                                        "RCPT TO:<bcc@example.net>\r\nDATA\r\n"));
  data = data_string (server);
  g_assert_cmpstr (data, ==, basic_wire);

  /* SIZE is the message before dot-stuffing, and the progress total. */
  size_option = strstr (transcript, " SIZE=");
  g_assert_nonnull (size_option);
  g_assert_cmpuint (g_ascii_strtoull (size_option + 6, NULL, 10), ==,
                    strlen (basic_wire) - strlen (".\r\n") - 1);
  g_assert_cmpuint (progress.calls, >, 0);
  g_assert_cmpuint (progress.last_total, ==, strlen (basic_wire) - strlen (".\r\n") - 1);
  g_assert_cmpuint (progress.last_sent, ==, progress.last_total);

  /* The caller's message is as it was. */
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"), ==,
                   "Hidden <bcc@example.net>");
}

/* Explicit from/to win; a recipient refused is reported, the rest sent. */
static void
test_explicit_and_refused (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new ("S: 220 fault ready\nC: EHLO *\nS: 250 fault\n"
                             "C: MAIL FROM:<me@example.org>\nS: 250 ok\n"
                             "C: RCPT TO:<x@example.net>\nS: 550 no such user\n"
                             "C: RCPT TO:<y@example.net>\nS: 250 ok\n"
                             "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n"
                             "C: QUIT\nS: 221 bye\nCLOSE\n",
                             NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (basic_message);
  static const char *const to[] = { "x@example.net", "y@example.net", NULL };
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (send_message (client, message, "me@example.org", to, FALSE, &refused, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  g_assert_true (g_hash_table_contains (refused, "x@example.net"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* ---- what is added, what is re-encoded --------------------------------- */

static void
test_date_and_message_id (void)
{
  g_autofree char *script = accepting_script (NULL, "MAIL FROM:<a@example.org>", 1);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message
      = mk_test_send_parse_message ("From: a@example.org\nTo: t@example.net\nSubject: s\n\nbody\n");
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GDateTime) date = NULL;
  g_autofree char *id_value = NULL;
  const char *id, *end;

  g_assert_true (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  data = data_string (server);
  g_assert_true (g_str_has_prefix (data, "Date: "));
  date = g_mime_utils_header_decode_date (data + strlen ("Date: "));
  g_assert_nonnull (date);
  id = strstr (data, "\r\nMessage-ID: <");
  g_assert_nonnull (id);
  end = strstr (id, ">\r\n");
  g_assert_nonnull (end);
  id_value = g_strndup (id, end - id);
  g_assert_true (g_str_has_suffix (id_value, "@example.org"));
  g_assert_nonnull (strstr (data, "\r\nFrom: a@example.org\r\n"));
  /* Not added to the caller's message. */
  g_assert_null (g_mime_object_get_header (GMIME_OBJECT (message), "Date"));
  g_assert_null (g_mime_object_get_header (GMIME_OBJECT (message), "Message-ID"));
}

static GMimeMessage *
eight_bit_message (void)
{
  return mk_test_send_parse_message (
      "From: a@example.org\nTo: t@example.net\nSubject: s\n"
      "Date: Mon, 02 Jan 2023 10:00:00 +0000\nMessage-Id: <m@example.org>\n"
      "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: 8bit\n\n"
      "Grüße aus Köln, mostly in ASCII so that it stays readable.\n");
}

static void
test_8bit_without_8bitmime (void)
{
  g_autofree char *script = accepting_script (NULL, "MAIL FROM:<a@example.org>", 1);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = eight_bit_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  GMimeObject *part = g_mime_message_get_mime_part (message);

  g_assert_true (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  data = data_string (server);
  for (const char *p = data; *p != '\0'; p++)
    g_assert_cmpint ((guchar)*p, <, 0x80);
  g_assert_nonnull (strstr (data, "Content-Transfer-Encoding: quoted-printable\r\n"));
  g_assert_nonnull (strstr (data, "\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln, mostly in ASCII"));
  /* The documented change to the caller's message: the encoding only. */
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (part)), ==,
                   GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
}

static void
test_8bit_with_8bitmime (void)
{
  g_autofree char *script
      = accepting_script ("S: 250-8BITMIME\n", "MAIL FROM:<a@example.org> BODY=8BITMIME", 1);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = eight_bit_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;

  g_assert_true (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  data = data_string (server);
  g_assert_nonnull (strstr (data, "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln, mostly"));
}

/* GMime keeps an over-long line as 7bit by itself: it must not reach the
 * wire raw, whatever the server offers. */
static void
test_long_line (void)
{
  g_autofree char *script = accepting_script ("S: 250-8BITMIME\n", "MAIL FROM:<a@example.org>", 1);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autofree char *line = g_strnfill (2100, 'x');
  g_autofree char *text = g_strdup_printf (
      "From: a@example.org\nTo: t@example.net\nSubject: s\nDate: Mon, 02 Jan 2023 10:00:00 "
      "+0000\nMessage-Id: <m@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n",
      line);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (text);
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;

  g_assert_true (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  data = data_string (server);
  g_assert_cmpuint (longest_line (data), <=, 998);
  g_assert_nonnull (strstr (data, "Content-Transfer-Encoding: quoted-printable\r\n"));
}

/* A NUL octet cannot travel in DATA even with 8BITMIME: base64. */
static void
test_nul_octet (void)
{
  g_autofree char *script = accepting_script ("S: 250-8BITMIME\n", "MAIL FROM:<a@example.org>", 1);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (
      "From: a@example.org\nTo: t@example.net\nSubject: s\n"
      "Date: Mon, 02 Jan 2023 10:00:00 +0000\nMessage-Id: <m@example.org>\n\n");
  g_autoptr (GMimeTextPart) text = g_mime_text_part_new_with_subtype ("plain");
  g_autoptr (GMimeStream) content = g_mime_stream_mem_new_with_buffer ("a\0b\n", 4);
  g_autoptr (GMimeDataWrapper) wrapper
      = g_mime_data_wrapper_new_with_stream (content, GMIME_CONTENT_ENCODING_DEFAULT);
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;

  g_mime_part_set_content (GMIME_PART (text), wrapper);
  g_mime_message_set_mime_part (message, GMIME_OBJECT (text));
  g_assert_true (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  data = data_string (server);
  g_assert_nonnull (strstr (data, "Content-Transfer-Encoding: base64\r\n\r\nYQBiCg==\r\n"));
}

/* Re-encoding a signed part would break its signature: refused instead,
 * before MAIL. */
static void
test_signed_part_not_reencoded (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      "S: 220 fault ready\nC: EHLO *\nS: 250 fault\nC: QUIT\nS: 221 bye\nCLOSE\n", NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (
      "From: a@example.org\nTo: t@example.net\nSubject: s\nMIME-Version: 1.0\n"
      "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; "
      "micalg=pgp-sha256; boundary=\"b\"\n\n"
      "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
      "Grüße\n--b\nContent-Type: application/pgp-signature\n\nsig\n--b--\n");
  g_autoptr (GError) error = NULL;

  g_assert_false (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "signature"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* A header line SMTP cannot carry is refused before the session is used. */
static void
test_long_header_line (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new ("S: 220 fault ready\nC: QUIT\nS: 221 bye\nCLOSE\n", NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autofree char *token = g_strnfill (1200, 'r');
  g_autofree char *text = g_strdup_printf (
      "From: a@example.org\nTo: t@example.net\nReferences: <%s@x>\n\nx\n", token);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (text);
  g_autoptr (GError) error = NULL;

  g_assert_false (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_true (mk_smtp_client_is_connected (client));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* ---- international addresses ------------------------------------------- */

static const char utf8_message[]
    = "From: a@example.org\nTo: jörg@bücher.example\nSubject: s\n"
      "Date: Mon, 02 Jan 2023 10:00:00 +0000\nMessage-Id: <m@example.org>\n\nhi\n";

static void
test_smtputf8_missing (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new ("S: 220 fault ready\nC: EHLO *\nS: 250-fault\nS: 250 8BITMIME\n"
                             "C: QUIT\nS: 221 bye\nCLOSE\n",
                             NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (utf8_message);
  g_autoptr (GError) error = NULL;

  g_assert_false (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "SMTPUTF8"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

static void
test_smtputf8_offered (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      "S: 220 fault ready\nC: EHLO *\nS: 250-fault\nS: 250-8BITMIME\nS: 250 SMTPUTF8\n"
      "C: MAIL FROM:<a@example.org> SMTPUTF8 BODY=8BITMIME\nS: 250 ok\n"
      "C: RCPT TO:<jörg@xn--bcher-kva.example>\nS: 250 ok\n"
      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\nC: QUIT\nS: 221 bye\nCLOSE\n",
      NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (utf8_message);
  g_autoptr (GError) error = NULL;

  g_assert_true (send_message (client, message, NULL, NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* Invalid input is refused before anything is sent. */
static void
test_invalid_before_sending (gconstpointer async)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new ("S: 220 fault ready\nC: QUIT\nS: 221 bye\nCLOSE\n", NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) no_recipients
      = mk_test_send_parse_message ("From: a@example.org\n\nx\n");
  g_autoptr (GMimeMessage) no_sender = mk_test_send_parse_message ("To: t@example.net\n\nx\n");
  g_autoptr (GError) error = NULL;

  g_assert_false (
      send_message (client, no_recipients, NULL, NULL, GPOINTER_TO_INT (async), NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "To, Cc or Bcc"));
  g_clear_error (&error);
  g_assert_false (
      send_message (client, no_sender, NULL, NULL, GPOINTER_TO_INT (async), NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "From or Sender"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* ---- parts read from files and streams --------------------------------- */

static GMimeMessage *
message_with_attachment (GMimeStream *content, const char *filename, GMimeContentEncoding encoding,
                         const char *type, const char *subtype)
{
  GMimeMessage *message
      = mk_test_send_parse_message ("From: a@example.org\nTo: t@example.net\nSubject: s\n"
                                    "Date: Mon, 02 Jan 2023 10:00:00 +0000\n"
                                    "Message-Id: <m@example.org>\n\n");
  g_autoptr (GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");
  g_autoptr (GMimeTextPart) text = g_mime_text_part_new_with_subtype ("plain");
  g_autoptr (GMimePart) attachment = g_mime_part_new_with_type (type, subtype);
  g_autoptr (GMimeDataWrapper) wrapper
      = g_mime_data_wrapper_new_with_stream (content, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_text_part_set_text (text, "See the attachment.\n");
  g_mime_part_set_content (attachment, wrapper);
  if (filename != NULL)
    g_mime_part_set_filename (attachment, filename);
  g_mime_part_set_content_encoding (attachment, encoding);
  g_mime_multipart_add (mixed, GMIME_OBJECT (text));
  g_mime_multipart_add (mixed, GMIME_OBJECT (attachment));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (mixed));
  return message;
}

static char *
write_file (const char *name, gsize size)
{
  g_autofree char *dir = mk_test_make_subdir ("send");
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (char)(i * 7 + i / 251);
  g_assert_true (g_file_set_contents (path, data, size, NULL));
  return path;
}

/* The server side of a transaction whose data never ends: the client must
 * close the connection instead of sending the terminator. */
static const char abandoned_script[]
    = "S: 220 fault ready\nC: EHLO *\nS: 250-fault\nS: 250 SIZE 100000000\n"
      "C: MAIL FROM:<a@example.org> SIZE=*\nS: 250 ok\nC: RCPT TO:<t@example.net>\nS: 250 ok\n"
      "C: DATA\nS: 354 go ahead\nDRAIN\n";

static void
assert_abandoned (MkFaultServer *server, MkSmtpClient *client)
{
  GBytes *transcript;
  const char *bytes;
  gsize length;

  g_assert_false (mk_smtp_client_is_connected (client));
  mk_test_send_assert_server_happy (server);
  transcript = mk_fault_server_get_transcript_bytes (server, 0);
  bytes = g_bytes_get_data (transcript, &length);
  g_assert_true (g_strstr_len (bytes, length, "DATA\r\n") != NULL);
  g_assert_false (length >= 5 && memcmp (bytes + length - 5, "\r\n.\r\n", 5) == 0);
}

/* A GMimeStreamFs that cuts its own file short once the writer has read
 * past a given octet: the file changes in the middle of the data, at the
 * same point whether the send runs in this thread or in a worker (a
 * progress handler would run late, on the main loop, for async sends). */
typedef struct
{
  GMimeStreamFs parent_instance;
  char *path;
  gint64 truncate_after;
  gboolean truncated;
} TruncatingStream;

typedef GMimeStreamFsClass TruncatingStreamClass;

GType truncating_stream_get_type (void);

G_DEFINE_TYPE (TruncatingStream, truncating_stream, GMIME_TYPE_STREAM_FS)

static ssize_t
truncating_stream_read (GMimeStream *stream, char *buf, size_t len)
{
  TruncatingStream *self = (TruncatingStream *)stream;
  ssize_t n = GMIME_STREAM_CLASS (truncating_stream_parent_class)->read (stream, buf, len);

  if (!self->truncated && stream->position > self->truncate_after)
    {
      g_assert_cmpint (truncate (self->path, 1000), ==, 0);
      self->truncated = TRUE;
    }
  return n;
}

static void
truncating_stream_finalize (GObject *object)
{
  g_free (((TruncatingStream *)object)->path);
  G_OBJECT_CLASS (truncating_stream_parent_class)->finalize (object);
}

static void
truncating_stream_class_init (TruncatingStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = truncating_stream_finalize;
  GMIME_STREAM_CLASS (klass)->read = truncating_stream_read;
}

static void
truncating_stream_init (TruncatingStream *self)
{
}

static GMimeStream *
truncating_stream_open (const char *path, gint64 truncate_after)
{
  TruncatingStream *self = g_object_new (truncating_stream_get_type (), NULL);
  GMimeStreamFs *fs = GMIME_STREAM_FS (self);

  fs->fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fs->fd, >=, 0);
  fs->owner = TRUE;
  fs->eos = FALSE;
  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->path = g_strdup (path);
  self->truncate_after = truncate_after;
  return GMIME_STREAM (self);
}

/* A file cut short while it is being sent: no complete message reaches
 * the server, and the error names the file. */
static void
test_truncated_attachment (gconstpointer async)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (abandoned_script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autofree char *path = write_file ("big.bin", 3 * 1024 * 1024);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeStream) stream = truncating_stream_open (path, 1024 * 1024);
  g_autoptr (GMimeMessage) message = NULL;

  message = message_with_attachment (stream, "big.bin", GMIME_CONTENT_ENCODING_BASE64,
                                     "application", "octet-stream");
  g_assert_false (
      send_message (client, message, NULL, NULL, GPOINTER_TO_INT (async), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "big.bin"));
  g_assert_nonnull (strstr (error->message, "changed"));
  g_assert_true (((TruncatingStream *)stream)->truncated);
  assert_abandoned (server, client);
}

/* A small message is serialised once, before MAIL: a file cut short while
 * that happens fails the message before anything of it is sent. */
static void
test_truncated_small_attachment (gconstpointer async)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      "S: 220 fault ready\nC: EHLO *\nS: 250-fault\nS: 250 SIZE 100000000\nDRAIN\n", NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autofree char *path = write_file ("small.bin", 16 * 1024);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeStream) stream = truncating_stream_open (path, 4096);
  g_autoptr (GMimeMessage) message = NULL;
  const char *transcript;

  message = message_with_attachment (stream, "small.bin", GMIME_CONTENT_ENCODING_BASE64,
                                     "application", "octet-stream");
  g_assert_false (
      send_message (client, message, NULL, NULL, GPOINTER_TO_INT (async), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "small.bin"));
  g_assert_nonnull (strstr (error->message, "changed"));
  g_assert_true (((TruncatingStream *)stream)->truncated);
  mk_smtp_client_close (client);
  mk_test_send_assert_server_happy (server);
  transcript = mk_fault_server_get_transcript (server, 0);
  g_assert_true (g_str_has_prefix (transcript, "EHLO "));
  g_assert_null (strstr (transcript, "MAIL"));
}

static void
cancel_on_progress (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  if (sent > 0)
    g_cancellable_cancel (user_data);
}

/* Cancelled midway: the data is never ended, the error is G_IO_ERROR_CANCELLED. */
static void
test_cancelled_midway (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (abandoned_script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autofree char *path = write_file ("cancelled.bin", 3 * 1024 * 1024);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeStream) stream = g_mime_stream_fs_open (path, O_RDONLY, 0, &error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GMimeMessage) message = NULL;

  g_assert_no_error (error);
  message = message_with_attachment (stream, "cancelled.bin", GMIME_CONTENT_ENCODING_BASE64,
                                     "application", "octet-stream");
  g_signal_connect (client, "progress", G_CALLBACK (cancel_on_progress), cancellable);
  g_assert_false (mk_smtp_client_send_message (client, message, NULL, NULL, NULL, NULL, NULL,
                                               cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_abandoned (server, client);
}

static void
arm_failing_stream (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  if (sent > 0)
    mk_test_failing_stream_arm (user_data);
}

static void
test_vanished_attachment (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (abandoned_script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeStream) stream = mk_test_failing_stream_new (2 * 1024 * 1024, 'v');
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  message = message_with_attachment (stream, "vanishing.pdf", GMIME_CONTENT_ENCODING_BASE64,
                                     "application", "pdf");
  g_signal_connect (client, "progress", G_CALLBACK (arm_failing_stream), stream);
  g_assert_false (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "“vanishing.pdf”"));
  assert_abandoned (server, client);
}

/* A file (read through GIO, opened when first read) removed after the
 * message was built: the error names it, before anything is sent. */
static void
test_deleted_attachment (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new ("S: 220 fault ready\nC: QUIT\nS: 221 bye\nCLOSE\n", NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autofree char *path = write_file ("gone.txt", 100);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GMimeStream) stream = g_mime_stream_gio_new (g_object_ref (file));
  g_autoptr (GMimeMessage) message = message_with_attachment (
      stream, "gone.txt", GMIME_CONTENT_ENCODING_BASE64, "text", "plain");
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_false (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* A part read from a pipe can be read once: no SIZE, a progress total of
 * 0, and, its 7bit label being unverifiable, it is encoded. */
static void
test_one_shot_part (void)
{
  g_autofree char *script
      = accepting_script ("S: 250-SIZE 1000000\n", "MAIL FROM:<a@example.org>", 1);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  Progress progress = { 0 };
  static const char text[] = "from a pipe\n";
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], text, strlen (text)), ==, strlen (text));
  close (fds[1]);
  stream = g_mime_stream_pipe_new (fds[0]);
  message = message_with_attachment (stream, NULL, GMIME_CONTENT_ENCODING_7BIT, "text", "plain");
  g_signal_connect (client, "progress", G_CALLBACK (on_progress), &progress);
  g_assert_true (send_message (client, message, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  g_assert_cmpuint (progress.last_total, ==, 0);
  g_assert_cmpuint (progress.last_sent, >, 0);
  data = data_string (server);
  g_assert_nonnull (strstr (data, "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                                  "from a pipe\r\n"));
  assert_crlf_only (data);
}

static const char printed_basic[]
    = "From: Alice <alice@example.org>\r\nTo: To One <to@example.net>\r\n"
      "Cc: cc@example.net\r\nSubject: hello\r\n"
      "Date: Mon, 02 Jan 2023 10:00:00 +0000\r\nMessage-Id: <fixed@example.org>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
      "line one\r\n.dot line\r\nlast\r\n";

/* mk_message_write_to_stream(): the bytes send_message() sends (with
 * 8BITMIME), before dot-stuffing, without a server. */
static void
test_write_to_stream (void)
{
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (basic_message);
  g_autoptr (GMimeMessage) undated = mk_test_send_parse_message (
      "From: a@example.org\nTo: t@example.net\nBcc: b@example.net\n\nbody\n");
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) memory2 = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  g_autofree char *printed = NULL;

  g_assert_true (mk_message_write_to_stream (message, memory, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (memory, NULL, NULL));
  /* Not dot-stuffed: the line is ".dot line". */
  g_assert_cmpmem (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (memory)),
                   g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (memory)),
                   printed_basic, strlen (printed_basic));

  g_assert_true (mk_message_write_to_stream (undated, memory2, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (memory2, "", 1, NULL, NULL, NULL));
  printed = g_strdup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (memory2)));
  g_assert_true (g_str_has_prefix (printed, "Date: "));
  g_assert_nonnull (strstr (printed, "\r\nMessage-ID: <"));
  g_assert_nonnull (strstr (printed, "@example.org>\r\nFrom: a@example.org\r\n"
                                     "To: t@example.net\r\n\r\nbody\r\n"));
  g_assert_null (strstr (printed, "Bcc"));
  g_assert_nonnull (g_mime_object_get_header (GMIME_OBJECT (undated), "Bcc"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_data_func ("/send-message/basic/sync", GINT_TO_POINTER (FALSE), test_basic);
  g_test_add_data_func ("/send-message/basic/async", GINT_TO_POINTER (TRUE), test_basic);
  g_test_add_func ("/send-message/explicit-and-refused", test_explicit_and_refused);
  g_test_add_func ("/send-message/date-and-message-id", test_date_and_message_id);
  g_test_add_func ("/send-message/8bit-without-8bitmime", test_8bit_without_8bitmime);
  g_test_add_func ("/send-message/8bit-with-8bitmime", test_8bit_with_8bitmime);
  g_test_add_func ("/send-message/long-line", test_long_line);
  g_test_add_func ("/send-message/nul-octet", test_nul_octet);
  g_test_add_func ("/send-message/signed-part-not-reencoded", test_signed_part_not_reencoded);
  g_test_add_func ("/send-message/long-header-line", test_long_header_line);
  g_test_add_func ("/send-message/smtputf8-missing", test_smtputf8_missing);
  g_test_add_func ("/send-message/smtputf8-offered", test_smtputf8_offered);
  g_test_add_data_func ("/send-message/invalid-before-sending/sync", GINT_TO_POINTER (FALSE),
                        test_invalid_before_sending);
  g_test_add_data_func ("/send-message/invalid-before-sending/async", GINT_TO_POINTER (TRUE),
                        test_invalid_before_sending);
  g_test_add_data_func ("/send-message/truncated-attachment/sync", GINT_TO_POINTER (FALSE),
                        test_truncated_attachment);
  g_test_add_data_func ("/send-message/truncated-attachment/async", GINT_TO_POINTER (TRUE),
                        test_truncated_attachment);
  g_test_add_data_func ("/send-message/truncated-small-attachment/sync", GINT_TO_POINTER (FALSE),
                        test_truncated_small_attachment);
  g_test_add_data_func ("/send-message/truncated-small-attachment/async", GINT_TO_POINTER (TRUE),
                        test_truncated_small_attachment);
  g_test_add_func ("/send-message/vanished-attachment", test_vanished_attachment);
  g_test_add_func ("/send-message/cancelled-midway", test_cancelled_midway);
  g_test_add_func ("/send-message/deleted-attachment", test_deleted_attachment);
  g_test_add_func ("/send-message/one-shot-part", test_one_shot_part);
  g_test_add_func ("/send-message/write-to-stream", test_write_to_stream);

  return g_test_run ();
}
