/* test-mime-sniff.c: image and audio subtypes from magic bytes
 *
 * The tables follow CPython 3.11's rules for email.mime.image and
 * email.mime.audio (smtplib-behaviour.md §2.6–2.7) and its false positives,
 * which we must not repeat.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "libmailkit/mime/mk-mime-sniff-private.h"
#include "mime-test-common.h"
#include "mk-test-utils.h"

typedef struct
{
  const char *data;
  gsize length;
  const char *expected;
} SniffCase;

#define CASE(bytes, expected)                                                                      \
  {                                                                                                \
    bytes, sizeof (bytes) - 1, expected                                                            \
  }

static const SniffCase image_cases[] = {
  CASE ("\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
  CASE ("\xff\xd8\xff\xe1\x00\x10"
        "Exif\x00",
        "jpeg"),
  CASE ("\xff\xd8\xff\xdb\x00\x43", "jpeg"),
  /* Adobe (APP14) and XMP-first JPEGs, which the reference misses. */
  CASE ("\xff\xd8\xff\xee\x00\x0e"
        "Adobe",
        "jpeg"),
  CASE ("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "png"),
  CASE ("GIF87a\x01\x00\x01\x00", "gif"),
  CASE ("GIF89a\x01\x00\x01\x00", "gif"),
  CASE ("II*\x00\x08\x00\x00\x00", "tiff"),
  CASE ("MM\x00*\x00\x00\x00\x08", "tiff"),
  CASE ("\x01\xda\x00\x01\x00\x03", "rgb"),
  CASE ("P1\n2 2\n0 1\n1 0\n", "pbm"),
  CASE ("P4 # comment\n8 1\n", "pbm"),
  CASE ("P2\t2 2 255\n", "pgm"),
  CASE ("P5\n2 2\n255\n", "pgm"),
  CASE ("P3\r2 2\n255\n", "ppm"),
  CASE ("P6\n# made by hand\n2 2\n255\n", "ppm"),
  CASE ("\x59\xa6\x6a\x95\x00\x00\x00\x02", "rast"),
  CASE ("#define logo_width 16\n#define logo_height 16\n", "xbm"),
  CASE ("BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "bmp"),
  CASE ("BM\x46\x00\x00\x00\x00\x00\x00\x00\x1a\x00\x00\x00\x0c\x00\x00\x00", "bmp"),
  CASE ("RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
  CASE ("\x76\x2f\x31\x01\x02\x00\x00\x00", "exr"),
  /* The reference's false positives (§2.6, MIME-7). */
  CASE ("BMW is a car", NULL),
  CASE ("BM: a 20-octet text..", NULL),
  CASE ("III. Chapter three", NULL),
  CASE ("MMXXIV was a year", NULL),
  CASE ("II and MM", NULL),
  CASE ("P1 is the first point", NULL),
  CASE ("P6\nis a model\n", NULL),
  CASE ("#define FOO 1\n", NULL),
  CASE ("garbagJFIF data", NULL),
  CASE ("123456Exif", NULL),
  /* Formats it does not know. */
  CASE ("P7\nWIDTH 2\n", NULL),
  CASE ("<svg xmlns=\"http://www.w3.org/2000/svg\"/>", NULL),
  CASE ("\x00\x00\x01\x00\x01\x00", NULL),
  CASE ("RIFF\x24\x00\x00\x00WAVEfmt ", NULL),
  CASE ("", NULL),
};

static const SniffCase audio_cases[] = {
  CASE ("FORM\x00\x00\x00\x2e"
        "AIFFCOMM",
        "x-aiff"),
  CASE ("FORM\x00\x00\x00\x2e"
        "AIFCFVER",
        "x-aiff"),
  CASE (".snd\x00\x00\x00\x18", "basic"),
  CASE ("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00", "x-wav"),
  /* What the reference does not recognise either (§2.7). */
  CASE ("RIFF\x24\x00\x00\x00WAVEJUNK", NULL),
  CASE ("\x00\x64s.\x00\x00\x00\x18", NULL),
  CASE ("dns.\x00\x00\x00\x18", NULL),
  CASE ("FORM\x00\x00\x00\x2e"
        "8SVX",
        NULL),
  CASE ("ID3\x03\x00", NULL),
  CASE ("OggS\x00\x02", NULL),
  CASE ("fLaC\x00\x00", NULL),
  CASE ("MThd\x00\x00\x00\x06", NULL),
  CASE ("RIFF\x24\x00\x00\x00WEBPVP8 ", NULL),
  CASE ("", NULL),
};

static void
check_table (const SniffCase *cases, gsize n, const char *(*sniff) (const guint8 *, gsize))
{
  for (gsize i = 0; i < n; i++)
    {
      const char *got = sniff ((const guint8 *)cases[i].data, cases[i].length);
      if (g_strcmp0 (got, cases[i].expected) != 0)
        g_error ("case %" G_GSIZE_FORMAT " (%.12s…): got %s, expected %s", i, cases[i].data,
                 got ? got : "(none)", cases[i].expected ? cases[i].expected : "(none)");
    }
}

static void
test_image_table (void)
{
  check_table (image_cases, G_N_ELEMENTS (image_cases), mk_mime_sniff_image);
}

static void
test_audio_table (void)
{
  check_table (audio_cases, G_N_ELEMENTS (audio_cases), mk_mime_sniff_audio);
}

/* Only the first 512 bytes count, as in the reference. */
static void
test_audio_looks_at_512_bytes (void)
{
  guint8 data[600] = { 0 };

  memcpy (data, "RIFF\x24\x00\x00\x00WAVEfmt ", 16);
  g_assert_cmpstr (mk_mime_sniff_audio (data, sizeof data), ==, "x-wav");
  g_assert_cmpstr (mk_mime_sniff_audio (data, 15), ==, NULL);
}

static const struct
{
  const char *file;
  const char *image;
  const char *audio;
} real_files[] = {
  { "sample.png", "png", NULL },  { "sample.jpg", "jpeg", NULL },
  { "sample.gif", "gif", NULL },  { "sample.wav", NULL, "x-wav" },
  { "sample.au", NULL, "basic" }, { "sample.aiff", NULL, "x-aiff" },
  { "sample.pdf", NULL, NULL },   { "notes.txt", NULL, NULL },
};

static void
test_real_files (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (real_files); i++)
    {
      g_autoptr (GBytes) data = mime_test_data_bytes (real_files[i].file);
      gsize length = 0;
      const guint8 *bytes = g_bytes_get_data (data, &length);

      g_test_message ("%s", real_files[i].file);
      g_assert_cmpstr (mk_mime_sniff_image (bytes, length), ==, real_files[i].image);
      g_assert_cmpstr (mk_mime_sniff_audio (bytes, length), ==, real_files[i].audio);
    }
}

/* The mirrors raise MK_MIME_ERROR_UNKNOWN_TYPE where Python raises
 * TypeError, and an explicit subtype skips sniffing even for empty data. */
static void
test_unknown_type_error (void)
{
  g_autoptr (GBytes) text = g_bytes_new_static ("BMW is a car", 12);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (GError) error = NULL;
  GMimePart *part;

  part = mk_mime_image_new (text, NULL, &error);
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_UNKNOWN_TYPE);
  g_assert_null (part);
  g_clear_error (&error);
  part = mk_mime_audio_new (text, NULL, &error);
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_UNKNOWN_TYPE);
  g_assert_null (part);
  g_clear_error (&error);

  part = mk_mime_image_new (empty, "png", &error);
  g_assert_no_error (error);
  {
    g_autofree char *mime_type
        = g_mime_content_type_get_mime_type (g_mime_object_get_content_type (GMIME_OBJECT (part)));
    g_assert_cmpstr (mime_type, ==, "image/png");
  }
  g_object_unref (part);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/mime/sniff/image-table", test_image_table);
  g_test_add_func ("/mime/sniff/audio-table", test_audio_table);
  g_test_add_func ("/mime/sniff/audio-512-bytes", test_audio_looks_at_512_bytes);
  g_test_add_func ("/mime/sniff/real-files", test_real_files);
  g_test_add_func ("/mime/sniff/unknown-type-error", test_unknown_type_error);
  return g_test_run ();
}
