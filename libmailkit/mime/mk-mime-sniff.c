/* mk-mime-sniff.c: image and audio subtypes from magic bytes
 *
 * The formats and names are those of email.mime.image and email.mime.audio
 * in CPython 3.11 (its private copy of imghdr's and sndhdr's rules). Where
 * those rules take text for an image ("BMW is a car" is a BMP, "III." a
 * TIFF, "P1 is" a bitmap, any "#define" an XBM, "garbagJFIF" a JPEG), each
 * test here also checks the next field of the format's header; a JPEG is
 * recognised by its SOI marker, which also finds the Adobe and XMP JPEGs the
 * reference misses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mk-mime-sniff-private.h"

/* CPython's MIMEAudio looks at this much of the data, no more. */
#define MK_MIME_AUDIO_SNIFF_LENGTH 512

static gboolean
has_prefix (const guint8 *data, gsize length, gsize offset, const char *magic, gsize magic_length)
{
  return length >= offset + magic_length && memcmp (data + offset, magic, magic_length) == 0;
}

#define HAS(offset, magic) has_prefix (data, length, (offset), (magic), sizeof (magic) - 1)

static guint32
le32 (const guint8 *p)
{
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

/* JPEG: SOI then the start of a marker segment (ITU T.81 B.1.1.3). */
static gboolean
is_jpeg (const guint8 *data, gsize length)
{
  return HAS (0, "\xff\xd8\xff");
}

/* TIFF 6.0 §2 header: byte order, then 42 (or 43 for BigTIFF) in it. */
static gboolean
is_tiff (const guint8 *data, gsize length)
{
  return HAS (0, "II*\0") || HAS (0, "MM\0*") || HAS (0, "II+\0") || HAS (0, "MM\0+");
}

/* SGI image header: magic 474, storage 0 or 1, 1 or 2 bytes per channel. */
static gboolean
is_rgb (const guint8 *data, gsize length)
{
  return HAS (0, "\x01\xda") && length >= 4 && data[2] <= 1 && (data[3] == 1 || data[3] == 2);
}

/* Netpbm: "P" digit, white space (and comments), then the width. */
static gboolean
is_netpbm (const guint8 *data, gsize length, char plain, char raw)
{
  gsize i = 2;

  if (length < 3 || data[0] != 'P' || (data[1] != plain && data[1] != raw)
      || strchr (" \t\n\r", data[2]) == NULL || data[2] == '\0')
    return FALSE;
  while (i < length)
    {
      if (data[i] == '#')
        while (i < length && data[i] != '\n' && data[i] != '\r')
          i++;
      else if (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')
        i++;
      else
        break;
    }
  return i < length && g_ascii_isdigit (data[i]);
}

/* XBM: "#define <name>_width <number>". */
static gboolean
is_xbm (const guint8 *data, gsize length)
{
  gsize i = 8;

  if (!HAS (0, "#define "))
    return FALSE;
  while (i < length && (g_ascii_isalnum (data[i]) || data[i] == '_'))
    i++;
  if (i < 6 + 8 || memcmp (data + i - 6, "_width", 6) != 0)
    return FALSE;
  while (i < length && (data[i] == ' ' || data[i] == '\t'))
    i++;
  return i < length && g_ascii_isdigit (data[i]);
}

/* BMP: "BM", two reserved 16-bit zeros at 6, and a known DIB header size
 * at 14 (BITMAPCOREHEADER 12 up to BITMAPV5HEADER 124). */
static gboolean
is_bmp (const guint8 *data, gsize length)
{
  static const guint32 dib_sizes[] = { 12, 16, 40, 52, 56, 64, 108, 124 };
  guint32 dib;

  if (!HAS (0, "BM") || length < 18 || memcmp (data + 6, "\0\0\0\0", 4) != 0)
    return FALSE;
  dib = le32 (data + 14);
  for (gsize i = 0; i < G_N_ELEMENTS (dib_sizes); i++)
    if (dib == dib_sizes[i])
      return TRUE;
  return FALSE;
}

const char *
mk_mime_sniff_image (const guint8 *data, gsize length)
{
  if (is_jpeg (data, length))
    return "jpeg";
  if (HAS (0, "\x89PNG\r\n\x1a\n"))
    return "png";
  if (HAS (0, "GIF87a") || HAS (0, "GIF89a"))
    return "gif";
  if (is_tiff (data, length))
    return "tiff";
  if (is_rgb (data, length))
    return "rgb";
  if (is_netpbm (data, length, '1', '4'))
    return "pbm";
  if (is_netpbm (data, length, '2', '5'))
    return "pgm";
  if (is_netpbm (data, length, '3', '6'))
    return "ppm";
  if (HAS (0, "\x59\xa6\x6a\x95"))
    return "rast";
  if (is_xbm (data, length))
    return "xbm";
  if (is_bmp (data, length))
    return "bmp";
  if (HAS (0, "RIFF") && HAS (8, "WEBP"))
    return "webp";
  if (HAS (0, "\x76\x2f\x31\x01"))
    return "exr";
  return NULL;
}

const char *
mk_mime_sniff_audio (const guint8 *data, gsize length)
{
  length = MIN (length, MK_MIME_AUDIO_SNIFF_LENGTH);
  if (HAS (0, "FORM") && (HAS (8, "AIFC") || HAS (8, "AIFF")))
    return "x-aiff";
  if (HAS (0, ".snd"))
    return "basic";
  if (HAS (0, "RIFF") && HAS (8, "WAVE") && HAS (12, "fmt "))
    return "x-wav";
  return NULL;
}
