/* test-data-stream.c: the DATA/BDAT body stream (smtp/mk-smtp-data-stream)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "libmailkit/smtp/mk-smtp-data-stream-private.h"
#include "libmailkit/smtp/mk-smtp-error.h"
#include "mk-test-data-stream-check.h"
#include "mk-test-utils.h"

/* Feeds @input in writes of every size from 1 byte to the whole input and
 * asserts the checker's rules and that the wire is the same each time;
 * returns that wire. */
static GBytes *
wire_for_every_split (const char *input, gsize length, MkSmtpDataFraming framing)
{
  GBytes *first = NULL;

  for (gsize piece = 1; piece <= MAX (length, 1); piece++)
    {
      g_autoptr (GBytes) wire = NULL;
      g_autofree char *problem
          = mk_test_data_stream_check ((const guint8 *)input, length, framing, piece, &wire);

      if (problem != NULL)
        g_error ("input of %" G_GSIZE_FORMAT " bytes in writes of %" G_GSIZE_FORMAT ": %s", length,
                 piece, problem);
      if (first == NULL)
        first = g_bytes_ref (wire);
      else
        g_assert_true (g_bytes_equal (first, wire));
    }
  return first;
}

static void
assert_wire (GBytes *wire, const char *expected, gsize expected_length)
{
  g_assert_cmpmem (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), expected,
                   expected_length);
}

typedef struct
{
  const char *input;
  const char *dot_wire;
} WireCase;

/* The smuggling and transparency cases of the hostile-input catalogue:
 * exact DATA bytes. */
static const WireCase wire_cases[] = {
  { ".", "..\r\n.\r\n" },
  { "", "\r\n.\r\n" },
  { "x", "x\r\n.\r\n" },
  { "x\r\n", "x\r\n.\r\n" },
  { ".leading\r\n", "..leading\r\n.\r\n" },
  { "a.b\r\n", "a.b\r\n.\r\n" },
  { "a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n" },
  { "\n.\n", "\r\n..\r\n.\r\n" },
  { "\n.\r\n", "\r\n..\r\n.\r\n" },
  { "\r\n.\n", "\r\n..\r\n.\r\n" },
  { "\r.\r", "\r\n..\r\n.\r\n" },
  { "\r.\r\n", "\r\n..\r\n.\r\n" },
  { "\r\n.\r\r\n", "\r\n..\r\n\r\n.\r\n" },
  { "\r\r\n", "\r\n\r\n.\r\n" },
  { "\n\r", "\r\n\r\n.\r\n" },
  { "x\r", "x\r\n.\r\n" },
  { "a\r\n.", "a\r\n..\r\n.\r\n" },
  { "\r\n\r\n.\r\n", "\r\n\r\n..\r\n.\r\n" },
  { "..\n...\n", "...\r\n....\r\n.\r\n" },
  { ".\r\n.\r\n.\r\n.\r\n", "..\r\n..\r\n..\r\n..\r\n.\r\n" },
  { "x\r\n.\r\nMAIL FROM:<evil@x>\r\n", "x\r\n..\r\nMAIL FROM:<evil@x>\r\n.\r\n" },
};

static void
test_wire_cases (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (wire_cases); i++)
    {
      const WireCase *c = &wire_cases[i];
      g_autoptr (GBytes) dot
          = wire_for_every_split (c->input, strlen (c->input), MK_SMTP_DATA_FRAMING_DOT);
      g_autoptr (GBytes) bdat
          = wire_for_every_split (c->input, strlen (c->input), MK_SMTP_DATA_FRAMING_BDAT);
      g_autoptr (GString) text = g_string_new (NULL);
      g_autofree char *bdat_wire = NULL;
      gsize text_length = strlen (c->dot_wire) - 3;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      assert_wire (dot, c->dot_wire, strlen (c->dot_wire));

      /* BDAT carries the same lines, unstuffed, in one LAST chunk. */
      for (gsize j = 0; j < text_length; j++)
        if (c->dot_wire[j] != '.' || (j > 0 && c->dot_wire[j - 1] != '\n'))
          g_string_append_c (text, c->dot_wire[j]);
      bdat_wire = g_strdup_printf ("BDAT %" G_GSIZE_FORMAT " LAST\r\n%s", text->len, text->str);
      assert_wire (bdat, bdat_wire, strlen (bdat_wire));
    }
}

/* Input whose interesting byte (a line-start dot, a CR before its LF) falls
 * at the edge of an output block and of every write. */
static void
test_block_boundary (void)
{
  static const gsize pieces[] = { 1,
                                  2,
                                  3,
                                  7,
                                  4096,
                                  MK_SMTP_DATA_BLOCK_SIZE - 1,
                                  MK_SMTP_DATA_BLOCK_SIZE,
                                  MK_SMTP_DATA_BLOCK_SIZE + 1,
                                  G_MAXSIZE };
  static const char *const tails[] = { ".\r\n.", "\r\n.\r\n", "\r.\r", "\n.\n", "\r\r\n." };

  for (gsize t = 0; t < G_N_ELEMENTS (tails); t++)
    for (gsize shift = 0; shift < 4; shift++)
      {
        /* 80-octet lines up to just before the block edge, then the tail. */
        gsize lead = MK_SMTP_DATA_BLOCK_SIZE - shift;
        g_autoptr (GString) input = g_string_new (NULL);
        g_autoptr (GBytes) first = NULL;

        while (input->len + 80 <= lead)
          g_string_append (input, "0123456789012345678901234567890123456789"
                                  "012345678901234567890123456789012345678\n");
        while (input->len < lead)
          g_string_append_c (input, 'z');
        g_string_append (input, tails[t]);
        g_string_append (input, "end");

        for (int framing = MK_SMTP_DATA_FRAMING_DOT; framing <= MK_SMTP_DATA_FRAMING_BDAT;
             framing++)
          {
            g_clear_pointer (&first, g_bytes_unref);
            for (gsize p = 0; p < G_N_ELEMENTS (pieces); p++)
              {
                g_autoptr (GBytes) wire = NULL;
                g_autofree char *problem = mk_test_data_stream_check (
                    (const guint8 *)input->str, input->len, framing, pieces[p], &wire);

                g_assert_null (problem);
                if (first == NULL)
                  first = g_bytes_ref (wire);
                else
                  g_assert_true (g_bytes_equal (first, wire));
              }
          }
      }
}

/* Random input over the bytes that matter, random write sizes. */
static void
test_random_splits (void)
{
  static const char alphabet[] = ".\r\n.a";

  for (guint round = 0; round < 3000; round++)
    {
      gsize length = g_test_rand_int_range (0, 64);
      g_autofree char *input = g_malloc (length + 1);
      gsize piece = g_test_rand_int_range (1, 70);
      MkSmtpDataFraming framing
          = g_test_rand_bit () ? MK_SMTP_DATA_FRAMING_DOT : MK_SMTP_DATA_FRAMING_BDAT;
      g_autofree char *problem = NULL;

      for (gsize i = 0; i < length; i++)
        input[i] = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
      problem = mk_test_data_stream_check ((const guint8 *)input, length, framing, piece, NULL);
      if (problem != NULL)
        g_error ("round %u: %s", round, problem);
    }
}

static void
test_bdat_chunks (void)
{
  gsize length = 3 * MK_SMTP_DATA_BLOCK_SIZE + 100;
  g_autofree char *input = g_malloc (length);
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (MkSmtpDataStream) stream = mk_smtp_data_stream_new (memory, MK_SMTP_DATA_FRAMING_BDAT);
  g_autofree char *problem = NULL;
  const char *wire;

  for (gsize i = 0; i < length; i++)
    input[i] = (i % 100 == 99) ? '\n' : 'a' + i % 26;
  problem = mk_test_data_stream_check ((const guint8 *)input, length, MK_SMTP_DATA_FRAMING_BDAT,
                                       1000, NULL);
  g_assert_null (problem);

  /* Each LF became CRLF: the text grows by one octet per line. */
  g_assert_true (
      g_output_stream_write_all (G_OUTPUT_STREAM (stream), input, length, NULL, NULL, NULL));
  g_assert_true (mk_smtp_data_stream_finish (stream, NULL, NULL));
  g_assert_cmpuint (mk_smtp_data_stream_get_chunk_count (stream), ==, 4);
  g_assert_cmpuint (mk_smtp_data_stream_get_message_bytes (stream), ==, length);
  wire = g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (memory));
  g_assert_true (g_str_has_prefix (wire, "BDAT 65536\r\n"));
}

static void
test_invalid_input (void)
{
  g_autofree char *line = g_strnfill (MK_SMTP_DATA_MAX_LINE_LENGTH, 'x');
  g_autofree char *long_line = g_strnfill (MK_SMTP_DATA_MAX_LINE_LENGTH + 1, 'x');
  g_autofree char *dot_line = g_strnfill (MK_SMTP_DATA_MAX_LINE_LENGTH, '.');
  g_autofree char *long_across = g_strconcat ("a\r\n", line, "\r\n", line, "y\r\n", NULL);
  static const char nul[] = "a\r\nb\0c\r\n";

  for (int framing = MK_SMTP_DATA_FRAMING_DOT; framing <= MK_SMTP_DATA_FRAMING_BDAT; framing++)
    {
      g_autoptr (GBytes) wire = NULL;
      g_autofree char *problem = NULL;

      /* The longest legal line passes, also when its dot is stuffed. */
      g_assert_null (
          mk_test_data_stream_check ((const guint8 *)line, strlen (line), framing, 7, NULL));
      g_assert_null (mk_test_data_stream_check ((const guint8 *)dot_line, strlen (dot_line),
                                                framing, 998, NULL));
      g_assert_null (mk_test_data_stream_check ((const guint8 *)long_line, strlen (long_line),
                                                framing, 13, NULL));
      g_assert_null (mk_test_data_stream_check ((const guint8 *)long_across, strlen (long_across),
                                                framing, 1, NULL));
      problem = mk_test_data_stream_check ((const guint8 *)nul, sizeof nul - 1, framing, 1, &wire);
      g_assert_null (problem);
      /* Nothing reached the wire: the block was never full. */
      g_assert_cmpuint (g_bytes_get_size (wire), ==, 0);
    }
}

/* A base stream that fails: the failed write poisons the stream, and
 * nothing, least of all a terminator, follows. */
static void
test_base_failure (void)
{
  static guint8 buffer[MK_SMTP_DATA_BLOCK_SIZE + 10];
  g_autoptr (GOutputStream) small = g_memory_output_stream_new (buffer, sizeof buffer, NULL, NULL);
  g_autoptr (MkSmtpDataStream) stream = mk_smtp_data_stream_new (small, MK_SMTP_DATA_FRAMING_DOT);
  g_autofree char *lines = g_strnfill (3 * MK_SMTP_DATA_BLOCK_SIZE, '\n');
  g_autoptr (GError) error = NULL;
  gsize written;

  g_assert_false (g_output_stream_write_all (G_OUTPUT_STREAM (stream), lines, strlen (lines), NULL,
                                             NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_clear_error (&error);
  written = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (small));
  g_assert_cmpuint (written, >=, MK_SMTP_DATA_BLOCK_SIZE);
  g_assert_false (g_output_stream_write (G_OUTPUT_STREAM (stream), "x", 1, NULL, &error) > 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (mk_smtp_data_stream_finish (stream, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (small)), ==,
                    written);
}

/* Closing or dropping the stream never ends the message, and it is ended
 * once only. */
static void
test_terminator_once (void)
{
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (MkSmtpDataStream) stream = mk_smtp_data_stream_new (memory, MK_SMTP_DATA_FRAMING_DOT);
  g_autoptr (MkSmtpDataStream) dropped = mk_smtp_data_stream_new (memory, MK_SMTP_DATA_FRAMING_DOT);
  g_autoptr (GError) error = NULL;

  /* Written, flushed and closed but not finished: nothing was sent. */
  g_assert_true (
      g_output_stream_write_all (G_OUTPUT_STREAM (dropped), "abc\r\n", 5, NULL, NULL, NULL));
  g_assert_true (g_output_stream_flush (G_OUTPUT_STREAM (dropped), NULL, NULL));
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (dropped), NULL, NULL));
  g_assert_false (mk_smtp_data_stream_finish (dropped, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (g_output_stream_is_closed (memory));
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (memory)), ==, 0);

  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (stream), "hi", 2, NULL, NULL, NULL));
  g_assert_true (mk_smtp_data_stream_finish (stream, NULL, NULL));
  g_assert_false (mk_smtp_data_stream_finish (stream, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (g_output_stream_write (G_OUTPUT_STREAM (stream), "x", 1, NULL, &error) > 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_cmpmem (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (memory)),
                   g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (memory)),
                   "hi\r\n.\r\n", 7);
}

static void
record_progress (guint64 message_bytes, gpointer user_data)
{
  GArray *seen = user_data;

  g_array_append_val (seen, message_bytes);
}

static void
test_progress (void)
{
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (MkSmtpDataStream) stream = mk_smtp_data_stream_new (memory, MK_SMTP_DATA_FRAMING_DOT);
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (guint64));

  mk_smtp_data_stream_set_progress_func (stream, record_progress, seen);
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (stream), "ab\n", 3, NULL, NULL, NULL));
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (stream), "\n.c", 3, NULL, NULL, NULL));
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (stream), "", 0, NULL, NULL, NULL));
  g_assert_true (mk_smtp_data_stream_finish (stream, NULL, NULL));
  /* Counted as written in, before CRLF and stuffing. */
  g_assert_cmpuint (seen->len, ==, 2);
  g_assert_cmpuint (g_array_index (seen, guint64, 0), ==, 3);
  g_assert_cmpuint (g_array_index (seen, guint64, 1), ==, 6);
  g_assert_cmpuint (mk_smtp_data_stream_get_message_bytes (stream), ==, 6);
  g_assert_cmpuint (mk_smtp_data_stream_get_chunk_count (stream), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/data-stream/wire-cases", test_wire_cases);
  g_test_add_func ("/data-stream/block-boundary", test_block_boundary);
  g_test_add_func ("/data-stream/random-splits", test_random_splits);
  g_test_add_func ("/data-stream/bdat-chunks", test_bdat_chunks);
  g_test_add_func ("/data-stream/invalid-input", test_invalid_input);
  g_test_add_func ("/data-stream/base-failure", test_base_failure);
  g_test_add_func ("/data-stream/terminator-once", test_terminator_once);
  g_test_add_func ("/data-stream/progress", test_progress);

  return g_test_run ();
}
