/* mk-message-builder.c: text, HTML, inline images and attachments in a few
 * lines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-gmime-autocleanups-private.h"
#include "mk-init.h"
#include "mk-message-builder.h"
#include "mk-mime-check-private.h"
#include "mk-mime-error.h"
#include "mk-mime-file-stream-private.h"
#include "mk-mime-generated-private.h"
#include "mk-mime-input-stream-private.h"
#include "mk-mime-mirrors.h"
#include "mk-mime-part-private.h"

/**
 * MkMessageBuilder:
 *
 * Builds a #GMimeMessage from the parts of an everyday mail: addresses, a
 * subject, a plain-text and an HTML body, images the HTML shows, and
 * attachments.
 *
 * ```c
 * g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
 * g_autofree char *cid = NULL;
 *
 * mk_message_builder_set_from (builder, "Alice <alice@example.org>", &error);
 * mk_message_builder_add_to (builder, "bob@example.org", &error);
 * mk_message_builder_set_subject (builder, "Report", &error);
 * mk_message_builder_set_text (builder, "See the report.\n", &error);
 * cid = mk_message_builder_add_inline (builder, "logo.png", NULL, &error);
 * // … set_html with <img src="cid:…">, add_attachment (builder, "report.pdf", …)
 * message = mk_message_builder_build (builder, &error);
 * ```
 *
 * mk_message_builder_build() picks the smallest correct structure:
 * `multipart/mixed` of the body and the attachments, the body being a
 * `multipart/alternative` of the text and the HTML, the HTML a
 * `multipart/related` of itself and its inline images; a level with one
 * child is left out. Date and Message-ID are made unless set.
 *
 * Files are checked when they are added and read only when the message is
 * written, straight from the disk; a message holding a stream attachment
 * can be written once. Everything that goes into a header is checked: a
 * line break in a header name, a parameter, a file name, a Content-ID, a
 * Message-ID or an address is refused with %MK_MIME_ERROR_INVALID; free
 * text (a subject, a display name, a header value) is RFC 2047-encoded.
 * Bcc is part of the message built; the sending layer leaves it out of what
 * it transmits.
 *
 * A builder is not thread-safe: use it from one thread at a time.
 *
 * Since: 0.1
 */

/* POSIX file systems' NAME_MAX: the receiver could not save a longer name. */
#define MK_MIME_MAX_FILENAME_LENGTH 255

/* Enough of a file for GIO's content-type sniffing (shared-mime-info looks
 * at most a few kilobytes in). */
#define MK_MIME_SNIFF_LENGTH 4096

#define N_ADDRESS_TYPES (GMIME_ADDRESS_TYPE_BCC + 1)

typedef enum
{
  SOURCE_FILE,
  SOURCE_BYTES,
  SOURCE_STREAM,
  SOURCE_MESSAGE,
} SourceKind;

typedef struct
{
  SourceKind kind;
  GFile *file;
  GFileInfo *file_info;
  GBytes *bytes;
  GInputStream *stream;
  GMimeMessage *message;
  char *filename;
  char *type;
  char *subtype;
  char *charset;
  char *content_id;
} Attachment;

typedef struct
{
  char *name;
  char *value;
} Header;

struct _MkMessageBuilder
{
  GObject parent_instance;

  InternetAddressList *addresses[N_ADDRESS_TYPES];
  char *subject;
  GDateTime *date;
  char *message_id;
  GPtrArray *headers;
  char *text;
  char *html;
  GPtrArray *inlines;
  GPtrArray *attachments;
  /* A stream attachment is read when the message is written: a second
   * build would hand out a stream already read. */
  gboolean built_with_stream;
};

G_DEFINE_FINAL_TYPE (MkMessageBuilder, mk_message_builder, G_TYPE_OBJECT)

static void
attachment_free (Attachment *attachment)
{
  g_clear_object (&attachment->file);
  g_clear_object (&attachment->file_info);
  g_clear_pointer (&attachment->bytes, g_bytes_unref);
  g_clear_object (&attachment->stream);
  g_clear_object (&attachment->message);
  g_free (attachment->filename);
  g_free (attachment->type);
  g_free (attachment->subtype);
  g_free (attachment->charset);
  g_free (attachment->content_id);
  g_free (attachment);
}

static void
header_free (Header *header)
{
  g_free (header->name);
  g_free (header->value);
  g_free (header);
}

/* GMime encodes a name in the first charset of its list that can hold it
 * (an em dash comes out in CP1251); every reader knows UTF-8. */
#define MK_MIME_HEADER_CHARSET "utf-8"

/* A copy, so that the caller's address keeps its charset. */
static InternetAddress *
address_copy_utf8 (InternetAddress *address)
{
  InternetAddress *copy;

  if (INTERNET_ADDRESS_IS_GROUP (address))
    {
      InternetAddressList *members
          = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));

      copy = internet_address_group_new (internet_address_get_name (address));
      for (int i = 0; i < internet_address_list_length (members); i++)
        {
          g_autoptr (InternetAddress) member
              = address_copy_utf8 (internet_address_list_get_address (members, i));
          internet_address_group_add_member (INTERNET_ADDRESS_GROUP (copy), member);
        }
    }
  else
    copy = internet_address_mailbox_new (
        internet_address_get_name (address),
        internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)));
  internet_address_set_charset (copy, MK_MIME_HEADER_CHARSET);
  return copy;
}

static void
append_addresses_utf8 (InternetAddressList *to, InternetAddressList *from)
{
  for (int i = 0; i < internet_address_list_length (from); i++)
    {
      g_autoptr (InternetAddress) copy
          = address_copy_utf8 (internet_address_list_get_address (from, i));
      internet_address_list_add (to, copy);
    }
}

static void
mk_message_builder_finalize (GObject *object)
{
  MkMessageBuilder *self = MK_MESSAGE_BUILDER (object);

  for (int i = 0; i < N_ADDRESS_TYPES; i++)
    g_clear_object (&self->addresses[i]);
  g_free (self->subject);
  g_clear_pointer (&self->date, g_date_time_unref);
  g_free (self->message_id);
  g_ptr_array_unref (self->headers);
  g_free (self->text);
  g_free (self->html);
  g_ptr_array_unref (self->inlines);
  g_ptr_array_unref (self->attachments);
  G_OBJECT_CLASS (mk_message_builder_parent_class)->finalize (object);
}

static void
mk_message_builder_class_init (MkMessageBuilderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mk_message_builder_finalize;
}

static void
mk_message_builder_init (MkMessageBuilder *self)
{
  for (int i = 0; i < N_ADDRESS_TYPES; i++)
    self->addresses[i] = internet_address_list_new ();
  self->headers = g_ptr_array_new_with_free_func ((GDestroyNotify)header_free);
  self->inlines = g_ptr_array_new_with_free_func ((GDestroyNotify)attachment_free);
  self->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify)attachment_free);
}

/**
 * mk_message_builder_new:
 *
 * Creates an empty builder.
 *
 * Returns: (transfer full): a new #MkMessageBuilder
 *
 * Since: 0.1
 */
MkMessageBuilder *
mk_message_builder_new (void)
{
  mk_init ();
  return g_object_new (MK_TYPE_MESSAGE_BUILDER, NULL);
}

static gboolean
add_addresses (MkMessageBuilder *self, GMimeAddressType type, gboolean replace, const char *what,
               const char *addresses, GError **error)
{
  g_autoptr (InternetAddressList) list = mk_mime_parse_addresses (what, addresses, error);

  if (list == NULL)
    return FALSE;
  if (replace)
    internet_address_list_clear (self->addresses[type]);
  append_addresses_utf8 (self->addresses[type], list);
  return TRUE;
}

/**
 * mk_message_builder_set_from:
 * @builder: a builder
 * @addresses: the author's address, such as "Alice <alice@example.org>",
 *   or several separated by commas
 * @error: return location for a #GError
 *
 * Sets the From header, replacing what was set before.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @addresses holds a line break, invalid UTF-8 or no address
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_from (MkMessageBuilder *builder, const char *addresses, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_addresses (builder, GMIME_ADDRESS_TYPE_FROM, TRUE, "From", addresses, error);
}

/**
 * mk_message_builder_set_sender:
 * @builder: a builder
 * @address: the sender's address (RFC 5322 §3.6.2: the one who sent the
 *   message on the author's behalf)
 * @error: return location for a #GError
 *
 * Sets the Sender header, replacing what was set before.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @address is malformed or is more than one address
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_sender (MkMessageBuilder *builder, const char *address, GError **error)
{
  g_autoptr (InternetAddressList) list = NULL;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  list = mk_mime_parse_addresses ("Sender", address, error);
  if (list == NULL)
    return FALSE;
  if (internet_address_list_length (list) != 1
      || !INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (list, 0)))
    {
      g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                   "Sender must be one mailbox (RFC 5322 §3.6.2)");
      return FALSE;
    }
  internet_address_list_clear (builder->addresses[GMIME_ADDRESS_TYPE_SENDER]);
  append_addresses_utf8 (builder->addresses[GMIME_ADDRESS_TYPE_SENDER], list);
  return TRUE;
}

/**
 * mk_message_builder_add_to:
 * @builder: a builder
 * @addresses: one address or several separated by commas
 * @error: return location for a #GError
 *
 * Adds recipients to the To header.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @addresses holds a line break, invalid UTF-8 or no address
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_to (MkMessageBuilder *builder, const char *addresses, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_addresses (builder, GMIME_ADDRESS_TYPE_TO, FALSE, "To", addresses, error);
}

/**
 * mk_message_builder_add_cc:
 * @builder: a builder
 * @addresses: one address or several separated by commas
 * @error: return location for a #GError
 *
 * Adds recipients to the Cc header.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @addresses holds a line break, invalid UTF-8 or no address
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_cc (MkMessageBuilder *builder, const char *addresses, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_addresses (builder, GMIME_ADDRESS_TYPE_CC, FALSE, "Cc", addresses, error);
}

/**
 * mk_message_builder_add_bcc:
 * @builder: a builder
 * @addresses: one address or several separated by commas
 * @error: return location for a #GError
 *
 * Adds recipients to the Bcc header. The header is part of the message
 * built; mk_smtp_client_send_message() sends to these recipients and leaves
 * the header out of what it transmits.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @addresses holds a line break, invalid UTF-8 or no address
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_bcc (MkMessageBuilder *builder, const char *addresses, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_addresses (builder, GMIME_ADDRESS_TYPE_BCC, FALSE, "Bcc", addresses, error);
}

/**
 * mk_message_builder_set_reply_to:
 * @builder: a builder
 * @addresses: one address or several separated by commas
 * @error: return location for a #GError
 *
 * Sets the Reply-To header, replacing what was set before.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @addresses holds a line break, invalid UTF-8 or no address
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_reply_to (MkMessageBuilder *builder, const char *addresses, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_addresses (builder, GMIME_ADDRESS_TYPE_REPLY_TO, TRUE, "Reply-To", addresses, error);
}

/**
 * mk_message_builder_add_address:
 * @builder: a builder
 * @type: the header to add the address to
 * @address: a mailbox or a group
 * @error: return location for a #GError
 *
 * Adds an address made with GMime (internet_address_mailbox_new(),
 * internet_address_group_new()) to a header. The display name is written
 * RFC 2047-encoded when it needs to be; the address itself is checked.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   an address is empty or holds a control character (a line break in a
 *   quoted local part, for instance), or a display name holds a line break
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_address (MkMessageBuilder *builder, GMimeAddressType type,
                                InternetAddress *address, GError **error)
{
  g_autoptr (InternetAddress) copy = NULL;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail ((int)type >= 0 && type < N_ADDRESS_TYPES, FALSE);
  g_return_val_if_fail (
      INTERNET_ADDRESS_IS_MAILBOX (address) || INTERNET_ADDRESS_IS_GROUP (address), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!mk_mime_check_address (address, error))
    return FALSE;
  copy = address_copy_utf8 (address);
  internet_address_list_add (builder->addresses[type], copy);
  return TRUE;
}

/**
 * mk_message_builder_set_subject:
 * @builder: a builder
 * @subject: the subject; any text, written RFC 2047-encoded when it is not
 *   plain ASCII
 * @error: return location for a #GError
 *
 * Sets the Subject header.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @subject is not UTF-8
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_subject (MkMessageBuilder *builder, const char *subject, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (subject != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!mk_mime_check_text ("The subject", subject, error))
    return FALSE;
  g_free (builder->subject);
  builder->subject = g_strdup (subject);
  return TRUE;
}

/**
 * mk_message_builder_set_date:
 * @builder: a builder
 * @date: (nullable): the date, or %NULL for the time of the build
 *
 * Sets the Date header.
 *
 * Since: 0.1
 */
void
mk_message_builder_set_date (MkMessageBuilder *builder, GDateTime *date)
{
  g_return_if_fail (MK_IS_MESSAGE_BUILDER (builder));

  g_clear_pointer (&builder->date, g_date_time_unref);
  builder->date = date != NULL ? g_date_time_ref (date) : NULL;
}

/**
 * mk_message_builder_set_message_id:
 * @builder: a builder
 * @message_id: (nullable): the Message-ID, with or without its angle
 *   brackets, such as "1234@example.org"; %NULL to have one made (a random
 *   left part and the domain of the first From address)
 * @error: return location for a #GError
 *
 * Sets the Message-ID header.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @message_id is not of the form left@right of RFC 5322 §3.6.4
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_message_id (MkMessageBuilder *builder, const char *message_id,
                                   GError **error)
{
  char *id = NULL;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (message_id != NULL)
    {
      id = mk_mime_check_msg_id ("The Message-ID", message_id, TRUE, error);
      if (id == NULL)
        return FALSE;
    }
  g_free (builder->message_id);
  builder->message_id = id;
  return TRUE;
}

static const char *const address_header_names[N_ADDRESS_TYPES] = {
  [GMIME_ADDRESS_TYPE_SENDER] = "Sender",
  [GMIME_ADDRESS_TYPE_FROM] = "From",
  [GMIME_ADDRESS_TYPE_REPLY_TO] = "Reply-To",
  [GMIME_ADDRESS_TYPE_TO] = "To",
  [GMIME_ADDRESS_TYPE_CC] = "Cc",
  [GMIME_ADDRESS_TYPE_BCC] = "Bcc",
};

/* Fields whose value has a syntax (RFC 5322 §3.6, RFC 5321 §4.4): GMime
 * writes them as given, so a line break in one would start a new line.
 * The address fields may hold UTF-8 display names, which GMime encodes;
 * the others are ASCII by their grammar. */
static const char *const address_field_names[] = {
  "Resent-From", "Resent-Sender", "Resent-To",
  "Resent-Cc",   "Resent-Bcc",    "Disposition-Notification-To",
};
static const char *const ascii_field_names[] = {
  "Resent-Date", "Resent-Message-ID", "In-Reply-To", "References", "Return-Path", "Received",
};

static gboolean
name_in (const char *name, const char *const *names, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/**
 * mk_message_builder_add_header:
 * @builder: a builder
 * @name: the field name, printable ASCII without ':' (RFC 5322 §3.6.8)
 * @value: the value
 * @error: return location for a #GError
 *
 * Adds a header. A free-text value may hold anything (GMime encodes it as
 * RFC 2047 says). Some names do what their setter does, replacing what it
 * set: Subject, Date (parsed as RFC 5322 writes it), Message-ID, From,
 * Sender and Reply-To; To, Cc and Bcc add recipients. Other structured
 * fields are written as given: the Resent-* addresses must parse as
 * addresses, and References, In-Reply-To, Received, Return-Path,
 * Resent-Date and Resent-Message-ID must be printable ASCII. The builder writes Content-* and
 * MIME-Version itself: they cannot be added.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   the name is malformed or reserved, or the value cannot be used
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_header (MkMessageBuilder *builder, const char *name, const char *value,
                               GError **error)
{
  Header *header;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!mk_mime_check_header_name (name, error))
    return FALSE;
  if (g_ascii_strncasecmp (name, "Content-", 8) == 0
      || g_ascii_strcasecmp (name, "MIME-Version") == 0)
    {
      g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                   "The header %s is written by the builder from the parts", name);
      return FALSE;
    }
  if (g_ascii_strcasecmp (name, "Subject") == 0)
    return mk_message_builder_set_subject (builder, value, error);
  if (g_ascii_strcasecmp (name, "Message-ID") == 0)
    return mk_message_builder_set_message_id (builder, value, error);
  if (g_ascii_strcasecmp (name, "Sender") == 0)
    return mk_message_builder_set_sender (builder, value, error);
  for (int type = 0; type < N_ADDRESS_TYPES; type++)
    if (g_ascii_strcasecmp (name, address_header_names[type]) == 0)
      return add_addresses (builder, type,
                            type == GMIME_ADDRESS_TYPE_FROM || type == GMIME_ADDRESS_TYPE_REPLY_TO,
                            address_header_names[type], value, error);
  if (g_ascii_strcasecmp (name, "Date") == 0)
    {
      g_autoptr (GDateTime) date = NULL;

      if (!mk_mime_check_parameter_value ("The date", value, error))
        return FALSE;
      date = g_mime_utils_header_decode_date (value);
      if (date == NULL)
        {
          g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                       "The date is not an RFC 5322 date");
          return FALSE;
        }
      mk_message_builder_set_date (builder, date);
      return TRUE;
    }
  if (name_in (name, address_field_names, G_N_ELEMENTS (address_field_names)))
    {
      g_autoptr (InternetAddressList) list = mk_mime_parse_addresses (name, value, error);
      if (list == NULL)
        return FALSE;
    }
  else if (name_in (name, ascii_field_names, G_N_ELEMENTS (ascii_field_names)))
    {
      for (const char *p = value; *p != '\0'; p++)
        if (((guchar)*p < 0x20 && *p != '\t') || (guchar)*p >= 0x7f)
          {
            g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                         "The %s header may hold only printable ASCII", name);
            return FALSE;
          }
    }
  else if (!mk_mime_check_text ("The header value", value, error))
    return FALSE;

  header = g_new0 (Header, 1);
  header->name = g_strdup (name);
  header->value = g_strdup (value);
  g_ptr_array_add (builder->headers, header);
  return TRUE;
}

/**
 * mk_message_builder_set_text:
 * @builder: a builder
 * @text: (nullable): the plain-text body, UTF-8; %NULL for none
 * @error: return location for a #GError
 *
 * Sets the plain-text body. Its charset and transfer encoding are chosen
 * as mk_mime_text_new() chooses them; line ends become CRLF.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @text is not UTF-8
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_text (MkMessageBuilder *builder, const char *text, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text != NULL && !mk_mime_check_text ("The text", text, error))
    return FALSE;
  g_free (builder->text);
  builder->text = g_strdup (text);
  return TRUE;
}

/**
 * mk_message_builder_set_html:
 * @builder: a builder
 * @html: (nullable): the HTML body, UTF-8; %NULL for none
 * @error: return location for a #GError
 *
 * Sets the HTML body. Images added with mk_message_builder_add_inline()
 * are shown by it through `cid:` URLs.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   @html is not UTF-8
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_set_html (MkMessageBuilder *builder, const char *html, GError **error)
{
  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (html != NULL && !mk_mime_check_text ("The HTML", html, error))
    return FALSE;
  g_free (builder->html);
  builder->html = g_strdup (html);
  return TRUE;
}

/* The last component of a path, so that "../../etc/passwd" is offered to
 * the receiver as "passwd" (both separators: names come from Windows too). */
static char *
clean_filename (const char *name, GError **error)
{
  const char *base = name;

  if (!mk_mime_check_parameter_value ("The file name", name, error))
    return NULL;
  for (const char *p = name; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    {
      g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID, "“%s” has no file name in it",
                   name);
      return NULL;
    }
  if (strlen (base) > MK_MIME_MAX_FILENAME_LENGTH)
    {
      g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                   "The file name is longer than %d octets", MK_MIME_MAX_FILENAME_LENGTH);
      return NULL;
    }
  return g_strdup (base);
}

/* The type given by the caller, or GIO's guess from the name and the first
 * bytes; text gets charset=utf-8 when those bytes say so. */
static gboolean
resolve_type (Attachment *attachment, const char *content_type, const guint8 *head,
              gsize head_length, gboolean head_is_all, GError **error)
{
  g_autofree char *guessed = NULL;
  g_autofree char *mime_type = NULL;
  g_auto (GStrv) split = NULL;

  if (content_type == NULL)
    {
      guessed = g_content_type_guess (attachment->filename, head_length > 0 ? head : NULL,
                                      head_length, NULL);
      mime_type = g_content_type_get_mime_type (guessed);
      content_type = mime_type != NULL ? mime_type : "application/octet-stream";
    }
  split = g_strsplit (content_type, "/", 2);
  if (split[0] == NULL || split[1] == NULL
      || !mk_mime_check_token ("The content type", split[0], NULL)
      || !mk_mime_check_token ("The content type", split[1], NULL))
    {
      g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                   "The content type “%s” is not of the form type/subtype", content_type);
      return FALSE;
    }
  attachment->type = g_ascii_strdown (split[0], -1);
  attachment->subtype = g_ascii_strdown (split[1], -1);

  if (strcmp (attachment->type, "text") == 0 && head_length > 0)
    {
      const char *end = NULL;
      gboolean ascii = TRUE;

      g_utf8_validate_len ((const char *)head, head_length, &end);
      for (gsize i = 0; i < head_length && ascii; i++)
        ascii = head[i] < 0x80;
      /* A sniffed head may end inside a character. */
      if (!ascii
          && (end == (const char *)head + head_length
              || (!head_is_all && (const char *)head + head_length - end < 4)))
        attachment->charset = g_strdup ("utf-8");
    }
  return TRUE;
}

static Attachment *
attachment_new (SourceKind kind, const char *name, GError **error)
{
  Attachment *attachment = g_new0 (Attachment, 1);

  attachment->kind = kind;
  if (name != NULL)
    {
      attachment->filename = clean_filename (name, error);
      if (attachment->filename == NULL)
        return (attachment_free (attachment), NULL);
    }
  return attachment;
}

/* Opens the file now, so that a missing or unreadable file is reported
 * before anything is sent, and reads its first bytes for the type; the
 * rest is read when the message is written. */
static Attachment *
file_attachment_new (const char *path, const char *name, const char *content_type, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) input = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autofree char *basename = NULL;
  guint8 head[MK_MIME_SNIFF_LENGTH];
  gsize head_length = 0;
  Attachment *attachment;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," MK_MIME_FILE_STREAM_ATTRIBUTES,
                            G_FILE_QUERY_INFO_NONE, NULL, error);
  if (info == NULL)
    return NULL;
  /* Still a link after following links: dangling or a loop. Opening it
   * cannot block and gives the precise error. */
  if (g_file_info_get_file_type (info) == G_FILE_TYPE_SYMBOLIC_LINK)
    {
      input = g_file_read (file, NULL, error);
      if (input == NULL)
        return NULL;
    }
  /* A FIFO or a device is refused before it is opened: opening a FIFO
   * waits for a writer, and /dev/zero never ends. */
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "“%s” is not a regular file",
                   path);
      return NULL;
    }
  input = g_file_read (file, NULL, error);
  if (input == NULL
      || !g_input_stream_read_all (G_INPUT_STREAM (input), head, sizeof head, &head_length, NULL,
                                   error))
    return NULL;

  if (name == NULL)
    basename = g_file_get_basename (file);
  attachment = attachment_new (SOURCE_FILE, name != NULL ? name : basename, error);
  if (attachment == NULL)
    return NULL;
  if (!resolve_type (attachment, content_type, head, head_length, head_length < sizeof head, error))
    return (attachment_free (attachment), NULL);
  attachment->file = g_steal_pointer (&file);
  attachment->file_info = g_steal_pointer (&info);
  return attachment;
}

/**
 * mk_message_builder_add_inline:
 * @builder: a builder
 * @path: the file, usually an image the HTML shows
 * @content_id: (nullable): its Content-ID, with or without angle
 *   brackets; %NULL to have a unique one made
 * @error: return location for a #GError
 *
 * Adds a file the HTML body refers to as `cid:<Content-ID>`, such as
 * `<img src="cid:logo.png">`. It is checked now and read when the message
 * is written. Its type is guessed from its name and first bytes.
 *
 * Returns: (transfer full): the Content-ID, without angle brackets, or
 *   %NULL with @error set: an error in the %G_IO_ERROR domain when the
 *   file cannot be read or is not a regular file, %MK_MIME_ERROR_INVALID
 *   when @content_id is malformed or names another inline part already
 *
 * Since: 0.1
 */
char *
mk_message_builder_add_inline (MkMessageBuilder *builder, const char *path, const char *content_id,
                               GError **error)
{
  g_autofree char *id = NULL;
  Attachment *attachment;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (content_id != NULL)
    id = mk_mime_check_msg_id ("The Content-ID", content_id, FALSE, error);
  else
    {
      g_autofree char *uuid = g_uuid_string_random ();
      id = g_strdup_printf ("%s@mailkit", uuid);
    }
  if (id == NULL)
    return NULL;
  /* RFC 2392 §2: a Content-ID names one part; a second would make the
   * HTML's cid: URL ambiguous. */
  for (guint i = 0; i < builder->inlines->len; i++)
    if (strcmp (((Attachment *)builder->inlines->pdata[i])->content_id, id) == 0)
      {
        g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                     "The Content-ID <%s> is used already", id);
        return NULL;
      }
  attachment = file_attachment_new (path, NULL, NULL, error);
  if (attachment == NULL)
    return NULL;
  attachment->content_id = g_strdup (id);
  g_ptr_array_add (builder->inlines, attachment);
  return g_steal_pointer (&id);
}

/**
 * mk_message_builder_add_attachment:
 * @builder: a builder
 * @path: the file to attach
 * @name: (nullable): the file name the receiver sees; %NULL for the last
 *   component of @path
 * @content_type: (nullable): its type, such as "application/pdf"; %NULL to
 *   have GIO guess it from the name and the first bytes
 * @error: return location for a #GError
 *
 * Attaches a file. It is opened now, so that a missing or unreadable file
 * is reported before anything is sent, and read from the disk when the
 * message is written, never held in memory whole. It arrives byte for byte
 * (base64, whatever it holds). The name is written as RFC 2231 says
 * (`filename*=`) and, for the clients that read only that, as an RFC 2047
 * `name=` parameter; only its last path component is used.
 *
 * Returns: %TRUE, or %FALSE with @error set: an error in the
 *   %G_IO_ERROR domain when the file cannot be read or is not a regular
 *   file, %MK_MIME_ERROR_INVALID when the name or the type is malformed
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_attachment (MkMessageBuilder *builder, const char *path, const char *name,
                                   const char *content_type, GError **error)
{
  Attachment *attachment;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  attachment = file_attachment_new (path, name, content_type, error);
  if (attachment == NULL)
    return FALSE;
  g_ptr_array_add (builder->attachments, attachment);
  return TRUE;
}

/**
 * mk_message_builder_add_attachment_bytes:
 * @builder: a builder
 * @data: the content
 * @name: (nullable): the file name the receiver sees, or %NULL for none
 * @content_type: (nullable): its type; %NULL to have GIO guess it from the
 *   name and the data
 * @error: return location for a #GError
 *
 * Attaches data held in memory, as mk_message_builder_add_attachment()
 * attaches a file.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   the name or the type is malformed
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_attachment_bytes (MkMessageBuilder *builder, GBytes *data, const char *name,
                                         const char *content_type, GError **error)
{
  Attachment *attachment;
  gsize length = 0;
  const guint8 *bytes;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  attachment = attachment_new (SOURCE_BYTES, name, error);
  if (attachment == NULL)
    return FALSE;
  bytes = g_bytes_get_data (data, &length);
  if (!resolve_type (attachment, content_type, bytes, MIN (length, MK_MIME_SNIFF_LENGTH),
                     length <= MK_MIME_SNIFF_LENGTH, error))
    return (attachment_free (attachment), FALSE);
  attachment->bytes = g_bytes_ref (data);
  g_ptr_array_add (builder->attachments, attachment);
  return TRUE;
}

/**
 * mk_message_builder_add_attachment_stream:
 * @builder: a builder
 * @stream: the content, read when the message is written
 * @name: (nullable): the file name the receiver sees, or %NULL for none
 * @content_type: (nullable): its type; %NULL to have GIO guess it from the
 *   name alone
 * @error: return location for a #GError
 *
 * Attaches what @stream gives, read once when the message is written: a
 * message with such an attachment can be written once only (a second
 * writing fails), and is sent without a SIZE declaration. Use
 * mk_message_builder_add_attachment() for files.
 *
 * Returns: %TRUE, or %FALSE with @error set to %MK_MIME_ERROR_INVALID when
 *   the name or the type is malformed
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_attachment_stream (MkMessageBuilder *builder, GInputStream *stream,
                                          const char *name, const char *content_type,
                                          GError **error)
{
  Attachment *attachment;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  attachment = attachment_new (SOURCE_STREAM, name, error);
  if (attachment == NULL)
    return FALSE;
  if (!resolve_type (attachment, content_type, NULL, 0, FALSE, error))
    return (attachment_free (attachment), FALSE);
  attachment->stream = g_object_ref (stream);
  g_ptr_array_add (builder->attachments, attachment);
  return TRUE;
}

/**
 * mk_message_builder_add_message_attachment:
 * @builder: a builder
 * @message: the message to attach
 * @error: return location for a #GError
 *
 * Attaches a whole message as a `message/rfc822` part, as a forwarded
 * message is. The message is shared, not copied: changing it later changes
 * what is written.
 *
 * Returns: %TRUE (the error is there for uniformity and future checks)
 *
 * Since: 0.1
 */
gboolean
mk_message_builder_add_message_attachment (MkMessageBuilder *builder, GMimeMessage *message,
                                           GError **error)
{
  Attachment *attachment;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), FALSE);
  g_return_val_if_fail (GMIME_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  attachment = attachment_new (SOURCE_MESSAGE, NULL, error);
  attachment->message = g_object_ref (message);
  g_ptr_array_add (builder->attachments, attachment);
  return TRUE;
}

static void
set_disposition (GMimeObject *part, const char *disposition, const char *filename)
{
  GMimeParam *param;

  g_mime_object_set_disposition (part, disposition);
  if (filename == NULL)
    return;
  g_mime_part_set_filename (GMIME_PART (part), filename);
  param = g_mime_param_list_get_parameter (
      g_mime_content_disposition_get_parameters (g_mime_object_get_content_disposition (part)),
      "filename");
  g_mime_param_set_charset (param, MK_MIME_HEADER_CHARSET);
  /* Outlook and other clients read only Content-Type's name=, and only in
   * RFC 2047's form: RFC 2047 §5 does not allow encoded words in a quoted
   * string, but that is where they look. */
  param = g_mime_param_list_get_parameter (
      g_mime_content_type_get_parameters (g_mime_object_get_content_type (part)), "name");
  g_mime_param_set_charset (param, MK_MIME_HEADER_CHARSET);
  g_mime_param_set_encoding_method (param, GMIME_PARAM_ENCODING_METHOD_RFC2047);
}

static GMimeObject *
attachment_part (Attachment *attachment)
{
  g_autoptr (GMimeStream) stream = NULL;
  GMimeObject *part;

  switch (attachment->kind)
    {
    case SOURCE_MESSAGE:
      part = GMIME_OBJECT (g_mime_message_part_new_with_message ("rfc822", attachment->message));
      g_mime_object_set_disposition (part, "attachment");
      return part;
    case SOURCE_FILE:
      stream = mk_mime_file_stream_new (attachment->file, attachment->file_info);
      break;
    case SOURCE_BYTES:
      stream = mk_mime_stream_new_from_bytes (attachment->bytes);
      break;
    case SOURCE_STREAM:
      stream = mk_mime_input_stream_new (attachment->stream);
      break;
    default:
      g_assert_not_reached ();
    }
  part = GMIME_OBJECT (mk_mime_part_new_base64 (attachment->type, attachment->subtype, stream));
  if (attachment->charset != NULL)
    g_mime_object_set_content_type_parameter (part, "charset", attachment->charset);
  if (attachment->content_id != NULL)
    {
      g_mime_part_set_content_id (GMIME_PART (part), attachment->content_id);
      set_disposition (part, "inline", attachment->filename);
    }
  else
    set_disposition (part, "attachment", attachment->filename);
  return part;
}

static GMimeObject *
text_part (const char *text, const char *subtype)
{
  /* The text was checked when it was set, so this cannot fail. */
  return GMIME_OBJECT (mk_mime_text_new (text, subtype, NULL, NULL));
}

static GMimeObject *
multipart_of (const char *subtype, GPtrArray *children)
{
  GMimeMultipart *multipart = g_mime_multipart_new_with_subtype (subtype);

  for (guint i = 0; i < children->len; i++)
    g_mime_multipart_add (multipart, children->pdata[i]);
  return GMIME_OBJECT (multipart);
}

/* mixed(alternative(text, related(html, inline…)), attachment…), each level
 * with one child replaced by that child. */
static GMimeObject *
build_body (MkMessageBuilder *self)
{
  g_autoptr (GPtrArray) mixed = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) alternative = g_ptr_array_new_with_free_func (g_object_unref);
  GMimeObject *html = NULL;

  if (self->html != NULL)
    {
      g_autoptr (GPtrArray) related = g_ptr_array_new_with_free_func (g_object_unref);

      g_ptr_array_add (related, text_part (self->html, "html"));
      for (guint i = 0; i < self->inlines->len; i++)
        g_ptr_array_add (related, attachment_part (self->inlines->pdata[i]));
      if (related->len == 1)
        html = g_object_ref (related->pdata[0]);
      else
        {
          html = multipart_of ("related", related);
          /* RFC 2387 §3.1: the type of the root part is required. */
          g_mime_object_set_content_type_parameter (html, "type", "text/html");
        }
    }
  if (self->text != NULL)
    g_ptr_array_add (alternative, text_part (self->text, "plain"));
  if (html != NULL)
    g_ptr_array_add (alternative, html);
  if (alternative->len == 1)
    g_ptr_array_add (mixed, g_object_ref (alternative->pdata[0]));
  else if (alternative->len > 1)
    g_ptr_array_add (mixed, multipart_of ("alternative", alternative));

  /* Inline files with no HTML to show them go with the attachments. */
  if (self->html == NULL)
    for (guint i = 0; i < self->inlines->len; i++)
      g_ptr_array_add (mixed, attachment_part (self->inlines->pdata[i]));
  for (guint i = 0; i < self->attachments->len; i++)
    g_ptr_array_add (mixed, attachment_part (self->attachments->pdata[i]));

  if (mixed->len == 0)
    return text_part ("", "plain");
  if (mixed->len == 1)
    return g_object_ref (mixed->pdata[0]);
  return multipart_of ("mixed", mixed);
}

/* RFC 5322 §3.6's order of the originator and destination fields. */
static const GMimeAddressType address_header_order[] = {
  GMIME_ADDRESS_TYPE_FROM, GMIME_ADDRESS_TYPE_SENDER, GMIME_ADDRESS_TYPE_REPLY_TO,
  GMIME_ADDRESS_TYPE_TO,   GMIME_ADDRESS_TYPE_CC,     GMIME_ADDRESS_TYPE_BCC,
};

static char *
generate_message_id (MkMessageBuilder *self)
{
  InternetAddressList *from = self->addresses[GMIME_ADDRESS_TYPE_FROM];
  const char *domain = NULL;

  /* The author's domain (RFC 5322 §3.6.4 asks for a unique right side;
   * it is the one the author's host can vouch for), when it is plain. */
  if (internet_address_list_length (from) > 0
      && INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (from, 0)))
    {
      const char *addr = internet_address_mailbox_get_addr (
          INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (from, 0)));
      const char *at = strrchr (addr, '@');
      g_autofree char *candidate = at != NULL ? g_strdup_printf ("x@%s", at + 1) : NULL;
      g_autofree char *checked
          = candidate != NULL ? mk_mime_check_msg_id ("", candidate, TRUE, NULL) : NULL;

      if (checked != NULL)
        domain = at + 1;
    }
  return mk_mime_generated_message_id (domain != NULL ? domain : "localhost");
}

/**
 * mk_message_builder_build:
 * @builder: a builder
 * @error: return location for a #GError
 *
 * Builds the message. The builder can be changed and built again; the
 * files are read when each message is written. Every header line of the
 * result is checked to be a field or a fold of at most 998 octets.
 *
 * Returns: (transfer full): the message, or %NULL with @error set to
 *   %MK_MIME_ERROR_INVALID when the builder holds a stream attachment and
 *   was built before, or a header line came out malformed
 *
 * Since: 0.1
 */
GMimeMessage *
mk_message_builder_build (MkMessageBuilder *builder, GError **error)
{
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GMimeObject) body = NULL;
  g_autoptr (GDateTime) now = NULL;
  g_autofree char *message_id = NULL;
  gboolean has_stream = FALSE;

  g_return_val_if_fail (MK_IS_MESSAGE_BUILDER (builder), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < builder->attachments->len; i++)
    has_stream |= ((Attachment *)builder->attachments->pdata[i])->kind == SOURCE_STREAM;
  if (has_stream && builder->built_with_stream)
    {
      g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                   "A stream attachment can be read once: the builder was built already");
      return NULL;
    }

  /* Without GMime's "pretty headers", which would write every address
   * field, empty ones included; the fields come in the order set here. */
  message = g_mime_message_new (FALSE);
  if (builder->date == NULL)
    now = mk_mime_generated_date ();
  g_mime_message_set_date (message, builder->date != NULL ? builder->date : now);
  for (gsize i = 0; i < G_N_ELEMENTS (address_header_order); i++)
    if (internet_address_list_length (builder->addresses[address_header_order[i]]) > 0)
      internet_address_list_append (g_mime_message_get_addresses (message, address_header_order[i]),
                                    builder->addresses[address_header_order[i]]);
  if (builder->subject != NULL)
    g_mime_message_set_subject (message, builder->subject, MK_MIME_HEADER_CHARSET);
  message_id = builder->message_id != NULL ? g_strdup (builder->message_id)
                                           : generate_message_id (builder);
  g_mime_message_set_message_id (message, message_id);
  for (guint i = 0; i < builder->headers->len; i++)
    {
      Header *header = builder->headers->pdata[i];
      g_mime_object_append_header (GMIME_OBJECT (message), header->name, header->value,
                                   MK_MIME_HEADER_CHARSET);
    }

  body = build_body (builder);
  g_mime_message_set_mime_part (message, body);

  if (!mk_mime_check_object_headers (GMIME_OBJECT (message), error))
    return NULL;
  builder->built_with_stream |= has_stream;
  return g_steal_pointer (&message);
}
