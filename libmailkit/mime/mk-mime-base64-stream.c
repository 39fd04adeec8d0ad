/* mk-mime-base64-stream.c: a GMimeStream that reads another one as base64
 * with CRLF line breaks
 *
 * GMime writes a base64 part through two filters that each touch every
 * byte: its encoder, then unix2dos adding the CR of each line, on 4 KiB
 * reads of the content. Most of the time of writing a message with a large
 * attachment went there. This stream encodes whole lines straight into
 * their final form, two output characters per table lookup, from large
 * reads of the content; send/ hands it to GMime as the part's encoded
 * content, so GMime still writes the structure and the headers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-mime-base64-stream-private.h"

#define LINE_BYTES (MK_MIME_BASE64_LINE_CHARS + 2) /* with the CRLF */
#define BLOCK_OCTETS (MK_MIME_BASE64_STREAM_BLOCK_LINES * MK_MIME_BASE64_LINE_OCTETS)
#define BLOCK_BYTES (MK_MIME_BASE64_STREAM_BLOCK_LINES * LINE_BYTES)

struct _MkMimeBase64Stream
{
  GMimeStream parent_instance;

  GMimeStream *source;
  guint8 *octets;
  char *encoded;
  gsize encoded_length;
  gsize encoded_taken;
  gboolean source_done;
};

G_DEFINE_FINAL_TYPE (MkMimeBase64Stream, mk_mime_base64_stream, GMIME_TYPE_STREAM)

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The two characters of every 12-bit half of a 3-octet group. */
static char pairs[4096][2];

static char *
encode_groups (const guint8 *in, gsize groups, char *out)
{
  for (gsize i = 0; i < groups; i++, in += 3, out += 4)
    {
      guint32 value = (guint32)in[0] << 16 | (guint32)in[1] << 8 | in[2];

      memcpy (out, pairs[value >> 12], 2);
      memcpy (out + 2, pairs[value & 0xfff], 2);
    }
  return out;
}

static char *
end_line (char *out)
{
  out[0] = '\r';
  out[1] = '\n';
  return out + 2;
}

/* Encodes @length octets into @out: full lines, then, when @last, the
 * shorter final line; returns the end of the output. Without @last,
 * @length is a whole number of lines. */
static char *
encode_lines (const guint8 *in, gsize length, gboolean last, char *out)
{
  gsize lines = length / MK_MIME_BASE64_LINE_OCTETS;
  gsize rest = length % MK_MIME_BASE64_LINE_OCTETS;

  for (gsize i = 0; i < lines; i++, in += MK_MIME_BASE64_LINE_OCTETS)
    out = end_line (encode_groups (in, MK_MIME_BASE64_LINE_OCTETS / 3, out));
  if (!last || rest == 0)
    return out;
  out = encode_groups (in, rest / 3, out);
  in += rest / 3 * 3;
  switch (rest % 3)
    {
    case 1:
      *out++ = alphabet[in[0] >> 2];
      *out++ = alphabet[(in[0] & 0x03) << 4];
      *out++ = '=';
      *out++ = '=';
      break;
    case 2:
      *out++ = alphabet[in[0] >> 2];
      *out++ = alphabet[(in[0] & 0x03) << 4 | in[1] >> 4];
      *out++ = alphabet[(in[1] & 0x0f) << 2];
      *out++ = '=';
      break;
    default:
      break;
    }
  return end_line (out);
}

/* The buffers exist only while the stream is being read: a writer makes
 * one stream for each part of a message before GMime reads them in turn. */
static void
release_buffers (MkMimeBase64Stream *self)
{
  g_clear_pointer (&self->octets, g_free);
  g_clear_pointer (&self->encoded, g_free);
}

/* Reads the next block of the source (a short block only at its end) and
 * encodes it. */
static gboolean
refill (MkMimeBase64Stream *self)
{
  gsize have = 0;

  if (self->octets == NULL)
    {
      self->octets = g_malloc (BLOCK_OCTETS);
      self->encoded = g_malloc (BLOCK_BYTES);
    }

  while (have < BLOCK_OCTETS && !g_mime_stream_eos (self->source))
    {
      ssize_t n
          = g_mime_stream_read (self->source, (char *)self->octets + have, BLOCK_OCTETS - have);

      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      have += n;
    }
  self->source_done = have < BLOCK_OCTETS;
  self->encoded_length
      = encode_lines (self->octets, have, self->source_done, self->encoded) - self->encoded;
  self->encoded_taken = 0;
  return TRUE;
}

static ssize_t
mk_mime_base64_stream_read (GMimeStream *stream, char *buffer, size_t length)
{
  MkMimeBase64Stream *self = MK_MIME_BASE64_STREAM (stream);
  gsize given = 0;

  while (given < length)
    {
      gsize n;

      if (self->encoded_taken == self->encoded_length)
        {
          if (self->source_done)
            break;
          if (!refill (self))
            return -1;
          continue;
        }
      n = MIN (length - given, self->encoded_length - self->encoded_taken);
      memcpy (buffer + given, self->encoded + self->encoded_taken, n);
      self->encoded_taken += n;
      given += n;
    }
  if (self->source_done && self->encoded_taken == self->encoded_length)
    release_buffers (self);
  stream->position += given;
  return given;
}

static ssize_t
mk_mime_base64_stream_write (GMimeStream *stream, const char *buffer, size_t length)
{
  return -1;
}

static int
mk_mime_base64_stream_flush (GMimeStream *stream)
{
  return 0;
}

static int
mk_mime_base64_stream_close (GMimeStream *stream)
{
  return 0;
}

static gboolean
mk_mime_base64_stream_eos (GMimeStream *stream)
{
  MkMimeBase64Stream *self = MK_MIME_BASE64_STREAM (stream);

  return self->source_done && self->encoded_taken == self->encoded_length;
}

static int
mk_mime_base64_stream_reset (GMimeStream *stream)
{
  MkMimeBase64Stream *self = MK_MIME_BASE64_STREAM (stream);

  self->encoded_length = self->encoded_taken = 0;
  self->source_done = FALSE;
  stream->position = 0;
  return g_mime_stream_reset (self->source);
}

static gint64
mk_mime_base64_stream_seek (GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
  return -1;
}

static gint64
mk_mime_base64_stream_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
mk_mime_base64_stream_length (GMimeStream *stream)
{
  return -1;
}

static GMimeStream *
mk_mime_base64_stream_substream (GMimeStream *stream, gint64 start, gint64 end)
{
  return NULL;
}

static void
mk_mime_base64_stream_finalize (GObject *object)
{
  MkMimeBase64Stream *self = MK_MIME_BASE64_STREAM (object);

  g_clear_object (&self->source);
  release_buffers (self);
  G_OBJECT_CLASS (mk_mime_base64_stream_parent_class)->finalize (object);
}

static void
mk_mime_base64_stream_class_init (MkMimeBase64StreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = mk_mime_base64_stream_finalize;
  stream_class->read = mk_mime_base64_stream_read;
  stream_class->write = mk_mime_base64_stream_write;
  stream_class->flush = mk_mime_base64_stream_flush;
  stream_class->close = mk_mime_base64_stream_close;
  stream_class->eos = mk_mime_base64_stream_eos;
  stream_class->reset = mk_mime_base64_stream_reset;
  stream_class->seek = mk_mime_base64_stream_seek;
  stream_class->tell = mk_mime_base64_stream_tell;
  stream_class->length = mk_mime_base64_stream_length;
  stream_class->substream = mk_mime_base64_stream_substream;

  /* GType runs this once, before any instance exists. */
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      pairs[i][0] = alphabet[i >> 6];
      pairs[i][1] = alphabet[i & 0x3f];
    }
}

static void
mk_mime_base64_stream_init (MkMimeBase64Stream *self)
{
}

GMimeStream *
mk_mime_base64_stream_new (GMimeStream *source)
{
  MkMimeBase64Stream *self;

  g_return_val_if_fail (GMIME_IS_STREAM (source), NULL);

  self = g_object_new (MK_TYPE_MIME_BASE64_STREAM, NULL);
  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->source = g_object_ref (source);
  return GMIME_STREAM (self);
}

gint64
mk_mime_base64_stream_encoded_length (gint64 octets)
{
  gint64 rest = octets % MK_MIME_BASE64_LINE_OCTETS;

  g_return_val_if_fail (octets >= 0, -1);

  return octets / MK_MIME_BASE64_LINE_OCTETS * LINE_BYTES + (rest > 0 ? (rest + 2) / 3 * 4 + 2 : 0);
}
