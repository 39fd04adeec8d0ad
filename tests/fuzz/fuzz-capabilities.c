/* fuzz-capabilities.c: libFuzzer target for the EHLO capabilities parser
 *
 * The input is an EHLO reply as sent on the wire; when it does not parse as
 * one, the bytes are also read as the text of a 250 reply, so the
 * capabilities parser sees inputs the reply parser would have refused.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "libmailkit/smtp/mk-smtp-capabilities.h"
#include "libmailkit/smtp/mk-smtp-reply-parser-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* RFC 4422 §3.1 */
#define SASL_MECHANISM_MAX_LENGTH 20

static void
check_capabilities (const MkSmtpReply *reply)
{
  g_autoptr (MkSmtpCapabilities) caps = mk_smtp_capabilities_new_from_reply (reply);
  const char *const *keywords = mk_smtp_capabilities_get_keywords (caps);
  const char *const *mechanisms = mk_smtp_capabilities_get_auth_mechanisms (caps);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (gsize i = 0; keywords[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (keywords[i], -1);

      g_assert_true (g_hash_table_add (seen, (gpointer)keywords[i]));
      g_assert_true (g_ascii_isalnum (keywords[i][0]));
      g_assert_true (mk_smtp_capabilities_has (caps, lower));
      g_assert_nonnull (mk_smtp_capabilities_get_parameter (caps, keywords[i]));
    }
  for (gsize i = 0; mechanisms[i] != NULL; i++)
    {
      gsize length = strlen (mechanisms[i]);

      g_assert_cmpuint (length, >=, 1);
      g_assert_cmpuint (length, <=, SASL_MECHANISM_MAX_LENGTH);
      g_assert_cmpuint (strspn (mechanisms[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), ==,
                        length);
      g_assert_true (mk_smtp_capabilities_has_auth_mechanism (caps, mechanisms[i]));
      g_assert_true (mk_smtp_capabilities_has (caps, "AUTH"));
    }
  if (!mk_smtp_capabilities_has (caps, "SIZE"))
    g_assert_cmpuint (mk_smtp_capabilities_get_size_limit (caps), ==, 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) replies = mk_smtp_reply_parse_buffer ((const char *)data, size, NULL);
  g_autofree char *text = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  if (replies != NULL)
    {
      for (guint i = 0; i < replies->len; i++)
        check_capabilities (g_ptr_array_index (replies, i));
      return 0;
    }

  text = g_strndup ((const char *)data, size);
  reply = mk_smtp_reply_new (250, text);
  check_capabilities (reply);
  return 0;
}
