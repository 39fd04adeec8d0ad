/* test-send-aiosmtpd.c: mk_smtp_client_send_message() to aiosmtpd, the
 * received message checked with Python's email package
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-peer.h"
#include "mk-test-utils.h"

static char *
data_file (const char *name)
{
  return g_build_filename (mk_test_srcdir (), "..", "data", name, NULL);
}

static GMimeMessage *
build_message (void)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autofree char *png = data_file ("sample.png");
  g_autofree char *pdf = data_file ("sample.pdf");
  g_autofree char *notes = data_file ("notes.txt");
  g_autofree char *cid = NULL;
  g_autofree char *html = NULL;
  g_autoptr (GError) error = NULL;
  GMimeMessage *message;

  g_assert_true (
      mk_message_builder_set_from (builder, "Alice Ångström <alice@example.org>", &error));
  g_assert_true (
      mk_message_builder_add_to (builder, "Bob <bob@example.net>, carol@example.net", &error));
  g_assert_true (mk_message_builder_add_cc (builder, "dave@example.net", &error));
  g_assert_true (mk_message_builder_add_bcc (builder, "Eve <eve@example.net>", &error));
  g_assert_true (mk_message_builder_set_subject (builder, "Grüße, a report", &error));
  g_assert_true (mk_message_builder_set_text (builder,
                                              "Hello,\n.\nA line with only a dot above.\n"
                                              "Grüße\n",
                                              &error));
  cid = mk_message_builder_add_inline (builder, png, NULL, &error);
  g_assert_no_error (error);
  html = g_strdup_printf ("<p>Hello <img src=\"cid:%s\"></p>\n", cid);
  g_assert_true (mk_message_builder_set_html (builder, html, &error));
  g_assert_true (mk_message_builder_add_attachment (builder, pdf, NULL, NULL, &error));
  g_assert_true (mk_message_builder_add_attachment (builder, notes, NULL, NULL, &error));
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  return message;
}

static void
assert_headers_have_no_bcc (const char *path)
{
  g_autofree char *text = mk_test_read_file (path, NULL);
  const char *end = strstr (text, "\r\n\r\n");

  g_assert_nonnull (end);
  g_assert_false (g_str_has_prefix (text, "Bcc:"));
  g_assert_null (g_strstr_len (text, end - text, "\r\nBcc:"));
}

static void
test_send (gconstpointer async)
{
  static const char *const recipients[]
      = { "bob@example.net", "carol@example.net", "dave@example.net", "eve@example.net", NULL };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (NULL);
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (GMimeMessage) message = build_message ();
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *sent_dir = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *checker
      = g_build_filename (mk_test_srcdir (), "send", "check-received.py", NULL);
  g_autofree char *output = NULL;
  g_autoptr (GMimeStream) sent_stream = NULL;
  MkTestMessage *arrived;
  gboolean ok;
  int status;

  reply = mk_smtp_client_connect (client, mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT),
                                  mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), NULL,
                                  &error);
  g_assert_no_error (error);
  if (GPOINTER_TO_INT (async))
    {
      MkTestAsync wait;

      mk_test_async_init (&wait);
      mk_smtp_client_send_message_async (client, message, NULL, NULL, NULL, NULL, NULL,
                                         mk_test_async_callback, &wait);
      ok = mk_smtp_client_send_message_finish (client, mk_test_async_wait (&wait), &refused,
                                               &error);
      mk_test_async_clear (&wait);
    }
  else
    ok = mk_smtp_client_send_message (client, message, NULL, NULL, NULL, NULL, &refused, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = mk_smtp_client_quit (client, NULL, &error);
  g_assert_no_error (error);

  /* The envelope: the sender, the recipients in To, Cc, Bcc order. */
  received = mk_test_peer_wait_messages (peer, 1, 10);
  g_assert_cmpuint (received->len, ==, 1);
  arrived = g_ptr_array_index (received, 0);
  g_assert_cmpstr (arrived->mail_from, ==, "alice@example.org");
  g_assert_cmpstrv (arrived->rcpt_tos, recipients);
  assert_headers_have_no_bcc (arrived->path);

  /* The caller's message, Bcc and all, for Python to compare with. */
  g_assert_nonnull (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"));
  sent_dir = mk_test_make_subdir ("sent");
  sent = g_build_filename (sent_dir, "sent.eml", NULL);
  sent_stream = g_mime_stream_fs_open (sent, O_WRONLY | O_CREAT | O_TRUNC, 0600, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sent_stream), >, 0);
  g_assert_cmpint (g_mime_stream_flush (sent_stream), ==, 0);
  g_clear_object (&sent_stream);

  {
    const char *argv[] = { mk_test_python (), checker, sent, arrived->path, NULL };

    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &output, NULL, &status,
                  &error);
  }
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("Python's email package sees a difference:\n%s", output);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_data_func ("/send-aiosmtpd/sync", GINT_TO_POINTER (FALSE), test_send);
  g_test_add_data_func ("/send-aiosmtpd/async", GINT_TO_POINTER (TRUE), test_send);

  return g_test_run ();
}
