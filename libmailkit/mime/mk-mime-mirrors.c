/* mk-mime-mirrors.c: the email.mime classes of Python, as GMime objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-gmime-autocleanups-private.h"
#include "mk-init.h"
#include "mk-mime-check-private.h"
#include "mk-mime-error.h"
#include "mk-mime-mirrors.h"
#include "mk-mime-part-private.h"
#include "mk-mime-sniff-private.h"

/* Quoted-printable costs two extra octets per 8-bit octet, base64 a third
 * of everything: QP is the shorter while under a sixth of the octets need
 * encoding. */
#define MK_MIME_QP_MAX_8BIT_SHARE 6

/**
 * mk_mime_base_new:
 * @maintype: the main type, such as "application"
 * @subtype: the subtype, such as "vnd.example"
 * @error: return location for a #GError
 *
 * Creates an empty part of the given type, as Python's
 * `email.mime.base.MIMEBase (maintype, subtype)` and `MIMENonMultipart` do.
 * The object is of the GMime class registered for the type (a
 * #GMimeMultipart for "multipart", a #GMimeMessagePart for
 * "message/rfc822", a #GMimeTextPart for "text", else a #GMimePart), with a
 * Content-Type header and nothing else. Python's `**params` are set with
 * mk_mime_set_parameter().
 *
 * Unlike Python's, the part carries no MIME-Version header:
 * #GMimeMessage writes it once, at the top of the message.
 *
 * Returns: (transfer full): the new part, or %NULL with @error set
 *   (%MK_MIME_ERROR_INVALID when a type is not an RFC 2045 token)
 *
 * Since: 0.1
 */
GMimeObject *
mk_mime_base_new (const char *maintype, const char *subtype, GError **error)
{
  g_autoptr (GMimeContentType) content_type = NULL;
  GMimeObject *object;

  g_return_val_if_fail (maintype != NULL, NULL);
  g_return_val_if_fail (subtype != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mk_init ();
  if (!mk_mime_check_token ("The main type", maintype, error)
      || !mk_mime_check_token ("The subtype", subtype, error))
    return NULL;
  content_type = g_mime_content_type_new (maintype, subtype);
  object = g_mime_object_new_type (NULL, maintype, subtype);
  g_mime_object_set_content_type (object, content_type);
  return object;
}

/**
 * mk_mime_set_parameter:
 * @object: a part
 * @name: the parameter's name, an RFC 2045 token
 * @value: the parameter's value; non-ASCII text is written in RFC 2231's
 *   form
 * @error: return location for a #GError
 *
 * Sets a parameter of the Content-Type header, as the `**params` of
 * Python's email.mime classes do, replacing a parameter of the same name.
 * An empty value is written `name=""` (Python writes a bare name). A
 * "boundary" must also be a valid RFC 2046 boundary.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   the name is not a token or the value has a line break or is not UTF-8
 *
 * Since: 0.1
 */
gboolean
mk_mime_set_parameter (GMimeObject *object, const char *name, const char *value, GError **error)
{
  g_return_val_if_fail (GMIME_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!mk_mime_check_token ("The parameter name", name, error)
      || !mk_mime_check_parameter_value ("The parameter value", value, error))
    return FALSE;
  if (g_ascii_strcasecmp (name, "boundary") == 0 && !mk_mime_check_boundary (value, error))
    return FALSE;
  g_mime_object_set_content_type_parameter (object, name, value);
  /* GMime would pick the first charset of its list that holds the value. */
  g_mime_param_set_charset (
      g_mime_param_list_get_parameter (
          g_mime_content_type_get_parameters (g_mime_object_get_content_type (object)), name),
      "utf-8");
  return TRUE;
}

GMimeContentEncoding
mk_mime_choose_text_encoding (const guint8 *data, gsize length)
{
  gsize unsafe = 0, line = 0, longest = 0;

  for (gsize i = 0; i < length; i++)
    {
      if (data[i] == '\n')
        {
          longest = MAX (longest, line);
          line = 0;
          continue;
        }
      line++;
      /* A CR here is one a charset made (UTF-16 and the like): a QP
       * encoder would take it for a line ending. */
      if (data[i] == '\r' || data[i] == '\0')
        return GMIME_CONTENT_ENCODING_BASE64;
      if (data[i] >= 0x80)
        unsafe++;
    }
  longest = MAX (longest, line);
  if (unsafe == 0 && longest <= MK_MIME_MAX_LINE_LENGTH)
    return GMIME_CONTENT_ENCODING_7BIT;
  if (unsafe * MK_MIME_QP_MAX_8BIT_SHARE <= length)
    return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  return GMIME_CONTENT_ENCODING_BASE64;
}

GMimeStream *
mk_mime_stream_new_from_bytes (GBytes *data)
{
  gsize length = 0;
  const guint8 *bytes = g_bytes_get_data (data, &length);

  return g_mime_stream_mem_new_with_buffer ((const char *)bytes, length);
}

/* Attachments are base64 whatever they hold, so that they decode to exactly
 * the octets given (quoted-printable and 7bit would let a line-ending
 * conversion change a text file). */
GMimePart *
mk_mime_part_new_base64 (const char *type, const char *subtype, GMimeStream *content)
{
  GMimePart *part = g_mime_part_new_with_type (type, subtype);
  g_autoptr (GMimeDataWrapper) wrapper
      = g_mime_data_wrapper_new_with_stream (content, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  return part;
}

/* Python's email.charset aliases, and the charsets it writes in another one
 * (§2.11 of the reference notes). */
static const struct
{
  const char *alias, *name;
} charset_aliases[] = {
  { "latin_1", "iso-8859-1" },   { "latin-1", "iso-8859-1" },    { "latin_2", "iso-8859-2" },
  { "latin-2", "iso-8859-2" },   { "latin_3", "iso-8859-3" },    { "latin-3", "iso-8859-3" },
  { "latin_4", "iso-8859-4" },   { "latin-4", "iso-8859-4" },    { "latin_5", "iso-8859-9" },
  { "latin-5", "iso-8859-9" },   { "latin_6", "iso-8859-10" },   { "latin-6", "iso-8859-10" },
  { "latin_7", "iso-8859-13" },  { "latin-7", "iso-8859-13" },   { "latin_8", "iso-8859-14" },
  { "latin-8", "iso-8859-14" },  { "latin_9", "iso-8859-15" },   { "latin-9", "iso-8859-15" },
  { "latin_10", "iso-8859-16" }, { "latin-10", "iso-8859-16" },  { "cp949", "ks_c_5601-1987" },
  { "euc_jp", "euc-jp" },        { "euc_kr", "euc-kr" },         { "ascii", "us-ascii" },
  { "euc-jp", "iso-2022-jp" },   { "shift_jis", "iso-2022-jp" },
};

static char *
output_charset (const char *charset)
{
  g_autofree char *name = g_ascii_strdown (charset, -1);

  /* Two passes: "euc_jp" is an alias of "euc-jp", written as "iso-2022-jp". */
  for (int pass = 0; pass < 2; pass++)
    for (gsize i = 0; i < G_N_ELEMENTS (charset_aliases); i++)
      if (strcmp (name, charset_aliases[i].alias) == 0)
        {
          g_free (name);
          name = g_strdup (charset_aliases[i].name);
          break;
        }
  return g_steal_pointer (&name);
}

static gboolean
is_utf8_name (const char *charset)
{
  return strcmp (charset, "utf-8") == 0 || strcmp (charset, "utf8") == 0;
}

/* Text is stored with LF line ends (CRLF and a bare CR become LF, as
 * Python's generator splits lines at all three), and GMime writes every LF
 * as CRLF; base64 hides the line ends from it, so a base64 body gets its
 * CRLFs here (RFC 2046 §4.1.1: canonical text). */
static GString *
canonical_lines (const char *text, gboolean crlf)
{
  GString *out = g_string_sized_new (strlen (text) + 16);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r' || *p == '\n')
        {
          if (*p == '\r' && p[1] == '\n')
            p++;
          g_string_append (out, crlf ? "\r\n" : "\n");
        }
      else
        g_string_append_c (out, *p);
    }
  return out;
}

/**
 * mk_mime_text_new:
 * @text: the text, UTF-8
 * @subtype: (nullable): the subtype, "plain" when %NULL
 * @charset: (nullable): the charset to write the text in; when %NULL,
 *   "us-ascii" if the text is ASCII, else "utf-8"
 * @error: return location for a #GError
 *
 * Creates a text part, as Python's `email.mime.text.MIMEText (text,
 * subtype, charset)` does: Content-Type `text/<subtype>; charset=<charset>`
 * with Python's charset names (lower case, its aliases such as "latin-1"
 * written "iso-8859-1", "euc-jp" and "shift_jis" written "iso-2022-jp").
 *
 * Line ends are made CRLF. The transfer encoding is chosen from the
 * encoded text rather than from the charset as Python does: 7bit for ASCII
 * with lines of at most 998 octets, quoted-printable for text that is
 * mostly ASCII or has longer lines, base64 for the rest. (Python writes
 * every UTF-8 text in base64 and leaves over-long lines as they are.)
 *
 * Returns: (transfer full): the new part, or %NULL with @error set to
 *   %MK_MIME_ERROR_INVALID (text or subtype malformed, or the text cannot
 *   be written in @charset)
 *
 * Since: 0.1
 */
GMimeTextPart *
mk_mime_text_new (const char *text, const char *subtype, const char *charset, GError **error)
{
  g_autofree char *out_charset = NULL;
  g_autofree char *encoded = NULL;
  g_autoptr (GString) lines = NULL;
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeDataWrapper) wrapper = NULL;
  GMimeContentEncoding encoding;
  const char *bytes;
  gsize length;
  GMimeTextPart *part;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mk_init ();
  subtype = subtype != NULL ? subtype : "plain";
  if (!mk_mime_check_text ("The text", text, error)
      || !mk_mime_check_token ("The subtype", subtype, error)
      || (charset != NULL && !mk_mime_check_token ("The charset", charset, error)))
    return NULL;

  if (charset == NULL)
    {
      gboolean ascii = TRUE;
      for (const char *p = text; *p != '\0' && ascii; p++)
        ascii = (guchar)*p < 0x80;
      charset = ascii ? "us-ascii" : "utf-8";
    }
  out_charset = output_charset (charset);

  /* Encode LF-only text, then decide; base64 bodies are redone in CRLF. */
  lines = canonical_lines (text, FALSE);
  if (is_utf8_name (out_charset))
    {
      bytes = lines->str;
      length = lines->len;
    }
  else
    {
      g_autoptr (GError) local_error = NULL;

      encoded = g_convert (lines->str, lines->len, g_mime_charset_iconv_name (out_charset), "UTF-8",
                           NULL, &length, &local_error);
      if (encoded == NULL)
        {
          g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                       "The text cannot be written in charset %s: %s", out_charset,
                       local_error->message);
          return NULL;
        }
      bytes = encoded;
    }

  encoding = mk_mime_choose_text_encoding ((const guint8 *)bytes, length);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64)
    {
      g_autoptr (GString) crlf = NULL;

      /* Converting again after the CRLFs keeps stateful charsets
       * (iso-2022-jp) and wide ones (utf-16) right. */
      crlf = canonical_lines (text, TRUE);
      g_clear_pointer (&encoded, g_free);
      if (is_utf8_name (out_charset))
        stream = g_mime_stream_mem_new_with_buffer (crlf->str, crlf->len);
      else
        {
          encoded = g_convert (crlf->str, crlf->len, g_mime_charset_iconv_name (out_charset),
                               "UTF-8", NULL, &length, NULL);
          stream = g_mime_stream_mem_new_with_buffer (encoded, length);
        }
    }
  else
    stream = g_mime_stream_mem_new_with_buffer (bytes, length);

  part = g_mime_text_part_new_with_subtype (subtype);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", out_charset);
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), wrapper);
  g_mime_part_set_content_encoding (GMIME_PART (part), encoding);
  return part;
}

typedef const char *(*SniffFunc) (const guint8 *data, gsize length);

static GMimePart *
sniffed_part_new (const char *type, GBytes *data, const char *subtype, SniffFunc sniff,
                  GError **error)
{
  g_autoptr (GMimeStream) stream = NULL;

  mk_init ();
  if (subtype == NULL)
    {
      gsize length = 0;
      const guint8 *bytes = g_bytes_get_data (data, &length);

      subtype = sniff (bytes, length);
      if (subtype == NULL)
        {
          g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_UNKNOWN_TYPE,
                       "Could not recognise the %s format; give its subtype", type);
          return NULL;
        }
    }
  else if (!mk_mime_check_token ("The subtype", subtype, error))
    return NULL;
  stream = mk_mime_stream_new_from_bytes (data);
  return mk_mime_part_new_base64 (type, subtype, stream);
}

/**
 * mk_mime_image_new:
 * @data: the image
 * @subtype: (nullable): the subtype; %NULL to recognise it from @data
 * @error: return location for a #GError
 *
 * Creates an image part in base64, as Python's `email.mime.image.MIMEImage
 * (data, subtype)` does. Without a subtype, it is recognised from the
 * data's first bytes, with Python's names: "jpeg", "png", "gif", "tiff",
 * "rgb", "pbm", "pgm", "ppm", "rast", "xbm", "bmp", "webp" and "exr". The
 * tests are stricter than Python's: text that begins "BM", "II", "MM",
 * "P1 " or "#define" is not taken for an image, and a JPEG is recognised by
 * its start marker (which finds the Adobe and XMP JPEGs Python misses).
 *
 * Returns: (transfer full): the new part, or %NULL with @error set:
 *   %MK_MIME_ERROR_UNKNOWN_TYPE when @subtype is %NULL and the data is not
 *   recognised, %MK_MIME_ERROR_INVALID when @subtype is not a token
 *
 * Since: 0.1
 */
GMimePart *
mk_mime_image_new (GBytes *data, const char *subtype, GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return sniffed_part_new ("image", data, subtype, mk_mime_sniff_image, error);
}

/**
 * mk_mime_audio_new:
 * @data: the sound
 * @subtype: (nullable): the subtype; %NULL to recognise it from @data
 * @error: return location for a #GError
 *
 * Creates an audio part in base64, as Python's `email.mime.audio.MIMEAudio
 * (data, subtype)` does. Without a subtype, it is recognised from the first
 * 512 bytes, with Python's names: "x-aiff" (AIFF and AIFF-C), "basic"
 * (Sun/NeXT .au) and "x-wav".
 *
 * Returns: (transfer full): the new part, or %NULL with @error set:
 *   %MK_MIME_ERROR_UNKNOWN_TYPE when @subtype is %NULL and the data is not
 *   recognised, %MK_MIME_ERROR_INVALID when @subtype is not a token
 *
 * Since: 0.1
 */
GMimePart *
mk_mime_audio_new (GBytes *data, const char *subtype, GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return sniffed_part_new ("audio", data, subtype, mk_mime_sniff_audio, error);
}

/**
 * mk_mime_application_new:
 * @data: the content
 * @subtype: (nullable): the subtype, "octet-stream" when %NULL
 * @error: return location for a #GError
 *
 * Creates an application part in base64, as Python's
 * `email.mime.application.MIMEApplication (data, subtype)` does.
 *
 * Returns: (transfer full): the new part, or %NULL with @error set to
 *   %MK_MIME_ERROR_INVALID when @subtype is not a token
 *
 * Since: 0.1
 */
GMimePart *
mk_mime_application_new (GBytes *data, const char *subtype, GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return sniffed_part_new ("application", data, subtype != NULL ? subtype : "octet-stream", NULL,
                           error);
}

/**
 * mk_mime_multipart_new:
 * @subtype: (nullable): the subtype, "mixed" when %NULL
 * @boundary: (nullable): the boundary; %NULL to have a random one made
 *   when the part is written
 * @error: return location for a #GError
 *
 * Creates an empty multipart, as Python's `email.mime.multipart.MIMEMultipart
 * (subtype, boundary)` does. Add the subparts with g_mime_multipart_add().
 *
 * Returns: (transfer full): the new multipart, or %NULL with @error set to
 *   %MK_MIME_ERROR_INVALID when @subtype is not a token or @boundary not an
 *   RFC 2046 boundary
 *
 * Since: 0.1
 */
GMimeMultipart *
mk_mime_multipart_new (const char *subtype, const char *boundary, GError **error)
{
  GMimeMultipart *multipart;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mk_init ();
  subtype = subtype != NULL ? subtype : "mixed";
  if (!mk_mime_check_token ("The subtype", subtype, error)
      || (boundary != NULL && !mk_mime_check_boundary (boundary, error)))
    return NULL;
  multipart = g_mime_multipart_new_with_subtype (subtype);
  if (boundary != NULL)
    g_mime_multipart_set_boundary (multipart, boundary);
  return multipart;
}

/**
 * mk_mime_message_new:
 * @message: the message to enclose
 * @subtype: (nullable): the subtype, "rfc822" when %NULL
 * @error: return location for a #GError
 *
 * Creates a part holding a whole message, as Python's
 * `email.mime.message.MIMEMessage (msg, subtype)` does: Content-Type
 * `message/<subtype>`, no transfer encoding, and the message written after
 * its headers.
 *
 * Returns: (transfer full): the new part, or %NULL with @error set to
 *   %MK_MIME_ERROR_INVALID when @subtype is not a token
 *
 * Since: 0.1
 */
GMimeMessagePart *
mk_mime_message_new (GMimeMessage *message, const char *subtype, GError **error)
{
  g_return_val_if_fail (GMIME_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mk_init ();
  subtype = subtype != NULL ? subtype : "rfc822";
  if (!mk_mime_check_token ("The subtype", subtype, error))
    return NULL;
  return g_mime_message_part_new_with_message (subtype, message);
}
