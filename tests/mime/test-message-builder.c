/* test-message-builder.c: MkMessageBuilder's structure, encodings, header
 * safety and memory use, checked with Python's email package
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mime-test-common.h"
#include "mk-test-utils.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStreamNull, g_object_unref)

static MkMessageBuilder *
fixed_builder (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) date = g_date_time_new_utc (2024, 2, 29, 12, 34, 56);
  MkMessageBuilder *builder = mk_message_builder_new ();

  g_assert_true (mk_message_builder_set_from (builder, "Alice <alice@example.org>", &error));
  g_assert_true (mk_message_builder_add_to (builder, "bob@example.org", &error));
  g_assert_true (mk_message_builder_set_subject (builder, "Report", &error));
  g_assert_true (mk_message_builder_set_message_id (builder, "<fixed-id@example.org>", &error));
  g_assert_no_error (error);
  mk_message_builder_set_date (builder, date);
  return builder;
}

static GBytes *
build_wire (MkMessageBuilder *builder)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = mk_message_builder_build (builder, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return mime_test_serialize (GMIME_OBJECT (message));
}

/* ---- structure: every combination ---- */

typedef struct
{
  gboolean text, html, inline_image;
  guint attachments;
  const char *tree;
} ComboCase;

#define ALT_REL "multipart/alternative(text/plain,multipart/related(text/html,image/png))"
#define ATT1 "application/pdf"
#define ATT2 "application/pdf,text/plain"

static const ComboCase combo_cases[] = {
  { FALSE, FALSE, FALSE, 0, "text/plain" },
  { TRUE, FALSE, FALSE, 0, "text/plain" },
  { FALSE, TRUE, FALSE, 0, "text/html" },
  { TRUE, TRUE, FALSE, 0, "multipart/alternative(text/plain,text/html)" },
  { FALSE, FALSE, TRUE, 0, "image/png" },
  { TRUE, FALSE, TRUE, 0, "multipart/mixed(text/plain,image/png)" },
  { FALSE, TRUE, TRUE, 0, "multipart/related(text/html,image/png)" },
  { TRUE, TRUE, TRUE, 0, ALT_REL },
  { FALSE, FALSE, FALSE, 1, ATT1 },
  { TRUE, FALSE, FALSE, 1, "multipart/mixed(text/plain," ATT1 ")" },
  { FALSE, TRUE, FALSE, 1, "multipart/mixed(text/html," ATT1 ")" },
  { TRUE, TRUE, FALSE, 1, "multipart/mixed(multipart/alternative(text/plain,text/html)," ATT1 ")" },
  { FALSE, FALSE, TRUE, 1, "multipart/mixed(image/png," ATT1 ")" },
  { TRUE, FALSE, TRUE, 1, "multipart/mixed(text/plain,image/png," ATT1 ")" },
  { FALSE, TRUE, TRUE, 1, "multipart/mixed(multipart/related(text/html,image/png)," ATT1 ")" },
  { TRUE, TRUE, TRUE, 1, "multipart/mixed(" ALT_REL "," ATT1 ")" },
  { FALSE, FALSE, FALSE, 2, "multipart/mixed(" ATT2 ")" },
  { TRUE, FALSE, FALSE, 2, "multipart/mixed(text/plain," ATT2 ")" },
  { FALSE, TRUE, FALSE, 2, "multipart/mixed(text/html," ATT2 ")" },
  { TRUE, TRUE, FALSE, 2, "multipart/mixed(multipart/alternative(text/plain,text/html)," ATT2 ")" },
  { FALSE, FALSE, TRUE, 2, "multipart/mixed(image/png," ATT2 ")" },
  { TRUE, FALSE, TRUE, 2, "multipart/mixed(text/plain,image/png," ATT2 ")" },
  { FALSE, TRUE, TRUE, 2, "multipart/mixed(multipart/related(text/html,image/png)," ATT2 ")" },
  { TRUE, TRUE, TRUE, 2, "multipart/mixed(" ALT_REL "," ATT2 ")" },
};

static void
fill_combo (MkMessageBuilder *builder, const ComboCase *c)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *png = mime_test_data_path ("sample.png");
  g_autofree char *pdf = mime_test_data_path ("sample.pdf");
  g_autofree char *notes = mime_test_data_path ("notes.txt");

  if (c->text)
    g_assert_true (
        mk_message_builder_set_text (builder, "Hello Bob,\nthe report is attached.\n", &error));
  if (c->html)
    g_assert_true (mk_message_builder_set_html (
        builder, "<p>Hello Bob,</p>\n<p><img src=\"cid:logo@example.org\"></p>\n", &error));
  if (c->inline_image)
    {
      g_autofree char *cid
          = mk_message_builder_add_inline (builder, png, "<logo@example.org>", &error);
      g_assert_cmpstr (cid, ==, "logo@example.org");
    }
  if (c->attachments >= 1)
    g_assert_true (mk_message_builder_add_attachment (builder, pdf, NULL, NULL, &error));
  if (c->attachments >= 2)
    g_assert_true (mk_message_builder_add_attachment (builder, notes, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* The same notation as check-mime.py's, from GMime's own parser: two
 * independent readers must see the same tree. */
static void
append_tree (GString *out, GMimeObject *object)
{
  GMimeContentType *type = g_mime_object_get_content_type (object);
  g_autofree char *mime_type = g_mime_content_type_get_mime_type (type);

  g_string_append (out, mime_type);
  if (GMIME_IS_MULTIPART (object))
    {
      int n = g_mime_multipart_get_count (GMIME_MULTIPART (object));

      g_string_append_c (out, '(');
      for (int i = 0; i < n; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          append_tree (out, g_mime_multipart_get_part (GMIME_MULTIPART (object), i));
        }
      g_string_append_c (out, ')');
    }
}

static char *
gmime_tree_of (GBytes *wire)
{
  g_autoptr (GMimeStream) stream
      = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire));
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  g_autoptr (GMimeMessage) message = g_mime_parser_construct_message (parser, NULL);
  GString *out = g_string_new (NULL);

  g_assert_nonnull (message);
  append_tree (out, g_mime_message_get_mime_part (message));
  return g_string_free (out, FALSE);
}

static void
test_combinations (void)
{
  g_autofree char *pdf = mime_test_data_path ("sample.pdf");
  g_autofree char *notes = mime_test_data_path ("notes.txt");

  for (gsize i = 0; i < G_N_ELEMENTS (combo_cases); i++)
    {
      const ComboCase *c = &combo_cases[i];
      g_autoptr (MkMessageBuilder) builder = fixed_builder ();
      g_autoptr (GBytes) wire = NULL;
      g_autofree char *offset_pdf = NULL;
      g_autofree char *offset_notes = NULL;
      guint first = c->inline_image ? 1 : 0;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, c->tree);
      fill_combo (builder, c);
      wire = build_wire (builder);
      {
        g_autofree char *tree = gmime_tree_of (wire);
        g_assert_cmpstr (tree, ==, c->tree);
      }
      offset_pdf = g_strdup_printf ("%u", first);
      offset_notes = g_strdup_printf ("%u", first + 1);
      if (c->attachments == 0)
        mime_test_python_check (wire, "tree", c->tree, NULL);
      else if (c->attachments == 1)
        mime_test_python_check (wire, "tree", c->tree, "--", "attachment", offset_pdf, "sample.pdf",
                                "application/pdf", pdf, "attachment", NULL);
      else
        mime_test_python_check (wire, "tree", c->tree, "--", "attachment", offset_pdf, "sample.pdf",
                                "application/pdf", pdf, "attachment", "--", "attachment",
                                offset_notes, "notes.txt", "text/plain", notes, "attachment", NULL);

      if (i == 1 || i == G_N_ELEMENTS (combo_cases) - 1)
        {
          g_autofree char *normal = mime_test_normalise_boundaries (wire);
          mime_test_assert_golden (normal, i == 1 ? "builder-text.eml" : "builder-full.eml");
        }
    }
}

/* The inline image is the HTML's: a Content-ID, inline disposition, and
 * related's type parameter (RFC 2387 §3.1). */
static void
test_inline_parts (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autofree char *png = mime_test_data_path ("sample.png");
  g_autofree char *generated = NULL;
  g_autofree char *other = NULL;
  GMimeObject *related, *image;

  g_assert_true (mk_message_builder_set_html (builder, "<img src=\"cid:x\">", &error));
  generated = mk_message_builder_add_inline (builder, png, NULL, &error);
  other = mk_message_builder_add_inline (builder, png, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strchr (generated, '@'));
  g_assert_cmpstr (generated, !=, other);
  {
    g_autofree char *again = mk_message_builder_add_inline (builder, png, other, &error);
    g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
    g_assert_null (again);
    g_clear_error (&error);
  }

  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  related = g_mime_message_get_mime_part (message);
  g_assert_true (GMIME_IS_MULTIPART (related));
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (related, "type"), ==, "text/html");
  image = g_mime_multipart_get_part (GMIME_MULTIPART (related), 1);
  g_assert_cmpstr (g_mime_part_get_content_id (GMIME_PART (image)), ==, generated);
  g_assert_cmpstr (g_mime_object_get_disposition (image), ==, "inline");
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (image)), ==, "sample.png");
}

/* ---- generated headers ---- */

static void
test_generated_headers (void)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GMimeMessage) second = NULL;
  g_autoptr (GDateTime) before = g_date_time_new_now_utc ();
  GDateTime *date;

  g_assert_true (mk_message_builder_set_from (builder, "alice@Example.ORG", &error));
  g_assert_true (mk_message_builder_set_text (builder, "x", &error));
  message = mk_message_builder_build (builder, &error);
  second = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);

  g_assert_true (g_str_has_suffix (g_mime_message_get_message_id (message), "@Example.ORG"));
  g_assert_cmpstr (g_mime_message_get_message_id (message), !=,
                   g_mime_message_get_message_id (second));
  date = g_mime_message_get_date (message);
  g_assert_nonnull (date);
  g_assert_cmpint (g_date_time_to_unix (date), >=, g_date_time_to_unix (before));
  g_assert_cmpint (g_date_time_to_unix (date), <=, g_date_time_to_unix (before) + 60);

  /* add_header ("Date"/"Message-ID") replaces the generated ones, as
   * mkmail -H does. */
  g_assert_true (
      mk_message_builder_add_header (builder, "Date", "Mon, 01 Jan 2024 10:00:00 +0100", &error));
  g_assert_true (
      mk_message_builder_add_header (builder, "Message-ID", "<given@example.net>", &error));
  g_clear_object (&message);
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_mime_message_get_message_id (message), ==, "given@example.net");
  g_assert_cmpint (g_date_time_to_unix (g_mime_message_get_date (message)), ==, 1704099600);

  g_assert_false (mk_message_builder_add_header (builder, "Date", "yesterday-ish", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
}

/* ---- non-ASCII round trip through Python ---- */

static void
test_non_ascii (void)
{
  static const char subject[]
      = "Gr\xc3\xbc\xc3\x9f"
        "e \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89";
  static const char text[]
      = "Hallo J\xc3\xb6rg,\nanbei der Bericht \xe2\x80\x94 sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f"
        "e.\n";
  static const char html[] = "<p>Hallo J\xc3\xb6rg \xe6\x97\xa5\xe6\x9c\xac</p>\n";
  static const char filename[] = "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf";
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *pdf = mime_test_data_path ("sample.pdf");
  g_autofree char *subject_path = mime_test_write_temp ("subject", subject, strlen (subject));
  g_autofree char *text_path = mime_test_write_temp ("text", text, strlen (text));
  g_autofree char *html_path = mime_test_write_temp ("html", html, strlen (html));
  InternetAddress *zoe
      = internet_address_mailbox_new ("Zo\xc3\xab \xce\xa9mega, Jr.", "zoe@example.net");

  g_assert_true (mk_message_builder_set_from (
      builder, "J\xc3\xb6rg M\xc3\xbcller <joerg@example.org>", &error));
  g_assert_true (mk_message_builder_add_address (builder, GMIME_ADDRESS_TYPE_CC, zoe, &error));
  g_object_unref (zoe);
  g_assert_true (mk_message_builder_set_subject (builder, subject, &error));
  g_assert_true (mk_message_builder_set_text (builder, text, &error));
  g_assert_true (mk_message_builder_set_html (builder, html, &error));
  g_assert_true (mk_message_builder_add_attachment (builder, pdf, filename, NULL, &error));
  g_assert_true (mk_message_builder_add_header (builder, "X-Comment",
                                                "\xc3\xa9t\xc3\xa9 \xe2\x82\xac 100", &error));
  g_assert_no_error (error);
  wire = build_wire (builder);

  /* No 8-bit octet anywhere: headers RFC 2047/2231, bodies QP or base64. */
  for (gsize i = 0; i < g_bytes_get_size (wire); i++)
    g_assert_cmpint (((const guint8 *)g_bytes_get_data (wire, NULL))[i], <, 0x80);
  mime_test_python_check (wire, "header-file", "Subject", subject_path, "--", "address", "From",
                          "0", "J\xc3\xb6rg M\xc3\xbcller", "joerg@example.org", "--", "address",
                          "Cc", "0", "Zo\xc3\xab \xce\xa9mega, Jr.", "zoe@example.net", "--",
                          "header", "X-Comment", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac 100", "--", "body",
                          "text/plain", text_path, "--", "body", "text/html", html_path, "--",
                          "attachment", "0", filename, "application/pdf", pdf, "attachment", NULL);
}

/* ---- attachments ---- */

static void
test_attachments_byte_identical (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autofree char *notes = mime_test_data_path ("notes.txt");
  g_autofree char *wav = mime_test_data_path ("sample.wav");
  static const char binary[] = "\x00\x01\r\n\r.\r\n\n\x80\xff--=-boundary\r\n";
  g_autofree char *blob_path = mime_test_write_temp ("blob", binary, sizeof binary - 1);

  blob = g_bytes_new_static (binary, sizeof binary - 1);
  stream = g_memory_input_stream_new_from_data (binary, sizeof binary - 1, NULL);
  g_assert_true (mk_message_builder_set_text (builder, "see attached\n", &error));
  g_assert_true (mk_message_builder_add_attachment (builder, notes, NULL, NULL, &error));
  g_assert_true (
      mk_message_builder_add_attachment (builder, wav, "tone.wav", "audio/x-wav", &error));
  g_assert_true (mk_message_builder_add_attachment_bytes (builder, blob, "blob.bin", NULL, &error));
  g_assert_true (mk_message_builder_add_attachment_stream (builder, stream, "stream.bin",
                                                           "application/x-test", &error));
  g_assert_no_error (error);
  wire = build_wire (builder);
  mime_test_python_check (wire, "parts", "5", "--", "attachment", "0", "notes.txt", "text/plain",
                          notes, "attachment", "--", "attachment", "1", "tone.wav", "audio/x-wav",
                          wav, "attachment", "--", "attachment", "2", "blob.bin",
                          "application/octet-stream", blob_path, "attachment", "--", "attachment",
                          "3", "stream.bin", "application/x-test", blob_path, "attachment", NULL);
}

/* A stream is read once: writing the message again fails, and so does
 * building again. */
static void
test_stream_attachment_once (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GInputStream) stream
      = g_memory_input_stream_new_from_data ("streamed content", 16, NULL);
  g_autoptr (GMimeStream) sink = g_mime_stream_null_new ();

  g_assert_true (mk_message_builder_add_attachment_stream (builder, stream, NULL, NULL, &error));
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), >, 0);
  g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), ==, -1);
  g_assert_null (mk_message_builder_build (builder, &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
}

static void
test_message_attachment (void)
{
  g_autoptr (MkMessageBuilder) inner_builder = fixed_builder ();
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) inner = NULL;
  g_autoptr (GBytes) wire = NULL;

  g_assert_true (mk_message_builder_set_text (inner_builder, "forwarded\n", &error));
  inner = mk_message_builder_build (inner_builder, &error);
  g_assert_true (mk_message_builder_set_text (builder, "see below\n", &error));
  g_assert_true (mk_message_builder_add_message_attachment (builder, inner, &error));
  g_assert_no_error (error);
  wire = build_wire (builder);
  mime_test_python_check (wire, "tree", "multipart/mixed(text/plain,message/rfc822)", NULL);
}

static void
test_file_errors (void)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = mk_test_make_subdir ("files");
  g_autofree char *missing = g_build_filename (dir, "missing.pdf", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *dangling = g_build_filename (dir, "dangling", NULL);
  g_autofree char *loop = g_build_filename (dir, "loop", NULL);
  g_autofree char *inline_cid = NULL;

  g_assert_false (mk_message_builder_add_attachment (builder, missing, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mk_message_builder_add_attachment (builder, dir, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_clear_error (&error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_false (mk_message_builder_add_attachment (builder, fifo, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_clear_error (&error);
  g_assert_false (mk_message_builder_add_attachment (builder, "/dev/zero", NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_clear_error (&error);
  g_assert_cmpint (symlink (missing, dangling), ==, 0);
  g_assert_false (mk_message_builder_add_attachment (builder, dangling, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (symlink (loop, loop), ==, 0);
  g_assert_false (mk_message_builder_add_attachment (builder, loop, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_clear_error (&error);
  inline_cid = mk_message_builder_add_inline (builder, missing, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (inline_cid);
}

/* hostile-peers L87: a file that changes between being added and being
 * written (grown, truncated, replaced, deleted) fails the writing, so the
 * sending layer never sends a final dot for a message whose SIZE was
 * counted on another file. */
static void
test_file_changed (void)
{
  static const char *const changes[] = { "grown", "truncated", "replaced", "deleted" };

  for (gsize i = 0; i < G_N_ELEMENTS (changes); i++)
    {
      g_autoptr (MkMessageBuilder) builder = fixed_builder ();
      g_autoptr (GError) error = NULL;
      g_autoptr (GMimeMessage) message = NULL;
      g_autoptr (GMimeStream) sink = g_mime_stream_null_new ();
      g_autofree char *name = g_strdup_printf ("changing-%" G_GSIZE_FORMAT ".txt", i);
      g_autofree char *path = mime_test_write_temp (name, "0123456789\n", 11);
      g_autoptr (GDateTime) later = g_date_time_new_now_utc ();

      g_test_message ("%s", changes[i]);
      g_assert_true (mk_message_builder_add_attachment (builder, path, NULL, NULL, &error));
      message = mk_message_builder_build (builder, &error);
      g_assert_no_error (error);
      /* Written twice (a SIZE count, then the data): the same both times. */
      g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), >, 0);
      g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), >, 0);

      if (i == 0)
        g_assert_true (g_file_set_contents (path, "0123456789\nmore\n", -1, NULL));
      else if (i == 1)
        g_assert_true (g_file_set_contents (path, "01234\n", -1, NULL));
      else if (i == 2)
        {
          /* Same size, another time stamp. */
          g_assert_true (g_file_set_contents (path, "abcdefghij\n", -1, NULL));
          g_assert_cmpint (
              g_utime (path, &(struct utimbuf){ .actime = 1000000000, .modtime = 1000000000 }), ==,
              0);
        }
      else
        g_assert_cmpint (g_unlink (path), ==, 0);
      g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), ==, -1);
    }
}

static guint
open_descriptors (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* hostile-peers L90: files are opened one at a time while the message is
 * written, and closed after: 600 attachments under a limit of 64 open
 * descriptors. */
#define MANY_ATTACHMENTS 600
#define FEW_DESCRIPTORS 64

static void
test_many_attachments_few_descriptors (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GMimeStream) sink = g_mime_stream_null_new ();
  g_autofree char *path = mime_test_data_path ("sample.gif");
  struct rlimit saved, low;
  guint before;

  for (int i = 0; i < MANY_ATTACHMENTS; i++)
    g_assert_true (mk_message_builder_add_attachment (builder, path, NULL, NULL, &error));
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);

  before = open_descriptors ();
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  low = saved;
  low.rlim_cur = MAX (before + 8, FEW_DESCRIPTORS);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &low), ==, 0);
  g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), >, 0);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  g_assert_cmpuint (open_descriptors (), ==, before);
  g_assert_cmpint (GMIME_STREAM_NULL (sink)->written, >, MANY_ATTACHMENTS * 40);
}

/* ---- header safety (hostile-peers K77–K80, §1.10) ---- */

#define BODY_HEADERS "MIME-Version,Content-Type,Content-Transfer-Encoding"

static void
test_free_text_is_encoded (void)
{
  static const char *const hostile[] = {
    "hello\r\nBcc: victim@example.net",
    "hello\r\n\r\nbody",
    "hello\nBcc : victim@example.net",
    "x\r\n bcc: folded?",
    "nul-free but \x01\x1b[31m control characters",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr (MkMessageBuilder) builder = fixed_builder ();
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) wire = NULL;
      InternetAddress *eve = internet_address_mailbox_new (hostile[i], "eve@example.org");

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_true (mk_message_builder_set_subject (builder, hostile[i], &error));
      g_assert_true (mk_message_builder_add_header (builder, "X-Note", hostile[i], &error));
      g_assert_true (mk_message_builder_set_text (builder, "x\n", &error));
      g_assert_no_error (error);
      /* A display name is one line: a reader decoding a line break in it
       * refuses the address (Python raises ValueError). */
      if (strpbrk (hostile[i], "\r\n") != NULL)
        {
          g_assert_false (
              mk_message_builder_add_address (builder, GMIME_ADDRESS_TYPE_CC, eve, &error));
          g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
          g_object_unref (eve);
          wire = build_wire (builder);
          /* Exactly the fields set, in one piece each. */
          mime_test_python_check (wire, "header-names",
                                  "Date,From,To,Subject,Message-Id,X-Note," BODY_HEADERS, NULL);
          continue;
        }
      g_assert_true (mk_message_builder_add_address (builder, GMIME_ADDRESS_TYPE_CC, eve, &error));
      g_object_unref (eve);
      wire = build_wire (builder);
      mime_test_python_check (wire, "header-names",
                              "Date,From,To,Cc,Subject,Message-Id,X-Note," BODY_HEADERS, "--",
                              "address", "Cc", "0", hostile[i], "eve@example.org", NULL);
    }
}

static void
assert_invalid (gboolean ok, GError **error)
{
  g_assert_false (ok);
  g_assert_error (*error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (error);
}

static void
test_structured_input_refused (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autofree char *pdf = mime_test_data_path ("sample.pdf");
  g_autofree char *long_name = g_strnfill (300, 'n');
  InternetAddress *evil;
  char *cid;

  /* Addresses given as text: a line break is never folding here. */
  assert_invalid (mk_message_builder_set_from (builder, "Eve\r\nBcc: v@x <e@x>", &error), &error);
  assert_invalid (mk_message_builder_add_to (builder, "bob@example.org\r\nRCPT TO:<x@y>", &error),
                  &error);
  assert_invalid (mk_message_builder_add_cc (builder, "", &error), &error);
  assert_invalid (mk_message_builder_add_bcc (builder, "\xff@x", &error), &error);
  assert_invalid (mk_message_builder_set_sender (builder, "a@x, b@x", &error), &error);
  assert_invalid (mk_message_builder_set_reply_to (builder, "a@x\nb@x", &error), &error);

  /* hostile-peers §1.10: a quoted local part keeps its CR LF in GMime. */
  evil = internet_address_mailbox_new ("Bob", "\"evil\r\nDATA\"@example.org");
  assert_invalid (mk_message_builder_add_address (builder, GMIME_ADDRESS_TYPE_TO, evil, &error),
                  &error);
  g_object_unref (evil);

  /* RFC 5322 §3.6.8 field names. */
  static const char *const names[]
      = { "X-A\r\nBcc",          "X A",         "X:A", "", "X-\xc3\xa9", "X-A\x7f", "Content-Type",
          "content-disposition", "MIME-Version" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    assert_invalid (mk_message_builder_add_header (builder, names[i], "v", &error), &error);
  assert_invalid (
      mk_message_builder_add_header (builder, "References", "<a@b>\r\nBcc: x@y", &error), &error);
  assert_invalid (mk_message_builder_add_header (builder, "In-Reply-To", "<a@b>\nX: y", &error),
                  &error);
  assert_invalid (mk_message_builder_add_header (builder, "To", "x@y\r\nBcc: z@w", &error), &error);
  assert_invalid (mk_message_builder_add_header (builder, "Resent-To", "x@y\nBcc: z@w", &error),
                  &error);
  assert_invalid (mk_message_builder_add_header (builder, "References", "<caf\xc3\xa9@x>", &error),
                  &error);
  g_assert_true (mk_message_builder_add_header (builder, "References", "<a@b>\t<c@d>", &error));
  g_assert_true (mk_message_builder_add_header (builder, "Resent-To", "J\xc3\xb6rg <j@x>", &error));
  assert_invalid (mk_message_builder_set_subject (builder, "\xc3\x28", &error), &error);

  /* Message-ID and Content-ID (RFC 5322 §3.6.4). */
  static const char *const ids[]
      = { "id@x\r\nBcc: y@z", "has space@x", "<a<b@x>", "noat", "@x", "a@", "a@b@c", "<>",
          "caf\xc3\xa9@x" };
  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
    assert_invalid (mk_message_builder_set_message_id (builder, ids[i], &error), &error);
  g_assert_true (mk_message_builder_set_message_id (builder, "<a.b+c@[127.0.0.1]>", &error));
  cid = mk_message_builder_add_inline (builder, pdf, "cid@x\r\nX-Cid: 1", &error);
  g_assert_null (cid);
  assert_invalid (FALSE, &error);
  cid = mk_message_builder_add_inline (builder, pdf, "a b", &error);
  g_assert_null (cid);
  assert_invalid (FALSE, &error);

  /* File names and types (curl test3227, PHPMailer CVE-2020-13625). */
  assert_invalid (mk_message_builder_add_attachment (
                      builder, pdf, "evil\"\r\nContent-Type: text/html; x=\".txt", NULL, &error),
                  &error);
  assert_invalid (mk_message_builder_add_attachment (builder, pdf, long_name, NULL, &error),
                  &error);
  assert_invalid (mk_message_builder_add_attachment (builder, pdf, "../", NULL, &error), &error);
  assert_invalid (
      mk_message_builder_add_attachment (builder, pdf, NULL, "text/html\r\nX: y", &error), &error);
  assert_invalid (mk_message_builder_add_attachment (builder, pdf, NULL, "texthtml", &error),
                  &error);
  assert_invalid (mk_message_builder_add_attachment (builder, pdf, NULL, "text/ html", &error),
                  &error);
}

/* Quotes, backslashes, semicolons and path components in a file name:
 * exactly one Content-Disposition, with the intended name. */
static void
test_file_name_escaping (void)
{
  static const struct
  {
    const char *given, *seen;
  } cases[] = {
    { "a \"quoted\" name;.pdf", "a \"quoted\" name;.pdf" },
    { "back\\slash.pdf", "slash.pdf" },
    { "../../etc/passwd", "passwd" },
    { "C:\\Users\\x\\report.pdf", "report.pdf" },
    { "semi;colon=x.pdf", "semi;colon=x.pdf" },
  };
  g_autofree char *pdf = mime_test_data_path ("sample.pdf");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MkMessageBuilder) builder = fixed_builder ();
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) wire = NULL;

      g_test_message ("%s", cases[i].given);
      g_assert_true (mk_message_builder_set_text (builder, "x\n", &error));
      g_assert_true (mk_message_builder_add_attachment (builder, pdf, cases[i].given,
                                                        "application/pdf", &error));
      g_assert_no_error (error);
      wire = build_wire (builder);
      mime_test_python_check (wire, "parts", "2", "--", "attachment", "0", cases[i].seen,
                              "application/pdf", pdf, "attachment", NULL);
    }
}

/* RFC 5322 §2.1.1 everywhere: long subject, long custom value, many
 * recipients, a body line of 5000 octets, a 200-octet non-ASCII name. */
static void
test_line_lengths (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GString) name = g_string_new (NULL);
  g_autofree char *token = g_strnfill (2000, 'x');
  g_autofree char *line = g_strnfill (5000, 'y');
  g_autofree char *token_path = mime_test_write_temp ("token", token, strlen (token));
  g_autofree char *line_path = mime_test_write_temp ("line", line, strlen (line));
  g_autofree char *pdf = mime_test_data_path ("sample.pdf");

  for (int i = 0; i < 100; i++)
    g_string_append (name, "\xc3\xa9");
  g_string_append (name, ".pdf");
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *address = g_strdup_printf ("Recipient %d <r%d@example.org>", i, i);
      g_assert_true (mk_message_builder_add_to (builder, address, &error));
    }
  g_assert_true (mk_message_builder_set_subject (builder, token, &error));
  g_assert_true (mk_message_builder_add_header (builder, "X-Long", token, &error));
  g_assert_true (mk_message_builder_set_text (builder, line, &error));
  g_assert_true (mk_message_builder_add_attachment (builder, pdf, name->str, NULL, &error));
  g_assert_no_error (error);
  wire = build_wire (builder);
  mime_test_python_check (wire, "header-file", "Subject", token_path, "--", "header-file", "X-Long",
                          token_path, "--", "body", "text/plain", line_path, "--", "address", "To",
                          "500", "Recipient 499", "r499@example.org", "--", "attachment", "0",
                          name->str, "application/pdf", pdf, "attachment", NULL);
}

/* A value GMime cannot fold (one 2,000-octet msg-id in References) is
 * caught by build()'s final check of every header line, not written. */
static void
test_unfoldable_header_refused (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autofree char *token = g_strnfill (2000, 'r');
  g_autofree char *references = g_strdup_printf ("<%s@example.org>", token);

  g_assert_true (mk_message_builder_add_header (builder, "References", references, &error));
  g_assert_no_error (error);
  message = mk_message_builder_build (builder, &error);
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_assert_null (message);
}

/* A Subject with no CR or LF that GMime folds with a bare line break after
 * a would-be encoded word (found by fuzz-headers) must not become a second
 * header field: build() refuses it. */
static void
test_fold_injection_refused (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  const char *subject = "..\x03\x01" "3=?..\x03\x01? u=?f?q? :Iu99u=:9u99uu?=:O99u99999u9u";

  g_assert_true (mk_message_builder_set_subject (builder, subject, &error));
  g_assert_no_error (error);
  message = mk_message_builder_build (builder, &error);
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_assert_null (message);
}

/* ---- memory: a 100 MiB file is streamed, not held ---- */

static gint64
resident_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoll (line + strlen ("VmRSS:"), NULL, 10);
}

#define BIG_FILE_SIZE (G_GINT64_CONSTANT (100) * 1024 * 1024)
/* Far below the file's size: base64 state, GIO and GMime buffers. */
#define BIG_FILE_RSS_LIMIT_KIB (16 * 1024)

static void
test_big_file_streamed (void)
{
  g_autoptr (MkMessageBuilder) builder = fixed_builder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (GMimeStream) sink = g_mime_stream_null_new ();
  g_autofree char *path = g_build_filename (mk_test_tmpdir (), "big.bin", NULL);
  gint64 before, after_build, after_write;
  int fd;

  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, BIG_FILE_SIZE), ==, 0);
  /* Some bytes that are not zero at both ends. */
  g_assert_cmpint (pwrite (fd, "head", 4, 0), ==, 4);
  g_assert_cmpint (pwrite (fd, "tail", 4, BIG_FILE_SIZE - 4), ==, 4);
  close (fd);

  before = resident_kib ();
  g_assert_true (mk_message_builder_set_text (builder, "big one attached\n", &error));
  g_assert_true (mk_message_builder_add_attachment (builder, path, NULL, NULL, &error));
  message = mk_message_builder_build (builder, &error);
  g_assert_no_error (error);
  after_build = resident_kib ();
  /* GMime returns what it read for a filtered part, not what it wrote:
   * the null stream counts the output. */
  g_assert_cmpint (g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, sink), >,
                   BIG_FILE_SIZE);
  after_write = resident_kib ();
  g_test_message ("VmRSS: %" G_GINT64_FORMAT " KiB before, %" G_GINT64_FORMAT
                  " after build, %" G_GINT64_FORMAT " after writing %" G_GINT64_FORMAT " bytes",
                  before, after_build, after_write, (gint64)GMIME_STREAM_NULL (sink)->written);
  g_assert_cmpint (after_build - before, <, BIG_FILE_RSS_LIMIT_KIB);
  g_assert_cmpint (after_write - before, <, BIG_FILE_RSS_LIMIT_KIB);
  g_assert_cmpint (GMIME_STREAM_NULL (sink)->written, >, BIG_FILE_SIZE * 4 / 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/mime/builder/combinations", test_combinations);
  g_test_add_func ("/mime/builder/inline-parts", test_inline_parts);
  g_test_add_func ("/mime/builder/generated-headers", test_generated_headers);
  g_test_add_func ("/mime/builder/non-ascii", test_non_ascii);
  g_test_add_func ("/mime/builder/attachments-byte-identical", test_attachments_byte_identical);
  g_test_add_func ("/mime/builder/stream-attachment-once", test_stream_attachment_once);
  g_test_add_func ("/mime/builder/message-attachment", test_message_attachment);
  g_test_add_func ("/mime/builder/file-errors", test_file_errors);
  g_test_add_func ("/mime/builder/file-changed", test_file_changed);
  g_test_add_func ("/mime/builder/many-attachments-few-descriptors",
                   test_many_attachments_few_descriptors);
  g_test_add_func ("/mime/builder/free-text-encoded", test_free_text_is_encoded);
  g_test_add_func ("/mime/builder/structured-input-refused", test_structured_input_refused);
  g_test_add_func ("/mime/builder/file-name-escaping", test_file_name_escaping);
  g_test_add_func ("/mime/builder/line-lengths", test_line_lengths);
  g_test_add_func ("/mime/builder/unfoldable-header-refused", test_unfoldable_header_refused);
  g_test_add_func ("/mime/builder/fold-injection-refused", test_fold_injection_refused);
  g_test_add_func ("/mime/builder/big-file-streamed", test_big_file_streamed);
  return g_test_run ();
}
