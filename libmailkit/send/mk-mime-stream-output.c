/* mk-mime-stream-output.c: a GMimeStream that writes into a GOutputStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "mk-mime-stream-output-private.h"

struct _MkMimeStreamOutput
{
  GMimeStream parent_instance;

  GOutputStream *output;
  GCancellable *cancellable;
  guint8 *buffer;
  gsize buffered;
  guint64 written;
  /* The first write error; after it nothing more is written. */
  gboolean failed;
  GError *error;
};

G_DEFINE_FINAL_TYPE (MkMimeStreamOutput, mk_mime_stream_output, GMIME_TYPE_STREAM)

static gboolean
write_out (MkMimeStreamOutput *self, const void *data, gsize length)
{
  if (!self->failed
      && g_output_stream_write_all (self->output, data, length, NULL, self->cancellable,
                                    &self->error))
    return TRUE;
  self->failed = TRUE;
  errno = EIO;
  return FALSE;
}

static gboolean
push (MkMimeStreamOutput *self)
{
  gsize length = self->buffered;

  self->buffered = 0;
  return length == 0 || write_out (self, self->buffer, length);
}

static ssize_t
stream_write (GMimeStream *stream, const char *data, size_t length)
{
  MkMimeStreamOutput *self = MK_MIME_STREAM_OUTPUT (stream);

  if (length > MK_MIME_STREAM_OUTPUT_BUFFER_SIZE - self->buffered && !push (self))
    return -1;
  if (length >= MK_MIME_STREAM_OUTPUT_BUFFER_SIZE)
    {
      if (!write_out (self, data, length))
        return -1;
    }
  else
    {
      memcpy (self->buffer + self->buffered, data, length);
      self->buffered += length;
    }
  self->written += length;
  stream->position += length;
  return length;
}

static ssize_t
stream_read (GMimeStream *stream, char *data, size_t length)
{
  errno = EBADF;
  return -1;
}

static int
stream_flush (GMimeStream *stream)
{
  return push (MK_MIME_STREAM_OUTPUT (stream)) ? 0 : -1;
}

static int
stream_close (GMimeStream *stream)
{
  return stream_flush (stream);
}

static gboolean
stream_eos (GMimeStream *stream)
{
  return FALSE;
}

static int
stream_reset (GMimeStream *stream)
{
  errno = ESPIPE;
  return -1;
}

static gint64
stream_seek (GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
  errno = ESPIPE;
  return -1;
}

static gint64
stream_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
stream_length (GMimeStream *stream)
{
  errno = ESPIPE;
  return -1;
}

static GMimeStream *
stream_substream (GMimeStream *stream, gint64 start, gint64 end)
{
  return NULL;
}

static void
mk_mime_stream_output_finalize (GObject *object)
{
  MkMimeStreamOutput *self = MK_MIME_STREAM_OUTPUT (object);

  g_clear_object (&self->output);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);
  g_free (self->buffer);
  G_OBJECT_CLASS (mk_mime_stream_output_parent_class)->finalize (object);
}

static void
mk_mime_stream_output_class_init (MkMimeStreamOutputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = mk_mime_stream_output_finalize;
  stream_class->read = stream_read;
  stream_class->write = stream_write;
  stream_class->flush = stream_flush;
  stream_class->close = stream_close;
  stream_class->eos = stream_eos;
  stream_class->reset = stream_reset;
  stream_class->seek = stream_seek;
  stream_class->tell = stream_tell;
  stream_class->length = stream_length;
  stream_class->substream = stream_substream;
}

static void
mk_mime_stream_output_init (MkMimeStreamOutput *self)
{
  self->buffer = g_malloc (MK_MIME_STREAM_OUTPUT_BUFFER_SIZE);
}

GMimeStream *
mk_mime_stream_output_new (GOutputStream *output, GCancellable *cancellable)
{
  MkMimeStreamOutput *self;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (output), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_object_new (MK_TYPE_MIME_STREAM_OUTPUT, NULL);
  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->output = g_object_ref (output);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  return GMIME_STREAM (self);
}

guint64
mk_mime_stream_output_get_written (MkMimeStreamOutput *self)
{
  g_return_val_if_fail (MK_IS_MIME_STREAM_OUTPUT (self), 0);
  return self->written;
}

GError *
mk_mime_stream_output_take_error (MkMimeStreamOutput *self)
{
  g_return_val_if_fail (MK_IS_MIME_STREAM_OUTPUT (self), NULL);
  return g_steal_pointer (&self->error);
}
