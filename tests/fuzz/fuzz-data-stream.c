/* fuzz-data-stream.c: libFuzzer target for the DATA normaliser, dot-stuffer
 * and BDAT framer
 *
 * The first input byte chooses how the rest is cut into writes; the rest is
 * a message body. For both framings, mk_test_data_stream_check() holds the
 * round trip to an independent model (the un-stuffed or un-chunked wire is
 * the CRLF-normalised input, exactly one terminator, no bare CR or LF, NUL
 * and over-long lines refused with no terminator sent), and an accepted body
 * leaves the same wire bytes whether written whole or in pieces, so no
 * chunk boundary (CR|LF, CRLF|'.') changes what the server sees.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tests/send/mk-test-data-stream-check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Up to this many bytes per write; 1 puts a boundary between every byte. */
#define MAX_PIECE 64

static GBytes *
checked_wire (const guint8 *body, gsize length, MkSmtpDataFraming framing, gsize piece)
{
  GBytes *wire = NULL;
  g_autofree char *problem = mk_test_data_stream_check (body, length, framing, piece, &wire);

  if (problem != NULL)
    g_error ("framing %d, writes of %" G_GSIZE_FORMAT ": %s", framing, piece, problem);
  return wire;
}

/* A `.` line is always stuffed, so CRLF.CRLF on the DOT wire can only be
 * the terminator, which is sent only for a body the stream accepted. */
static gboolean
accepted (GBytes *dot_wire)
{
  gsize length;
  const char *wire = g_bytes_get_data (dot_wire, &length);

  return length >= 5 && memcmp (wire + length - 5, "\r\n.\r\n", 5) == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const MkSmtpDataFraming framings[] = { MK_SMTP_DATA_FRAMING_DOT, MK_SMTP_DATA_FRAMING_BDAT };
  gboolean valid = FALSE;
  gsize piece;

  if (size == 0)
    return 0;
  piece = 1 + data[0] % MAX_PIECE;
  data++;
  size--;

  for (guint i = 0; i < G_N_ELEMENTS (framings); i++)
    {
      g_autoptr (GBytes) whole = checked_wire (data, size, framings[i], MAX (size, 1));
      g_autoptr (GBytes) pieces = checked_wire (data, size, framings[i], piece);

      if (framings[i] == MK_SMTP_DATA_FRAMING_DOT)
        valid = accepted (whole);
      if (valid && !g_bytes_equal (whole, pieces))
        g_error ("framing %d: writes of %" G_GSIZE_FORMAT " bytes change the wire", framings[i],
                 piece);
    }
  return 0;
}
