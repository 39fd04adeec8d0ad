/* mk-smtp-reply-parser.c: the incremental SMTP reply parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-smtp-error.h"
#include "mk-smtp-reply-parser-private.h"
#include "mk-smtp-reply-private.h"

/* How much of an offending line an error message quotes: enough to
 * recognise it, never the whole of a hostile megabyte. */
#define QUOTED_LINE_MAX 80

/* Each line is counted with the CRLF that ended it on the wire. */
#define LINE_ENDING_BYTES 2

struct _MkSmtpReplyParser
{
  guint code;       /* of the first line; 0 while no reply is in progress */
  GPtrArray *lines; /* char *, NULL-terminated once complete */
  gsize bytes;
};

MkSmtpReplyParser *
mk_smtp_reply_parser_new (void)
{
  MkSmtpReplyParser *parser = g_new0 (MkSmtpReplyParser, 1);

  parser->lines = g_ptr_array_new_with_free_func (g_free);
  return parser;
}

void
mk_smtp_reply_parser_free (MkSmtpReplyParser *parser)
{
  if (parser == NULL)
    return;
  g_ptr_array_unref (parser->lines);
  g_free (parser);
}

static void
parser_clear (MkSmtpReplyParser *parser)
{
  parser->code = 0;
  parser->bytes = 0;
  g_ptr_array_set_size (parser->lines, 0);
}

gboolean
mk_smtp_reply_parser_is_partial (const MkSmtpReplyParser *parser)
{
  return parser->code != 0;
}

/* Sets @error to a message quoting the start of @line, escaped; clears the
 * parser, whose reply can no longer be completed. */
G_GNUC_PRINTF (5, 6)
static gboolean
fail (MkSmtpReplyParser *parser, const char *line, gsize length, GError **error, const char *format,
      ...)
{
  g_autofree char *head = g_strndup (line, MIN (length, QUOTED_LINE_MAX));
  g_autofree char *quoted = g_strescape (head, NULL);
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  parser_clear (parser);
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE,
               "Malformed reply from the server: %s (line “%s%s”)", reason, quoted,
               length > QUOTED_LINE_MAX ? "…" : "");
  return FALSE;
}

/* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39. */
static gboolean
is_reply_code (const char *p)
{
  return p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '5' && g_ascii_isdigit (p[2]);
}

gboolean
mk_smtp_reply_parser_feed_line (MkSmtpReplyParser *parser, const char *line, gsize length,
                                MkSmtpReply **reply, GError **error)
{
  guint code;
  gboolean last;
  const char *bad;

  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (line != NULL || length == 0, FALSE);
  g_return_val_if_fail (reply != NULL && *reply == NULL, FALSE);

  /* Checked before anything reads the line as a C string, so a hidden NUL
   * can never shorten what the parser sees (curl rejects NUL since 2026). */
  if ((bad = memchr (line, '\0', length)) != NULL)
    return fail (parser, line, length, error, "NUL byte at offset %" G_GSIZE_FORMAT,
                 (gsize)(bad - line));
  if ((bad = memchr (line, '\r', length)) != NULL)
    return fail (parser, line, length, error, "bare CR at offset %" G_GSIZE_FORMAT,
                 (gsize)(bad - line));
  if ((bad = memchr (line, '\n', length)) != NULL)
    return fail (parser, line, length, error, "LF at offset %" G_GSIZE_FORMAT, (gsize)(bad - line));

  if (length < 3 || !is_reply_code (line))
    return fail (parser, line, length, error, "the line does not start with a reply code");
  if (length > 3 && line[3] != ' ' && line[3] != '-')
    return fail (parser, line, length, error,
                 "the reply code is not followed by a space or a dash");

  code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  last = length == 3 || line[3] == ' ';

  if (parser->code != 0 && code != parser->code)
    return fail (parser, line, length, error, "code %u in the middle of a multi-line %u reply",
                 code, parser->code);
  if (parser->lines->len + 1 > MK_SMTP_REPLY_MAX_LINES)
    return fail (parser, line, length, error, "more than %d lines in one reply",
                 MK_SMTP_REPLY_MAX_LINES);
  if (length + LINE_ENDING_BYTES > MK_SMTP_REPLY_MAX_BYTES - parser->bytes)
    return fail (parser, line, length, error, "more than %d bytes in one reply",
                 MK_SMTP_REPLY_MAX_BYTES);

  parser->code = code;
  parser->bytes += length + LINE_ENDING_BYTES;
  g_ptr_array_add (parser->lines, length > 3 ? g_strndup (line + 4, length - 4) : g_strdup (""));

  if (last)
    {
      g_ptr_array_add (parser->lines, NULL);
      *reply
          = mk_smtp_reply_new_take_lines (code, (char **)g_ptr_array_steal (parser->lines, NULL));
      parser->code = 0;
      parser->bytes = 0;
    }
  return TRUE;
}

GPtrArray *
mk_smtp_reply_parse_buffer (const char *data, gsize length, GError **error)
{
  g_autoptr (MkSmtpReplyParser) parser = mk_smtp_reply_parser_new ();
  g_autoptr (GPtrArray) replies
      = g_ptr_array_new_with_free_func ((GDestroyNotify)mk_smtp_reply_unref);
  const char *p = data;
  const char *end = data + length;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  while (p < end)
    {
      const char *lf = memchr (p, '\n', end - p);
      gsize line_length;
      MkSmtpReply *reply = NULL;

      if (lf == NULL)
        {
          g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE,
                               "Malformed reply from the server: the last line has no line ending");
          return NULL;
        }
      line_length = lf - p;
      if (line_length > 0 && p[line_length - 1] == '\r')
        line_length--;
      if (!mk_smtp_reply_parser_feed_line (parser, p, line_length, &reply, error))
        return NULL;
      if (reply != NULL)
        g_ptr_array_add (replies, reply);
      p = lf + 1;
    }

  if (mk_smtp_reply_parser_is_partial (parser))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE,
                           "Malformed reply from the server: it ends inside a multi-line reply");
      return NULL;
    }
  return g_steal_pointer (&replies);
}
