/* mk-smtp-capabilities.c: what a server advertised in its EHLO or LHLO reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-smtp-capabilities.h"

/**
 * MkSmtpCapabilities:
 *
 * The service extensions a server listed in its reply to EHLO (or LHLO),
 * what smtplib keeps as `esmtp_features`.
 *
 * Each line after the first (the greeting) is read as RFC 5321 §4.1.1.1
 * puts it: an ehlo-keyword, then parameters separated by spaces. Keywords
 * are matched as whole words and without regard to case, so `SIZE` is not
 * found in `SIZEX`, and `8bitmime` is found by "8BITMIME". A line that does
 * not start with a keyword, such as the empty last line some servers send,
 * is ignored. When a keyword is listed twice the later parameters win, as
 * in smtplib, except for AUTH: the mechanisms of every `AUTH` line and of
 * the old `AUTH=` form (RFC 2554 era servers, Exchange) are merged.
 *
 * Capabilities are immutable and reference counted.
 *
 * Since: 0.1
 */
struct _MkSmtpCapabilities
{
  gatomicrefcount ref_count;
  GPtrArray *keywords;       /* upper-case, in order of first appearance, NULL-terminated */
  GHashTable *parameters;    /* upper-case keyword → parameters */
  GPtrArray *mechanisms;     /* upper-case, unique, NULL-terminated */
  GHashTable *mechanism_set; /* the same names, for lookups in constant time */
  guint64 size_limit;
};

G_DEFINE_BOXED_TYPE (MkSmtpCapabilities, mk_smtp_capabilities, mk_smtp_capabilities_ref,
                     mk_smtp_capabilities_unref)

/* RFC 4422 §3.1: sasl-mech = 1*20mech-char, mech-char = UPPER-ALPHA /
 * DIGIT / "-" / "_"; lower case is accepted and folded, anything else is
 * not a mechanism name and is dropped, so nothing odd reaches AUTH. */
#define SASL_MECHANISM_MAX_LENGTH 20

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static gboolean
is_mechanism_name (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > SASL_MECHANISM_MAX_LENGTH)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static void
add_keyword (MkSmtpCapabilities *caps, const char *keyword, const char *parameters)
{
  if (!g_hash_table_contains (caps->parameters, keyword))
    g_ptr_array_insert (caps->keywords, caps->keywords->len - 1, g_strdup (keyword));
  g_hash_table_insert (caps->parameters, g_strdup (keyword), g_strdup (parameters));
}

static void
add_mechanisms (MkSmtpCapabilities *caps, const char *list)
{
  g_auto (GStrv) names = g_strsplit_set (list, " \t", -1);
  g_autofree char *joined = NULL;

  for (char **name = names; *name != NULL; name++)
    {
      g_autofree char *upper = g_ascii_strup (*name, -1);

      if (!is_mechanism_name (upper) || g_hash_table_contains (caps->mechanism_set, upper))
        continue;
      g_hash_table_add (caps->mechanism_set, g_strdup (upper));
      g_ptr_array_insert (caps->mechanisms, caps->mechanisms->len - 1, g_steal_pointer (&upper));
    }
  joined = g_strjoinv (" ", (char **)caps->mechanisms->pdata);
  add_keyword (caps, "AUTH", joined);
}

/* RFC 1870 §4: the SIZE parameter is the largest message the server takes,
 * 0 meaning no fixed limit. A value that is not a plain decimal number, or
 * one past 2^64 (D31 in the hostile-peer catalogue), says nothing usable and
 * is read as no stated limit. */
static guint64
parse_size (const char *parameters)
{
  guint64 size;

  if (!g_ascii_string_to_unsigned (parameters, 10, 0, G_MAXUINT64, &size, NULL))
    return 0;
  return size;
}

static void
parse_line (MkSmtpCapabilities *caps, const char *line)
{
  const char *p = line;
  g_autofree char *keyword = NULL;
  g_autofree char *parameters = NULL;

  /* RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
  if (!g_ascii_isalnum (*p))
    return;
  while (g_ascii_isalnum (*p) || *p == '-')
    p++;

  keyword = g_ascii_strup (line, p - line);
  if (*p == '=' && strcmp (keyword, "AUTH") == 0)
    {
      add_mechanisms (caps, p + 1);
      return;
    }
  if (*p != '\0' && !is_blank (*p))
    return;

  parameters = g_strdup (p);
  g_strstrip (parameters);
  if (strcmp (keyword, "AUTH") == 0)
    add_mechanisms (caps, parameters);
  else
    add_keyword (caps, keyword, parameters);
  if (strcmp (keyword, "SIZE") == 0)
    caps->size_limit = parse_size (parameters);
}

/**
 * mk_smtp_capabilities_new_from_reply:
 * @reply: the server's reply to EHLO or LHLO
 *
 * Reads the extensions listed in @reply, every line after the first. The
 * caller decides whether the reply was a success (smtplib only reads a 250
 * reply); this function does not look at the code.
 *
 * Returns: (transfer full): the capabilities
 *
 * Since: 0.1
 */
MkSmtpCapabilities *
mk_smtp_capabilities_new_from_reply (const MkSmtpReply *reply)
{
  MkSmtpCapabilities *caps;
  const char *const *lines;

  g_return_val_if_fail (reply != NULL, NULL);

  caps = g_new0 (MkSmtpCapabilities, 1);
  g_atomic_ref_count_init (&caps->ref_count);
  caps->keywords = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (caps->keywords, NULL);
  caps->mechanisms = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (caps->mechanisms, NULL);
  caps->parameters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  caps->mechanism_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  lines = mk_smtp_reply_get_lines (reply);
  for (gsize i = 1; lines[i] != NULL; i++)
    parse_line (caps, lines[i]);
  return caps;
}

/**
 * mk_smtp_capabilities_ref:
 * @caps: capabilities
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @caps
 *
 * Since: 0.1
 */
MkSmtpCapabilities *
mk_smtp_capabilities_ref (MkSmtpCapabilities *caps)
{
  g_return_val_if_fail (caps != NULL, NULL);

  g_atomic_ref_count_inc (&caps->ref_count);
  return caps;
}

/**
 * mk_smtp_capabilities_unref:
 * @caps: (transfer full): capabilities
 *
 * Drops a reference; the last one frees @caps.
 *
 * Since: 0.1
 */
void
mk_smtp_capabilities_unref (MkSmtpCapabilities *caps)
{
  g_return_if_fail (caps != NULL);

  if (!g_atomic_ref_count_dec (&caps->ref_count))
    return;
  g_ptr_array_unref (caps->keywords);
  g_ptr_array_unref (caps->mechanisms);
  g_hash_table_unref (caps->parameters);
  g_hash_table_unref (caps->mechanism_set);
  g_free (caps);
}

/**
 * mk_smtp_capabilities_get_parameter:
 * @caps: capabilities
 * @keyword: an EHLO keyword, in any case
 *
 * The parameters the server gave with @keyword, surrounding blanks removed
 * (`"35882577"` for `SIZE 35882577`). For AUTH, the merged mechanism list,
 * upper-case, separated by single spaces.
 *
 * Returns: (nullable): the parameters, empty when there were none, or %NULL
 *   when @keyword was not advertised
 *
 * Since: 0.1
 */
const char *
mk_smtp_capabilities_get_parameter (const MkSmtpCapabilities *caps, const char *keyword)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (caps != NULL, NULL);
  g_return_val_if_fail (keyword != NULL, NULL);

  upper = g_ascii_strup (keyword, -1);
  return g_hash_table_lookup (caps->parameters, upper);
}

/**
 * mk_smtp_capabilities_has:
 * @caps: capabilities
 * @keyword: an EHLO keyword, in any case, such as "PIPELINING"
 *
 * Whether the server advertised @keyword (smtplib's `has_extn`). The whole
 * keyword must match.
 *
 * Returns: %TRUE when @keyword was advertised
 *
 * Since: 0.1
 */
gboolean
mk_smtp_capabilities_has (const MkSmtpCapabilities *caps, const char *keyword)
{
  g_return_val_if_fail (caps != NULL, FALSE);
  g_return_val_if_fail (keyword != NULL, FALSE);

  return mk_smtp_capabilities_get_parameter (caps, keyword) != NULL;
}

/**
 * mk_smtp_capabilities_get_keywords:
 * @caps: capabilities
 *
 * Every keyword advertised, upper-case, each once, in the order the server
 * first listed them.
 *
 * Returns: (transfer none) (array zero-terminated=1): the keywords
 *
 * Since: 0.1
 */
const char *const *
mk_smtp_capabilities_get_keywords (const MkSmtpCapabilities *caps)
{
  g_return_val_if_fail (caps != NULL, NULL);

  return (const char *const *)caps->keywords->pdata;
}

/**
 * mk_smtp_capabilities_get_size_limit:
 * @caps: capabilities
 *
 * The largest message the server said it accepts (RFC 1870). 0 means that
 * no limit was stated: either SIZE was advertised without a number (or with
 * `0`, or with something that is not a number), or SIZE was not advertised
 * at all, which mk_smtp_capabilities_has() tells apart.
 *
 * Returns: the limit in bytes, or 0
 *
 * Since: 0.1
 */
guint64
mk_smtp_capabilities_get_size_limit (const MkSmtpCapabilities *caps)
{
  g_return_val_if_fail (caps != NULL, 0);

  return caps->size_limit;
}

/**
 * mk_smtp_capabilities_get_auth_mechanisms:
 * @caps: capabilities
 *
 * The SASL mechanisms offered, from `AUTH` and `AUTH=` lines together,
 * upper-case, each once, in the server's order. Tokens that are not
 * mechanism names (RFC 4422 §3.1) are left out.
 *
 * Returns: (transfer none) (array zero-terminated=1): the mechanisms, empty
 *   when AUTH was not advertised
 *
 * Since: 0.1
 */
const char *const *
mk_smtp_capabilities_get_auth_mechanisms (const MkSmtpCapabilities *caps)
{
  g_return_val_if_fail (caps != NULL, NULL);

  return (const char *const *)caps->mechanisms->pdata;
}

/**
 * mk_smtp_capabilities_has_auth_mechanism:
 * @caps: capabilities
 * @mechanism: a SASL mechanism name, in any case
 *
 * Whether the server offers @mechanism.
 *
 * Returns: %TRUE when @mechanism was advertised
 *
 * Since: 0.1
 */
gboolean
mk_smtp_capabilities_has_auth_mechanism (const MkSmtpCapabilities *caps, const char *mechanism)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (caps != NULL, FALSE);
  g_return_val_if_fail (mechanism != NULL, FALSE);

  upper = g_ascii_strup (mechanism, -1);
  return g_hash_table_contains (caps->mechanism_set, upper);
}
