/* mk-test-send-util.c: what the tests of send/ share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"

GMimeMessage *
mk_test_send_parse_message (const char *text)
{
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_assert_nonnull (message);
  return message;
}

MkSmtpClient *
mk_test_send_connect (MkFaultServer *server, MkTlsMode tls_mode)
{
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (client, "timeout", 10.0 * mk_test_time_scale (), "tls-mode", tls_mode,
                "tls-ca-file", mk_test_certs_get ()->ca_file, "tls-server-name", "localhost", NULL);
  reply = mk_smtp_client_connect (client, mk_fault_server_get_address (server),
                                  mk_fault_server_get_port (server), NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

void
mk_test_send_quit (MkSmtpClient *client)
{
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = mk_smtp_client_quit (client, NULL, &error);
  g_assert_no_error (error);
}

void
mk_test_send_assert_server_happy (MkFaultServer *server)
{
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
}

#define BINARY_HEAD "\x00\x01\r\n\x89PNG\r\x1a\n\x00\xff\n"

GBytes *
mk_test_send_binary_content (void)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();

  g_byte_array_append (data, (const guint8 *)BINARY_HEAD, sizeof BINARY_HEAD - 1);
  for (guint i = 0; i < 1200; i++)
    g_byte_array_append (data, (const guint8 *)"x", 1);
  g_byte_array_append (data, (const guint8 *)"\r\n", 2);
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

GBytes *
mk_test_send_received_blob (GBytes *data, GMimeContentEncoding *encoding)
{
  g_autoptr (GMimeStream) stream
      = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  g_autoptr (GMimeMessage) message = g_mime_parser_construct_message (parser, NULL);
  g_autoptr (GMimeStream) out = g_mime_stream_mem_new ();
  GMimeObject *mixed;
  GMimePart *part;
  GByteArray *array;

  g_assert_nonnull (message);
  mixed = g_mime_message_get_mime_part (message);
  g_assert_true (GMIME_IS_MULTIPART (mixed));
  part = GMIME_PART (g_mime_multipart_get_part (GMIME_MULTIPART (mixed), 1));
  g_assert_cmpstr (g_mime_part_get_filename (part), ==, "blob.bin");
  *encoding = g_mime_part_get_content_encoding (part);
  g_assert_cmpint (g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (part), out), >=,
                   0);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  return g_bytes_new (array->data, array->len);
}
