/* fuzz-reply-parser.c: libFuzzer target for the SMTP reply parser
 *
 * The input is what a server sends. It is parsed whole and line by line;
 * both must agree, and every reply must respect the parser's promises:
 * a code in RFC 5321's grammar, the line and byte bounds, an enhanced code
 * only when its class matches.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "libmailkit/smtp/mk-smtp-error.h"
#include "libmailkit/smtp/mk-smtp-reply-parser-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_reply (const MkSmtpReply *reply)
{
  guint code = mk_smtp_reply_get_code (reply);
  const char *const *lines = mk_smtp_reply_get_lines (reply);
  const char *enhanced = mk_smtp_reply_get_enhanced_code (reply);
  gsize count = g_strv_length ((char **)lines);
  gsize text_length = strlen (mk_smtp_reply_get_text (reply));

  g_assert_cmpuint (code, >=, 200);
  g_assert_cmpuint (code, <=, 559);
  g_assert_cmpuint ((code / 10) % 10, <=, 5);
  g_assert_cmpuint (count, >=, 1);
  g_assert_cmpuint (count, <=, MK_SMTP_REPLY_MAX_LINES);
  g_assert_cmpuint (text_length, <, MK_SMTP_REPLY_MAX_BYTES);
  for (gsize i = 0; i < count; i++)
    g_assert_null (strpbrk (lines[i], "\r\n"));
  if (enhanced != NULL)
    {
      g_assert_cmpint (enhanced[0] - '0', ==, code / 100);
      g_assert_true (g_str_has_prefix (lines[0], enhanced));
    }
}

/* The same input fed one line at a time through the incremental API. */
static GPtrArray *
parse_by_lines (const char *data, gsize size)
{
  g_autoptr (MkSmtpReplyParser) parser = mk_smtp_reply_parser_new ();
  g_autoptr (GPtrArray) replies
      = g_ptr_array_new_with_free_func ((GDestroyNotify)mk_smtp_reply_unref);
  const char *p = data;
  const char *end = data + size;

  while (p < end)
    {
      const char *lf = memchr (p, '\n', end - p);
      gsize length;
      MkSmtpReply *reply = NULL;

      if (lf == NULL)
        return NULL;
      length = lf - p;
      if (length > 0 && p[length - 1] == '\r')
        length--;
      if (!mk_smtp_reply_parser_feed_line (parser, p, length, &reply, NULL))
        return NULL;
      if (reply != NULL)
        g_ptr_array_add (replies, reply);
      p = lf + 1;
    }
  if (mk_smtp_reply_parser_is_partial (parser))
    return NULL;
  return g_steal_pointer (&replies);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) whole = mk_smtp_reply_parse_buffer ((const char *)data, size, &error);
  g_autoptr (GPtrArray) lines = parse_by_lines ((const char *)data, size);

  g_assert_true ((whole == NULL) == (error != NULL));
  if (error != NULL)
    g_assert_true (error->domain == MK_SMTP_ERROR && error->code == MK_SMTP_ERROR_RESPONSE);
  g_assert_true ((whole == NULL) == (lines == NULL));
  if (whole == NULL)
    return 0;

  g_assert_cmpuint (whole->len, ==, lines->len);
  for (guint i = 0; i < whole->len; i++)
    {
      const MkSmtpReply *a = g_ptr_array_index (whole, i);
      const MkSmtpReply *b = g_ptr_array_index (lines, i);

      check_reply (a);
      g_assert_cmpuint (mk_smtp_reply_get_code (a), ==, mk_smtp_reply_get_code (b));
      g_assert_cmpstr (mk_smtp_reply_get_text (a), ==, mk_smtp_reply_get_text (b));
    }
  return 0;
}
