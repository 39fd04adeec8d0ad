/* mk-test-failing-stream.c: a GMime stream whose reads fail on cue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "mk-test-failing-stream.h"

typedef struct
{
  GMimeStreamMem parent_instance;
  gboolean armed;
  /* -1: no cue. */
  gint64 fail_at;
  gint64 cancel_at;
  GCancellable *cancellable;
} FailingStream;

typedef struct
{
  GMimeStreamMemClass parent_class;
} FailingStreamClass;

static GType failing_stream_get_type (void);
G_DEFINE_TYPE (FailingStream, failing_stream, GMIME_TYPE_STREAM_MEM)

static ssize_t
failing_stream_read (GMimeStream *stream, char *buffer, size_t length)
{
  FailingStream *self = (FailingStream *)stream;

  if (self->cancel_at >= 0 && stream->position >= self->cancel_at)
    g_cancellable_cancel (self->cancellable);
  /* Once failed, failed for good, as a file that is gone. */
  if (self->fail_at >= 0 && stream->position >= self->fail_at)
    self->armed = TRUE;
  if (self->armed)
    {
      errno = EIO;
      return -1;
    }
  return GMIME_STREAM_CLASS (failing_stream_parent_class)->read (stream, buffer, length);
}

static void
failing_stream_finalize (GObject *object)
{
  g_clear_object (&((FailingStream *)object)->cancellable);
  G_OBJECT_CLASS (failing_stream_parent_class)->finalize (object);
}

static void
failing_stream_class_init (FailingStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = failing_stream_finalize;
  GMIME_STREAM_CLASS (klass)->read = failing_stream_read;
}

static void
failing_stream_init (FailingStream *self)
{
  self->fail_at = -1;
  self->cancel_at = -1;
}

GMimeStream *
mk_test_failing_stream_new (gsize length, char fill)
{
  GMimeStream *stream = g_object_new (failing_stream_get_type (), NULL);
  GByteArray *bytes = g_byte_array_sized_new (length);

  g_byte_array_set_size (bytes, length);
  memset (bytes->data, fill, length);
  g_mime_stream_construct (stream, 0, -1);
  g_mime_stream_mem_set_byte_array (GMIME_STREAM_MEM (stream), bytes);
  /* The stream frees the array. */
  GMIME_STREAM_MEM (stream)->owner = TRUE;
  return stream;
}

void
mk_test_failing_stream_arm (GMimeStream *stream)
{
  g_return_if_fail (G_TYPE_CHECK_INSTANCE_TYPE (stream, failing_stream_get_type ()));
  ((FailingStream *)stream)->armed = TRUE;
}

void
mk_test_failing_stream_fail_at (GMimeStream *stream, gint64 offset)
{
  g_return_if_fail (G_TYPE_CHECK_INSTANCE_TYPE (stream, failing_stream_get_type ()));
  ((FailingStream *)stream)->fail_at = offset;
}

void
mk_test_failing_stream_cancel_at (GMimeStream *stream, gint64 offset, GCancellable *cancellable)
{
  FailingStream *self = (FailingStream *)stream;

  g_return_if_fail (G_TYPE_CHECK_INSTANCE_TYPE (stream, failing_stream_get_type ()));
  g_set_object (&self->cancellable, cancellable);
  self->cancel_at = offset;
}
