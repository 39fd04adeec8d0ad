/* bench-compose.c: compose and serialize a message, no network
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Builds a message with MkMessageBuilder whose attachment is FILE and writes
 * it with mk_message_write_to_stream() (the bytes send_message() sends:
 * CRLF, base64) into a stream that only counts, and prints one line of
 * key=value figures: input and output bytes, wall and CPU seconds of build
 * plus write, and the peak resident set size of the process.
 *
 *   bench-compose FILE
 */
#include "config.h"

#include <sys/resource.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"

/* An output stream that throws the bytes away and counts them: the
 * serializer's cost without a disk or a socket behind it. */
#define BENCH_TYPE_NULL_STREAM (bench_null_stream_get_type ())
G_DECLARE_FINAL_TYPE (BenchNullStream, bench_null_stream, BENCH, NULL_STREAM, GOutputStream)

struct _BenchNullStream
{
  GOutputStream parent_instance;
  guint64 written;
};

G_DEFINE_TYPE (BenchNullStream, bench_null_stream, G_TYPE_OUTPUT_STREAM)

static gssize
bench_null_stream_write (GOutputStream *stream, const void *buffer, gsize count,
                         GCancellable *cancellable, GError **error)
{
  BENCH_NULL_STREAM (stream)->written += count;
  return (gssize)count;
}

static void
bench_null_stream_class_init (BenchNullStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = bench_null_stream_write;
}

static void
bench_null_stream_init (BenchNullStream *self)
{
}

static double
seconds (const struct timeval *tv)
{
  return tv->tv_sec + tv->tv_usec / 1e6;
}

static gboolean
compose (const char *path, BenchNullStream *sink, GError **error)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GMimeMessage) message = NULL;

  if (!mk_message_builder_set_from (builder, "Bench <bench@example.org>", error)
      || !mk_message_builder_add_to (builder, "sink@example.net", error)
      || !mk_message_builder_set_subject (builder, "A large attachment", error)
      || !mk_message_builder_set_text (builder, "The attachment is large.\n", error)
      || !mk_message_builder_add_attachment (builder, path, "large.bin", "application/octet-stream",
                                             error))
    return FALSE;
  message = mk_message_builder_build (builder, error);
  return message != NULL
         && mk_message_write_to_stream (message, G_OUTPUT_STREAM (sink), NULL, error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BenchNullStream) sink = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GFile) file = NULL;
  struct rusage usage;
  gint64 start, end;

  if (argc != 2)
    {
      g_printerr ("usage: %s FILE\n", argv[0]);
      return 64;
    }
  mk_init ();
  file = g_file_new_for_path (argv[1]);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL,
                            &error);
  sink = g_object_new (BENCH_TYPE_NULL_STREAM, NULL);
  start = g_get_monotonic_time ();
  if (info == NULL || !compose (argv[1], sink, &error))
    {
      g_printerr ("bench-compose: %s\n", error->message);
      return 1;
    }
  end = g_get_monotonic_time ();
  getrusage (RUSAGE_SELF, &usage);
  g_print ("input_bytes=%" G_GINT64_FORMAT " output_bytes=%" G_GUINT64_FORMAT
           " wall_s=%.4f user_s=%.4f sys_s=%.4f peak_rss_kib=%ld\n",
           (gint64)g_file_info_get_size (info), sink->written, (end - start) / 1e6,
           seconds (&usage.ru_utime), seconds (&usage.ru_stime), usage.ru_maxrss);
  return 0;
}
