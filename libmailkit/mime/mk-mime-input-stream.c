/* mk-mime-input-stream.c: a GMimeStream that reads a GInputStream once
 *
 * GMime has streams over files, memory and GFile, none over a GInputStream
 * (a pipe, a socket, a generated body). This one can be read from the start
 * once: asked to go back after reading, it fails every later read, so a
 * second serialization of the message fails loudly instead of writing an
 * empty part (GMime ignores a failed reset, but not a failed read).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-mime-input-stream-private.h"

struct _MkMimeInputStream
{
  GMimeStream parent_instance;

  GInputStream *input;
  gboolean started;
  gboolean eos;
  gboolean spent;
};

G_DEFINE_FINAL_TYPE (MkMimeInputStream, mk_mime_input_stream, GMIME_TYPE_STREAM)

static ssize_t
mk_mime_input_stream_read (GMimeStream *stream, char *buffer, size_t length)
{
  MkMimeInputStream *self = MK_MIME_INPUT_STREAM (stream);
  gssize n;

  if (self->spent)
    return -1;
  self->started = TRUE;
  n = g_input_stream_read (self->input, buffer, length, NULL, NULL);
  if (n < 0)
    return -1;
  if (n == 0)
    self->eos = TRUE;
  stream->position += n;
  return n;
}

static ssize_t
mk_mime_input_stream_write (GMimeStream *stream, const char *buffer, size_t length)
{
  return -1;
}

static int
mk_mime_input_stream_flush (GMimeStream *stream)
{
  return 0;
}

static int
mk_mime_input_stream_close (GMimeStream *stream)
{
  MkMimeInputStream *self = MK_MIME_INPUT_STREAM (stream);

  return g_input_stream_close (self->input, NULL, NULL) ? 0 : -1;
}

static gboolean
mk_mime_input_stream_eos (GMimeStream *stream)
{
  MkMimeInputStream *self = MK_MIME_INPUT_STREAM (stream);

  /* Not at the end once spent: GMime then tries a read, and that fails. */
  return self->eos && !self->spent;
}

static int
mk_mime_input_stream_reset (GMimeStream *stream)
{
  MkMimeInputStream *self = MK_MIME_INPUT_STREAM (stream);

  if (!self->started)
    return 0;
  self->spent = TRUE;
  return -1;
}

static gint64
mk_mime_input_stream_seek (GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
  return -1;
}

static gint64
mk_mime_input_stream_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
mk_mime_input_stream_length (GMimeStream *stream)
{
  return -1;
}

static GMimeStream *
mk_mime_input_stream_substream (GMimeStream *stream, gint64 start, gint64 end)
{
  return NULL;
}

static void
mk_mime_input_stream_finalize (GObject *object)
{
  MkMimeInputStream *self = MK_MIME_INPUT_STREAM (object);

  g_clear_object (&self->input);
  G_OBJECT_CLASS (mk_mime_input_stream_parent_class)->finalize (object);
}

static void
mk_mime_input_stream_class_init (MkMimeInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = mk_mime_input_stream_finalize;
  stream_class->read = mk_mime_input_stream_read;
  stream_class->write = mk_mime_input_stream_write;
  stream_class->flush = mk_mime_input_stream_flush;
  stream_class->close = mk_mime_input_stream_close;
  stream_class->eos = mk_mime_input_stream_eos;
  stream_class->reset = mk_mime_input_stream_reset;
  stream_class->seek = mk_mime_input_stream_seek;
  stream_class->tell = mk_mime_input_stream_tell;
  stream_class->length = mk_mime_input_stream_length;
  stream_class->substream = mk_mime_input_stream_substream;
}

static void
mk_mime_input_stream_init (MkMimeInputStream *self)
{
}

GMimeStream *
mk_mime_input_stream_new (GInputStream *input)
{
  MkMimeInputStream *self = g_object_new (MK_TYPE_MIME_INPUT_STREAM, NULL);

  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->input = g_object_ref (input);
  return GMIME_STREAM (self);
}
