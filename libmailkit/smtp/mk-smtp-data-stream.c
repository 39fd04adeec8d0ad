/* mk-smtp-data-stream.c: the message body on its way into DATA or BDAT
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One pass over the bytes does everything the mail-data phase needs, so that
 * what reaches the server is a sequence of CRLF-terminated lines whatever the
 * message holds. GMime's unix2dos and smtp-data filters are not enough: they
 * pass a bare CR through and stuff a dot only after LF, which lets
 * `<CR>.<CR><LF>` reach the wire.
 */
#include "config.h"

#include <string.h>

#include "mk-smtp-data-stream-private.h"
#include "mk-smtp-error.h"

/* "BDAT " + 20 digits + " LAST" + CRLF, with room to spare. */
#define BDAT_HEADER_MAX 48

struct _MkSmtpDataStream
{
  GFilterOutputStream parent_instance;

  MkSmtpDataFraming framing;

  /* Output not yet written to the base stream. */
  guint8 *block;
  gsize block_length;

  /* Where the output stands: at the start of a line (a dot there needs
   * stuffing), just after a CRLF made from a CR (an LF that follows is the
   * rest of that line break), and whether it lacks a final line break. */
  gboolean at_line_start;
  gboolean after_cr;
  gboolean needs_line_end;
  gsize line_length;

  gboolean failed;
  gboolean finished;
  gboolean hold_end;

  guint64 message_bytes;
  guint chunk_count;

  MkSmtpDataProgressFunc progress_func;
  gpointer progress_data;
};

G_DEFINE_FINAL_TYPE (MkSmtpDataStream, mk_smtp_data_stream, G_TYPE_FILTER_OUTPUT_STREAM)

static gboolean
write_block (MkSmtpDataStream *self, gboolean last, GCancellable *cancellable, GError **error)
{
  GOutputStream *base = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));
  char header[BDAT_HEADER_MAX];
  GOutputVector vectors[2];
  gsize n_vectors = 0;

  if (self->framing != MK_SMTP_DATA_FRAMING_DOT)
    {
      int header_length = g_snprintf (header, sizeof header, "BDAT %" G_GSIZE_FORMAT "%s\r\n",
                                      self->block_length, last ? " LAST" : "");

      vectors[n_vectors++] = (GOutputVector){ header, (gsize)header_length };
      self->chunk_count++;
    }
  if (self->block_length > 0)
    vectors[n_vectors++] = (GOutputVector){ self->block, self->block_length };
  self->block_length = 0;
  if (n_vectors == 0)
    return TRUE;
  return g_output_stream_writev_all (base, vectors, n_vectors, NULL, cancellable, error);
}

/* Appends @length output bytes, sending every full block on. A full block
 * is sent only once more output follows, so that the last BDAT chunk is
 * never empty unless the whole message is. */
static gboolean
emit (MkSmtpDataStream *self, const guint8 *data, gsize length, GCancellable *cancellable,
      GError **error)
{
  while (length > 0)
    {
      gsize n;

      if (self->block_length == MK_SMTP_DATA_BLOCK_SIZE
          && !write_block (self, FALSE, cancellable, error))
        return FALSE;
      n = MIN (length, MK_SMTP_DATA_BLOCK_SIZE - self->block_length);
      memcpy (self->block + self->block_length, data, n);
      self->block_length += n;
      data += n;
      length -= n;
    }
  return TRUE;
}

static gboolean
encode (MkSmtpDataStream *self, const guint8 *p, gsize count, GCancellable *cancellable,
        GError **error)
{
  const guint8 *end = p + count;

  if (self->framing == MK_SMTP_DATA_FRAMING_BDAT_BINARY)
    return emit (self, p, count, cancellable, error);
  while (p < end)
    {
      const guint8 *run;
      gsize run_length;

      if (self->after_cr)
        {
          self->after_cr = FALSE;
          if (*p == '\n')
            {
              p++;
              continue;
            }
        }

      if (*p == '\r' || *p == '\n')
        {
          self->after_cr = (*p == '\r');
          if (!emit (self, (const guint8 *)"\r\n", 2, cancellable, error))
            return FALSE;
          self->at_line_start = TRUE;
          self->needs_line_end = FALSE;
          self->line_length = 0;
          p++;
          continue;
        }

      run = p;
      while (p < end && *p != '\r' && *p != '\n' && *p != '\0')
        p++;
      run_length = p - run;

      if (run_length == 0)
        {
          g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                               "The message contains a NUL octet, which SMTP mail data cannot "
                               "carry (RFC 5321 §4.5.2); encode the part that holds it");
          return FALSE;
        }
      if (run_length > MK_SMTP_DATA_MAX_LINE_LENGTH - self->line_length)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                       "The message has a line longer than %d octets, which SMTP cannot carry "
                       "(RFC 5322 §2.1.1); encode the part that holds it",
                       MK_SMTP_DATA_MAX_LINE_LENGTH);
          return FALSE;
        }

      if (self->at_line_start && *run == '.' && self->framing == MK_SMTP_DATA_FRAMING_DOT
          && !emit (self, (const guint8 *)".", 1, cancellable, error))
        return FALSE;
      if (!emit (self, run, run_length, cancellable, error))
        return FALSE;
      self->at_line_start = FALSE;
      self->needs_line_end = TRUE;
      self->line_length += run_length;
    }
  return TRUE;
}

static gboolean
check_writable (MkSmtpDataStream *self, GError **error)
{
  if (self->failed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "An earlier write of the message failed; it cannot be continued");
      return FALSE;
    }
  if (self->finished)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The message was already ended");
      return FALSE;
    }
  return TRUE;
}

static gssize
mk_smtp_data_stream_write (GOutputStream *stream, const void *buffer, gsize count,
                           GCancellable *cancellable, GError **error)
{
  MkSmtpDataStream *self = MK_SMTP_DATA_STREAM (stream);

  if (!check_writable (self, error))
    return -1;
  if (!encode (self, buffer, count, cancellable, error))
    {
      self->failed = TRUE;
      return -1;
    }
  self->message_bytes += count;
  if (count > 0 && self->progress_func != NULL)
    self->progress_func (self->message_bytes, self->progress_data);
  return count;
}

static void
mk_smtp_data_stream_finalize (GObject *object)
{
  MkSmtpDataStream *self = MK_SMTP_DATA_STREAM (object);

  g_free (self->block);
  G_OBJECT_CLASS (mk_smtp_data_stream_parent_class)->finalize (object);
}

static void
mk_smtp_data_stream_class_init (MkSmtpDataStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = mk_smtp_data_stream_finalize;
  /* Flushing and closing are GFilterOutputStream's: they reach the base
   * stream only, so neither can push a partial block or end the message. */
  stream_class->write_fn = mk_smtp_data_stream_write;
}

static void
mk_smtp_data_stream_init (MkSmtpDataStream *self)
{
  self->block = g_malloc (MK_SMTP_DATA_BLOCK_SIZE);
  self->at_line_start = TRUE;
  self->needs_line_end = TRUE;
}

MkSmtpDataStream *
mk_smtp_data_stream_new (GOutputStream *base_stream, MkSmtpDataFraming framing)
{
  MkSmtpDataStream *self;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (base_stream), NULL);
  g_return_val_if_fail (framing == MK_SMTP_DATA_FRAMING_DOT || framing == MK_SMTP_DATA_FRAMING_BDAT
                            || framing == MK_SMTP_DATA_FRAMING_BDAT_BINARY,
                        NULL);

  self = g_object_new (MK_TYPE_SMTP_DATA_STREAM, "base-stream", base_stream, "close-base-stream",
                       FALSE, NULL);
  self->framing = framing;
  /* A binary body ends where its bytes end. */
  self->needs_line_end = framing != MK_SMTP_DATA_FRAMING_BDAT_BINARY;
  return self;
}

gboolean
mk_smtp_data_stream_finish (MkSmtpDataStream *self, GCancellable *cancellable, GError **error)
{
  GOutputStream *base;

  g_return_val_if_fail (MK_IS_SMTP_DATA_STREAM (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_writable (self, error))
    return FALSE;
  if (g_output_stream_is_closed (G_OUTPUT_STREAM (self)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "The message stream was closed before the message was ended");
      return FALSE;
    }
  self->finished = TRUE;
  base = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));

  /* RFC 5321 §4.1.1.4: the terminator's CRLF is the end of the last line,
   * so a message that does not end with one (or is empty) gets one. */
  if ((self->needs_line_end && !emit (self, (const guint8 *)"\r\n", 2, cancellable, error))
      || (self->framing == MK_SMTP_DATA_FRAMING_DOT
          && !emit (self, (const guint8 *)".\r\n", 3, cancellable, error))
      || !write_block (self, TRUE, cancellable, error)
      || (!self->hold_end && !g_output_stream_flush (base, cancellable, error)))
    {
      self->failed = TRUE;
      return FALSE;
    }
  return TRUE;
}

void
mk_smtp_data_stream_set_flush_on_finish (MkSmtpDataStream *self, gboolean flush)
{
  g_return_if_fail (MK_IS_SMTP_DATA_STREAM (self));
  self->hold_end = !flush;
}

guint64
mk_smtp_data_stream_get_message_bytes (MkSmtpDataStream *self)
{
  g_return_val_if_fail (MK_IS_SMTP_DATA_STREAM (self), 0);
  return self->message_bytes;
}

guint
mk_smtp_data_stream_get_chunk_count (MkSmtpDataStream *self)
{
  g_return_val_if_fail (MK_IS_SMTP_DATA_STREAM (self), 0);
  return self->chunk_count;
}

void
mk_smtp_data_stream_set_progress_func (MkSmtpDataStream *self, MkSmtpDataProgressFunc func,
                                       gpointer user_data)
{
  g_return_if_fail (MK_IS_SMTP_DATA_STREAM (self));
  self->progress_func = func;
  self->progress_data = user_data;
}
