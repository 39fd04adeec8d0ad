/* fuzz-headers.c: libFuzzer target for address and header validation
 *
 * The input is two strings split at the first 0xFF byte: a header name and a
 * value (0xFF never occurs in UTF-8, so both can still be any valid text).
 * They go wherever a caller's string can reach a header or an envelope: the
 * MIME checks, every MkMessageBuilder setter, MkEnvelope. Whatever is
 * accepted, nothing with CR, LF or NUL gets through:
 *
 * - a string a check accepts holds no line break (and a field name only
 *   RFC 5322 ftext);
 * - the message the builder builds is written with only CRLF line ends,
 *   lines of at most 998 octets, a header block of fields and folds, and no
 *   field twice except the one added by name (so no injected To, Cc or Bcc);
 * - an envelope address holds no control character;
 * - a raw header block accepted by mk_mime_check_header_block() has no NUL,
 *   no bare CR or LF and no over-long line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "libmailkit/mime/mk-mime-check-private.h"
#include "libmailkit/send/mk-message-writer-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
assert_no_break (const char *s)
{
  g_assert_null (strpbrk (s, "\r\n"));
}

/* A refusal is MK_MIME_ERROR_INVALID (or the caller's own G_IO_ERROR for
 * attachments); an acceptance passes the value on. */
static gboolean
accepted (gboolean ok, GError **error)
{
  g_assert_true (ok == (*error == NULL));
  if (!ok)
    {
      if ((*error)->domain != MK_MIME_ERROR && (*error)->domain != MK_SMTP_ERROR)
        g_error ("refused with an unexpected error: %s", (*error)->message);
      g_clear_error (error);
    }
  return ok;
}

static void
check_checks (const char *name, const char *value)
{
  g_autofree char *id = NULL;

  if (mk_mime_check_header_name (name, NULL))
    for (const guchar *p = (const guchar *)name; *p != '\0'; p++)
      g_assert_true (*p >= 33 && *p <= 126 && *p != ':');
  if (mk_mime_check_token ("token", value, NULL))
    assert_no_break (value);
  if (mk_mime_check_parameter_value ("parameter", value, NULL))
    assert_no_break (value);
  if (mk_mime_check_text ("text", value, NULL))
    g_assert_true (g_utf8_validate (value, -1, NULL));
  if (mk_mime_check_boundary (value, NULL))
    {
      assert_no_break (value);
      g_assert_cmpuint (strlen (value), <=, MK_MIME_MAX_BOUNDARY_LENGTH);
    }
  id = mk_mime_check_msg_id ("id", value, FALSE, NULL);
  if (id != NULL)
    {
      assert_no_break (id);
      g_assert_null (strpbrk (id, " <>"));
    }
}

/* The written message: CRLF only, short lines, and a top-level header
 * block of fields and folds in which no field but @added repeats. */
static void
check_written (const char *text, gsize length, const char *added)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *end_of_headers = g_strstr_len (text, length, "\r\n\r\n");
  const char *p = text;

  g_assert_nonnull (end_of_headers);
  g_assert_null (memchr (text, '\0', length));
  for (gsize i = 0; i < length; i++)
    {
      if (text[i] == '\r')
        g_assert_true (i + 1 < length && text[i + 1] == '\n');
      if (text[i] == '\n')
        g_assert_true (i > 0 && text[i - 1] == '\r');
    }
  while (p < text + length)
    {
      const char *eol = memchr (p, '\n', text + length - p);

      g_assert_nonnull (eol);
      g_assert_cmpuint (eol - 1 - p, <=, MK_MIME_MAX_LINE_LENGTH);
      p = eol + 1;
    }
  g_assert_true (mk_mime_check_header_block (text, end_of_headers + 2 - text, NULL));

  for (p = text; p < end_of_headers + 2;)
    {
      const char *eol = strstr (p, "\r\n");

      if (p[0] != ' ' && p[0] != '\t')
        {
          g_autofree char *field = g_ascii_strdown (p, strchr (p, ':') - p);

          if (added == NULL || g_ascii_strcasecmp (field, added) != 0)
            {
              g_assert_false (g_hash_table_contains (seen, field));
              g_assert_cmpstr (field, !=, "bcc");
              g_hash_table_add (seen, g_steal_pointer (&field));
            }
        }
      p = eol + 2;
    }
}

/* The Date field is no input's: one fixed date spares every run reading
 * the local time zone (two stat() calls and a GTimeZone). */
static GDateTime *
fixed_date (void)
{
  static GDateTime *date;

  if (date == NULL)
    date = g_date_time_new_utc (2026, 1, 2, 3, 4, 5);
  return date;
}

static void
check_builder (const char *name, const char *value)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (MkMessageWriter) writer = NULL;
  const char *domain = NULL;
  const char *added = NULL;
  GError *error = NULL;

  mk_message_builder_set_date (builder, fixed_date ());
  g_assert_true (mk_message_builder_set_from (builder, "a@example.org", NULL));
  g_assert_true (mk_message_builder_add_to (builder, "b@example.org", NULL));
  g_assert_true (mk_message_builder_add_bcc (builder, "hidden@example.org", NULL));
  if (accepted (mk_message_builder_add_header (builder, name, value, &error), &error))
    added = name;
  accepted (mk_message_builder_set_subject (builder, value, &error), &error);
  accepted (mk_message_builder_add_cc (builder, value, &error), &error);
  accepted (mk_message_builder_set_reply_to (builder, value, &error), &error);
  accepted (mk_message_builder_set_message_id (builder, value, &error), &error);
  accepted (mk_message_builder_set_text (builder, value, &error), &error);
  accepted (mk_message_builder_add_attachment_bytes (builder, content, value, NULL, &error),
            &error);
  accepted (mk_message_builder_add_attachment_bytes (builder, content, "f.bin", value, &error),
            &error);

  message = mk_message_builder_build (builder, &error);
  if (!accepted (message != NULL, &error))
    return;

  /* The envelope: the same addresses as they go into MAIL and RCPT. A
   * From or To replaced through add_header() may hold no usable address.
   * Made once, it also gives the writer the Message-ID domain, as
   * mk_message_write_to_stream() and sending do. */
  envelope = mk_envelope_new_from_message (message, NULL, NULL, &error);
  if (accepted (envelope != NULL, &error))
    domain = mk_envelope_get_message_id_domain (envelope);
  writer = mk_message_writer_new (message, domain, NULL, NULL);
  g_assert_nonnull (writer);
  g_assert_true (mk_message_writer_choose_transport (writer, TRUE, FALSE, NULL));
  g_assert_true (mk_message_writer_write (writer, out, NULL, NULL));
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  check_written (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
                 g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), added);

  if (envelope == NULL)
    return;
  accepted (mk_envelope_add_recipient (envelope, value, &error), &error);
  for (const char *const *r = mk_envelope_get_recipients (envelope); *r != NULL; r++)
    for (const guchar *c = (const guchar *)*r; *c != '\0'; c++)
      g_assert_true (*c >= 0x20 && *c != 0x7f);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *split = memchr (data, 0xff, size);
  gsize name_length = split != NULL ? (gsize)(split - data) : size;
  g_autofree char *name = g_strndup ((const char *)data, name_length);
  g_autofree char *value
      = split != NULL ? g_strndup ((const char *)split + 1, size - name_length - 1) : g_strdup ("");

  /* The raw bytes, NULs included, as a header block. */
  if (mk_mime_check_header_block ((const char *)data, size, NULL))
    {
      g_assert_null (memchr (data, '\0', size));
      g_assert_true (size == 0 || (size >= 2 && data[size - 2] == '\r' && data[size - 1] == '\n'));
    }
  check_checks (name, value);
  check_builder (name, value);
  return 0;
}
