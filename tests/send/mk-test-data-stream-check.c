/* mk-test-data-stream-check.c: the round-trip property of MkSmtpDataStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The model here is written the simple way (whole input, no state carried
 * across writes) so that it cannot share a bug with the incremental stream.
 */
#include "config.h"

#include <string.h>

#include "libmailkit/smtp/mk-smtp-error.h"
#include "mk-test-data-stream-check.h"

/* Every CRLF, CR and LF made CRLF, and a CRLF at the end if missing. Sets
 * @valid to FALSE for input SMTP cannot carry. */
static GByteArray *
model_normalise (const guint8 *input, gsize length, gboolean *valid)
{
  GByteArray *out = g_byte_array_sized_new (length * 2 + 2);
  gsize line_length = 0;

  *valid = TRUE;
  for (gsize i = 0; i < length; i++)
    {
      if (input[i] == '\r' || input[i] == '\n')
        {
          if (input[i] == '\r' && i + 1 < length && input[i + 1] == '\n')
            i++;
          g_byte_array_append (out, (const guint8 *)"\r\n", 2);
          line_length = 0;
          continue;
        }
      if (input[i] == '\0' || ++line_length > MK_SMTP_DATA_MAX_LINE_LENGTH)
        *valid = FALSE;
      g_byte_array_append (out, &input[i], 1);
    }
  if (out->len < 2 || memcmp (out->data + out->len - 2, "\r\n", 2) != 0)
    g_byte_array_append (out, (const guint8 *)"\r\n", 2);
  return out;
}

static char *
check_line_ends (const guint8 *wire, gsize length)
{
  for (gsize i = 0; i < length; i++)
    {
      if (wire[i] == '\r' && (i + 1 == length || wire[i + 1] != '\n'))
        return g_strdup_printf ("bare CR on the wire at offset %" G_GSIZE_FORMAT, i);
      if (wire[i] == '\n' && (i == 0 || wire[i - 1] != '\r'))
        return g_strdup_printf ("bare LF on the wire at offset %" G_GSIZE_FORMAT, i);
    }
  return NULL;
}

/* Un-stuffs DOT-framed wire bytes into @text; @terminated says whether a
 * `.` line was found (it must be the last line). */
static char *
parse_dot (const guint8 *wire, gsize length, gboolean complete, GByteArray *text,
           gboolean *terminated)
{
  gsize start = 0;

  *terminated = FALSE;
  while (start < length)
    {
      const guint8 *crlf = memchr (wire + start, '\n', length - start);
      gsize line_length;

      if (crlf == NULL)
        {
          if (complete)
            return g_strdup ("the wire does not end with CRLF");
          break;
        }
      line_length = crlf - (wire + start) - 1;
      if (*terminated)
        return g_strdup_printf ("bytes after the terminator at offset %" G_GSIZE_FORMAT, start);
      if (line_length == 1 && wire[start] == '.')
        *terminated = TRUE;
      else if (wire[start] == '.')
        g_byte_array_append (text, wire + start + 1, line_length - 1 + 2);
      else
        g_byte_array_append (text, wire + start, line_length + 2);
      start += line_length + 2;
    }
  return NULL;
}

static char *
parse_bdat (const guint8 *wire, gsize length, gboolean complete, GByteArray *text,
            gboolean *terminated, guint *chunks)
{
  gsize start = 0;

  *terminated = FALSE;
  *chunks = 0;
  while (start < length)
    {
      const guint8 *lf = memchr (wire + start, '\n', length - start);
      g_autofree char *header = NULL;
      guint64 size;
      char *end;

      if (lf == NULL)
        return complete ? g_strdup ("truncated BDAT header") : NULL;
      if (*terminated)
        return g_strdup ("bytes after BDAT LAST");
      header = g_strndup ((const char *)wire + start, lf - (wire + start) + 1);
      if (!g_str_has_prefix (header, "BDAT ") || !g_ascii_isdigit (header[5]))
        return g_strdup_printf ("not a BDAT header: %s", header);
      size = g_ascii_strtoull (header + 5, &end, 10);
      if (g_str_equal (end, " LAST\r\n"))
        *terminated = TRUE;
      else if (!g_str_equal (end, "\r\n"))
        return g_strdup_printf ("malformed BDAT header: %s", header);
      else if (size != MK_SMTP_DATA_BLOCK_SIZE)
        return g_strdup_printf ("a BDAT chunk other than the last has size %" G_GUINT64_FORMAT,
                                size);
      start += strlen (header);
      if (size > length - start)
        return complete ? g_strdup ("BDAT chunk shorter than announced") : NULL;
      g_byte_array_append (text, wire + start, size);
      start += size;
      (*chunks)++;
    }
  return NULL;
}

char *
mk_test_data_stream_check (const guint8 *input, gsize length, MkSmtpDataFraming framing,
                           gsize piece, GBytes **wire)
{
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (MkSmtpDataStream) stream = mk_smtp_data_stream_new (memory, framing);
  g_autoptr (GByteArray) expected = NULL;
  g_autoptr (GByteArray) text = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gboolean valid, written = TRUE, terminated;
  const guint8 *data;
  gsize data_length;
  guint chunks = 0;
  char *problem;

  g_return_val_if_fail (piece > 0, NULL);

  expected = model_normalise (input, length, &valid);
  for (gsize offset = 0; offset < length && written; offset += piece)
    written = g_output_stream_write_all (G_OUTPUT_STREAM (stream), input + offset,
                                         MIN (piece, length - offset), NULL, NULL, &error);
  if (written)
    written = mk_smtp_data_stream_finish (stream, NULL, &error);
  else if (mk_smtp_data_stream_finish (stream, NULL, NULL))
    return g_strdup ("finish() succeeded after a failed write");

  g_output_stream_close (memory, NULL, NULL);
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
  data = g_bytes_get_data (bytes, &data_length);
  if (wire != NULL)
    *wire = g_bytes_ref (bytes);

  if (valid && !written)
    return g_strdup_printf ("valid input refused: %s", error->message);
  if (!valid && written)
    return g_strdup ("invalid input (NUL or a line over 998 octets) accepted");
  if (!valid && !g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID))
    return g_strdup_printf ("invalid input refused with the wrong error: %s", error->message);

  if ((problem = check_line_ends (data, data_length)) != NULL)
    return problem;
  if (framing == MK_SMTP_DATA_FRAMING_DOT)
    problem = parse_dot (data, data_length, valid, text, &terminated);
  else
    problem = parse_bdat (data, data_length, valid, text, &terminated, &chunks);
  if (problem != NULL)
    return problem;

  if (!valid)
    return terminated ? g_strdup ("a terminator was sent after a failed write") : NULL;
  if (!terminated)
    return g_strdup ("no terminator");
  if (text->len != expected->len || memcmp (text->data, expected->data, text->len) != 0)
    return g_strdup ("the un-framed wire bytes differ from the CRLF-normalised input");
  if (mk_smtp_data_stream_get_message_bytes (stream) != length)
    return g_strdup ("message byte count differs from the input length");
  if (mk_smtp_data_stream_get_chunk_count (stream) != chunks)
    return g_strdup ("chunk count differs from the BDAT commands on the wire");
  return NULL;
}
