/* test-binarymime.c: binary parts sent as they are with BODY=BINARYMIME
 * over BDAT (RFC 3030 §3), and encoded otherwise. No real peer offers
 * BINARYMIME (Postfix 3.7 and Dovecot 2.3 LMTP do not; probed), so the
 * scripted server plays one; test-dsn-peers.c checks the downgrade
 * against Postfix and smtp-sink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "libmailkit/send/mk-message-writer-private.h"
#include "mk-test-fault-server.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"

#define GREETING "S: 220 fault.example ESMTP\n"
#define QUIT "C: QUIT\nS: 221 bye\nCLOSE\n"

/* text/plain and a part with @content, labelled @encoding. */
static GMimeMessage *
binary_message (GBytes *content, GMimeContentEncoding encoding)
{
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (
      "From: s@example.org\r\nTo: a@example.org\r\nSubject: binary\r\n"
      "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <b@example.org>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b--\r\n");
  GMimeMultipart *mixed = GMIME_MULTIPART (g_mime_message_get_mime_part (message));
  g_autoptr (GMimePart) part = g_mime_part_new_with_type ("application", "octet-stream");
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (
      g_bytes_get_data (content, NULL), g_bytes_get_size (content));
  g_autoptr (GMimeDataWrapper) wrapper
      = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part, encoding);
  g_mime_part_set_filename (part, "blob.bin");
  g_mime_multipart_add (mixed, GMIME_OBJECT (part));
  return g_steal_pointer (&message);
}

/* The bytes the writer produces for @message with a binary body. */
static GBytes *
binary_body (GMimeMessage *message)
{
  g_autoptr (MkMessageWriter) writer = NULL;
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  writer = mk_message_writer_new (message, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mk_message_writer_choose_transport (writer, TRUE, TRUE, &error));
  g_assert_true (mk_message_writer_needs_binarymime (writer));
  g_assert_true (mk_message_writer_write (writer, out, NULL, &error));
  g_assert_true (g_output_stream_close (out, NULL, &error));
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Offered with CHUNKING: the part goes as it is, labelled binary, in one
 * pipelined BDAT LAST chunk; it arrives byte-identical. Both labels that
 * need it: binary, and 8bit data holding NUL octets and a long line. */
static void
test_binary_sent_as_is (gconstpointer data)
{
  GMimeContentEncoding label = GPOINTER_TO_INT (data);
  g_autoptr (GBytes) content = mk_test_send_binary_content ();
  g_autoptr (GMimeMessage) message = binary_message (content, label);
  g_autoptr (GBytes) body = binary_body (message);
  gsize size = g_bytes_get_size (body);
  g_autofree char *script = g_strdup_printf (
      GREETING "C: EHLO *\nS: 250-fault.example\nS: 250-PIPELINING\nS: 250-8BITMIME\n"
               "S: 250-CHUNKING\nS: 250 BINARYMIME\n"
               "C: MAIL FROM:<s@example.org> BODY=BINARYMIME\nC: RCPT TO:<a@example.org>\n"
               "C: BDAT %" G_GSIZE_FORMAT " LAST\nC-BYTES: %" G_GSIZE_FORMAT "\n"
               "S: 250 ok\nS: 250 ok\nS: 250 queued\n" QUIT,
      size, size);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;
  GMimeContentEncoding encoding;

  g_assert_true (mk_smtp_client_send_message_full (client, message, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
  g_assert_true (g_bytes_equal (mk_fault_server_get_data (server, 0), body));
  blob = mk_test_send_received_blob (mk_fault_server_get_data (server, 0), &encoding);
  g_assert_cmpint (encoding, ==, GMIME_CONTENT_ENCODING_BINARY);
  g_assert_true (g_bytes_equal (blob, content));
}

/* BINARYMIME without CHUNKING, or turned off: base64 over DATA, no
 * BODY=BINARYMIME; DATA never carries binary. */
static void
test_binary_downgraded (gconstpointer data)
{
  gboolean chunking_offered = GPOINTER_TO_INT (data);
  g_autoptr (GBytes) content = mk_test_send_binary_content ();
  g_autoptr (GMimeMessage) message = binary_message (content, GMIME_CONTENT_ENCODING_BINARY);
  g_autofree char *script = g_strdup_printf (
      GREETING "C: EHLO *\nS: 250-fault.example\nS: 250-8BITMIME\n%s"
               "S: 250 BINARYMIME\nC: MAIL FROM:<s@example.org>\nS: 250 ok\n"
               "C: RCPT TO:<a@example.org>\nS: 250 ok\nC: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
               "S: 250 queued\n" QUIT,
      chunking_offered ? "S: 250-CHUNKING\n" : "");
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;
  GMimeContentEncoding encoding;

  /* With CHUNKING offered, both extensions turned off. */
  if (chunking_offered)
    g_object_set (client, "use-binarymime", FALSE, "use-chunking", FALSE, NULL);
  g_assert_true (mk_smtp_client_send_message_full (client, message, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
  blob = mk_test_send_received_blob (mk_fault_server_get_data (server, 0), &encoding);
  g_assert_cmpint (encoding, ==, GMIME_CONTENT_ENCODING_BASE64);
  g_assert_true (g_bytes_equal (blob, content));
}

/* use-binarymime off alone, CHUNKING on: base64 in an ordinary BDAT. */
static void
test_binary_turned_off (void)
{
  g_autoptr (GBytes) content = mk_test_send_binary_content ();
  g_autoptr (GMimeMessage) message = binary_message (content, GMIME_CONTENT_ENCODING_BINARY);
  g_autoptr (MkMessageWriter) writer = mk_message_writer_new (message, NULL, NULL, NULL);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GBytes) body = NULL;
  g_autofree char *script = NULL;
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GError) error = NULL;

  /* What goes out: the writer's bytes with base64, which already end
   * every line with CRLF (so BDAT framing adds nothing). */
  g_assert_true (mk_message_writer_choose_transport (writer, TRUE, FALSE, &error));
  g_assert_false (mk_message_writer_needs_binarymime (writer));
  g_assert_true (mk_message_writer_write (writer, out, NULL, &error));
  g_assert_true (g_output_stream_close (out, NULL, &error));
  body = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  script = g_strdup_printf (
      GREETING "C: EHLO *\nS: 250-fault.example\nS: 250-CHUNKING\nS: 250 BINARYMIME\n"
               "C: MAIL FROM:<s@example.org>\nS: 250 ok\nC: RCPT TO:<a@example.org>\nS: 250 ok\n"
               "C: BDAT %" G_GSIZE_FORMAT " LAST\nC-BYTES: %" G_GSIZE_FORMAT
               "\nS: 250 queued\n" QUIT,
      g_bytes_get_size (body), g_bytes_get_size (body));
  server = mk_fault_server_new (script, NULL);
  client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_object_set (client, "use-binarymime", FALSE, NULL);
  g_assert_true (mk_smtp_client_send_message_full (client, message, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
  g_assert_true (g_bytes_equal (mk_fault_server_get_data (server, 0), body));
}

/* A raw BODY=BINARYMIME without CHUNKING: refused before MAIL. */
static void
test_raw_binarymime_needs_chunking (void)
{
  static const char *const to[] = { "a@example.org", NULL };
  static const char *const options[] = { "BODY=BINARYMIME", NULL };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      GREETING "C: EHLO *\nS: 250-fault.example\nS: 250 BINARYMIME\n" QUIT, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GBytes) message = g_bytes_new_static ("Subject: x\r\n\r\nx\r\n", 17);
  g_autoptr (GError) error = NULL;

  g_assert_false (mk_smtp_client_sendmail (client, "s@example.org", to, message, options, NULL,
                                           NULL, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "CHUNKING"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_data_func ("/binarymime/sent-as-is/binary",
                        GINT_TO_POINTER (GMIME_CONTENT_ENCODING_BINARY), test_binary_sent_as_is);
  g_test_add_data_func ("/binarymime/sent-as-is/8bit-with-nul",
                        GINT_TO_POINTER (GMIME_CONTENT_ENCODING_8BIT), test_binary_sent_as_is);
  g_test_add_data_func ("/binarymime/downgraded/no-chunking", GINT_TO_POINTER (FALSE),
                        test_binary_downgraded);
  g_test_add_data_func ("/binarymime/downgraded/turned-off", GINT_TO_POINTER (TRUE),
                        test_binary_downgraded);
  g_test_add_func ("/binarymime/turned-off-over-bdat", test_binary_turned_off);
  g_test_add_func ("/binarymime/raw-needs-chunking", test_raw_binarymime_needs_chunking);
  return g_test_run ();
}
