/* mk-smtp-reply.c: one reply of an SMTP or LMTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-smtp-reply-private.h"

/**
 * MkSmtpReply:
 *
 * One reply of an SMTP or LMTP server: the three-digit code, and the text of
 * each line as the server sent it after the code and its separator.
 *
 * A reply is immutable and reference counted, so it can be shared between
 * threads and kept after the session that read it is gone. The text is the
 * server's bytes, unchanged: usually ASCII, possibly UTF-8 after SMTPUTF8,
 * and not guaranteed to be either. Escape non-printable characters before
 * showing it on a terminal.
 *
 * An enhanced status code (RFC 3463, e.g. `2.1.0`) stays in the text, as
 * smtplib keeps it, and is also available parsed with
 * mk_smtp_reply_get_enhanced_code().
 *
 * Since: 0.1
 */
struct _MkSmtpReply
{
  gatomicrefcount ref_count;
  guint code;
  char **lines;
  char *text;
  char *enhanced_code;
};

G_DEFINE_BOXED_TYPE (MkSmtpReply, mk_smtp_reply, mk_smtp_reply_ref, mk_smtp_reply_unref)

/* RFC 3463 §2: status-code = class "." subject "." detail, with
 * subject = 1*3digit and detail = 1*3digit. */
#define ENHANCED_CODE_PART_MAX_DIGITS 3

static const char *
skip_code_part (const char *p)
{
  int digits = 0;

  while (g_ascii_isdigit (*p) && digits < ENHANCED_CODE_PART_MAX_DIGITS)
    {
      p++;
      digits++;
    }
  return digits > 0 ? p : NULL;
}

/* Returns the enhanced status code at the start of @text, or NULL. Its class
 * must be 2, 4 or 5 (RFC 3463 §3.1) and agree with the first digit of the
 * basic code: for `250 5.1.1 ok` the two disagree, the basic code decides
 * the outcome, and no enhanced code is reported rather than a misleading
 * one. */
static char *
parse_enhanced_code (guint code, const char *text)
{
  const char *p = text;

  if (*p != '2' && *p != '4' && *p != '5')
    return NULL;
  if ((guint)(*p - '0') != code / 100)
    return NULL;
  p++;
  if (*p++ != '.')
    return NULL;
  p = skip_code_part (p);
  if (p == NULL || *p++ != '.')
    return NULL;
  p = skip_code_part (p);
  if (p == NULL || (*p != '\0' && *p != ' '))
    return NULL;
  return g_strndup (text, p - text);
}

MkSmtpReply *
mk_smtp_reply_new_take_lines (guint code, char **lines)
{
  MkSmtpReply *reply = g_new0 (MkSmtpReply, 1);

  g_assert (lines != NULL && lines[0] != NULL);

  g_atomic_ref_count_init (&reply->ref_count);
  reply->code = code;
  reply->lines = lines;
  reply->text = g_strjoinv ("\n", lines);
  reply->enhanced_code = parse_enhanced_code (code, lines[0]);
  return reply;
}

/**
 * mk_smtp_reply_new:
 * @code: the reply code, from 200 to 599
 * @text: (nullable): the text; a `\n` in it separates the lines of a
 *   multi-line reply. %NULL is a reply with one empty line.
 *
 * Makes a reply, as a test or an application that replays a conversation
 * needs. Replies read from a server come from the session.
 *
 * Returns: (transfer full): the new reply
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_reply_new (guint code, const char *text)
{
  g_return_val_if_fail (code >= 200 && code <= 599, NULL);

  /* g_strsplit() gives no element at all for "", a reply has one line. */
  if (text == NULL || *text == '\0')
    {
      char **lines = g_new0 (char *, 2);

      lines[0] = g_strdup ("");
      return mk_smtp_reply_new_take_lines (code, lines);
    }
  return mk_smtp_reply_new_take_lines (code, g_strsplit (text, "\n", -1));
}

/**
 * mk_smtp_reply_ref:
 * @reply: a reply
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @reply
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_reply_ref (MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  g_atomic_ref_count_inc (&reply->ref_count);
  return reply;
}

/**
 * mk_smtp_reply_unref:
 * @reply: (transfer full): a reply
 *
 * Drops a reference; the last one frees the reply.
 *
 * Since: 0.1
 */
void
mk_smtp_reply_unref (MkSmtpReply *reply)
{
  g_return_if_fail (reply != NULL);

  if (!g_atomic_ref_count_dec (&reply->ref_count))
    return;
  g_strfreev (reply->lines);
  g_free (reply->text);
  g_free (reply->enhanced_code);
  g_free (reply);
}

/**
 * mk_smtp_reply_get_code:
 * @reply: a reply
 *
 * The reply code: its first digit says success (2), go on (3), temporary
 * failure (4) or permanent failure (5).
 *
 * Returns: the three-digit reply code, e.g. 250
 *
 * Since: 0.1
 */
guint
mk_smtp_reply_get_code (const MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, 0);

  return reply->code;
}

/**
 * mk_smtp_reply_get_enhanced_code:
 * @reply: a reply
 *
 * The enhanced status code (RFC 3463) at the start of the first line, such
 * as `2.1.0`, when the server sent one whose class agrees with the reply
 * code.
 *
 * Returns: (nullable): the enhanced status code, or %NULL
 *
 * Since: 0.1
 */
const char *
mk_smtp_reply_get_enhanced_code (const MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return reply->enhanced_code;
}

/**
 * mk_smtp_reply_get_lines:
 * @reply: a reply
 *
 * The text of each line, after the code and the space or dash that follows
 * it, exactly as the server sent it (not stripped). A line that was only a
 * code has an empty text.
 *
 * Returns: (transfer none) (array zero-terminated=1): the lines, at least one
 *
 * Since: 0.1
 */
const char *const *
mk_smtp_reply_get_lines (const MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return (const char *const *)reply->lines;
}

/**
 * mk_smtp_reply_get_text:
 * @reply: a reply
 *
 * The lines joined with `\n`, as smtplib returns a reply's text.
 *
 * Returns: (transfer none): the text
 *
 * Since: 0.1
 */
const char *
mk_smtp_reply_get_text (const MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return reply->text;
}

/**
 * mk_smtp_reply_is_transient:
 * @reply: a reply
 *
 * Whether the reply is a transient failure (4xx): the same command may
 * succeed later.
 *
 * Returns: %TRUE for a 4xx reply
 *
 * Since: 0.1
 */
gboolean
mk_smtp_reply_is_transient (const MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);

  return reply->code / 100 == 4;
}

/**
 * mk_smtp_reply_is_permanent:
 * @reply: a reply
 *
 * Whether the reply is a permanent failure (5xx): repeating the command as
 * it is will fail again.
 *
 * Returns: %TRUE for a 5xx reply
 *
 * Since: 0.1
 */
gboolean
mk_smtp_reply_is_permanent (const MkSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);

  return reply->code / 100 == 5;
}
