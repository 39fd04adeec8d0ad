/* mk-mime-check.c: what may go into a header, checked before GMime sees it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-gmime-autocleanups-private.h"
#include "mk-mime-check-private.h"
#include "mk-mime-error.h"

static gboolean
invalid (GError **error, const char *what, const char *problem)
{
  g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID, "%s %s", what, problem);
  return FALSE;
}

/* CR and LF end a header line, so neither may come from a caller's string
 * (a NUL cannot: it ends the C string first). */
static gboolean
has_line_break (const char *s)
{
  return strpbrk (s, "\r\n") != NULL;
}

static gboolean
check_utf8_no_breaks (const char *what, const char *value, GError **error)
{
  if (!g_utf8_validate (value, -1, NULL))
    return invalid (error, what, "is not valid UTF-8");
  if (has_line_break (value))
    return invalid (error, what, "contains a line break (CR or LF)");
  return TRUE;
}

/* RFC 5322 §3.6.8: ftext is printable US-ASCII except ':'. */
gboolean
mk_mime_check_header_name (const char *name, GError **error)
{
  gsize length = strlen (name);

  if (length == 0)
    return invalid (error, "The header name", "is empty");
  if (length > MK_MIME_MAX_HEADER_NAME_LENGTH)
    return invalid (error, "The header name", "is longer than a line may be");
  for (const char *p = name; *p != '\0'; p++)
    {
      guchar c = (guchar)*p;
      if (c < 33 || c > 126 || c == ':')
        return invalid (error, "The header name",
                        "has a character RFC 5322 does not allow in a field name");
    }
  return TRUE;
}

/* RFC 2045 §5.1 token; '*' is left out too, as RFC 2231 gives it a meaning
 * in parameter names. */
gboolean
mk_mime_check_token (const char *what, const char *token, GError **error)
{
  if (*token == '\0')
    return invalid (error, what, "is empty");
  for (const char *p = token; *p != '\0'; p++)
    {
      guchar c = (guchar)*p;
      if (c < 33 || c > 126 || strchr ("()<>@,;:\\\"/[]?=*", c) != NULL)
        return invalid (error, what, "is not an RFC 2045 token");
    }
  return TRUE;
}

gboolean
mk_mime_check_parameter_value (const char *what, const char *value, GError **error)
{
  return check_utf8_no_breaks (what, value, error);
}

/* Free text (a subject, a display name, a body) may hold anything but
 * invalid UTF-8: GMime encodes the rest (RFC 2047). */
gboolean
mk_mime_check_text (const char *what, const char *text, GError **error)
{
  if (!g_utf8_validate (text, -1, NULL))
    return invalid (error, what, "is not valid UTF-8");
  return TRUE;
}

/* RFC 2046 §5.1.1: bchars, and no space at the end. */
gboolean
mk_mime_check_boundary (const char *boundary, GError **error)
{
  gsize length = strlen (boundary);

  if (length == 0 || length > MK_MIME_MAX_BOUNDARY_LENGTH)
    return invalid (error, "The boundary", "is not 1 to 70 characters long (RFC 2046)");
  for (const char *p = boundary; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("'()+_,-./:=? ", *p) == NULL)
      return invalid (error, "The boundary", "has a character RFC 2046 does not allow");
  if (boundary[length - 1] == ' ')
    return invalid (error, "The boundary", "ends with a space");
  return TRUE;
}

static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 §3.6.4 msg-id, with the angle brackets optional on input: the
 * characters of a dot-atom and of a domain literal. A Content-ID (RFC 2045
 * §7) is often written without the '@' (cid:logo.png), so @need_at says
 * whether this one must have it. Returns the id without brackets. */
char *
mk_mime_check_msg_id (const char *what, const char *id, gboolean need_at, GError **error)
{
  gsize length = strlen (id);
  const char *at;

  if (has_line_break (id))
    return invalid (error, what, "contains a line break (CR or LF)"), NULL;
  if (length >= 2 && id[0] == '<' && id[length - 1] == '>')
    {
      id++;
      length -= 2;
    }
  if (length == 0)
    return invalid (error, what, "is empty"), NULL;
  if (length > MK_MIME_MAX_ID_LENGTH)
    return invalid (error, what, "is too long for one line"), NULL;
  for (gsize i = 0; i < length; i++)
    if (!is_atext (id[i]) && strchr (".@[]", id[i]) == NULL)
      return invalid (error, what, "has a character RFC 5322 does not allow in a msg-id"), NULL;
  at = memchr (id, '@', length);
  if (need_at
      && (at == NULL || at == id || at == id + length - 1
          || memchr (at + 1, '@', id + length - at - 1) != NULL))
    return invalid (error, what, "is not of the form left@right (RFC 5322 §3.6.4)"), NULL;
  return g_strndup (id, length);
}

/* A mailbox's address goes into RCPT TO and into the header as GMime is
 * given it (a quoted local part keeps its CR LF, hostile-peers §1.10); its
 * display name is encoded by GMime and may hold anything but a line break. */
gboolean
mk_mime_check_address (InternetAddress *address, GError **error)
{
  if (INTERNET_ADDRESS_IS_GROUP (address))
    {
      InternetAddressList *members
          = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));
      int n = internet_address_list_length (members);

      for (int i = 0; i < n; i++)
        if (!mk_mime_check_address (internet_address_list_get_address (members, i), error))
          return FALSE;
      return TRUE;
    }

  const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
  const char *name = internet_address_get_name (address);

  /* GMime would encode a line break in a display name, but a reader that
   * decodes it gets an address it refuses (Python raises ValueError): a
   * name is one line. */
  if (name != NULL && !check_utf8_no_breaks ("The display name", name, error))
    return FALSE;
  if (addr == NULL || *addr == '\0')
    return invalid (error, "The address", "is empty");
  if (!g_utf8_validate (addr, -1, NULL))
    return invalid (error, "The address", "is not valid UTF-8");
  for (const char *p = addr; *p != '\0'; p++)
    if ((guchar)*p < 32 || *p == 127)
      return invalid (error, "The address", "contains a control character (CR, LF or another)");
  return TRUE;
}

/* Whether every comment in an address list is closed (RFC 5322 §3.2.2),
 * reading quoted strings and domain literals, where "(" is an ordinary
 * character, and quoted pairs. GMime 3.2 leaks its buffer when a domain
 * literal is followed by a comment that never ends ("a@[x](") and the
 * list is malformed anyway, so it never reaches GMime. */
static gboolean
comments_closed (const char *text)
{
  guint depth = 0;
  char closing = '\0'; /* '"' or ']' inside a quoted string or a domain literal */

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\')
        {
          if (p[1] == '\0')
            break;
          p++;
        }
      else if (closing != '\0')
        closing = *p == closing ? '\0' : closing;
      else if (*p == '(')
        depth++;
      else if (*p == ')' && depth > 0)
        depth--;
      else if (depth == 0 && (*p == '"' || *p == '['))
        closing = *p == '"' ? '"' : ']';
    }
  return depth == 0;
}

InternetAddressList *
mk_mime_parse_addresses (const char *what, const char *text, GError **error)
{
  g_autoptr (InternetAddressList) list = NULL;
  int n;

  /* Checked before parsing: GMime's parser reads a line break as folding
   * white space and quietly drops what follows a mailbox, so the address
   * used would not be the one the caller wrote. */
  if (!check_utf8_no_breaks (what, text, error))
    return NULL;
  if (!comments_closed (text))
    return invalid (error, what, "has a comment that is never closed (a “(” without “)”)"), NULL;
  list = internet_address_list_parse (NULL, text);
  n = list != NULL ? internet_address_list_length (list) : 0;
  if (n == 0)
    return invalid (error, what, "holds no address"), NULL;
  for (int i = 0; i < n; i++)
    if (!mk_mime_check_address (internet_address_list_get_address (list, i), error))
      return NULL;
  return g_steal_pointer (&list);
}

/* The last line of defence, run over the header block GMime writes: every
 * line at most 998 octets, CRLF-terminated, and either "name:" or a fold.
 * Anything else means a value reached the output raw. */
gboolean
mk_mime_check_header_block (const char *block, gsize length, GError **error)
{
  const char *p = block, *end = block + length;
  gboolean first = TRUE;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      gsize line_length;

      if (eol == NULL || eol == p || eol[-1] != '\r')
        return invalid (error, "A header line", "does not end with CRLF");
      line_length = eol - 1 - p;
      if (memchr (p, '\r', line_length) != NULL || memchr (p, '\0', line_length) != NULL)
        return invalid (error, "A header line", "contains a bare CR or a NUL");
      if (line_length > MK_MIME_MAX_LINE_LENGTH)
        return invalid (error, "A header line", "is longer than 998 octets");
      if (line_length == 0)
        return invalid (error, "The header block", "contains an empty line");
      if (p[0] == ' ' || p[0] == '\t')
        {
          gboolean blank = TRUE;
          for (gsize i = 0; i < line_length && blank; i++)
            blank = p[i] == ' ' || p[i] == '\t';
          if (first || blank)
            return invalid (error, "A header line", "is a fold with nothing to continue");
        }
      else
        {
          const char *colon = memchr (p, ':', line_length);
          g_autofree char *name = colon != NULL ? g_strndup (p, colon - p) : NULL;

          if (name == NULL || !mk_mime_check_header_name (name, NULL))
            return invalid (error, "A header line", "is neither a field nor a fold");
        }
      first = FALSE;
      p = eol + 1;
    }
  return TRUE;
}

/* Each header written must read back as exactly one field. GMime can fold
 * a value that looks like an encoded word with a bare line break, which
 * turns the rest of the value into a field of its own while every line
 * still looks well formed: counting the fields catches that. */
static gboolean
check_header_list (GMimeObject *object, GError **error)
{
  g_autoptr (GMimeFormatOptions) options = g_mime_format_options_new ();
  GMimeHeaderList *headers = g_mime_object_get_header_list (object);
  g_autofree char *block = NULL;
  int fields = 0;

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  block = g_mime_header_list_to_string (headers, options);
  if (!mk_mime_check_header_block (block, strlen (block), error))
    return FALSE;
  for (const char *line = block; *line != '\0'; line = strchr (line, '\n') + 1)
    if (*line != ' ' && *line != '\t')
      fields++;
  if (fields != g_mime_header_list_get_count (headers))
    return invalid (error, "A header value", "would be written as more than one header field");
  return TRUE;
}

/* Our own header lines only: a message/rfc822 part's enclosed message is
 * the caller's, written as GMime parsed or built it. */
gboolean
mk_mime_check_object_headers (GMimeObject *object, GError **error)
{
  if (!check_header_list (object, error))
    return FALSE;
  if (GMIME_IS_MESSAGE (object))
    {
      GMimeObject *part = g_mime_message_get_mime_part (GMIME_MESSAGE (object));
      return part == NULL || mk_mime_check_object_headers (part, error);
    }
  if (GMIME_IS_MULTIPART (object))
    {
      int n = g_mime_multipart_get_count (GMIME_MULTIPART (object));
      for (int i = 0; i < n; i++)
        if (!mk_mime_check_object_headers (g_mime_multipart_get_part (GMIME_MULTIPART (object), i),
                                           error))
          return FALSE;
    }
  return TRUE;
}
