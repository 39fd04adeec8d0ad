/* mk-message-writer.c: a GMimeMessage as the bytes of a mail transaction
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GMime serialises; this file decides what it serialises (transfer
 * encodings fit for the server, Bcc hidden, Date and Message-ID present)
 * and checks that what went out is what was counted. The bytes then pass
 * through smtp/'s data stream, which makes every line end CRLF and frames
 * them for DATA or BDAT.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "mk-message-writer-private.h"
#include "mk-mime-stream-output-private.h"
#include "libmailkit/mime/mk-mime-base64-stream-private.h"
#include "libmailkit/mime/mk-mime-file-stream-private.h"
#include "libmailkit/mime/mk-mime-generated-private.h"
#include "libmailkit/smtp/mk-smtp-data-stream-private.h"
#include "libmailkit/smtp/mk-smtp-error.h"

/* GMimeFilterBest's rule (RFC 2045 §6.7 vs §6.8): from this share of
 * 8-bit octets on, base64 is the shorter encoding. */
#define BASE64_SHARE_PERCENT 17
/* A message whose part contents add up to at most this many octets is
 * serialised once, into memory, when it is counted, and sent from there:
 * a small message then costs one pass through GMime instead of two, and
 * the server's work on the previous message can overlap it. Larger ones
 * stream, so that memory stays bounded (the serialisation of this much is
 * at most three times it, quoted-printable's worst case). */
#define RENDER_IN_MEMORY_MAX (64 * 1024)

typedef struct
{
  GMimePart *part;      /* owned by the message */
  GMimeStream *content; /* the part's content stream, as it was looked at */
  gint64 content_size;  /* its size then, -1 if unknown */
  gboolean in_signed;   /* inside multipart/signed or /encrypted */
  gboolean scanned;     /* identity encoding, content read: the counts hold */
  gsize count0, count8, total, maxline;
} PartInfo;

struct _MkMessageWriter
{
  GMimeMessage *message;
  GMimeFormatOptions *options;
  char *extra_headers;
  GArray *parts; /* of PartInfo */
  gboolean rereadable;
  gboolean headers_8bit;
  gboolean needs_8bitmime;
  gboolean needs_binarymime;
  goffset size;
  /* The whole serialisation, when the count made it (small messages). */
  GByteArray *rendered;
};

static void
part_info_clear (gpointer data)
{
  PartInfo *info = data;

  g_clear_object (&info->content);
}

/* The size of the data behind @stream now: a file's size from the file
 * itself (so that a file truncated or removed behind GMime's back shows),
 * within the stream's bounds; -1 if unknown, or gone (@error set then). */
static gint64
content_size (GMimeStream *stream, GError **error)
{
  gint64 size;

  if (GMIME_IS_STREAM_FS (stream))
    {
      struct stat st;

      if (fstat (GMIME_STREAM_FS (stream)->fd, &st) != 0)
        {
          int saved_errno = errno;

          g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               g_strerror (saved_errno));
          return -1;
        }
      if (!S_ISREG (st.st_mode))
        return -1;
      size = st.st_size;
    }
  else if (GMIME_IS_STREAM_GIO (stream))
    {
      g_autoptr (GFileInfo) info
          = g_file_query_info (GMIME_STREAM_GIO (stream)->file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                               G_FILE_QUERY_INFO_NONE, NULL, error);

      if (info == NULL)
        return -1;
      size = g_file_info_get_size (info);
    }
  else
    return g_mime_stream_length (stream);

  if (stream->bound_end != -1)
    size = MIN (size, stream->bound_end);
  return MAX (size - stream->bound_start, -1);
}

/* How an error names a part: its file name and, when the stream knows it,
 * the path of the file it reads. */
static char *
describe_part (const PartInfo *info)
{
  const char *name = g_mime_part_get_filename (info->part);
  g_autofree char *path = NULL;
  g_autofree char *type = NULL;

  if (GMIME_IS_STREAM_GIO (info->content) && GMIME_STREAM_GIO (info->content)->file != NULL)
    path = g_file_get_path (GMIME_STREAM_GIO (info->content)->file);
  else if (GMIME_IS_STREAM_FS (info->content))
    {
      g_autofree char *link
          = g_strdup_printf ("/proc/self/fd/%d", GMIME_STREAM_FS (info->content)->fd);

      path = g_file_read_link (link, NULL);
    }
  if (name != NULL && path != NULL)
    return g_strdup_printf ("the attachment “%s” (%s)", name, path);
  if (name != NULL)
    return g_strdup_printf ("the attachment “%s”", name);
  if (path != NULL)
    return g_strdup_printf ("the file %s", path);
  type = g_mime_content_type_get_mime_type (
      g_mime_object_get_content_type (GMIME_OBJECT (info->part)));
  return g_strdup_printf ("a part of type %s", type);
}

static void
set_read_error (GError **error, int saved_errno, const PartInfo *info)
{
  g_autofree char *what = describe_part (info);

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot read %s: %s", what,
               g_strerror (saved_errno));
}

static gboolean
check_header_block (MkMessageWriter *self, GMimeObject *object, GError **error)
{
  g_autofree char *block = g_mime_object_get_headers (object, self->options);
  gsize line_length = 0;

  for (const char *p = block; p != NULL && *p != '\0'; p++)
    {
      if (*p == '\r' || *p == '\n')
        {
          line_length = 0;
          continue;
        }
      if ((guchar)*p >= 0x80)
        self->headers_8bit = TRUE;
      if (++line_length > MK_SMTP_DATA_MAX_LINE_LENGTH)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                       "The message has a header line longer than %d octets, which SMTP "
                       "cannot carry (RFC 5322 §2.1.1)",
                       MK_SMTP_DATA_MAX_LINE_LENGTH);
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads the decoded content of a part with an identity transfer encoding,
 * counting what decides its transport. */
static gboolean
scan_content (PartInfo *info, GMimeDataWrapper *content, GError **error)
{
  g_autoptr (GMimeStream) null = g_mime_stream_null_new ();
  g_autoptr (GMimeStream) filtered = g_mime_stream_filter_new (null);
  g_autoptr (GMimeFilter) filter = g_mime_filter_best_new (GMIME_FILTER_BEST_ENCODING);
  GMimeFilterBest *best = GMIME_FILTER_BEST (filter);

  g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
  errno = 0;
  if (g_mime_data_wrapper_write_to_stream (content, filtered) < 0
      || g_mime_stream_flush (filtered) < 0)
    {
      set_read_error (error, errno != 0 ? errno : EIO, info);
      return FALSE;
    }
  info->scanned = TRUE;
  info->count0 = best->count0;
  info->count8 = best->count8;
  info->total = best->total;
  info->maxline = best->maxline;
  return TRUE;
}

static gboolean
analyse_part (MkMessageWriter *self, GMimePart *part, gboolean in_signed, GError **error)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  PartInfo info = { part, NULL, -1, in_signed };
  GMimeStream *stream;
  gboolean rereadable;

  g_autoptr (GError) local_error = NULL;

  if (content == NULL)
    return TRUE;
  stream = g_mime_data_wrapper_get_stream (content);
  if (stream == NULL)
    return TRUE;
  info.content = g_object_ref (stream);
  info.content_size = content_size (stream, &local_error);
  if (local_error != NULL)
    {
      /* The file is gone already (a GIO stream opens it on first read). */
      g_autofree char *what = describe_part (&info);

      g_set_error (error, local_error->domain, local_error->code, "Cannot read %s: %s", what,
                   local_error->message);
      part_info_clear (&info);
      return FALSE;
    }
  rereadable = g_mime_stream_length (stream) >= 0;
  self->rereadable = self->rereadable && rereadable;
  if (!rereadable)
    info.content_size = -1;

  /* A file cut short since the part was made of it (with bounds) would go
   * out short without any read failing. */
  if (rereadable && stream->bound_end != -1
      && info.content_size < stream->bound_end - stream->bound_start)
    {
      g_autofree char *what = describe_part (&info);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot send %s: the file is shorter than when it was attached", what);
      part_info_clear (&info);
      return FALSE;
    }

  switch (g_mime_part_get_content_encoding (part))
    {
    case GMIME_CONTENT_ENCODING_DEFAULT:
    case GMIME_CONTENT_ENCODING_7BIT:
    case GMIME_CONTENT_ENCODING_8BIT:
    case GMIME_CONTENT_ENCODING_BINARY:
      if (rereadable && !scan_content (&info, content, error))
        {
          part_info_clear (&info);
          return FALSE;
        }
      break;
    default:
      /* base64, quoted-printable, uuencode: 7-bit, short lines. */
      break;
    }
  g_array_append_val (self->parts, info);
  return TRUE;
}

static gboolean
analyse_object (MkMessageWriter *self, GMimeObject *object, gboolean in_signed, GError **error)
{
  if (object == NULL)
    return TRUE;
  if (!check_header_block (self, object, error))
    return FALSE;
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      gboolean sealed = in_signed || GMIME_IS_MULTIPART_SIGNED (object)
                        || GMIME_IS_MULTIPART_ENCRYPTED (object);

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        if (!analyse_object (self, g_mime_multipart_get_part (multipart, i), sealed, error))
          return FALSE;
      return TRUE;
    }
  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      return inner == NULL
             || (check_header_block (self, GMIME_OBJECT (inner), error)
                 && analyse_object (self, g_mime_message_get_mime_part (inner), in_signed, error));
    }
  if (GMIME_IS_PART (object))
    return analyse_part (self, GMIME_PART (object), in_signed, error);
  return TRUE;
}

MkMessageWriter *
mk_message_writer_new (GMimeMessage *message, const char *message_id_domain,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (MkMessageWriter) self = NULL;
  GString *extra;

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (MkMessageWriter, 1);
  extra = g_string_new (NULL);
  self->message = g_object_ref (message);
  self->parts = g_array_new (FALSE, TRUE, sizeof (PartInfo));
  g_array_set_clear_func (self->parts, part_info_clear);
  self->rereadable = TRUE;
  self->size = -1;

  /* Bcc is for the envelope only (RFC 5322 §3.6.3, the "removed" form);
   * hiding the headers at output leaves the caller's message as it is. */
  self->options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (self->options, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_format_options_add_hidden_header (self->options, "Bcc");
  g_mime_format_options_add_hidden_header (self->options, "Resent-Bcc");

  /* RFC 5322 §3.6: Date is required and Message-ID should be there; a
   * message without them is sent with them, written ahead of what GMime
   * writes since format options cannot add headers. */
  if (g_mime_object_get_header (GMIME_OBJECT (message), "Date") == NULL)
    {
      g_autoptr (GDateTime) now = mk_mime_generated_date ();
      g_autofree char *date = g_mime_utils_header_format_date (now);

      g_string_append_printf (extra, "Date: %s\r\n", date);
    }
  if (g_mime_object_get_header (GMIME_OBJECT (message), "Message-ID") == NULL)
    {
      g_autofree char *id = mk_mime_generated_message_id (message_id_domain);

      g_string_append_printf (extra, "Message-ID: <%s>\r\n", id);
    }
  self->extra_headers = g_string_free (extra, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error)
      || !check_header_block (self, GMIME_OBJECT (message), error)
      || !analyse_object (self, g_mime_message_get_mime_part (message), FALSE, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
mk_message_writer_free (MkMessageWriter *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->message);
  g_clear_pointer (&self->options, g_mime_format_options_free);
  g_clear_pointer (&self->parts, g_array_unref);
  g_clear_pointer (&self->rendered, g_byte_array_unref);
  g_free (self->extra_headers);
  g_free (self);
}

/* The encoding for 7-bit transport: quoted-printable keeps mostly-ASCII
 * text readable, base64 is shorter for the rest. */
static GMimeContentEncoding
seven_bit_encoding (const PartInfo *info)
{
  GMimeContentType *type = g_mime_object_get_content_type (GMIME_OBJECT (info->part));

  if (!info->scanned)
    return g_mime_content_type_is_type (type, "text", "*") ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                                                           : GMIME_CONTENT_ENCODING_BASE64;
  if (info->count0 > 0 || info->count8 * 100 >= info->total * BASE64_SHARE_PERCENT)
    return GMIME_CONTENT_ENCODING_BASE64;
  return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

static GMimeContentEncoding
choose_encoding (const PartInfo *info, gboolean eight_bit_mime, gboolean binary_mime)
{
  GMimeContentEncoding current = g_mime_part_get_content_encoding (info->part);
  gboolean identity
      = current == GMIME_CONTENT_ENCODING_DEFAULT || current == GMIME_CONTENT_ENCODING_7BIT
        || current == GMIME_CONTENT_ENCODING_8BIT || current == GMIME_CONTENT_ENCODING_BINARY;

  if (!identity)
    return current;
  /* RFC 3030 §3: BINARYMIME carries a part labelled binary, and data only
   * binary can carry (NUL octets, long lines), as it is. */
  if (binary_mime && info->scanned
      && (current == GMIME_CONTENT_ENCODING_BINARY || info->count0 > 0
          || info->maxline > MK_SMTP_DATA_MAX_LINE_LENGTH))
    return GMIME_CONTENT_ENCODING_BINARY;
  /* Unread content, NUL octets (RFC 5321 §4.5.2 has no room for them
   * without BINARYMIME) or over-long lines: encoded whatever the server. */
  if (!info->scanned || info->count0 > 0 || info->maxline > MK_SMTP_DATA_MAX_LINE_LENGTH)
    return seven_bit_encoding (info);
  if (info->count8 > 0)
    return eight_bit_mime ? GMIME_CONTENT_ENCODING_8BIT : seven_bit_encoding (info);
  /* 7-bit clean: "binary" or "8bit" would still be a true label. */
  return current;
}

gboolean
mk_message_writer_choose_transport (MkMessageWriter *self, gboolean eight_bit_mime,
                                    gboolean binary_mime, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  self->needs_8bitmime = self->headers_8bit;
  self->needs_binarymime = FALSE;
  if (self->headers_8bit && !eight_bit_mime)
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "The message has 8-bit text in its headers and the server does not "
                           "offer 8BITMIME");
      return FALSE;
    }
  for (guint i = 0; i < self->parts->len; i++)
    {
      PartInfo *info = &g_array_index (self->parts, PartInfo, i);
      GMimeContentEncoding encoding = choose_encoding (info, eight_bit_mime, binary_mime);

      if (encoding == GMIME_CONTENT_ENCODING_8BIT)
        self->needs_8bitmime = TRUE;
      if (encoding == GMIME_CONTENT_ENCODING_BINARY && binary_mime)
        self->needs_binarymime = TRUE;
      if (encoding == g_mime_part_get_content_encoding (info->part))
        continue;
      if (info->in_signed)
        {
          g_autofree char *what = describe_part (info);

          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                       "%s is signed or encrypted and would need another transfer encoding "
                       "for this server (8-bit data without 8BITMIME, NUL octets or long "
                       "lines), which would break its signature",
                       what);
          return FALSE;
        }
      g_mime_part_set_content_encoding (info->part, encoding);
    }
  return TRUE;
}

gboolean
mk_message_writer_needs_8bitmime (MkMessageWriter *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->needs_8bitmime;
}

gboolean
mk_message_writer_needs_binarymime (MkMessageWriter *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->needs_binarymime;
}

static gboolean
read_fails (GMimeStream *stream)
{
  char byte;

  return g_mime_stream_reset (stream) < 0 || g_mime_stream_read (stream, &byte, 1) < 0;
}

/* After a failed read (@saved_errno) or a size that differs from the
 * count, the part to blame: GMime reports -1 and errno, not which stream
 * failed, so the first part whose file changed size since it was looked
 * at, or, after a failed read, whose data cannot be read now. */
static const PartInfo *
find_changed_part (MkMessageWriter *self, int saved_errno)
{
  for (guint i = 0; i < self->parts->len; i++)
    {
      const PartInfo *info = &g_array_index (self->parts, PartInfo, i);

      if ((info->content_size >= 0 && content_size (info->content, NULL) != info->content_size)
          || (saved_errno != 0 && read_fails (info->content)))
        return info;
    }
  return NULL;
}

static void
set_changed_error (MkMessageWriter *self, GError **error, int saved_errno)
{
  const PartInfo *info = find_changed_part (self, saved_errno);
  g_autofree char *what = info != NULL ? describe_part (info) : NULL;

  if (saved_errno != 0 && info != NULL)
    set_read_error (error, saved_errno, info);
  else if (saved_errno != 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "Cannot read the content of the message: %s", g_strerror (saved_errno));
  else if (info != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "Cannot send %s: the file changed while the message was being sent", what);
  else
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         "The message changed while it was being sent");
}

/* A base64 part whose content GMime would encode on the way out, as it
 * stood before GMime was handed its encoding (see write_message()). */
typedef struct
{
  GMimePart *part;
  GMimeDataWrapper *content;
  gint64 counted; /* its encoded length when a count took it from there, or -1 */
} RawPart;

static const RawPart *
find_raw_part (GArray *raw, GMimePart *part)
{
  for (guint i = 0; i < raw->len; i++)
    if (g_array_index (raw, RawPart, i).part == part)
      return &g_array_index (raw, RawPart, i);
  return NULL;
}

static gboolean
is_identity (GMimeContentEncoding encoding)
{
  return encoding == GMIME_CONTENT_ENCODING_DEFAULT || encoding == GMIME_CONTENT_ENCODING_7BIT
         || encoding == GMIME_CONTENT_ENCODING_8BIT || encoding == GMIME_CONTENT_ENCODING_BINARY;
}

/* A base64 part whose content GMime would encode. Whatever its length,
 * MkMimeBase64Stream gives what GMime's filters would write, nothing for
 * an empty content included (GMime's filters then never see an octet, so
 * its newline filter adds no line break). */
static gboolean
encodes_itself (GMimePart *part)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);

  return g_mime_part_get_content_encoding (part) == GMIME_CONTENT_ENCODING_BASE64 && content != NULL
         && g_mime_data_wrapper_get_stream (content) != NULL
         && is_identity (g_mime_data_wrapper_get_encoding (content));
}

/* Streams whose length is the number of octets a read from the start
 * gives, or else their read fails: a count needs no pass over them. */
static gboolean
has_exact_length (GMimeStream *stream)
{
  return MK_IS_MIME_FILE_STREAM (stream) || GMIME_IS_STREAM_FS (stream)
         || GMIME_IS_STREAM_GIO (stream)
         || (GMIME_IS_STREAM_MEM (stream) && stream->bound_end == -1);
}

/* Serialises the message into @out (GMime's -1 and errno on failure); with
 * @counted_apart, only counts: what the base64 parts take is added there
 * instead of being written into @out.
 *
 * GMime writes a part it must encode through its encoder and then a
 * newline filter, each a pass over every byte in 4 KiB pieces: most of the
 * time of a message with a large attachment. For the length of the write,
 * each such base64 part is handed to GMime as binary content that is
 * already encoded, MkMimeBase64Stream over the same data, which GMime
 * copies as it is: the same bytes, made in one pass. A count hands GMime
 * an empty content instead and takes the encoded length from the content's
 * length, after checking with one octet that the content can be read (as a
 * count that read it all did). Only the part's content and encoding fields
 * change, and back; its header list, where the Content-Transfer-Encoding
 * line that is written comes from, does not. */
static gssize
write_message (MkMessageWriter *self, GMimeStream *out, gint64 *counted_apart)
{
  g_autoptr (GArray) raw = g_array_new (FALSE, FALSE, sizeof (RawPart));
  gssize written = 0;
  int saved_errno = 0;

  for (guint i = 0; i < self->parts->len && written == 0; i++)
    {
      RawPart saved = { g_array_index (self->parts, PartInfo, i).part, NULL, -1 };
      const RawPart *again = find_raw_part (raw, saved.part);
      g_autoptr (GMimeStream) encoded = NULL;
      g_autoptr (GMimeDataWrapper) wrapper = NULL;
      GMimeStream *content;

      /* A part found twice in the tree is handed over once, and written
       * twice. */
      if (counted_apart != NULL && again != NULL && again->counted >= 0)
        *counted_apart += again->counted;
      if (again != NULL || !encodes_itself (saved.part))
        continue;
      saved.content = g_object_ref (g_mime_part_get_content (saved.part));
      content = g_mime_data_wrapper_get_stream (saved.content);
      if (counted_apart != NULL && has_exact_length (content))
        {
          if (read_fails (content))
            {
              written = -1;
              saved_errno = errno;
            }
          /* Closed until the write: a message may hold thousands. */
          g_mime_stream_reset (content);
          saved.counted = mk_mime_base64_stream_encoded_length (g_mime_stream_length (content));
          *counted_apart += saved.counted;
          encoded = g_mime_stream_mem_new ();
        }
      else
        encoded = mk_mime_base64_stream_new (content);
      wrapper = g_mime_data_wrapper_new_with_stream (encoded, GMIME_CONTENT_ENCODING_BINARY);
      g_mime_part_set_content (saved.part, wrapper);
      saved.part->encoding = GMIME_CONTENT_ENCODING_BINARY;
      g_array_append_val (raw, saved);
    }
  if (written == 0)
    {
      written = g_mime_object_write_to_stream (GMIME_OBJECT (self->message), self->options, out);
      saved_errno = errno;
    }
  for (guint i = raw->len; i > 0; i--)
    {
      RawPart *saved = &g_array_index (raw, RawPart, i - 1);

      g_mime_part_set_content (saved->part, saved->content);
      saved->part->encoding = GMIME_CONTENT_ENCODING_BASE64;
      g_object_unref (saved->content);
    }
  errno = saved_errno;
  return written;
}

/* The sizes of the parts' contents added up, when every one is known and
 * they add up to at most RENDER_IN_MEMORY_MAX; -1 otherwise. */
static gint64
small_contents (MkMessageWriter *self)
{
  gint64 total = 0;

  for (guint i = 0; i < self->parts->len; i++)
    {
      gint64 size = g_array_index (self->parts, PartInfo, i).content_size;

      if (size < 0 || (total += size) > RENDER_IN_MEMORY_MAX)
        return -1;
    }
  return total;
}

/* The count of a small message: its serialisation, kept for the write. A
 * file that changed size since it was looked at (a read cut short by a
 * truncation reports no error) fails it, as the check after a write does
 * for a larger message. */
static goffset
render (MkMessageWriter *self, gint64 contents, GError **error)
{
  /* Sized for the contents and a header block, so that it rarely grows. */
  g_autoptr (GMimeStream) memory
      = g_mime_stream_mem_new_with_byte_array (g_byte_array_sized_new (contents + 4096));

  errno = 0;
  if (g_mime_stream_write_string (memory, self->extra_headers) < 0
      || write_message (self, memory, NULL) < 0)
    {
      set_changed_error (self, error, errno != 0 ? errno : EIO);
      return -1;
    }
  if (find_changed_part (self, 0) != NULL)
    {
      set_changed_error (self, error, 0);
      return -1;
    }
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (memory), FALSE);
  self->rendered = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (memory));
  self->size = self->rendered->len;
  return self->size;
}

goffset
mk_message_writer_count (MkMessageWriter *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMimeStream) null = NULL;
  gint64 counted_apart = 0;
  gint64 contents;

  g_return_val_if_fail (self != NULL, -1);

  g_clear_pointer (&self->rendered, g_byte_array_unref);
  if (!self->rereadable)
    return -1;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if ((contents = small_contents (self)) >= 0)
    return render (self, contents, error);
  null = g_mime_stream_null_new ();
  errno = 0;
  if (write_message (self, null, &counted_apart) < 0)
    {
      set_changed_error (self, error, errno != 0 ? errno : EIO);
      return -1;
    }
  self->size = strlen (self->extra_headers) + GMIME_STREAM_NULL (null)->written + counted_apart;
  return self->size;
}

gboolean
mk_message_writer_write (MkMessageWriter *self, GOutputStream *stream, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GMimeStream) out = NULL;
  MkMimeStreamOutput *output;
  guint64 written;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);

  if (self->rendered != NULL)
    {
      g_autoptr (GByteArray) rendered = g_steal_pointer (&self->rendered);

      /* Freed once sent: a batch of messages holds one at a time. */
      return g_output_stream_write_all (stream, rendered->data, rendered->len, NULL, cancellable,
                                        error);
    }
  out = mk_mime_stream_output_new (stream, cancellable);
  output = MK_MIME_STREAM_OUTPUT (out);
  errno = 0;
  if (g_mime_stream_write_string (out, self->extra_headers) < 0
      || write_message (self, out, NULL) < 0 || g_mime_stream_flush (out) < 0)
    {
      int saved_errno = errno != 0 ? errno : EIO;
      GError *write_error = mk_mime_stream_output_take_error (output);

      /* The connection failed (or the call was cancelled), or reading the
       * message did: only the second is about a file. */
      if (write_error != NULL)
        g_propagate_error (error, write_error);
      else
        set_changed_error (self, error, saved_errno);
      return FALSE;
    }
  written = mk_mime_stream_output_get_written (output);
  if (self->size >= 0 && written != (guint64)self->size)
    {
      set_changed_error (self, error, 0);
      return FALSE;
    }
  return TRUE;
}
