/* test-line-reader.c: the bounded line reader, fed whole, byte by byte and
 * line by line, its limits, and its timeouts over a pipe
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

#include "libmailkit/net/mk-line-reader-private.h"
#include "mk-test-utils.h"

/* A stream over fixed bytes that hands them out whole, one byte per read,
 * or one line per read: the reader must give the same lines for each. */
typedef enum
{
  FEED_WHOLE,
  FEED_BYTE,
  FEED_LINE,
  FEED_RANDOM,
} Feed;

static const char *feed_names[] = { "whole", "byte by byte", "line by line", "in random pieces" };

#define TEST_TYPE_FEED_STREAM (test_feed_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestFeedStream, test_feed_stream, TEST, FEED_STREAM, GInputStream)

struct _TestFeedStream
{
  GInputStream parent_instance;
  GBytes *bytes;
  gsize offset;
  Feed feed;
};

G_DEFINE_FINAL_TYPE (TestFeedStream, test_feed_stream, G_TYPE_INPUT_STREAM)

static gssize
test_feed_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                       GError **error)
{
  TestFeedStream *self = TEST_FEED_STREAM (stream);
  gsize size = 0;
  const char *data = g_bytes_get_data (self->bytes, &size);
  gsize left = size - self->offset;
  gsize n = MIN (count, left);

  if (self->feed == FEED_BYTE)
    n = MIN (n, 1);
  else if (self->feed == FEED_RANDOM && n > 0)
    n = g_test_rand_int_range (1, MIN (n, 300) + 1);
  else if (self->feed == FEED_LINE)
    {
      const char *lf = memchr (data + self->offset, '\n', left);

      if (lf != NULL)
        n = MIN (n, (gsize)(lf + 1 - (data + self->offset)));
    }
  memcpy (buffer, data + self->offset, n);
  self->offset += n;
  return n;
}

static void
test_feed_stream_finalize (GObject *object)
{
  g_bytes_unref (TEST_FEED_STREAM (object)->bytes);
  G_OBJECT_CLASS (test_feed_stream_parent_class)->finalize (object);
}

static void
test_feed_stream_class_init (TestFeedStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_feed_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = test_feed_stream_read;
}

static void
test_feed_stream_init (TestFeedStream *self)
{
}

static TestFeedStream *
feed_stream_new (const void *data, gsize size, Feed feed)
{
  TestFeedStream *self = g_object_new (TEST_TYPE_FEED_STREAM, NULL);

  self->bytes = g_bytes_new (data, size);
  self->feed = feed;
  return self;
}

static void
test_lines (void)
{
  static const char input[] = "220-first\r\n"
                              "220 second\r\n"
                              "250 bare LF\n"
                              "250 a\rbare CR stays\r\n"
                              "\r\n"
                              "250 last\r\n";
  static const char *expected[]
      = { "220-first", "220 second", "250 bare LF", "250 a\rbare CR stays", "", "250 last" };

  for (Feed feed = FEED_WHOLE; feed <= FEED_LINE; feed++)
    {
      g_autoptr (TestFeedStream) stream = feed_stream_new (input, strlen (input), feed);
      g_autoptr (MkLineReader) reader = mk_line_reader_new (G_INPUT_STREAM (stream), "server");
      g_autoptr (GError) error = NULL;
      g_autofree char *end = NULL;

      g_test_message ("fed %s", feed_names[feed]);
      mk_line_reader_begin_reply (reader);
      for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
        {
          gsize length = 0;
          g_autofree char *line = mk_line_reader_read_line (reader, &length, NULL, &error);

          g_assert_no_error (error);
          g_assert_cmpstr (line, ==, expected[i]);
          g_assert_cmpuint (length, ==, strlen (expected[i]));
        }
      g_assert_cmpuint (mk_line_reader_get_buffered (reader), ==, 0);
      end = mk_line_reader_read_line (reader, NULL, NULL, &error);
      g_assert_null (end);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      g_assert_nonnull (strstr (error->message, "server closed the connection"));
    }
}

/* Reads lines until an error; returns how many lines came before it. */
static guint
read_until_error (const void *data, gsize size, Feed feed, GError **error, gsize *consumed)
{
  g_autoptr (TestFeedStream) stream = feed_stream_new (data, size, feed);
  g_autoptr (MkLineReader) reader = mk_line_reader_new (G_INPUT_STREAM (stream), "server");
  guint lines = 0;

  mk_line_reader_begin_reply (reader);
  for (;;)
    {
      g_autofree char *line = mk_line_reader_read_line (reader, NULL, NULL, error);

      if (line == NULL)
        break;
      lines++;
      g_assert_cmpuint (lines, <=, size);
    }
  if (consumed != NULL)
    *consumed = stream->offset;
  return lines;
}

static void
test_line_length_limit (void)
{
  for (Feed feed = FEED_WHOLE; feed <= FEED_LINE; feed++)
    {
      g_autoptr (GString) longest = g_string_new (NULL);
      g_autoptr (GString) too_long = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *huge = g_malloc (1024 * 1024);
      gsize consumed = 0;

      g_test_message ("fed %s", feed_names[feed]);
      g_string_append_c (longest, '2');
      while (longest->len < MK_LINE_READER_MAX_LINE_LENGTH)
        g_string_append_c (longest, 'x');
      too_long = g_string_new_len (longest->str, longest->len);
      g_string_append (longest, "\r\n");
      g_string_append (too_long, "y\r\n");

      /* At the limit: read; one more byte: refused. */
      g_assert_cmpuint (read_until_error (longest->str, longest->len, feed, &error, NULL), ==, 1);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      g_clear_error (&error);
      g_assert_cmpuint (read_until_error (too_long->str, too_long->len, feed, &error, NULL), ==, 0);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
      g_assert_nonnull (strstr (error->message, "longer than 8192 bytes"));
      g_clear_error (&error);

      /* 1 MiB without a line end: refused at the limit, having read no
       * more than one line's worth. */
      memset (huge, 'z', 1024 * 1024);
      g_assert_cmpuint (read_until_error (huge, 1024 * 1024, feed, &error, &consumed), ==, 0);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
      g_assert_cmpuint (consumed, <=, MK_LINE_READER_MAX_LINE_LENGTH + 2);
    }
}

static void
test_reply_line_limit (void)
{
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < MK_LINE_READER_MAX_REPLY_LINES + 1; i++)
    g_string_append (input, "250-x\r\n");

  for (Feed feed = FEED_WHOLE; feed <= FEED_LINE; feed++)
    {
      g_test_message ("fed %s", feed_names[feed]);
      g_assert_cmpuint (read_until_error (input->str, input->len, feed, &error, NULL), ==,
                        MK_LINE_READER_MAX_REPLY_LINES);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
      g_assert_nonnull (strstr (error->message, "more than 100 lines"));
      g_clear_error (&error);
    }
}

static void
test_reply_limits_reset (void)
{
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (TestFeedStream) stream = NULL;
  g_autoptr (MkLineReader) reader = NULL;

  for (int i = 0; i < 3 * MK_LINE_READER_MAX_REPLY_LINES; i++)
    g_string_append (input, "250 x\r\n");
  stream = feed_stream_new (input->str, input->len, FEED_WHOLE);
  reader = mk_line_reader_new (G_INPUT_STREAM (stream), "server");

  /* Three replies of the most lines one may have: each starts afresh. */
  for (int reply = 0; reply < 3; reply++)
    {
      mk_line_reader_begin_reply (reader);
      for (int i = 0; i < MK_LINE_READER_MAX_REPLY_LINES; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autofree char *line = mk_line_reader_read_line (reader, NULL, NULL, &error);

          g_assert_no_error (error);
          g_assert_cmpstr (line, ==, "250 x");
        }
    }
}

static void
test_reply_byte_limit (void)
{
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  const guint line_bytes = 8000;
  guint fitting = MK_LINE_READER_MAX_REPLY_BYTES / (line_bytes + 2);

  for (guint i = 0; i < fitting + 1; i++)
    {
      g_string_append (input, "250-");
      for (guint j = 4; j < line_bytes; j++)
        g_string_append_c (input, 'b');
      g_string_append (input, "\r\n");
    }

  for (Feed feed = FEED_WHOLE; feed <= FEED_LINE; feed++)
    {
      g_test_message ("fed %s", feed_names[feed]);
      g_assert_cmpuint (read_until_error (input->str, input->len, feed, &error, NULL), ==, fitting);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
      g_assert_nonnull (strstr (error->message, "more than 65536 bytes"));
      g_clear_error (&error);
    }
}

static void
test_nul_and_partial (void)
{
  static const char nul[] = "250-SIZE\0 STARTTLS\r\n";
  static const char partial[] = "220 ready\r\n250 cut he";
  g_autoptr (GError) error = NULL;

  for (Feed feed = FEED_WHOLE; feed <= FEED_LINE; feed++)
    {
      g_test_message ("fed %s", feed_names[feed]);
      g_assert_cmpuint (read_until_error (nul, sizeof nul - 1, feed, &error, NULL), ==, 0);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_clear_error (&error);
      g_assert_cmpuint (read_until_error (partial, sizeof partial - 1, feed, &error, NULL), ==, 1);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
      g_assert_nonnull (strstr (error->message, "in the middle of a line"));
      g_clear_error (&error);
    }
}

/* Everything the reader makes of @data: the lines, then the error. */
static char *
reading_of (const char *data, gsize size, Feed feed)
{
  g_autoptr (TestFeedStream) stream = feed_stream_new (data, size, feed);
  g_autoptr (MkLineReader) reader = mk_line_reader_new (G_INPUT_STREAM (stream), "server");
  GString *out = g_string_new (NULL);

  mk_line_reader_begin_reply (reader);
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      gsize length = 0;
      g_autofree char *line = mk_line_reader_read_line (reader, &length, NULL, &error);

      if (line == NULL)
        {
          g_string_append_printf (out, "error %s %d", g_quark_to_string (error->domain),
                                  error->code);
          return g_string_free (out, FALSE);
        }
      g_assert_cmpuint (length, ==, strlen (line));
      g_string_append_printf (out, "line %" G_GSIZE_FORMAT ":", length);
      g_string_append_len (out, line, length);
      g_string_append_c (out, '\n');
    }
}

static void
test_random_input_any_split (void)
{
  /* Random bytes rich in the characters that matter (CR, LF, NUL) and
   * long runs without a line end: however the stream cuts them, the
   * reader gives the same lines and the same error as fed whole. */
  static const char alphabet[] = { '\r', '\n', '\0', '2', '5', '0', '-', ' ', 'x' };

  for (int round = 0; round < 200; round++)
    {
      gsize size = g_test_rand_int_range (0, 20000);
      g_autofree char *data = g_malloc (size + 1);
      g_autofree char *whole = NULL;
      gboolean long_runs = g_test_rand_bit ();

      for (gsize i = 0; i < size; i++)
        data[i] = long_runs && g_test_rand_int_range (0, 100) < 99
                      ? 'y'
                      : alphabet[g_test_rand_int_range (0, sizeof alphabet)];
      whole = reading_of (data, size, FEED_WHOLE);
      for (Feed feed = FEED_BYTE; feed <= FEED_RANDOM; feed++)
        {
          g_autofree char *split = reading_of (data, size, feed);

          g_assert_cmpstr (split, ==, whole);
        }
    }
}

/* A peer behind a pipe, writing @bytes one at a time every @interval_ms
 * until they run out or the test is over. */
typedef struct
{
  int fd;
  const char *bytes;
  guint interval_ms;
  gint stop;
} Trickle;

static gpointer
trickle_thread (gpointer data)
{
  Trickle *trickle = data;

  for (const char *p = trickle->bytes; *p != '\0' && !g_atomic_int_get (&trickle->stop); p++)
    {
      g_usleep (trickle->interval_ms * 1000);
      if (write (trickle->fd, p, 1) != 1)
        break;
    }
  return NULL;
}

/* Reads one line from a pipe fed by @trickle with the given timeouts;
 * returns the seconds it took and the error. */
static double
read_from_trickle (Trickle *trickle, double timeout, double reply_timeout,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (MkLineReader) reader = NULL;
  g_autofree char *line = NULL;
  GThread *thread;
  int fds[2];
  gint64 start;

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  in = g_unix_input_stream_new (fds[0], TRUE);
  reader = mk_line_reader_new (in, "slow.example");
  mk_line_reader_set_timeouts (reader, timeout, reply_timeout);
  trickle->fd = fds[1];
  thread = g_thread_new ("trickle", trickle_thread, trickle);

  start = g_get_monotonic_time ();
  mk_line_reader_begin_reply (reader);
  line = mk_line_reader_read_line (reader, NULL, cancellable, error);
  g_assert_null (line);

  g_atomic_int_set (&trickle->stop, 1);
  g_thread_join (thread);
  close (fds[1]);
  return (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
}

static void
test_trickle_hits_reply_deadline (void)
{
  /* One byte per 100 ms never lets the 1 s idle timeout fire; the 1 s
   * reply deadline must, on time. */
  g_autofree char *text = g_strnfill (100 * mk_test_time_scale (), 'x');
  Trickle trickle = { -1, text, 100, 0 };
  g_autoptr (GError) error = NULL;
  double scale = mk_test_time_scale ();
  double took;

  /* Ten seconds' worth of bytes (times the time scale): far more than
   * the deadline lets through. */
  took = read_from_trickle (&trickle, 1.0 * scale, 1.0 * scale, NULL, &error);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "reply from slow.example was not complete"));
  g_assert_cmpfloat (took, >=, 0.99 * scale);
  g_assert_cmpfloat (took, <, 1.3 * scale);
}

static void
test_silent_peer_hits_timeout (void)
{
  Trickle trickle = { -1, "", 100, 0 };
  g_autoptr (GError) error = NULL;
  double scale = mk_test_time_scale ();
  double took = read_from_trickle (&trickle, 0.3 * scale, 0, NULL, &error);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "slow.example sent nothing for"));
  g_assert_cmpfloat (took, >=, 0.29 * scale);
  g_assert_cmpfloat (took, <, 0.8 * scale);
}

static gboolean
cancel_now (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_later_thread (gpointer data)
{
  g_usleep (200 * 1000);
  cancel_now (data);
  return NULL;
}

static void
test_cancel_read (void)
{
  Trickle trickle = { -1, "", 100, 0 };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GThread *canceller = g_thread_new ("cancel", cancel_later_thread, cancellable);
  double took = read_from_trickle (&trickle, 0, 0, cancellable, &error);

  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (took, <, 5.0 * mk_test_time_scale ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/line-reader/lines", test_lines);
  g_test_add_func ("/net/line-reader/line-length-limit", test_line_length_limit);
  g_test_add_func ("/net/line-reader/reply-line-limit", test_reply_line_limit);
  g_test_add_func ("/net/line-reader/reply-limits-reset", test_reply_limits_reset);
  g_test_add_func ("/net/line-reader/reply-byte-limit", test_reply_byte_limit);
  g_test_add_func ("/net/line-reader/nul-and-partial", test_nul_and_partial);
  g_test_add_func ("/net/line-reader/random-input-any-split", test_random_input_any_split);
  g_test_add_func ("/net/line-reader/trickle-hits-reply-deadline",
                   test_trickle_hits_reply_deadline);
  g_test_add_func ("/net/line-reader/silent-peer-hits-timeout", test_silent_peer_hits_timeout);
  g_test_add_func ("/net/line-reader/cancel-read", test_cancel_read);
  return g_test_run ();
}
