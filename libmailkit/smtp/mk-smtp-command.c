/* mk-smtp-command.c: one formatter per SMTP command
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-smtp-command-private.h"
#include "mk-smtp-error.h"

/* How much of a refused argument an error message quotes. */
#define QUOTED_ARGUMENT_MAX 80

/* RFC 3461 §4.4: the ENVID value is at most 100 characters. */
#define DSN_ENVID_MAX 100

/* RFC 4422 §3.1: sasl-mech = 1*20mech-char. */
#define SASL_MECHANISM_MAX_LENGTH 20

G_GNUC_PRINTF (4, 5)
static gboolean
refuse (GError **error, const char *what, const char *value, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  if (value != NULL)
    {
      gsize length = strlen (value);
      g_autofree char *head = g_strndup (value, MIN (length, QUOTED_ARGUMENT_MAX));
      g_autofree char *quoted = g_strescape (head, NULL);

      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "Invalid %s “%s%s”: %s", what,
                   quoted, length > QUOTED_ARGUMENT_MAX ? "…" : "", reason);
    }
  else
    g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "Invalid %s: %s", what, reason);
  return FALSE;
}

/* The check every argument passes: no control character (CR, LF, TAB, DEL
 * and the rest: RFC 5321's command grammar has none outside the line
 * ending), and valid UTF-8 so that nothing can be re-read as something
 * else. */
static gboolean
check_text (const char *what, const char *value, gboolean quote_value, GError **error)
{
  const char *shown = quote_value ? value : NULL;

  for (const guchar *p = (const guchar *)value; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return refuse (error, what, shown, "control character 0x%02x at offset %" G_GSIZE_FORMAT, *p,
                     (gsize)((const char *)p - value));
  if (!g_utf8_validate (value, -1, NULL))
    return refuse (error, what, shown, "not valid UTF-8");
  return TRUE;
}

/* RFC 5321 §4.1.1.1: EHLO/HELO take a Domain or an address literal, so
 * printable ASCII without spaces. */
static char *
format_hello (const char *verb, const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);

  if (!check_text ("host name", name, TRUE, error))
    return NULL;
  if (*name == '\0')
    {
      refuse (error, "host name", name, "empty");
      return NULL;
    }
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isgraph (*p))
      {
        refuse (error, "host name", name, "only printable ASCII without spaces is allowed");
        return NULL;
      }
  return g_strconcat (verb, " ", name, NULL);
}

char *
mk_smtp_command_ehlo (const char *name, GError **error)
{
  return format_hello ("EHLO", name, error);
}

char *
mk_smtp_command_helo (const char *name, GError **error)
{
  return format_hello ("HELO", name, error);
}

char *
mk_smtp_command_lhlo (const char *name, GError **error)
{
  return format_hello ("LHLO", name, error);
}

/* Address scanning. The grammar is RFC 5322's mailbox, read strictly: a
 * quoted string may hold any printable character (backslash quotes the
 * next one), a comment is a balanced parenthesised run, and the specials
 * only mean something outside both. */

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Returns the end of the quoted string starting at @p (just past its
 * closing quote), or NULL when it is not closed. */
static const char *
skip_quoted (const char *p)
{
  for (p++; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"')
        return p + 1;
    }
  return NULL;
}

/* Returns the end of the (possibly nested) comment starting at @p, or NULL
 * when it is not closed. */
static const char *
skip_comment (const char *p)
{
  int depth = 0;

  for (; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '(')
        depth++;
      else if (*p == ')' && --depth == 0)
        return p + 1;
    }
  return NULL;
}

/* Copies @text without its comments and surrounding blanks; finds the first
 * '<' outside quoted strings and comments. FALSE when a quote or comment is
 * not closed. */
static gboolean
strip_comments (const char *text, GString *out, gssize *angle, GError **error)
{
  *angle = -1;
  for (const char *p = text; *p != '\0';)
    {
      const char *end = p + 1;

      if (*p == '"' && (end = skip_quoted (p)) == NULL)
        return refuse (error, "address", text, "unterminated quoted string");
      if (*p == '(')
        {
          if ((end = skip_comment (p)) == NULL)
            return refuse (error, "address", text, "unterminated comment");
          g_string_append_c (out, ' ');
          p = end;
          continue;
        }
      if (*p == '<' && *angle < 0)
        *angle = out->len;
      g_string_append_len (out, p, end - p);
      p = end;
    }
  return TRUE;
}

/* Refuses @specials (and blanks unless @allow_blanks) outside quoted
 * strings between @start and @end. */
static gboolean
check_atoms (const char *text, const char *start, const char *end, const char *specials,
             gboolean allow_blanks, const char *what, GError **error)
{
  for (const char *p = start; p < end; p++)
    {
      if (*p == '"')
        {
          const char *closing = skip_quoted (p);

          if (closing == NULL || closing > end)
            return refuse (error, "address", text, "unterminated quoted string in the %s", what);
          p = closing - 1;
          continue;
        }
      if ((is_blank (*p) && !allow_blanks) || strchr (specials, *p) != NULL)
        return refuse (error, "address", text, "unexpected “%c” in the %s", *p, what);
    }
  return TRUE;
}

/* Checks an addr-spec (or a bare local part such as "Postmaster", which
 * RFC 5321 §4.1.1.3 allows as a recipient). */
static gboolean
check_addr_spec (const char *text, const char *spec, GError **error)
{
  const char *at = NULL;
  const char *domain;

  if (*spec == '@')
    return refuse (error, "address", text,
                   "source routes are not sent (RFC 5321 §4.1.2, Appendix C)");
  if (*spec == '"')
    {
      at = skip_quoted (spec);
      if (at == NULL)
        return refuse (error, "address", text, "unterminated quoted string");
      if (*at != '\0' && *at != '@')
        return refuse (error, "address", text, "text after the quoted local part");
    }
  else
    {
      at = spec + strcspn (spec, "@");
      if (!check_atoms (text, spec, at, "()<>[]:;\\,\"", FALSE, "local part", error))
        return FALSE;
    }
  if (at == spec)
    return refuse (error, "address", text, "empty local part");
  if (at - spec > MK_SMTP_LOCAL_PART_MAX)
    return refuse (error, "address", text, "the local part is longer than %d octets",
                   MK_SMTP_LOCAL_PART_MAX);
  if (*at == '\0')
    return TRUE;

  domain = at + 1;
  if (*domain == '\0')
    return refuse (error, "address", text, "empty domain");
  if (*domain == '[')
    {
      gsize length = strcspn (domain + 1, "[]\\");

      if (domain[1 + length] != ']' || domain[2 + length] != '\0')
        return refuse (error, "address", text, "malformed address literal");
      return TRUE;
    }
  return check_atoms (text, domain, domain + strlen (domain), "()<>[]:;@\\,\"", FALSE, "domain",
                      error);
}

char *
mk_smtp_quote_address (const char *address, gboolean allow_null_path, GError **error)
{
  g_autoptr (GString) clean = g_string_new (NULL);
  g_autofree char *spec = NULL;
  gssize angle;

  g_return_val_if_fail (address != NULL, NULL);

  if (!check_text ("address", address, TRUE, error))
    return NULL;
  if (!strip_comments (address, clean, &angle, error))
    return NULL;

  if (angle >= 0)
    {
      const char *lt = clean->str + angle;
      const char *gt = lt + 1;

      /* The phrase before '<' is the display name, dropped as smtplib drops
       * it; specials there mean a list or a group, not one mailbox. */
      if (!check_atoms (address, clean->str, lt, "<>@,;:", TRUE, "display name", error))
        return NULL;
      while (gt != NULL && *gt != '\0' && *gt != '>')
        gt = *gt == '"' ? skip_quoted (gt) : gt + 1;
      if (gt == NULL || *gt != '>')
        {
          refuse (error, "address", address, "“<” without “>”");
          return NULL;
        }
      for (const char *p = gt + 1; *p != '\0'; p++)
        if (!is_blank (*p))
          {
            refuse (error, "address", address, "text after “>”");
            return NULL;
          }
      spec = g_strndup (lt + 1, gt - lt - 1);
    }
  else
    spec = g_strdup (clean->str);
  g_strstrip (spec);

  if (*spec == '\0')
    {
      if (!allow_null_path)
        {
          refuse (error, "address", address, "empty");
          return NULL;
        }
      return g_strdup ("<>");
    }
  if (!check_addr_spec (address, spec, error))
    return NULL;
  if (strlen (spec) + 2 > MK_SMTP_PATH_MAX)
    {
      refuse (error, "address", address, "longer than %d octets", MK_SMTP_PATH_MAX);
      return NULL;
    }
  return g_strconcat ("<", spec, ">", NULL);
}

/* RFC 5321 §4.1.2: esmtp-param = esmtp-keyword ["=" esmtp-value],
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"),
 * esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 (RFC 6531 §3.3). */
static gboolean
check_option (const char *option, GError **error)
{
  const char *p = option;

  if (!check_text ("parameter", option, TRUE, error))
    return FALSE;
  if (!g_ascii_isalnum (*p))
    return refuse (error, "parameter", option, "it must start with a letter or digit");
  while (g_ascii_isalnum (*p) || *p == '-')
    p++;
  if (*p == '\0')
    return TRUE;
  if (*p != '=' || p[1] == '\0')
    return refuse (error, "parameter", option, "expected KEYWORD or KEYWORD=value");
  for (p++; *p != '\0'; p++)
    if (*p == ' ' || *p == '=')
      return refuse (error, "parameter", option, "“%c” in the value", *p);
  return TRUE;
}

static char *
format_path_command (const char *prefix, const char *address, gboolean allow_null_path,
                     const char *const *options, GError **error)
{
  g_autofree char *path = NULL;
  GString *line;

  g_return_val_if_fail (address != NULL, NULL);

  path = mk_smtp_quote_address (address, allow_null_path, error);
  if (path == NULL)
    return NULL;
  for (const char *const *o = options; o != NULL && *o != NULL; o++)
    if (!check_option (*o, error))
      return NULL;

  line = g_string_new (prefix);
  g_string_append (line, path);
  for (const char *const *o = options; o != NULL && *o != NULL; o++)
    {
      g_string_append_c (line, ' ');
      g_string_append (line, *o);
    }
  return g_string_free (line, FALSE);
}

char *
mk_smtp_command_mail (const char *sender, const char *const *options, GError **error)
{
  return format_path_command ("MAIL FROM:", sender, TRUE, options, error);
}

char *
mk_smtp_command_rcpt (const char *recipient, const char *const *options, GError **error)
{
  return format_path_command ("RCPT TO:", recipient, FALSE, options, error);
}

char *
mk_smtp_command_data (void)
{
  return g_strdup ("DATA");
}

/* RFC 3030 §3: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] */
char *
mk_smtp_command_bdat (guint64 size, gboolean last)
{
  return g_strdup_printf ("BDAT %" G_GUINT64_FORMAT "%s", size, last ? " LAST" : "");
}

char *
mk_smtp_command_rset (void)
{
  return g_strdup ("RSET");
}

char *
mk_smtp_command_noop (void)
{
  return g_strdup ("NOOP");
}

char *
mk_smtp_command_quit (void)
{
  return g_strdup ("QUIT");
}

char *
mk_smtp_command_starttls (void)
{
  return g_strdup ("STARTTLS");
}

static char *
format_lookup (const char *verb, const char *argument, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *trimmed = NULL;

  g_return_val_if_fail (argument != NULL, NULL);

  if (!check_text ("argument", argument, TRUE, error))
    return NULL;
  path = mk_smtp_quote_address (argument, FALSE, NULL);
  if (path != NULL)
    return g_strdup_printf ("%s %.*s", verb, (int)strlen (path) - 2, path + 1);

  trimmed = g_strstrip (g_strdup (argument));
  if (*trimmed == '\0')
    {
      refuse (error, "argument", argument, "empty");
      return NULL;
    }
  return g_strconcat (verb, " ", trimmed, NULL);
}

char *
mk_smtp_command_vrfy (const char *argument, GError **error)
{
  return format_lookup ("VRFY", argument, error);
}

char *
mk_smtp_command_expn (const char *argument, GError **error)
{
  return format_lookup ("EXPN", argument, error);
}

char *
mk_smtp_command_help (const char *topic, GError **error)
{
  if (topic == NULL || *topic == '\0')
    return g_strdup ("HELP");
  if (!check_text ("help topic", topic, TRUE, error))
    return NULL;
  return g_strconcat ("HELP ", topic, NULL);
}

char *
mk_smtp_command_auth (const char *mechanism, const char *initial_response, GError **error)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (mechanism != NULL, NULL);

  if (!check_text ("SASL mechanism", mechanism, TRUE, error))
    return NULL;
  if (*mechanism == '\0' || strlen (mechanism) > SASL_MECHANISM_MAX_LENGTH
      || strspn (mechanism, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
             != strlen (mechanism))
    {
      refuse (error, "SASL mechanism", mechanism, "not a mechanism name (RFC 4422 §3.1)");
      return NULL;
    }
  upper = g_ascii_strup (mechanism, -1);
  if (initial_response == NULL)
    return g_strconcat ("AUTH ", upper, NULL);

  if (strspn (initial_response, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
      != strlen (initial_response))
    {
      refuse (error, "SASL initial response", NULL, "not base64");
      return NULL;
    }
  return g_strconcat ("AUTH ", upper, " ", *initial_response != '\0' ? initial_response : "=",
                      NULL);
}

char *
mk_smtp_command_docmd (const char *command, const char *arguments, GError **error)
{
  g_return_val_if_fail (command != NULL, NULL);

  if (!check_text ("command", command, TRUE, error))
    return NULL;
  if (*command == '\0' || is_blank (*command))
    {
      refuse (error, "command", command, "empty or starting with a blank");
      return NULL;
    }
  if (arguments == NULL || *arguments == '\0')
    return g_strdup (command);
  if (!check_text ("command argument", arguments, TRUE, error))
    return NULL;
  return g_strconcat (command, " ", arguments, NULL);
}

char *
mk_smtp_xtext_encode (const char *text)
{
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text));
  for (const guchar *p = (const guchar *)text; *p != '\0'; p++)
    {
      if (*p >= '!' && *p <= '~' && *p != '+' && *p != '=')
        g_string_append_c (out, *p);
      else
        g_string_append_printf (out, "+%02X", *p);
    }
  return g_string_free (out, FALSE);
}

/* RFC 6533 §3: utf-8-addr-xtext keeps printable ASCII other than "+", "="
 * and "\" and writes every other character as \x{HEX}. */
static char *
utf8_addr_xtext_encode (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= '!' && c <= '~' && c != '+' && c != '=' && c != '\\')
        g_string_append_c (out, (char)c);
      else
        g_string_append_printf (out, "\\x{%X}", c);
    }
  return g_string_free (out, FALSE);
}

char *
mk_smtp_param_orcpt (const char *address, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *spec = NULL;
  g_autofree char *encoded = NULL;

  g_return_val_if_fail (address != NULL, NULL);

  path = mk_smtp_quote_address (address, FALSE, error);
  if (path == NULL)
    return NULL;
  spec = g_strndup (path + 1, strlen (path) - 2);
  if (g_str_is_ascii (spec))
    {
      encoded = mk_smtp_xtext_encode (spec);
      return g_strconcat ("ORCPT=rfc822;", encoded, NULL);
    }
  encoded = utf8_addr_xtext_encode (spec);
  return g_strconcat ("ORCPT=utf-8;", encoded, NULL);
}

/* RFC 3461 §4.4: the envelope identifier is printable ASCII (the xtext
 * decodes to %d32-126), at most 100 characters. */
char *
mk_smtp_param_envid (const char *envid, GError **error)
{
  g_autofree char *encoded = NULL;

  g_return_val_if_fail (envid != NULL, NULL);

  if (!check_text ("envelope identifier", envid, TRUE, error))
    return NULL;
  if (*envid == '\0' || strlen (envid) > DSN_ENVID_MAX || !g_str_is_ascii (envid))
    {
      refuse (error, "envelope identifier", envid, "it must be 1 to %d printable ASCII characters",
              DSN_ENVID_MAX);
      return NULL;
    }
  encoded = mk_smtp_xtext_encode (envid);
  return g_strconcat ("ENVID=", encoded, NULL);
}
