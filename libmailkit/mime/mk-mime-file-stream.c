/* mk-mime-file-stream.c: a GMimeStream over a file that is open only while
 * it is read, and fails if the file changed
 *
 * GMime's GIO stream opens its file on the first read and keeps it open
 * until the message is freed, so a message with thousands of attachments
 * runs out of descriptors; and it reads whatever the file holds by then.
 * This one opens the file when reading starts, closes it at the end, and
 * fails the read (so the writing of the message fails, and the sending
 * layer sends no final dot) when the file is not the one that was added:
 * another size or modification time, or more or fewer bytes than that
 * size. The message's SIZE, counted in a first pass, then always matches
 * what is sent.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-mime-file-stream-private.h"

struct _MkMimeFileStream
{
  GMimeStream parent_instance;

  GFile *file;
  goffset size;
  gint64 modified_usec;
  GInputStream *input;
  gboolean eos;
};

G_DEFINE_FINAL_TYPE (MkMimeFileStream, mk_mime_file_stream, GMIME_TYPE_STREAM)

static gint64
modified_usec (GFileInfo *info)
{
  return (gint64)g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED)
             * G_USEC_PER_SEC
         + g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);
}

static void
close_input (MkMimeFileStream *self)
{
  if (self->input != NULL)
    g_input_stream_close (self->input, NULL, NULL);
  g_clear_object (&self->input);
}

static gboolean
open_input (MkMimeFileStream *self, gint64 position)
{
  g_autoptr (GFileInputStream) input = g_file_read (self->file, NULL, NULL);
  g_autoptr (GFileInfo) info = NULL;

  if (input == NULL)
    return FALSE;
  info = g_file_input_stream_query_info (input, MK_MIME_FILE_STREAM_ATTRIBUTES, NULL, NULL);
  if (info == NULL || g_file_info_get_size (info) != self->size
      || modified_usec (info) != self->modified_usec)
    return FALSE;
  if (position > 0 && !g_seekable_seek (G_SEEKABLE (input), position, G_SEEK_SET, NULL, NULL))
    return FALSE;
  self->input = G_INPUT_STREAM (g_steal_pointer (&input));
  return TRUE;
}

static ssize_t
mk_mime_file_stream_read (GMimeStream *stream, char *buffer, size_t length)
{
  MkMimeFileStream *self = MK_MIME_FILE_STREAM (stream);
  gssize n;

  if (self->eos)
    return 0;
  if (self->input == NULL && !open_input (self, stream->position))
    return -1;
  /* One byte more than is left, to see a file that grew. */
  length = MIN ((goffset)length, self->size - stream->position + 1);
  n = g_input_stream_read (self->input, buffer, length, NULL, NULL);
  if (n < 0 || stream->position + n > self->size || (n == 0 && stream->position < self->size))
    {
      close_input (self);
      return -1;
    }
  if (n == 0)
    {
      close_input (self);
      self->eos = TRUE;
    }
  stream->position += n;
  return n;
}

static ssize_t
mk_mime_file_stream_write (GMimeStream *stream, const char *buffer, size_t length)
{
  return -1;
}

static int
mk_mime_file_stream_flush (GMimeStream *stream)
{
  return 0;
}

static int
mk_mime_file_stream_close (GMimeStream *stream)
{
  close_input (MK_MIME_FILE_STREAM (stream));
  return 0;
}

static gboolean
mk_mime_file_stream_eos (GMimeStream *stream)
{
  return MK_MIME_FILE_STREAM (stream)->eos;
}

static int
mk_mime_file_stream_reset (GMimeStream *stream)
{
  MkMimeFileStream *self = MK_MIME_FILE_STREAM (stream);

  close_input (self);
  self->eos = FALSE;
  return 0;
}

static gint64
mk_mime_file_stream_seek (GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
  MkMimeFileStream *self = MK_MIME_FILE_STREAM (stream);

  if (whence != GMIME_STREAM_SEEK_SET || offset < 0 || offset > self->size)
    return -1;
  close_input (self);
  self->eos = FALSE;
  stream->position = offset;
  return offset;
}

static gint64
mk_mime_file_stream_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
mk_mime_file_stream_length (GMimeStream *stream)
{
  return MK_MIME_FILE_STREAM (stream)->size;
}

static GMimeStream *
mk_mime_file_stream_substream (GMimeStream *stream, gint64 start, gint64 end)
{
  return NULL;
}

static void
mk_mime_file_stream_finalize (GObject *object)
{
  MkMimeFileStream *self = MK_MIME_FILE_STREAM (object);

  close_input (self);
  g_clear_object (&self->file);
  G_OBJECT_CLASS (mk_mime_file_stream_parent_class)->finalize (object);
}

static void
mk_mime_file_stream_class_init (MkMimeFileStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = mk_mime_file_stream_finalize;
  stream_class->read = mk_mime_file_stream_read;
  stream_class->write = mk_mime_file_stream_write;
  stream_class->flush = mk_mime_file_stream_flush;
  stream_class->close = mk_mime_file_stream_close;
  stream_class->eos = mk_mime_file_stream_eos;
  stream_class->reset = mk_mime_file_stream_reset;
  stream_class->seek = mk_mime_file_stream_seek;
  stream_class->tell = mk_mime_file_stream_tell;
  stream_class->length = mk_mime_file_stream_length;
  stream_class->substream = mk_mime_file_stream_substream;
}

static void
mk_mime_file_stream_init (MkMimeFileStream *self)
{
}

/* @info: the file as it was added, with MK_MIME_FILE_STREAM_ATTRIBUTES. */
GMimeStream *
mk_mime_file_stream_new (GFile *file, GFileInfo *info)
{
  MkMimeFileStream *self = g_object_new (MK_TYPE_MIME_FILE_STREAM, NULL);

  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->file = g_object_ref (file);
  self->size = g_file_info_get_size (info);
  self->modified_usec = modified_usec (info);
  return GMIME_STREAM (self);
}
