/* send-async.c: send a message with an attachment from a GLib main loop,
 * without blocking it, with a progress line and a cancel timeout.
 *
 *   cc send-async.c -o send-async $(pkg-config --cflags --libs mailkit-1.0)
 *   ./send-async HOST PORT FROM TO FILE [CANCEL-AFTER-SECONDS]
 *
 * Exit status: 0 sent, 75 cancelled or temporary failure (try again later),
 * 69 refused for good, 64 usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <libmailkit/mailkit.h>
#include <stdlib.h>

#define EXIT_USAGE 64
#define EXIT_UNAVAILABLE 69
#define EXIT_TEMPFAIL 75

typedef struct
{
  GMainLoop *loop;
  GCancellable *cancellable;
  MkSmtpClient *client;
  GMimeMessage *message;
  int status;
} Send;

/* Runs on the main loop: the library emits progress on the main context of
 * the thread that started the call, never from its worker thread, so it is
 * safe to touch widgets (or stdio) here. */
static void
on_progress (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  if (total > 0)
    g_printerr ("\rsent %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes (%d%%)", sent, total,
                (int)(100 * sent / total));
  else
    g_printerr ("\rsent %" G_GUINT64_FORMAT " bytes", sent);
}

static gboolean
on_cancel_timeout (gpointer user_data)
{
  Send *send = user_data;

  g_printerr ("\ntaking too long: cancelling\n");
  g_cancellable_cancel (send->cancellable);
  return G_SOURCE_REMOVE;
}

/* Whether a failure is worth retrying later: a 4xx reply, a lost
 * connection, a timeout, a cancel (docs/errors-and-retry.md). */
static gboolean
any_transient (GHashTable *refused)
{
  GHashTableIter iter;
  gpointer reply;

  g_hash_table_iter_init (&iter, refused);
  while (g_hash_table_iter_next (&iter, NULL, &reply))
    if (mk_smtp_reply_is_transient (reply))
      return TRUE;
  return FALSE;
}

static int
failure_status (MkSmtpClient *client, const GError *error, GHashTable *refused)
{
  MkSmtpReply *reply = mk_smtp_client_get_last_reply (client);

  if (error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR)
    return EXIT_TEMPFAIL;
  if (g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED)
      || g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN))
    return EXIT_TEMPFAIL;
  /* Every recipient refused: each has its own reply. */
  if (g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED) && refused != NULL)
    return any_transient (refused) ? EXIT_TEMPFAIL : EXIT_UNAVAILABLE;
  if (reply != NULL && mk_smtp_reply_is_transient (reply))
    return EXIT_TEMPFAIL;
  return EXIT_UNAVAILABLE;
}

static void
fail (Send *send, const char *stage, const GError *error, GHashTable *refused)
{
  g_printerr ("\n%s: %s\n", stage, error->message);
  send->status = failure_status (send->client, error, refused);
  g_main_loop_quit (send->loop);
}

static void
on_quit (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Send *send = user_data;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  /* The message is delivered already; a failed QUIT changes nothing. */
  reply = mk_smtp_client_quit_finish (send->client, result, &error);
  if (reply == NULL)
    g_printerr ("quit: %s\n", error->message);
  g_main_loop_quit (send->loop);
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Send *send = user_data;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer address, reply;

  if (!mk_smtp_client_send_message_finish (send->client, result, &refused, &error))
    {
      fail (send, "send", error, refused);
      return;
    }
  g_printerr ("\nsent\n");
  /* Accepted for some recipients: the others are in the table. */
  g_hash_table_iter_init (&iter, refused);
  while (g_hash_table_iter_next (&iter, &address, &reply))
    g_printerr ("refused %s: %u %s\n", (const char *)address, mk_smtp_reply_get_code (reply),
                mk_smtp_reply_get_text (reply));
  send->status = EXIT_SUCCESS;
  mk_smtp_client_quit_async (send->client, NULL, on_quit, send);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Send *send = user_data;
  g_autoptr (MkSmtpReply) greeting = NULL;
  g_autoptr (GError) error = NULL;

  greeting = mk_smtp_client_connect_finish (send->client, result, &error);
  if (greeting == NULL)
    {
      fail (send, "connect", error, NULL);
      return;
    }
  /* NULL from and to: the envelope comes from the headers, as smtplib's
   * send_message() does. */
  mk_smtp_client_send_message_async (send->client, send->message, NULL, NULL, NULL, NULL,
                                     send->cancellable, on_sent, send);
}

static GMimeMessage *
build_message (const char *from, const char *to, const char *path, GError **error)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *subject = g_strdup_printf ("The file %s", name);

  if (!mk_message_builder_set_from (builder, from, error)
      || !mk_message_builder_add_to (builder, to, error)
      || !mk_message_builder_set_subject (builder, subject, error)
      || !mk_message_builder_set_text (builder, "Here is the file.\n", error)
      || !mk_message_builder_add_attachment (builder, path, NULL, NULL, error))
    return NULL;
  return mk_message_builder_build (builder, error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  guint64 port = 0;
  double cancel_after = 0;
  guint timeout_id = 0;
  Send send = { 0 };

  if ((argc != 6 && argc != 7)
      || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT16, &port, NULL)
      || (argc == 7 && (cancel_after = g_ascii_strtod (argv[6], NULL)) <= 0))
    {
      g_printerr ("usage: %s HOST PORT FROM TO FILE [CANCEL-AFTER-SECONDS]\n", argv[0]);
      return EXIT_USAGE;
    }

  /* Built before connecting: a missing file fails here, not mid-session. */
  send.message = build_message (argv[3], argv[4], argv[5], &error);
  if (send.message == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }

  send.loop = g_main_loop_new (NULL, FALSE);
  send.cancellable = g_cancellable_new ();
  send.client = mk_smtp_client_new ();
  send.status = EXIT_TEMPFAIL;
  g_signal_connect (send.client, "progress", G_CALLBACK (on_progress), &send);
  if (cancel_after > 0)
    timeout_id = g_timeout_add ((guint)(cancel_after * 1000), on_cancel_timeout, &send);

  mk_smtp_client_connect_async (send.client, argv[1], (guint16)port, send.cancellable, on_connected,
                                &send);
  g_main_loop_run (send.loop);

  if (timeout_id != 0 && !g_cancellable_is_cancelled (send.cancellable))
    g_source_remove (timeout_id);
  g_object_unref (send.client);
  g_object_unref (send.cancellable);
  g_object_unref (send.message);
  g_main_loop_unref (send.loop);
  return send.status;
}
