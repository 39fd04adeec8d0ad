/* test-dsn-peers.c: delivery status notifications (RFC 3461) and the
 * transport of binary parts against real servers: the private Postfix
 * smtpd (DSN, CHUNKING), aiosmtpd (no DSN) and smtp-sink (DSN, no
 * CHUNKING). The commands sent are asserted from the client's trace.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-peer.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"

#define USER_ADDRESS MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN

/* ---- helpers ---------------------------------------------------------- */

static gboolean
collect_trace (MkSmtpClient *client, const char *line, gpointer user_data)
{
  GPtrArray *commands = user_data;

  /* "send: 'MAIL FROM:<…>\r\n'": the command as written. */
  if (g_str_has_prefix (line, "send: '") && g_str_has_suffix (line, "\\r\\n'"))
    g_ptr_array_add (commands, g_strndup (line + 7, strlen (line) - 7 - 5));
  return TRUE;
}

/* A client connected to @host/@port whose commands are collected into
 * @commands. */
static MkSmtpClient *
connect_client (const char *host, guint16 port, GPtrArray *commands)
{
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (client, "timeout", 20.0 * mk_test_time_scale (), NULL);
  mk_smtp_client_set_debuglevel (client, 1);
  g_signal_connect (client, "trace", G_CALLBACK (collect_trace), commands);
  reply = mk_smtp_client_connect (client, host, port, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

static MkSmtpClient *
connect_peer (MkTestPeer *peer, GPtrArray *commands)
{
  return connect_client (mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT),
                         mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), commands);
}

/* The commands of @commands starting with @verb ("MAIL", "RCPT"), joined
 * by newlines. */
static char *
commands_of (GPtrArray *commands, const char *verb)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < commands->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (commands, i), verb))
      g_string_append_printf (out, "%s%s", out->len > 0 ? "\n" : "",
                              (char *)g_ptr_array_index (commands, i));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static GMimeMessage *
text_message (const char *from, const char *to)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GError) error = NULL;
  GMimeMessage *message;

  g_assert_true (mk_message_builder_set_from (builder, from, &error));
  g_assert_true (mk_message_builder_add_to (builder, to, &error));
  g_assert_true (mk_message_builder_set_subject (builder, "DSN test", &error));
  g_assert_true (mk_message_builder_set_text (builder, "Hello.\n", &error));
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  return message;
}

/* A message with a part labelled Content-Transfer-Encoding: binary. */
static GMimeMessage *
binary_message (const char *from, const char *to, GBytes *content)
{
  g_autoptr (GMimeMessage) message = text_message (from, to);
  g_autoptr (GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");
  g_autoptr (GMimePart) part = g_mime_part_new_with_type ("application", "octet-stream");
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (
      g_bytes_get_data (content, NULL), g_bytes_get_size (content));
  g_autoptr (GMimeDataWrapper) wrapper
      = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BINARY);
  g_mime_part_set_filename (part, "blob.bin");
  g_mime_multipart_add (mixed, g_mime_message_get_mime_part (message));
  g_mime_multipart_add (mixed, GMIME_OBJECT (part));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (mixed));
  return g_steal_pointer (&message);
}

/* ---- Postfix: DSN offered --------------------------------------------- */

/* NOTIFY=SUCCESS,FAILURE, ORCPT, RET=HDRS and an ENVID that needs xtext:
 * accepted, and Postfix, having delivered the message, sends the success
 * notification it was asked for to the sender (the same Maildir), which
 * names the envelope identifier and the original recipient, decoded. */
static void
test_postfix_dsn (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) before = mk_test_peer_get_messages (peer);
  g_autoptr (MkSmtpClient) client = connect_peer (peer, commands);
  g_autoptr (GMimeMessage) message = text_message (USER_ADDRESS, USER_ADDRESS);
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *rcpt = NULL;
  gboolean found_report = FALSE;

  envelope = mk_envelope_new_from_message (message, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mk_envelope_set_dsn_notify (
      envelope, NULL, MK_DSN_NOTIFY_SUCCESS | MK_DSN_NOTIFY_FAILURE, &error));
  g_assert_true (
      mk_envelope_set_dsn_orcpt (envelope, USER_ADDRESS, "old+list=x@example.test", &error));
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "batch 7+id=3", &error));
  g_assert_no_error (error);
  mk_envelope_set_dsn_return (envelope, MK_DSN_RETURN_HEADERS);
  mk_envelope_set_dsn_required (envelope, TRUE);

  g_assert_true (
      mk_smtp_client_send_message_full (client, message, envelope, &refused, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  mk_test_send_quit (client);

  mail = commands_of (commands, "MAIL");
  rcpt = commands_of (commands, "RCPT");
  /* SIZE= varies with the generated Date and Message-ID. */
  g_assert_true (g_regex_match_simple ("^MAIL FROM:<" USER_ADDRESS "> SIZE=[0-9]+ "
                                       "RET=HDRS ENVID=batch\\+207\\+2Bid\\+3D3$",
                                       mail, 0, 0));
  g_assert_cmpstr (rcpt, ==,
                   "RCPT TO:<" USER_ADDRESS "> NOTIFY=SUCCESS,FAILURE "
                   "ORCPT=rfc822;old+2Blist+3Dx@example.test");

  /* The message and the success notification. */
  received = mk_test_peer_wait_messages (peer, before->len + 2, 20);
  g_assert_cmpuint (received->len, ==, before->len + 2);
  for (guint i = before->len; i < received->len; i++)
    {
      MkTestMessage *arrived = g_ptr_array_index (received, i);
      g_autofree char *text
          = g_strndup (g_bytes_get_data (arrived->data, NULL), g_bytes_get_size (arrived->data));

      if (strstr (text, "report-type=delivery-status") == NULL)
        continue;
      found_report = TRUE;
      /* Postfix decoded the xtext back to what was set. */
      g_assert_nonnull (strstr (text, "Original-Envelope-Id: batch 7+id=3\n"));
      g_assert_nonnull (strstr (text, "Original-Recipient: rfc822;old+list=x@example.test\n"));
      /* Handed to Dovecot over LMTP, which Postfix reports as relayed. */
      g_assert_nonnull (strstr (text, "Action: relayed"));
      /* RET=HDRS: the headers come back, not the body. */
      g_assert_nonnull (strstr (text, "text/rfc822-headers"));
      g_assert_null (strstr (text, "Hello."));
    }
  g_assert_true (found_report);
}

/* A part labelled binary, to a server without BINARYMIME: re-encoded
 * (base64), no BODY=BINARYMIME, and it arrives byte-identical. */
static void
test_postfix_binary_downgrade (void)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) before = mk_test_peer_get_messages (peer);
  g_autoptr (MkSmtpClient) client = connect_peer (peer, commands);
  g_autoptr (GBytes) content = mk_test_send_binary_content ();
  g_autoptr (GMimeMessage) message = binary_message (USER_ADDRESS, USER_ADDRESS, content);
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *data = NULL;
  GMimeContentEncoding encoding;
  MkTestMessage *arrived;

  g_assert_true (mk_smtp_client_send_message_full (client, message, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mail = commands_of (commands, "MAIL");
  g_assert_null (strstr (mail, "BINARYMIME"));
  /* CHUNKING: BDAT (written by the data stream, so not in the trace), no
   * DATA. */
  data = commands_of (commands, "DATA");
  g_assert_cmpstr (data, ==, "");

  received = mk_test_peer_wait_messages (peer, before->len + 1, 20);
  g_assert_cmpuint (received->len, ==, before->len + 1);
  arrived = g_ptr_array_index (received, before->len);
  blob = mk_test_send_received_blob (arrived->data, &encoding);
  g_assert_cmpint (encoding, ==, GMIME_CONTENT_ENCODING_BASE64);
  g_assert_true (g_bytes_equal (blob, content));
}

/* ---- aiosmtpd: no DSN ------------------------------------------------- */

static void
test_aiosmtpd_dsn (void)
{
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (NULL);
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MkSmtpClient) client = connect_peer (peer, commands);
  g_autoptr (GMimeMessage) message = text_message ("s@example.org", "a@example.net");
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *rcpt = NULL;
  MkTestMessage *arrived;

  envelope = mk_envelope_new_from_message (message, NULL, NULL, &error);
  g_assert_true (mk_envelope_set_dsn_notify (envelope, NULL, MK_DSN_NOTIFY_SUCCESS, &error));
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "a@example.net", "o@example.net", &error));
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "id", &error));
  g_assert_no_error (error);
  mk_envelope_set_dsn_return (envelope, MK_DSN_RETURN_FULL);

  /* Not required: dropped, the message delivered. */
  g_assert_true (mk_smtp_client_send_message_full (client, message, envelope, NULL, NULL, &error));
  g_assert_no_error (error);
  mail = commands_of (commands, "MAIL");
  rcpt = commands_of (commands, "RCPT");
  g_assert_true (g_str_has_prefix (mail, "MAIL FROM:<s@example.org>"));
  g_assert_null (strstr (mail, "RET="));
  g_assert_null (strstr (mail, "ENVID="));
  g_assert_cmpstr (rcpt, ==, "RCPT TO:<a@example.net>");
  received = mk_test_peer_wait_messages (peer, 1, 10);
  g_assert_cmpuint (received->len, ==, 1);
  arrived = g_ptr_array_index (received, 0);
  g_assert_cmpstrv (arrived->rcpt_tos, ((const char *const[]){ "a@example.net", NULL }));
  for (gsize i = 0; arrived->mail_options[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (arrived->mail_options[i], "RET=")
                    || g_str_has_prefix (arrived->mail_options[i], "ENVID="));

  /* Required: refused before MAIL, nothing more sent or stored. */
  g_ptr_array_set_size (commands, 0);
  mk_envelope_set_dsn_required (envelope, TRUE);
  g_assert_false (mk_smtp_client_send_message_full (client, message, envelope, NULL, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_cmpuint (commands->len, ==, 0);
  mk_test_send_quit (client);
  g_clear_pointer (&received, g_ptr_array_unref);
  received = mk_test_peer_get_messages (peer);
  g_assert_cmpuint (received->len, ==, 1);
}

/* REQUIRETLS: neither aiosmtpd nor Postfix 3.7 offers it, over TLS or
 * not: refused before MAIL. */
static void
test_requiretls_not_offered (void)
{
  MkTestAiosmtpdOptions options = { .starttls = TRUE };
  MkTestPeer *postfix = mk_test_peer_get_postfix ();
  g_autoptr (MkTestPeer) aiosmtpd = mk_test_peer_start_aiosmtpd (&options);
  MkTestPeer *peers[] = { postfix, aiosmtpd };

  for (gsize i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (MkSmtpClient) client = connect_peer (peers[i], commands);
      g_autoptr (GMimeMessage) message = text_message (USER_ADDRESS, USER_ADDRESS);
      g_autoptr (MkEnvelope) envelope = mk_envelope_new_from_message (message, NULL, NULL, NULL);
      g_autoptr (GError) error = NULL;
      g_autofree char *mail = NULL;
      g_autofree char *starttls = NULL;

      g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, "tls-ca-file",
                    mk_test_certs_get ()->ca_file, NULL);
      mk_envelope_set_require_tls (envelope, TRUE);
      g_assert_false (
          mk_smtp_client_send_message_full (client, message, envelope, NULL, NULL, &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
      g_assert_nonnull (strstr (error->message, "does not offer"));
      mail = commands_of (commands, "MAIL");
      g_assert_cmpstr (mail, ==, "");
      starttls = commands_of (commands, "STARTTLS");
      g_assert_cmpstr (starttls, ==, "STARTTLS");
      mk_test_send_quit (client);
    }
}

/* ---- smtp-sink: DSN, no CHUNKING ------------------------------------- */

/* smtp-sink offers DSN (and PIPELINING, 8BITMIME), neither CHUNKING nor
 * BINARYMIME: the parameters arrive as sent, the binary part goes over
 * DATA base64-encoded. */
static void
test_smtp_sink (void)
{
  MkTestSmtpSinkOptions options = { .save_messages = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_smtp_sink (&options);
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MkSmtpClient) client = connect_peer (peer, commands);
  g_autoptr (GBytes) content = mk_test_send_binary_content ();
  g_autoptr (GMimeMessage) message
      = binary_message ("s@example.org", "a@example.net, b@example.net", content);
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *data = NULL;
  GMimeContentEncoding encoding;
  MkTestMessage *arrived;

  envelope = mk_envelope_new_from_message (message, NULL, NULL, &error);
  g_assert_true (mk_envelope_set_dsn_notify (envelope, "a@example.net",
                                             MK_DSN_NOTIFY_FAILURE | MK_DSN_NOTIFY_DELAY, &error));
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "b@example.net", "b@example.net", &error));
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "sink=1", &error));
  g_assert_no_error (error);
  mk_envelope_set_dsn_required (envelope, TRUE);

  g_assert_true (mk_smtp_client_send_message_full (client, message, envelope, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mail = commands_of (commands, "MAIL");
  g_assert_nonnull (strstr (mail, " ENVID=sink+3D1"));
  g_assert_null (strstr (mail, "BINARYMIME"));
  data = commands_of (commands, "DATA");
  g_assert_cmpstr (data, ==, "DATA");

  received = mk_test_peer_wait_messages (peer, 1, 10);
  g_assert_cmpuint (received->len, ==, 1);
  arrived = g_ptr_array_index (received, 0);
  g_assert_true (g_strv_contains ((const char *const *)arrived->mail_options, "ENVID=sink+3D1"));
  g_assert_cmpstrv (arrived->rcpt_tos,
                    ((const char *const[]){ "a@example.net", "b@example.net", NULL }));
  g_assert_cmpstr (arrived->rcpt_options[0], ==, "NOTIFY=FAILURE,DELAY");
  g_assert_cmpstr (arrived->rcpt_options[1], ==, "ORCPT=rfc822;b@example.net");
  blob = mk_test_send_received_blob (arrived->data, &encoding);
  g_assert_cmpint (encoding, ==, GMIME_CONTENT_ENCODING_BASE64);
  g_assert_true (g_bytes_equal (blob, content));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/dsn-peers/postfix/dsn", test_postfix_dsn);
  g_test_add_func ("/dsn-peers/postfix/binary-downgrade", test_postfix_binary_downgrade);
  g_test_add_func ("/dsn-peers/aiosmtpd/dsn", test_aiosmtpd_dsn);
  g_test_add_func ("/dsn-peers/requiretls-not-offered", test_requiretls_not_offered);
  g_test_add_func ("/dsn-peers/smtp-sink", test_smtp_sink);
  return g_test_run ();
}
