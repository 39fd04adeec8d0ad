/* test-mime-base64-stream.c: base64 with CRLF in one pass, byte for byte
 * what GMime writes
 *
 * GMime's own serialisation (its encoder and unix2dos filters) is the
 * reference: the stream alone over many lengths and read sizes, and whole
 * messages written by send/, which hands base64 parts to GMime through
 * the stream.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "libmailkit/mime/mk-mime-base64-stream-private.h"
#include "libmailkit/mime/mk-mime-file-stream-private.h"
#include "libmailkit/mime/mk-mime-input-stream-private.h"
#include "libmailkit/send/mk-message-writer-private.h"
#include "mime-test-common.h"
#include "mk-test-utils.h"

#define BLOCK_OCTETS (MK_MIME_BASE64_STREAM_BLOCK_LINES * MK_MIME_BASE64_LINE_OCTETS)

static GBytes *
random_bytes (gsize length)
{
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = g_test_rand_int_range (0, 256);
  return g_bytes_new_take (data, length);
}

static GMimeStream *
stream_of (GBytes *data)
{
  gsize length = 0;
  const char *bytes = g_bytes_get_data (data, &length);

  return g_mime_stream_mem_new_with_buffer (length > 0 ? bytes : "", length);
}

static GMimeObject *
base64_part (GMimeStream *stream)
{
  GMimePart *part = g_mime_part_new ();
  g_autoptr (GMimeDataWrapper) content
      = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (part, content);
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  return GMIME_OBJECT (part);
}

/* What GMime writes as the content of a base64 part holding @data. */
static GBytes *
gmime_base64 (GBytes *data)
{
  g_autoptr (GMimeStream) source = stream_of (data);
  g_autoptr (GMimeObject) part = base64_part (source);
  g_autoptr (GMimeFormatOptions) options = g_mime_format_options_new ();
  g_autoptr (GMimeStream) out = g_mime_stream_mem_new ();
  GByteArray *array;

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  g_assert_cmpint (g_mime_object_write_content_to_stream (part, options, out), >=, 0);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  return g_bytes_new (array->data, array->len);
}

/* Everything @stream gives, read @chunk bytes at a time. */
static GBytes *
read_all (GMimeStream *stream, gsize chunk)
{
  g_autoptr (GByteArray) all = g_byte_array_new ();
  g_autofree char *buffer = g_malloc (chunk);
  guint reads = 0;

  while (!g_mime_stream_eos (stream))
    {
      ssize_t n = g_mime_stream_read (stream, buffer, chunk);

      g_assert_cmpint (n, >=, 0);
      g_assert_cmpuint (++reads, <, 100 * 1000 * 1000);
      if (n == 0)
        break;
      g_byte_array_append (all, (guint8 *)buffer, n);
    }
  g_assert_true (g_mime_stream_eos (stream));
  return g_byte_array_free_to_bytes (g_steal_pointer (&all));
}

static GBytes *
encode (GBytes *data, gsize chunk)
{
  g_autoptr (GMimeStream) source = stream_of (data);
  g_autoptr (GMimeStream) stream = mk_mime_base64_stream_new (source);

  return read_all (stream, chunk);
}

static void
assert_bytes_equal (GBytes *actual, GBytes *expected)
{
  gsize actual_length = 0, expected_length = 0;
  const guint8 *a = g_bytes_get_data (actual, &actual_length);
  const guint8 *e = g_bytes_get_data (expected, &expected_length);

  g_assert_cmpmem (a, actual_length, e, expected_length);
}

static void
test_lengths (void)
{
  /* Every remainder of a line and of a group, and around the stream's
   * block, where a read of the source ends. */
  const gsize block_lengths[] = {
    BLOCK_OCTETS - 1, BLOCK_OCTETS,          BLOCK_OCTETS + 1,
    2 * BLOCK_OCTETS, 2 * BLOCK_OCTETS + 58, 3 * BLOCK_OCTETS + 1001,
  };

  for (gsize length = 0; length <= 3 * MK_MIME_BASE64_LINE_OCTETS + 3; length++)
    {
      g_autoptr (GBytes) data = random_bytes (length);
      g_autoptr (GBytes) expected = gmime_base64 (data);
      g_autoptr (GBytes) whole = encode (data, 1 << 20);
      g_autoptr (GBytes) bytewise = encode (data, 1);

      assert_bytes_equal (whole, expected);
      assert_bytes_equal (bytewise, expected);
    }
  for (guint i = 0; i < G_N_ELEMENTS (block_lengths); i++)
    {
      g_autoptr (GBytes) data = random_bytes (block_lengths[i]);
      g_autoptr (GBytes) expected = gmime_base64 (data);
      g_autoptr (GBytes) gmime_sized = encode (data, 4096);
      g_autoptr (GBytes) odd = encode (data, 7919);

      assert_bytes_equal (gmime_sized, expected);
      assert_bytes_equal (odd, expected);
    }
}

static void
test_every_octet (void)
{
  g_autoptr (GByteArray) all = g_byte_array_new ();
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GBytes) expected = NULL;
  g_autoptr (GBytes) actual = NULL;

  /* Each value in each of the three positions of a group. */
  for (guint shift = 0; shift < 3; shift++)
    for (guint value = 0; value < 256; value++)
      {
        guint8 group[3] = { 0x55, 0xaa, 0x0f };

        group[shift] = value;
        g_byte_array_append (all, group, sizeof group);
      }
  data = g_byte_array_free_to_bytes (g_steal_pointer (&all));
  expected = gmime_base64 (data);
  actual = encode (data, 4096);
  assert_bytes_equal (actual, expected);
}

static void
test_bounded_source (void)
{
  g_autoptr (GBytes) data = random_bytes (20000);
  g_autoptr (GBytes) middle = g_bytes_new_from_bytes (data, 1234, 5000);
  g_autoptr (GBytes) expected = gmime_base64 (middle);
  g_autoptr (GMimeStream) whole = stream_of (data);
  g_autoptr (GMimeStream) source = g_mime_stream_substream (whole, 1234, 1234 + 5000);
  g_autoptr (GMimeStream) stream = mk_mime_base64_stream_new (source);
  g_autoptr (GBytes) actual = read_all (stream, 4096);

  assert_bytes_equal (actual, expected);
}

static void
test_reset (void)
{
  g_autoptr (GBytes) data = random_bytes (BLOCK_OCTETS + 100);
  g_autoptr (GMimeStream) source = stream_of (data);
  g_autoptr (GMimeStream) stream = mk_mime_base64_stream_new (source);
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) again = NULL;
  char buffer[100];

  /* Midway, then from the start again: the source is read anew. */
  g_assert_cmpint (g_mime_stream_read (stream, buffer, sizeof buffer), ==, sizeof buffer);
  g_assert_cmpint (g_mime_stream_reset (stream), ==, 0);
  g_assert_cmpint (g_mime_stream_tell (stream), ==, 0);
  first = read_all (stream, 4096);
  g_assert_cmpint (g_mime_stream_tell (stream), ==, g_bytes_get_size (first));
  g_assert_cmpint (g_mime_stream_reset (stream), ==, 0);
  again = read_all (stream, 4096);
  assert_bytes_equal (again, first);
  g_assert_cmpmem (g_bytes_get_data (first, NULL), sizeof buffer, buffer, sizeof buffer);
}

static void
test_source_fails (void)
{
  g_autofree char *path = mime_test_write_temp ("grows.bin", "0123456789", 10);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInfo) info = g_file_query_info (file, MK_MIME_FILE_STREAM_ATTRIBUTES,
                                                  G_FILE_QUERY_INFO_NONE, NULL, NULL);
  g_autoptr (GMimeStream) source = mk_mime_file_stream_new (file, info);
  g_autoptr (GMimeStream) stream = mk_mime_base64_stream_new (source);
  g_autoptr (GError) error = NULL;
  char buffer[64];

  /* The file stream refuses a file that is not the one it was made of. */
  g_assert_true (g_file_set_contents (path, "0123456789abc", 13, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_mime_stream_read (stream, buffer, sizeof buffer), ==, -1);
}

/* send/ hands base64 parts to GMime through the stream while it writes,
 * and counts them without a pass: the bytes must be GMime's own, the count
 * their number, and the message must be left as it was. */
static GBytes *
writer_bytes (GMimeMessage *message)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (MkMessageWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) written = NULL;
  goffset size;

  writer = mk_message_writer_new (message, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mk_message_writer_choose_transport (writer, TRUE, FALSE, &error));
  size = mk_message_writer_count (writer, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mk_message_writer_write (writer, out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  written = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  /* No count when a part can be read only once. */
  if (size != -1)
    g_assert_cmpint (size, ==, g_bytes_get_size (written));
  return g_steal_pointer (&written);
}

typedef struct
{
  GMimePart *part;
  GMimeDataWrapper *content;
} PartState;

static void
collect_part (GMimeObject *parent, GMimeObject *object, gpointer user_data)
{
  GArray *parts = user_data;
  PartState state = { NULL, NULL };

  if (GMIME_IS_MESSAGE_PART (object))
    g_mime_message_foreach (g_mime_message_part_get_message (GMIME_MESSAGE_PART (object)),
                            collect_part, parts);
  if (!GMIME_IS_PART (object))
    return;
  state.part = GMIME_PART (object);
  state.content = g_mime_part_get_content (state.part);
  g_array_append_val (parts, state);
}

static void
assert_writer_matches_gmime (GMimeMessage *message, guint base64_parts)
{
  g_autoptr (GArray) before = g_array_new (FALSE, FALSE, sizeof (PartState));
  g_autoptr (GArray) after = g_array_new (FALSE, FALSE, sizeof (PartState));
  g_autoptr (GBytes) expected = NULL;
  g_autoptr (GBytes) actual = NULL;
  guint base64 = 0;

  g_mime_message_foreach (message, collect_part, before);
  expected = mime_test_serialize (GMIME_OBJECT (message));
  actual = writer_bytes (message);
  assert_bytes_equal (actual, expected);

  g_mime_message_foreach (message, collect_part, after);
  g_assert_cmpuint (after->len, ==, before->len);
  for (guint i = 0; i < before->len; i++)
    {
      PartState *was = &g_array_index (before, PartState, i);
      PartState *is = &g_array_index (after, PartState, i);
      GMimeContentEncoding encoding = g_mime_part_get_content_encoding (is->part);

      g_assert_true (is->part == was->part);
      g_assert_true (g_mime_part_get_content (is->part) == was->content);
      if (encoding == GMIME_CONTENT_ENCODING_BASE64)
        {
          base64++;
          g_assert_cmpstr (
              g_mime_object_get_header (GMIME_OBJECT (is->part), "Content-Transfer-Encoding"), ==,
              "base64");
        }
    }
  g_assert_cmpuint (base64, ==, base64_parts);
}

static void
add_file (MkMessageBuilder *builder, const char *name, gsize length)
{
  g_autoptr (GBytes) data = random_bytes (length);
  g_autofree char *path = mime_test_write_temp (name, g_bytes_get_data (data, NULL), length);
  g_autoptr (GError) error = NULL;

  g_assert_true (
      mk_message_builder_add_attachment (builder, path, NULL, "application/octet-stream", &error));
  g_assert_no_error (error);
}

static GMimeMessage *
build (MkMessageBuilder *builder)
{
  g_autoptr (GError) error = NULL;
  GMimeMessage *message;

  g_assert_true (mk_message_builder_set_from (builder, "a@example.org", &error));
  g_assert_true (mk_message_builder_add_to (builder, "b@example.net", &error));
  g_assert_true (mk_message_builder_set_subject (builder, "Files", &error));
  g_assert_true (mk_message_builder_set_text (builder, "See the files.\n", &error));
  g_assert_no_error (error);
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static void
test_writer_attachments (void)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (MkMessageBuilder) outer_builder = mk_message_builder_new ();
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GMimeMessage) outer = NULL;
  g_autoptr (GBytes) bytes = random_bytes (777);
  g_autoptr (GError) error = NULL;
  const gsize lengths[] = { 0, 1, 56, 57, 58, 4096, BLOCK_OCTETS, BLOCK_OCTETS + 2, 300001 };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u.bin", i);

      add_file (builder, name, lengths[i]);
    }
  g_assert_true (
      mk_message_builder_add_attachment_bytes (builder, bytes, "memory.bin", NULL, &error));
  g_assert_no_error (error);
  message = build (builder);
  assert_writer_matches_gmime (message, G_N_ELEMENTS (lengths) + 1);
  /* Written twice, as sending does (a count, then the data). */
  assert_writer_matches_gmime (message, G_N_ELEMENTS (lengths) + 1);

  /* Inside a forwarded message too. */
  g_assert_true (mk_message_builder_add_message_attachment (outer_builder, message, &error));
  g_assert_no_error (error);
  add_file (outer_builder, "outer.bin", 1000);
  outer = build (outer_builder);
  assert_writer_matches_gmime (outer, G_N_ELEMENTS (lengths) + 2);
}

static GMimeMessage *
message_with_body (GMimeObject *body)
{
  GMimeMessage *message = g_mime_message_new (TRUE);
  g_autoptr (GDateTime) date = g_date_time_new_utc (2026, 1, 2, 3, 4, 5);

  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, NULL, "a@example.org");
  g_mime_message_set_date (message, date);
  g_mime_message_set_message_id (message, "parts@example.org");
  g_mime_message_set_mime_part (message, body);
  return message;
}

static GMimeMessage *
message_with_parts (GMimeObject **parts, guint n_parts)
{
  g_autoptr (GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");

  /* Fixed, so that two messages made alike are written alike. */
  g_mime_multipart_set_boundary (mixed, "BOUNDARY");
  for (guint i = 0; i < n_parts; i++)
    g_mime_multipart_add (mixed, parts[i]);
  return message_with_body (GMIME_OBJECT (mixed));
}

/* The kinds of content GMime offers, whole and within bounds. */
static void
test_writer_streams (void)
{
  g_autoptr (GBytes) data = random_bytes (100000);
  g_autofree char *path
      = mime_test_write_temp ("streams.bin", g_bytes_get_data (data, NULL), 100000);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeStream) fs = g_mime_stream_fs_open (path, O_RDONLY, 0, &error);
  g_autoptr (GMimeStream) fs_bounded = NULL;
  g_autoptr (GMimeStream) gio = g_mime_stream_gio_new (g_object_ref (file));
  g_autoptr (GMimeStream) mem = stream_of (data);
  g_autoptr (GMimeStream) mem_bounded = g_mime_stream_substream (mem, 10, 70000);
  g_autoptr (GMimeMessage) message = NULL;
  GMimeObject *parts[5];

  g_assert_no_error (error);
  fs_bounded = g_mime_stream_substream (fs, 99, 5000);
  parts[0] = base64_part (fs);
  parts[1] = base64_part (fs_bounded);
  parts[2] = base64_part (gio);
  parts[3] = base64_part (mem);
  parts[4] = base64_part (mem_bounded);
  message = message_with_parts (parts, G_N_ELEMENTS (parts));
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    g_object_unref (parts[i]);
  assert_writer_matches_gmime (message, G_N_ELEMENTS (parts));
}

static void
test_writer_same_part_twice (void)
{
  g_autoptr (GBytes) data = random_bytes (1000);
  g_autoptr (GMimeStream) source = stream_of (data);
  g_autoptr (GMimeObject) part = base64_part (source);
  GMimeObject *parts[] = { part, part };
  g_autoptr (GMimeMessage) message = message_with_parts (parts, G_N_ELEMENTS (parts));

  assert_writer_matches_gmime (message, G_N_ELEMENTS (parts));
}

/* A message whose own part is base64, empty too: GMime asks its newline
 * filter to end that part with a line break, which an empty part does not
 * get (no octet ever reaches the filter). */
static void
test_writer_message_body (void)
{
  const gsize lengths[] = { 0, 1, 1000 };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr (GBytes) data = random_bytes (lengths[i]);
      g_autoptr (GMimeStream) source = stream_of (data);
      g_autoptr (GMimeObject) part = base64_part (source);
      g_autoptr (GMimeMessage) message = message_with_body (part);

      assert_writer_matches_gmime (message, 1);
    }
}

/* Parts read once (a pipe, a socket): no count, but the same bytes. Two
 * messages made alike, one written by GMime, the other by the writer. */
static GMimeMessage *
read_once_message (GBytes **contents, guint n_contents, gboolean multipart)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n_contents; i++)
    {
      g_autoptr (GInputStream) input = g_memory_input_stream_new_from_bytes (contents[i]);
      g_autoptr (GMimeStream) stream = mk_mime_input_stream_new (input);

      g_ptr_array_add (parts, base64_part (stream));
    }
  if (!multipart)
    return message_with_body (parts->pdata[0]);
  return message_with_parts ((GMimeObject **)parts->pdata, parts->len);
}

static void
test_writer_read_once_parts (void)
{
  GBytes *contents[]
      = { random_bytes (0), random_bytes (1), random_bytes (57), random_bytes (BLOCK_OCTETS + 5) };

  for (guint i = 0; i <= G_N_ELEMENTS (contents); i++)
    {
      /* All in a multipart, then each as a message's own part. */
      gboolean multipart = i == 0;
      GBytes **first = multipart ? contents : &contents[i - 1];
      guint n = multipart ? G_N_ELEMENTS (contents) : 1;
      g_autoptr (GMimeMessage) reference = read_once_message (first, n, multipart);
      g_autoptr (GMimeMessage) message = read_once_message (first, n, multipart);
      g_autoptr (GBytes) expected = mime_test_serialize (GMIME_OBJECT (reference));
      g_autoptr (GBytes) actual = writer_bytes (message);

      assert_bytes_equal (actual, expected);
    }
  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    g_bytes_unref (contents[i]);
}

/* A count does not read the files, but still sees one that cannot be
 * read any more, before anything is sent. */
static void
test_writer_count_checks_files (void)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autofree char *path = mime_test_write_temp ("changes.bin", "0123456789", 10);
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (MkMessageWriter) writer = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (
      mk_message_builder_add_attachment (builder, path, NULL, "application/octet-stream", &error));
  g_assert_no_error (error);
  message = build (builder);
  writer = mk_message_writer_new (message, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mk_message_writer_choose_transport (writer, TRUE, FALSE, &error));
  g_assert_true (g_file_set_contents (path, "0123456789abcdef", 16, &error));
  g_assert_cmpint (mk_message_writer_count (writer, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "changes.bin"));
}

/* An output stream that changes a file when the first bytes reach it:
 * the file changes while the message is being written, at a known point. */
#define TEST_TYPE_CHANGING_STREAM (test_changing_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestChangingStream, test_changing_stream, TEST, CHANGING_STREAM,
                      GOutputStream)

struct _TestChangingStream
{
  GOutputStream parent_instance;
  const char *path;
  goffset new_size;
  gboolean changed;
};

G_DEFINE_FINAL_TYPE (TestChangingStream, test_changing_stream, G_TYPE_OUTPUT_STREAM)

static gssize
test_changing_stream_write (GOutputStream *stream, const void *buffer, gsize count,
                            GCancellable *cancellable, GError **error)
{
  TestChangingStream *self = TEST_CHANGING_STREAM (stream);

  if (!self->changed)
    g_assert_cmpint (truncate (self->path, self->new_size), ==, 0);
  self->changed = TRUE;
  return count;
}

static void
test_changing_stream_class_init (TestChangingStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = test_changing_stream_write;
}

static void
test_changing_stream_init (TestChangingStream *self)
{
}

/* A file cut short or grown midway fails the write and names the file,
 * whether the builder or GMime reads it. The builder's stream sees any
 * change; GMime's is only held to the count, which a file grown by one
 * octet here does not change (the last line has room for it). */
static void
test_writer_file_changes_midway (void)
{
  const goffset size = 1024 * 1024;
  const struct
  {
    gboolean builder;
    goffset new_size;
  } cases[] = {
    { TRUE, 1000 },  { TRUE, size - 1 },  { TRUE, size + 1 },
    { FALSE, 1000 }, { FALSE, size - 1 }, { FALSE, size + 57 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) data = random_bytes (size);
      g_autofree char *path
          = mime_test_write_temp ("midway.bin", g_bytes_get_data (data, NULL), size);
      g_autoptr (TestChangingStream) out = g_object_new (TEST_TYPE_CHANGING_STREAM, NULL);
      g_autoptr (GMimeMessage) message = NULL;
      g_autoptr (MkMessageWriter) writer = NULL;
      g_autoptr (GError) error = NULL;

      if (cases[i].builder)
        {
          g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();

          g_assert_true (mk_message_builder_add_attachment (builder, path, NULL,
                                                            "application/octet-stream", &error));
          message = build (builder);
        }
      else
        {
          g_autoptr (GMimeStream) fs = g_mime_stream_fs_open (path, O_RDONLY, 0, &error);
          g_autoptr (GMimeObject) part = NULL;

          g_assert_no_error (error);
          part = base64_part (fs);
          g_mime_part_set_filename (GMIME_PART (part), "midway.bin");
          message = message_with_parts (&part, 1);
        }
      out->path = path;
      out->new_size = cases[i].new_size;
      writer = mk_message_writer_new (message, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (mk_message_writer_choose_transport (writer, TRUE, FALSE, &error));
      g_assert_cmpint (mk_message_writer_count (writer, NULL, &error), >, size);
      g_assert_false (mk_message_writer_write (writer, G_OUTPUT_STREAM (out), NULL, &error));
      g_assert_true (out->changed);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "midway.bin"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/mime/base64-stream/lengths", test_lengths);
  g_test_add_func ("/mime/base64-stream/every-octet", test_every_octet);
  g_test_add_func ("/mime/base64-stream/bounded-source", test_bounded_source);
  g_test_add_func ("/mime/base64-stream/reset", test_reset);
  g_test_add_func ("/mime/base64-stream/source-fails", test_source_fails);
  g_test_add_func ("/mime/base64-stream/writer-attachments", test_writer_attachments);
  g_test_add_func ("/mime/base64-stream/writer-same-part-twice", test_writer_same_part_twice);
  g_test_add_func ("/mime/base64-stream/writer-streams", test_writer_streams);
  g_test_add_func ("/mime/base64-stream/writer-message-body", test_writer_message_body);
  g_test_add_func ("/mime/base64-stream/writer-read-once-parts", test_writer_read_once_parts);
  g_test_add_func ("/mime/base64-stream/writer-file-changes-midway",
                   test_writer_file_changes_midway);
  g_test_add_func ("/mime/base64-stream/writer-count-checks-files", test_writer_count_checks_files);
  return g_test_run ();
}
