/* mime-test-common.c: what the mime/ tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mime-test-common.h"
#include "mk-test-utils.h"

char *
mime_test_data_path (const char *name)
{
  return g_build_filename (mk_test_srcdir (), "..", "data", name, NULL);
}

GBytes *
mime_test_data_bytes (const char *name)
{
  g_autofree char *path = mime_test_data_path (name);
  gsize length = 0;
  char *contents = mk_test_read_file (path, &length);

  return g_bytes_new_take (contents, length);
}

char *
mime_test_write_temp (const char *name, const void *data, gsize length)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (mk_test_tmpdir (), name, NULL);

  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
  return path;
}

GBytes *
mime_test_serialize (GMimeObject *object)
{
  GMimeFormatOptions *options = g_mime_format_options_new ();
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *array;
  GBytes *bytes;

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  g_assert_cmpint (g_mime_object_write_to_stream (object, options, stream), >=, 0);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  bytes = g_bytes_new (array->data, array->len);
  g_object_unref (stream);
  g_mime_format_options_free (options);
  return bytes;
}

/* Random boundaries become BOUNDARY-1, BOUNDARY-2, … in the order they are
 * declared, so that a golden file can hold the exact structure. */
char *
mime_test_normalise_boundaries (GBytes *wire)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (wire, &length);
  g_autofree char *text = g_strndup (data, length);
  const char *p = text;
  int n = 0;

  while ((p = strstr (p, "boundary=\"")) != NULL)
    {
      const char *start = p + strlen ("boundary=\"");
      const char *end = strchr (start, '"');
      g_autofree char *boundary = NULL;
      g_autofree char *replacement = NULL;
      g_auto (GStrv) pieces = NULL;
      gsize offset;

      g_assert_nonnull (end);
      boundary = g_strndup (start, end - start);
      replacement = g_strdup_printf ("BOUNDARY-%d", ++n);
      offset = start - text;
      pieces = g_strsplit (text, boundary, -1);
      g_free (text);
      text = g_strjoinv (replacement, pieces);
      p = text + offset;
    }
  return g_steal_pointer (&text);
}

/* MK_TEST_UPDATE_GOLDEN=1 rewrites the golden file instead (then read the
 * diff before committing it). */
void
mime_test_assert_golden (const char *wire, const char *golden_name)
{
  g_autofree char *path = g_build_filename (mk_test_srcdir (), "mime", "golden", golden_name, NULL);
  g_autofree char *expected = NULL;

  if (g_strcmp0 (g_getenv ("MK_TEST_UPDATE_GOLDEN"), "1") == 0)
    {
      g_autoptr (GError) error = NULL;
      g_file_set_contents (path, wire, -1, &error);
      g_assert_no_error (error);
    }
  expected = mk_test_read_file (path, NULL);
  g_assert_cmpstr (wire, ==, expected);
}

/* Runs tests/mime/check-mime.py over @wire with the checks given (NULL
 * ends the list; "--" separates checks), and fails with its message. */
void
mime_test_python_check (GBytes *wire, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *wire_path = NULL;
  static int counter;
  g_autofree char *name = g_strdup_printf ("wire-%d.eml", ++counter);
  gsize length = 0;
  const void *data = g_bytes_get_data (wire, &length);
  const char *arg;
  int status = 0;
  va_list ap;

  wire_path = mime_test_write_temp (name, data, length);
  g_ptr_array_add (argv, g_strdup (mk_test_python ()));
  g_ptr_array_add (argv, g_build_filename (mk_test_srcdir (), "mime", "check-mime.py", NULL));
  g_ptr_array_add (argv, g_strdup (wire_path));
  va_start (ap, wire);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("Python's email package disagrees with %s:\n%s%s", wire_path, out, err);
}
