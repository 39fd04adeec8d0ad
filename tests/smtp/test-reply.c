/* test-reply.c: MkSmtpReply and the incremental reply parser, fed whole,
 * line by line and one byte at a time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/smtp/mk-smtp-reply-parser-private.h"
#include "mk-test-utils.h"

typedef enum
{
  FEED_WHOLE,
  FEED_LINES,
  FEED_BYTES,
} FeedMode;

/* Parses @data as the session would see it: whole (the buffer helper), or
 * split into lines by a small splitter that receives the bytes one line at
 * a time or one byte at a time, the way the line reader hands them on. */
static GPtrArray *
parse (const char *data, gsize length, FeedMode mode, GError **error)
{
  g_autoptr (MkSmtpReplyParser) parser = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GByteArray) pending = NULL;
  gsize step;

  if (mode == FEED_WHOLE)
    return mk_smtp_reply_parse_buffer (data, length, error);

  parser = mk_smtp_reply_parser_new ();
  replies = g_ptr_array_new_with_free_func ((GDestroyNotify)mk_smtp_reply_unref);
  pending = g_byte_array_new ();
  for (gsize offset = 0; offset < length; offset += step)
    {
      const char *lf = memchr (data + offset, '\n', length - offset);

      if (mode == FEED_BYTES)
        step = 1;
      else
        step = lf != NULL ? (gsize)(lf - (data + offset)) + 1 : length - offset;
      g_byte_array_append (pending, (const guint8 *)data + offset, step);

      if (pending->len > 0 && pending->data[pending->len - 1] == '\n')
        {
          gsize line_length = pending->len - 1;
          MkSmtpReply *reply = NULL;

          if (line_length > 0 && pending->data[line_length - 1] == '\r')
            line_length--;
          if (!mk_smtp_reply_parser_feed_line (parser, (const char *)pending->data, line_length,
                                               &reply, error))
            return NULL;
          if (reply != NULL)
            g_ptr_array_add (replies, reply);
          g_byte_array_set_size (pending, 0);
        }
    }
  if (pending->len > 0 || mk_smtp_reply_parser_is_partial (parser))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE, "incomplete");
      return NULL;
    }
  return g_steal_pointer (&replies);
}

typedef struct
{
  const char *name;
  const char *input;
  gsize length; /* 0: strlen (input) */
  guint code;
  const char *lines[6];
  const char *enhanced;
} GoodCase;

static const GoodCase good_cases[] = {
  { "single", "250 OK\r\n", 0, 250, { "OK" }, NULL },
  { "lf-only", "250 OK\n", 0, 250, { "OK" }, NULL },
  { "multi-line",
    "250-mail.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
    0,
    250,
    { "mail.example.org", "PIPELINING", "SIZE 1000" },
    NULL },
  { "code-only", "250\r\n", 0, 250, { "" }, NULL },
  { "code-space", "250 \r\n", 0, 250, { "" }, NULL },
  { "empty-continuation", "250-\r\n250 x\r\n", 0, 250, { "", "x" }, NULL },
  { "unstripped", "250   spaced \t \r\n", 0, 250, { "  spaced \t " }, NULL },
  { "enhanced", "250 2.1.0 Ok\r\n", 0, 250, { "2.1.0 Ok" }, "2.1.0" },
  { "enhanced-multi",
    "550-5.1.1 first\r\n550 5.1.1 second\r\n",
    0,
    550,
    { "5.1.1 first", "5.1.1 second" },
    "5.1.1" },
  { "enhanced-alone", "421 4.7.0\r\n", 0, 421, { "4.7.0" }, "4.7.0" },
  { "enhanced-long-parts", "250 2.123.456 x\r\n", 0, 250, { "2.123.456 x" }, "2.123.456" },
  { "enhanced-class-mismatch", "250 5.1.1 ok\r\n", 0, 250, { "5.1.1 ok" }, NULL },
  { "enhanced-class-mismatch-2", "550 2.0.0 nope\r\n", 0, 550, { "2.0.0 nope" }, NULL },
  { "enhanced-no-space", "250 2.1.0Ok\r\n", 0, 250, { "2.1.0Ok" }, NULL },
  { "enhanced-two-parts", "250 2.1 ok\r\n", 0, 250, { "2.1 ok" }, NULL },
  { "enhanced-four-digits", "250 2.1234.0 ok\r\n", 0, 250, { "2.1234.0 ok" }, NULL },
  { "enhanced-class-3", "354 3.0.0 go\r\n", 0, 354, { "3.0.0 go" }, NULL },
  { "enhanced-leading-space", "250  2.1.0 ok\r\n", 0, 250, { " 2.1.0 ok" }, NULL },
  { "latin1-kept", "220 h\xe9llo \x1b[1m\r\n", 0, 220, { "h\xe9llo \x1b[1m" }, NULL },
  { "highest-code", "559 x\r\n", 0, 559, { "x" }, NULL },
};

typedef struct
{
  const char *name;
  const char *input;
  gsize length;       /* 0: strlen (input) */
  const char *reason; /* a word the error message must contain */
} BadCase;

/* smtplib reads `25 OK` as code 25, `2500 OK` as 250, `+25`, ` 25` and
 * `2_5` as 25, `abc` as -1 leaving the rest of the reply unread [R3], and
 * `250-a` + `550 b` as 550 [R1]; all are refused here (its BUG-9, BUG-10),
 * as are the hostile-peer catalogue's D19, D20, D24 and D25. */
static const BadCase bad_cases[] = {
  { "two-digits", "25 OK\r\n", 0, "reply code" },
  { "four-digits", "2500 OK\r\n", 0, "space or a dash" },
  { "letters", "abc OK\r\n", 0, "reply code" },
  { "no-separator", "250x\r\n", 0, "space or a dash" },
  { "no-separator-text", "250OK\r\n", 0, "space or a dash" },
  { "leading-dash", "-250 x\r\n", 0, "reply code" },
  { "leading-space", " 250 x\r\n", 0, "reply code" },
  { "plus-sign", "+25 x\r\n", 0, "reply code" },
  { "underscore", "2_5 x\r\n", 0, "reply code" },
  { "digit-letter", "25a x\r\n", 0, "reply code" },
  { "short", "01\r\n", 0, "reply code" },
  { "leading-zero", "012 x\r\n", 0, "reply code" },
  { "1234", "1234\r\n", 0, "reply code" },
  { "999", "999 x\r\n", 0, "reply code" },
  { "099", "099 x\r\n", 0, "reply code" },
  { "1xx", "199 x\r\n", 0, "reply code" },
  { "second-digit-6", "260 x\r\n", 0, "reply code" },
  { "empty-line", "\r\n", 0, "reply code" },
  { "mismatch", "250-a\r\n550 b\r\n", 0, "middle of a multi-line" },
  { "mismatch-continuation", "250-a\r\n251-b\r\n250 c\r\n", 0, "middle of a multi-line" },
  { "nul-in-continuation", "250-SIZE\0 STARTTLS\r\n250 OK\r\n", 28, "NUL" },
  { "nul-in-text", "250 OK\0garbage\r\n", 16, "NUL" },
  { "nul-in-code", "2\00050 OK\r\n", 9, "NUL" },
  { "bare-cr", "250 OK\r250 fake\r\n", 0, "bare CR" },
  { "truncated-multi", "250-a\r\n", 0, NULL },
  { "no-line-ending", "250 OK", 0, NULL },
};

static void
assert_reply (const MkSmtpReply *reply, const GoodCase *c)
{
  const char *const *lines = mk_smtp_reply_get_lines (reply);
  g_autofree char *text = g_strjoinv ("\n", (char **)c->lines);

  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, c->code);
  g_assert_cmpstrv (lines, c->lines);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, text);
  g_assert_cmpstr (mk_smtp_reply_get_enhanced_code (reply), ==, c->enhanced);
  g_assert_true (mk_smtp_reply_is_transient (reply) == (c->code / 100 == 4));
  g_assert_true (mk_smtp_reply_is_permanent (reply) == (c->code / 100 == 5));
}

static void
test_good (gconstpointer data)
{
  const GoodCase *c = data;
  gsize length = c->length != 0 ? c->length : strlen (c->input);

  for (FeedMode mode = FEED_WHOLE; mode <= FEED_BYTES; mode++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) replies = parse (c->input, length, mode, &error);

      g_assert_no_error (error);
      g_assert_nonnull (replies);
      g_assert_cmpuint (replies->len, ==, 1);
      assert_reply (g_ptr_array_index (replies, 0), c);
    }
}

static void
test_bad (gconstpointer data)
{
  const BadCase *c = data;
  gsize length = c->length != 0 ? c->length : strlen (c->input);

  for (FeedMode mode = FEED_WHOLE; mode <= FEED_BYTES; mode++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) replies = parse (c->input, length, mode, &error);

      g_assert_null (replies);
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
      if (c->reason != NULL)
        g_assert_nonnull (strstr (error->message, c->reason));
      /* The offending line is quoted escaped: no raw control bytes. */
      for (const char *p = error->message; *p != '\0'; p++)
        g_assert_true ((guchar)*p >= 0x20);
    }
}

static void
test_several_replies (void)
{
  const char *input = "220 mail.example.org ESMTP\r\n250-a\r\n250 b\r\n354 go ahead\r\n";

  for (FeedMode mode = FEED_WHOLE; mode <= FEED_BYTES; mode++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) replies = parse (input, strlen (input), mode, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (replies->len, ==, 3);
      g_assert_cmpuint (mk_smtp_reply_get_code (g_ptr_array_index (replies, 0)), ==, 220);
      g_assert_cmpstr (mk_smtp_reply_get_text (g_ptr_array_index (replies, 1)), ==, "a\nb");
      g_assert_cmpuint (mk_smtp_reply_get_code (g_ptr_array_index (replies, 2)), ==, 354);
    }
}

static GString *
repeat_lines (guint count, const char *continuation, const char *last)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i + 1 < count; i++)
    g_string_append (s, continuation);
  g_string_append (s, last);
  return s;
}

static void
test_line_limit (void)
{
  g_autoptr (GString) at_limit = repeat_lines (MK_SMTP_REPLY_MAX_LINES, "250-x\r\n", "250 y\r\n");
  g_autoptr (GString) over = repeat_lines (MK_SMTP_REPLY_MAX_LINES + 1, "250-x\r\n", "250 y\r\n");

  for (FeedMode mode = FEED_WHOLE; mode <= FEED_BYTES; mode++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) ok = parse (at_limit->str, at_limit->len, mode, &error);
      g_autoptr (GPtrArray) refused = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (
          g_strv_length ((char **)mk_smtp_reply_get_lines (g_ptr_array_index (ok, 0))), ==,
          MK_SMTP_REPLY_MAX_LINES);
      refused = parse (over->str, over->len, mode, &error);
      g_assert_null (refused);
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
      g_assert_nonnull (strstr (error->message, "lines"));
    }
}

/* One line of @text_length bytes of text: its wire size is 4 + text + CRLF. */
static GString *
long_line (gsize text_length)
{
  GString *s = g_string_new ("250 ");

  for (gsize i = 0; i < text_length; i++)
    g_string_append_c (s, 'a' + i % 26);
  g_string_append (s, "\r\n");
  return s;
}

static void
test_byte_limit (void)
{
  g_autoptr (GString) at_limit = long_line (MK_SMTP_REPLY_MAX_BYTES - 6);
  g_autoptr (GString) over = long_line (MK_SMTP_REPLY_MAX_BYTES - 5);
  g_autoptr (GString) many = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ok = mk_smtp_reply_parse_buffer (at_limit->str, at_limit->len, &error);
  g_autoptr (GPtrArray) refused = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (mk_smtp_reply_get_text (g_ptr_array_index (ok, 0))), ==,
                    MK_SMTP_REPLY_MAX_BYTES - 6);

  refused = mk_smtp_reply_parse_buffer (over->str, over->len, &error);
  g_assert_null (refused);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
  g_assert_nonnull (strstr (error->message, "bytes"));
  /* The message quotes the start of the line, not the whole of it. */
  g_assert_cmpuint (strlen (error->message), <, 300);
  g_clear_error (&error);

  /* Many lines that each pass, together over the byte bound. */
  for (guint i = 0; i < 70; i++)
    g_string_append_printf (many, "250-%01000d\r\n", 0);
  g_string_append (many, "250 end\r\n");
  g_clear_pointer (&refused, g_ptr_array_unref);
  refused = mk_smtp_reply_parse_buffer (many->str, many->len, &error);
  g_assert_null (refused);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
  g_assert_nonnull (strstr (error->message, "bytes"));
}

static void
test_parser_state (void)
{
  g_autoptr (MkSmtpReplyParser) parser = mk_smtp_reply_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_assert_false (mk_smtp_reply_parser_is_partial (parser));
  g_assert_true (mk_smtp_reply_parser_feed_line (parser, "250-a", 5, &reply, &error));
  g_assert_null (reply);
  g_assert_true (mk_smtp_reply_parser_is_partial (parser));

  /* An error drops the reply in progress ... */
  g_assert_false (mk_smtp_reply_parser_feed_line (parser, "550 b", 5, &reply, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
  g_clear_error (&error);
  g_assert_false (mk_smtp_reply_parser_is_partial (parser));
  g_assert_null (reply);

  /* ... and the next reply is parsed on its own. */
  g_assert_true (mk_smtp_reply_parser_feed_line (parser, "550 b", 5, &reply, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 550);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "b");
  g_assert_false (mk_smtp_reply_parser_is_partial (parser));
  g_clear_pointer (&reply, mk_smtp_reply_unref);

  /* The length counts, not a terminating NUL: only the first 7 bytes. */
  g_assert_true (mk_smtp_reply_parser_feed_line (parser, "221 byeXXX", 7, &reply, &error));
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "bye");
}

static void
test_reply_new (void)
{
  g_autoptr (MkSmtpReply) multi = mk_smtp_reply_new (250, "2.0.0 first\nsecond");
  g_autoptr (MkSmtpReply) empty = mk_smtp_reply_new (421, NULL);
  MkSmtpReply *copy;
  const char *const expected[] = { "2.0.0 first", "second", NULL };
  const char *const expected_empty[] = { "", NULL };

  g_assert_cmpstrv (mk_smtp_reply_get_lines (multi), expected);
  g_assert_cmpstr (mk_smtp_reply_get_text (multi), ==, "2.0.0 first\nsecond");
  g_assert_cmpstr (mk_smtp_reply_get_enhanced_code (multi), ==, "2.0.0");
  g_assert_cmpstrv (mk_smtp_reply_get_lines (empty), expected_empty);
  g_assert_true (mk_smtp_reply_is_transient (empty));
  g_assert_false (mk_smtp_reply_is_permanent (empty));

  /* The boxed type shares the reply. */
  g_assert_true (G_TYPE_IS_BOXED (MK_TYPE_SMTP_REPLY));
  copy = g_boxed_copy (MK_TYPE_SMTP_REPLY, multi);
  g_assert_true (copy == multi);
  g_boxed_free (MK_TYPE_SMTP_REPLY, copy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (good_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smtp/reply/good/%s", good_cases[i].name);
      g_test_add_data_func (path, &good_cases[i], test_good);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smtp/reply/bad/%s", bad_cases[i].name);
      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  g_test_add_func ("/smtp/reply/several", test_several_replies);
  g_test_add_func ("/smtp/reply/line-limit", test_line_limit);
  g_test_add_func ("/smtp/reply/byte-limit", test_byte_limit);
  g_test_add_func ("/smtp/reply/parser-state", test_parser_state);
  g_test_add_func ("/smtp/reply/new", test_reply_new);
  return g_test_run ();
}
