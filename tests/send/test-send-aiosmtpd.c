/* test-send-aiosmtpd.c: mk_smtp_client_send_message() to aiosmtpd, the
 * received message checked with Python's email package
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-utils.h"

typedef struct
{
  GSubprocess *process;
  guint16 port;
  char *spool;
} Peer;

/* The aiosmtpd peer of tests/peers, saving what it receives in a fresh
 * spool folder; it stops when its stdin closes or on SIGTERM. */
static void
peer_start (Peer *peer)
{
  g_autofree char *script = g_build_filename (mk_test_srcdir (), "peers", "aiosmtpd-peer.py", NULL);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  peer->spool = mk_test_make_subdir ("spool");
  peer->process
      = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                          mk_test_python (), script, "--spool", peer->spool, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (peer->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "READY "))
    g_error ("the aiosmtpd peer did not start (said “%s”): install the Debian package "
             "python3-aiosmtpd",
             line != NULL ? line : "nothing");
  peer->port = (guint16)g_ascii_strtoull (line + strlen ("READY "), NULL, 10);
}

static void
peer_stop (Peer *peer)
{
  g_subprocess_send_signal (peer->process, SIGTERM);
  g_assert_true (g_subprocess_wait (peer->process, NULL, NULL));
  g_clear_object (&peer->process);
  g_clear_pointer (&peer->spool, g_free);
}

/* The path, without its suffix, of the transaction the peer saved (as
 * PID-NNNNNN.eml, then PID-NNNNNN.envelope), once it has saved it. */
static char *
peer_wait_transaction (Peer *peer)
{
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr (GDir) dir = g_dir_open (peer->spool, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".envelope"))
          {
            g_autofree char *base = g_strndup (name, strlen (name) - strlen (".envelope"));

            return g_build_filename (peer->spool, base, NULL);
          }
      g_usleep ((gulong)(25000 * mk_test_time_scale ()));
    }
  g_error ("the aiosmtpd peer saved no transaction");
}

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

/* The sender, and the recipients in To, Cc, Bcc order. */
static void
assert_envelope (const char *path)
{
  static const char *const recipients[]
      = { "bob@example.net", "carol@example.net", "dave@example.net", "eve@example.net", NULL };
  g_autoptr (GKeyFile) envelope = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  g_auto (GStrv) rcpt_tos = NULL;

  g_assert_true (g_key_file_load_from_file (envelope, path, G_KEY_FILE_NONE, &error));
  from = g_key_file_get_string (envelope, "envelope", "mail_from", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (from, ==, "alice@example.org");
  rcpt_tos = g_key_file_get_string_list (envelope, "envelope", "rcpt_tos", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (rcpt_tos, recipients);
}

static void
test_send (gconstpointer async)
{
  Peer peer = { 0 };
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (GMimeMessage) message = build_message ();
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *transaction = NULL;
  g_autofree char *received = NULL;
  g_autofree char *envelope = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *checker
      = g_build_filename (mk_test_srcdir (), "send", "check-received.py", NULL);
  g_autofree char *output = NULL;
  g_autoptr (GMimeStream) sent_stream = NULL;
  gboolean ok;
  int status;

  peer_start (&peer);
  reply = mk_smtp_client_connect (client, "127.0.0.1", peer.port, NULL, &error);
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

  transaction = peer_wait_transaction (&peer);
  received = g_strconcat (transaction, ".eml", NULL);
  envelope = g_strconcat (transaction, ".envelope", NULL);
  assert_headers_have_no_bcc (received);
  assert_envelope (envelope);

  /* The caller's message, Bcc and all, for Python to compare with. */
  g_assert_nonnull (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"));
  sent = g_build_filename (peer.spool, "sent.eml", NULL);
  sent_stream = g_mime_stream_fs_open (sent, O_WRONLY | O_CREAT | O_TRUNC, 0600, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sent_stream), >, 0);
  g_assert_cmpint (g_mime_stream_flush (sent_stream), ==, 0);
  g_clear_object (&sent_stream);

  {
    const char *argv[] = { mk_test_python (), checker, sent, received, NULL };

    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &output, NULL, &status,
                  &error);
  }
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("Python's email package sees a difference:\n%s", output);
  peer_stop (&peer);
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
