/* mk-line-reader.c: a bounded CRLF line reader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-line-reader-private.h"
#include "mk-net-io-private.h"

/* The longest line plus its CRLF: a line that does not fit is too long, so
 * the buffer never grows. */
#define BUFFER_SIZE (MK_LINE_READER_MAX_LINE_LENGTH + 2)

struct _MkLineReader
{
  GInputStream *stream;
  char *peer;
  gint64 timeout_us;
  gint64 reply_timeout_us;
  gint64 reply_deadline;
  guint reply_lines;
  gsize reply_bytes;
  /* Unread bytes are buffer[start, end); buffer[start, scanned) holds no LF. */
  gsize start, scanned, end;
  char buffer[BUFFER_SIZE];
};

MkLineReader *
mk_line_reader_new (GInputStream *stream, const char *peer)
{
  MkLineReader *reader = g_new0 (MkLineReader, 1);

  reader->stream = g_object_ref (stream);
  reader->peer = g_strdup (peer);
  reader->reply_deadline = MK_NET_DEADLINE_NONE;
  return reader;
}

void
mk_line_reader_free (MkLineReader *reader)
{
  if (reader == NULL)
    return;
  g_object_unref (reader->stream);
  g_free (reader->peer);
  g_free (reader);
}

static gint64
seconds_to_us (double seconds)
{
  return seconds > 0 ? (gint64)(seconds * G_USEC_PER_SEC) : 0;
}

void
mk_line_reader_set_timeouts (MkLineReader *reader, double timeout, double reply_timeout)
{
  reader->timeout_us = seconds_to_us (timeout);
  reader->reply_timeout_us = seconds_to_us (reply_timeout);
}

void
mk_line_reader_begin_reply (MkLineReader *reader)
{
  reader->reply_lines = 0;
  reader->reply_bytes = 0;
  reader->reply_deadline = reader->reply_timeout_us > 0
                               ? g_get_monotonic_time () + reader->reply_timeout_us
                               : MK_NET_DEADLINE_NONE;
}

gsize
mk_line_reader_get_buffered (MkLineReader *reader)
{
  return reader->end - reader->start;
}

const char *
mk_line_reader_peek (MkLineReader *reader, gsize *length)
{
  *length = reader->end - reader->start;
  return reader->buffer + reader->start;
}

/* Moves the unread bytes to the front, making room for a read. */
static void
compact (MkLineReader *reader)
{
  if (reader->start == 0)
    return;
  memmove (reader->buffer, reader->buffer + reader->start, reader->end - reader->start);
  reader->end -= reader->start;
  reader->scanned -= reader->start;
  reader->start = 0;
}

gssize
mk_line_reader_fill_nonblocking (MkLineReader *reader, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gssize n;

  if (reader->end > reader->start || !G_IS_POLLABLE_INPUT_STREAM (reader->stream)
      || !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (reader->stream)))
    return reader->end - reader->start;
  compact (reader);
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (reader->stream),
                                                reader->buffer, BUFFER_SIZE, NULL, &local_error);
  if (n < 0)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return 0;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }
  reader->end = n;
  return n;
}

/* Reads more bytes into the buffer; FALSE with an error, or at end of
 * stream with *eof set. */
static gboolean
fill (MkLineReader *reader, gboolean *eof, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gint64 idle_deadline;
  gint64 deadline;
  gssize n;

  compact (reader);

  idle_deadline = reader->timeout_us > 0 ? g_get_monotonic_time () + reader->timeout_us
                                         : MK_NET_DEADLINE_NONE;
  deadline = MIN (idle_deadline, reader->reply_deadline);
  n = mk_net_read (reader->stream, reader->buffer + reader->end, BUFFER_SIZE - reader->end,
                   deadline, cancellable, &local_error);
  if (n < 0)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          double seconds
              = (deadline == reader->reply_deadline ? reader->reply_timeout_us : reader->timeout_us)
                / (double)G_USEC_PER_SEC;

          /* A silent server and a trickling one call for different fixes. */
          if (reader->reply_bytes == 0 && reader->end == 0)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s sent nothing for %.3g s",
                         reader->peer, seconds);
          else
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                         "The reply from %s was not complete after %.3g s", reader->peer, seconds);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  *eof = n == 0;
  reader->end += n;
  return TRUE;
}

char *
mk_line_reader_read_line (MkLineReader *reader, gsize *length, GCancellable *cancellable,
                          GError **error)
{
  const char *lf;
  gsize line_length;
  gsize consumed;
  char *line;

  /* Each turn scans new bytes or reads more; a full buffer without an LF
   * or the end of the stream ends it. */
  for (;;)
    {
      gboolean eof = FALSE;

      lf = memchr (reader->buffer + reader->scanned, '\n', reader->end - reader->scanned);
      if (lf != NULL)
        break;
      reader->scanned = reader->end;

      if (reader->end - reader->start >= BUFFER_SIZE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "%s sent a line longer than %d bytes", reader->peer,
                       MK_LINE_READER_MAX_LINE_LENGTH);
          return NULL;
        }
      if (!fill (reader, &eof, cancellable, error))
        return NULL;
      if (eof)
        {
          if (reader->end > reader->start)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                         "%s closed the connection in the middle of a line", reader->peer);
          else
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         "%s closed the connection", reader->peer);
          return NULL;
        }
    }

  consumed = lf + 1 - (reader->buffer + reader->start);
  line_length = consumed - 1;
  if (line_length > 0 && reader->buffer[reader->start + line_length - 1] == '\r')
    line_length--;

  if (line_length > MK_LINE_READER_MAX_LINE_LENGTH)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "%s sent a line longer than %d bytes", reader->peer,
                   MK_LINE_READER_MAX_LINE_LENGTH);
      return NULL;
    }
  if (memchr (reader->buffer + reader->start, '\0', line_length) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s sent a line with a NUL byte",
                   reader->peer);
      return NULL;
    }
  if (reader->reply_lines + 1 > MK_LINE_READER_MAX_REPLY_LINES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "%s sent a reply of more than %d lines", reader->peer,
                   MK_LINE_READER_MAX_REPLY_LINES);
      return NULL;
    }
  if (reader->reply_bytes + consumed > MK_LINE_READER_MAX_REPLY_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "%s sent a reply of more than %d bytes", reader->peer,
                   MK_LINE_READER_MAX_REPLY_BYTES);
      return NULL;
    }

  line = g_strndup (reader->buffer + reader->start, line_length);
  reader->reply_lines++;
  reader->reply_bytes += consumed;
  reader->start += consumed;
  reader->scanned = reader->start;
  if (length != NULL)
    *length = line_length;
  return line;
}
