/* fuzz-data-stream.c: libFuzzer target for MkSmtpDataStream's round trip
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The first input byte chooses the framing (low bit) and the size of the
 * writes (the rest, plus one); the remaining bytes are the message. Any
 * violation of mk_test_data_stream_check()'s rules aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "mk-test-data-stream-check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MkSmtpDataFraming framing;
  char *problem;

  if (size < 1)
    return 0;
  framing = (data[0] & 1) ? MK_SMTP_DATA_FRAMING_BDAT : MK_SMTP_DATA_FRAMING_DOT;
  problem = mk_test_data_stream_check (data + 1, size - 1, framing, (data[0] >> 1) + 1, NULL);
  if (problem != NULL)
    {
      g_printerr ("%s\n", problem);
      abort ();
    }
  return 0;
}
