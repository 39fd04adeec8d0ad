/* bench-send-memory.c: memory and time of sending one message with a huge
 * attachment
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Builds a message with MkMessageBuilder whose attachment is a sparse file
 * of the size asked for, sends it with mk_smtp_client_send_message() to the
 * server given (smtp-sink in run-send-memory.sh), and prints one line of
 * key=value figures: the bytes of the message, wall and CPU seconds, and
 * the peak resident set size of the process. The attachment is streamed,
 * so the peak must not grow with its size.
 *
 *   bench-send-memory HOST PORT ATTACHMENT_MIB
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"

static guint64 message_bytes;

static void
on_progress (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  message_bytes = total != 0 ? total : sent;
}

static char *
make_sparse_file (guint64 size, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("mk-bench-XXXXXX", error);
  char *path;
  int fd;

  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, "attachment.bin", NULL);
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate (fd, (off_t)size) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot make %s", path);
      g_free (path);
      return NULL;
    }
  close (fd);
  return path;
}

static void
remove_file (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static gboolean
send_huge (const char *host, guint16 port, const char *path, GError **error)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (MkSmtpReply) greeting = NULL;
  g_autoptr (MkSmtpReply) bye = NULL;

  if (!mk_message_builder_set_from (builder, "Bench <bench@example.org>", error)
      || !mk_message_builder_add_to (builder, "sink@example.net", error)
      || !mk_message_builder_set_subject (builder, "A huge attachment", error)
      || !mk_message_builder_set_text (builder, "The attachment is large.\n", error)
      || !mk_message_builder_add_attachment (builder, path, "huge.bin", "application/octet-stream",
                                             error))
    return FALSE;
  message = mk_message_builder_build (builder, error);
  if (message == NULL)
    return FALSE;

  client = mk_smtp_client_new ();
  g_signal_connect (client, "progress", G_CALLBACK (on_progress), NULL);
  greeting = mk_smtp_client_connect (client, host, port, NULL, error);
  if (greeting == NULL
      || !mk_smtp_client_send_message (client, message, NULL, NULL, NULL, NULL, NULL, NULL, error))
    return FALSE;
  bye = mk_smtp_client_quit (client, NULL, error);
  return bye != NULL;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  struct rusage usage;
  gint64 start;
  guint64 size;
  gboolean ok;

  if (argc != 4)
    {
      g_printerr ("usage: %s HOST PORT ATTACHMENT_MIB\n", argv[0]);
      return 64;
    }
  mk_init ();
  size = g_ascii_strtoull (argv[3], NULL, 10) * 1024 * 1024;
  path = make_sparse_file (size, &error);
  start = g_get_monotonic_time ();
  ok = path != NULL && send_huge (argv[1], (guint16)atoi (argv[2]), path, &error);
  if (path != NULL)
    remove_file (path);
  if (!ok)
    {
      g_printerr ("bench-send-memory: %s\n", error->message);
      return 1;
    }
  getrusage (RUSAGE_SELF, &usage);
  g_print ("attachment_bytes=%" G_GUINT64_FORMAT " message_bytes=%" G_GUINT64_FORMAT
           " wall_s=%.2f user_s=%.2f sys_s=%.2f peak_rss_kib=%ld\n",
           size, message_bytes, (g_get_monotonic_time () - start) / 1e6,
           usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
           usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6, usage.ru_maxrss);
  return 0;
}
