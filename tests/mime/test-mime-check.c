/* test-mime-check.c: the header checks, one function at a time
 *
 * These stand between a caller's string and GMime, which writes header
 * names, msg-ids and parameter values as given (hostile-peers §1.10).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "libmailkit/mime/mk-mime-check-private.h"
#include "libmailkit/mime/mk-mime-generated-private.h"
#include "mime-test-common.h"
#include "mk-test-utils.h"

static void
test_header_names (void)
{
  static const char *const good[]
      = { "X-Mailer", "Subject", "x", "X_Under.dot!#$%&'*+-^`|~", "Resent-Message-ID" };
  static const char *const bad[]
      = { "", "X A", "X:A", "X-A\r\nBcc", "X-\xc3\xa9", "X-A\x7f", "\tX", "X-A\n" };
  g_autofree char *long_name = g_strnfill (MK_MIME_MAX_HEADER_NAME_LENGTH + 1, 'x');

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (mk_mime_check_header_name (good[i], NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (mk_mime_check_header_name (bad[i], &error));
      g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
    }
  g_assert_false (mk_mime_check_header_name (long_name, NULL));
  long_name[MK_MIME_MAX_HEADER_NAME_LENGTH] = '\0';
  g_assert_true (mk_mime_check_header_name (long_name, NULL));
}

static void
test_tokens (void)
{
  static const char *const good[] = { "plain", "vnd.ms-excel", "x-custom+xml", "octet-stream" };
  static const char *const bad[]
      = { "", "a b", "a/b", "a;b", "a=b", "a\"b", "name*", "a\r\n", "\xc3\xa9", "a@b", "(a)" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (mk_mime_check_token ("t", good[i], NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (mk_mime_check_token ("t", bad[i], NULL));
}

static void
test_boundaries (void)
{
  g_autofree char *seventy = g_strnfill (70, 'b');
  g_autofree char *seventy_one = g_strnfill (71, 'b');

  g_assert_true (mk_mime_check_boundary ("simple boundary", NULL));
  g_assert_true (mk_mime_check_boundary ("=-Uk27fZ89QFFpF6pXvSZW/+", NULL));
  g_assert_true (mk_mime_check_boundary ("'()+_,-./:=?", NULL));
  g_assert_true (mk_mime_check_boundary (seventy, NULL));
  g_assert_false (mk_mime_check_boundary (seventy_one, NULL));
  g_assert_false (mk_mime_check_boundary ("", NULL));
  g_assert_false (mk_mime_check_boundary ("trailing ", NULL));
  g_assert_false (mk_mime_check_boundary ("a\"b", NULL));
  g_assert_false (mk_mime_check_boundary ("a\r\nb", NULL));
  g_assert_false (mk_mime_check_boundary ("a;b", NULL));
}

static void
test_msg_ids (void)
{
  static const struct
  {
    const char *given;
    gboolean need_at;
    const char *expected;
  } cases[] = {
    { "a@b", TRUE, "a@b" },
    { "<a.b+c@example.org>", TRUE, "a.b+c@example.org" },
    { "x@[127.0.0.1]", TRUE, "x@[127.0.0.1]" },
    { "logo.png", FALSE, "logo.png" },
    { "<logo.png>", FALSE, "logo.png" },
    { "logo.png", TRUE, NULL },
    { "a@b@c", TRUE, NULL },
    { "@b", TRUE, NULL },
    { "a@", TRUE, NULL },
    { "<>", FALSE, NULL },
    { "", FALSE, NULL },
    { "a b@c", TRUE, NULL },
    { "<a<b@c>", TRUE, NULL },
    { "a@b\r\nBcc: x@y", TRUE, NULL },
    { "a\"b@c", TRUE, NULL },
    { "caf\xc3\xa9@x", TRUE, NULL },
  };
  g_autofree char *too_long = g_strnfill (MK_MIME_MAX_ID_LENGTH + 1, 'i');

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *id = mk_mime_check_msg_id ("id", cases[i].given, cases[i].need_at, &error);

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_cmpstr (id, ==, cases[i].expected);
      if (cases[i].expected == NULL)
        g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
      else
        g_assert_no_error (error);
    }
  g_assert_null (mk_mime_check_msg_id ("id", too_long, FALSE, NULL));
}

static void
test_addresses (void)
{
  static const char *const good[]
      = { "bob@example.org", "Bob <bob@example.org>, c@x", "\"Doe, John\" <j@x>",
          "J\xc3\xb6rg <j@x>", "friends: a@x, b@y;", "a@x (nested (comment))",
          "\"(\" <p@x>", "a@[1.2.3.4] (\\( quoted)", "b@[(]" };
  /* An unclosed comment after a domain literal made GMime 3.2 leak
   * (found by fuzz-headers): refused before GMime sees it. */
  static const char *const bad[] = { "",         "   ",     "a@x\r\nRCPT TO:<b@y>",
                                     "Eve\n<e@x>", "\xff",    "\"\"@[](",
                                     "a@[x]((",  "a@x (c" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (InternetAddressList) list = mk_mime_parse_addresses ("To", good[i], NULL);
      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_nonnull (list);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (InternetAddressList) list = mk_mime_parse_addresses ("To", bad[i], &error);
      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_null (list);
      g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
    }

  /* Objects made with GMime: the checks reach into groups. */
  {
    g_autoptr (InternetAddress) group = internet_address_group_new ("team");
    g_autoptr (InternetAddress) good_member = internet_address_mailbox_new ("A", "a@x");
    g_autoptr (InternetAddress) evil = internet_address_mailbox_new ("B", "\"b\r\nDATA\"@x");
    g_autoptr (InternetAddress) broken_name = internet_address_mailbox_new ("B\r\nBcc: x", "b@x");

    internet_address_group_add_member (INTERNET_ADDRESS_GROUP (group), good_member);
    g_assert_true (mk_mime_check_address (group, NULL));
    internet_address_group_add_member (INTERNET_ADDRESS_GROUP (group), evil);
    g_assert_false (mk_mime_check_address (group, NULL));
    g_assert_false (mk_mime_check_address (broken_name, NULL));
  }
}

static void
test_header_block (void)
{
  static const struct
  {
    const char *block;
    gboolean ok;
  } cases[] = {
    { "Subject: a\r\n", TRUE },
    { "Subject: a\r\n b\r\nX-A: c\r\n", TRUE },
    { "", TRUE },
    { "Subject: a\n", FALSE },
    { "Subject: a\r\nBcc : evil\r\n", FALSE },
    { "Subject: a\r\n\r\nbody\r\n", FALSE },
    { "Subject: a\r\nno colon here\r\n", FALSE },
    { " folded first\r\n", FALSE },
    { "Subject: a\r\n \t\r\n", FALSE },
    { "Subject: a\rb\r\n", FALSE },
    { "Subject: a", FALSE },
  };
  g_autoptr (GString) long_line = g_string_new ("X-Long: ");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_cmpint (mk_mime_check_header_block (cases[i].block, strlen (cases[i].block), NULL),
                       ==, cases[i].ok);
    }
  while (long_line->len < MK_MIME_MAX_LINE_LENGTH)
    g_string_append_c (long_line, 'x');
  g_string_append (long_line, "\r\n");
  g_assert_true (mk_mime_check_header_block (long_line->str, long_line->len, NULL));
  g_string_insert_c (long_line, 10, 'x');
  g_assert_false (mk_mime_check_header_block (long_line->str, long_line->len, NULL));
  /* A NUL inside the block. */
  g_assert_false (mk_mime_check_header_block ("X-A: a\0b\r\n", 10, NULL));
}

/* The generated Message-IDs are valid msg-ids, on the domain given, and
 * never repeat; the generated Date is now, in the local zone. */
static void
test_generated_values (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GDateTime) before = g_date_time_new_now_local ();
  g_autoptr (GDateTime) date = mk_mime_generated_date ();
  g_autoptr (GDateTime) after = g_date_time_new_now_local ();

  g_assert_cmpint (g_date_time_compare (before, date), <=, 0);
  g_assert_cmpint (g_date_time_compare (date, after), <=, 0);
  g_assert_cmpint (g_date_time_get_utc_offset (date), ==, g_date_time_get_utc_offset (after));

  for (guint i = 0; i < 1000; i++)
    {
      char *id = mk_mime_generated_message_id ("example.org");
      g_autofree char *checked = mk_mime_check_msg_id ("Message-ID", id, TRUE, NULL);

      g_assert_nonnull (checked);
      g_assert_true (g_str_has_suffix (id, "@example.org"));
      g_assert_true (g_hash_table_add (seen, id));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/mime/check/header-names", test_header_names);
  g_test_add_func ("/mime/check/tokens", test_tokens);
  g_test_add_func ("/mime/check/boundaries", test_boundaries);
  g_test_add_func ("/mime/check/msg-ids", test_msg_ids);
  g_test_add_func ("/mime/check/addresses", test_addresses);
  g_test_add_func ("/mime/check/header-block", test_header_block);
  g_test_add_func ("/mime/check/generated-values", test_generated_values);
  return g_test_run ();
}
