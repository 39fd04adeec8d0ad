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
