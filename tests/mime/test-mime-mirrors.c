/* test-mime-mirrors.c: the email.mime mirrors against Python's email.mime
 *
 * Each mirror's output is parsed by Python's email package and compared
 * with the object email.mime builds from the same input (content type,
 * parameters, charset, decoded payload); golden files pin the exact bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mime-test-common.h"
#include "mk-test-utils.h"

static char *
wire_string (GBytes *wire)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (wire, &length);

  return g_strndup (data, length);
}

static const char *
header_of (GMimeObject *object, const char *name)
{
  return g_mime_object_get_header (object, name);
}

typedef struct
{
  const char *text;
  const char *subtype;
  const char *charset;
  const char *expected_charset;
  const char *expected_encoding;
  const char *golden;
} TextCase;

static const TextCase text_cases[] = {
  { "Hello, world.\n", NULL, NULL, "us-ascii", "7bit", "text-ascii.eml" },
  { "Gr\xc3\xbc\xc3\x9f"
    "e aus K\xc3\xb6ln\nZeile zwei, fast nur ASCII.\n",
    NULL, NULL, "utf-8", "quoted-printable", "text-utf8-qp.eml" },
  { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83"
    "\x88"
    "\n",
    NULL, NULL, "utf-8", "base64", "text-utf8-base64.eml" },
  { "caf\xc3\xa9 cr\xc3\xa8me for everyone\n", "plain", "latin-1", "iso-8859-1", "quoted-printable",
    NULL },
  { "Gr\xc3\xbc\xc3\x9f"
    "e an alle im Team\n",
    NULL, "UTF-8", "utf-8", "quoted-printable", NULL },
  { "<p>Hello</p>\n", "html", NULL, "us-ascii", "7bit", "text-html.eml" },
  { "one\r\ntwo\rthree\nfour", NULL, NULL, "us-ascii", "7bit", "text-line-ends.eml" },
  { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n", NULL, "euc-jp", "iso-2022-jp", "7bit", NULL },
  { "plain ascii\n", NULL, "us-ascii", "us-ascii", "7bit", NULL },
};

static void
test_text (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (text_cases); i++)
    {
      const TextCase *c = &text_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) wire = NULL;
      g_autofree char *text_path = NULL;
      g_autofree char *name = g_strdup_printf ("text-%" G_GSIZE_FORMAT ".txt", i);
      GMimeTextPart *part;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      part = mk_mime_text_new (c->text, c->subtype, c->charset, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "charset"),
                       ==, c->expected_charset);
      g_assert_cmpstr (header_of (GMIME_OBJECT (part), "Content-Transfer-Encoding"), ==,
                       c->expected_encoding);
      g_assert_null (header_of (GMIME_OBJECT (part), "MIME-Version"));

      wire = mime_test_serialize (GMIME_OBJECT (part));
      text_path = mime_test_write_temp (name, c->text, strlen (c->text));
      mime_test_python_check (wire, "mirror-text", text_path, c->subtype ? c->subtype : "-",
                              c->charset ? c->charset : "-", NULL);
      if (c->golden != NULL)
        {
          g_autofree char *s = wire_string (wire);
          mime_test_assert_golden (s, c->golden);
        }
      g_object_unref (part);
    }
}

/* RFC 5322 §2.1.1: 998 octets at most; Python leaves a longer 7bit line as
 * it is (MIME-2), we switch to quoted-printable. */
static void
test_text_long_line (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  GMimeTextPart *part;

  text = g_strnfill (2500, 'a');
  part = mk_mime_text_new (text, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (header_of (GMIME_OBJECT (part), "Content-Transfer-Encoding"), ==,
                   "quoted-printable");
  wire = mime_test_serialize (GMIME_OBJECT (part));
  path = mime_test_write_temp ("long.txt", text, strlen (text));
  mime_test_python_check (wire, "mirror-text", path, "-", "-", NULL);
  g_object_unref (part);
}

/* 998 octets is the longest line 7bit may carry; one more needs QP. */
static void
test_text_998 (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fits = g_strnfill (998, 'a');
  g_autofree char *over = g_strnfill (999, 'a');
  GMimeTextPart *part;

  part = mk_mime_text_new (fits, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (part)), ==,
                   GMIME_CONTENT_ENCODING_7BIT);
  g_object_unref (part);
  part = mk_mime_text_new (over, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (part)), ==,
                   GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_object_unref (part);
}

static void
test_text_errors (void)
{
  static const struct
  {
    const char *text, *subtype, *charset;
  } cases[] = {
    { "caf\xc3\xa9", NULL, "us-ascii" },       /* Python: UnicodeEncodeError */
    { "x", NULL, "no-such-charset-anywhere" }, /* Python: LookupError */
    { "x", NULL, "utf-8\r\nX-Injected: 1" },
    { "x", NULL, "utf-8\"; x=\"" },
    { "x", "plain\r\nX-Injected: 1", NULL },
    { "x", "pl ain", NULL },
    { "x", "", NULL },
    { "\xff\xfe not UTF-8", NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      GMimeTextPart *part
          = mk_mime_text_new (cases[i].text, cases[i].subtype, cases[i].charset, &error);
      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
      g_assert_null (part);
    }
}

static const struct
{
  const char *file;
  const char *subtype;
  gboolean audio;
} binary_cases[] = {
  { "sample.png", NULL, FALSE },       { "sample.jpg", NULL, FALSE }, { "sample.gif", NULL, FALSE },
  { "sample.png", "x-custom", FALSE }, { "sample.wav", NULL, TRUE },  { "sample.au", NULL, TRUE },
  { "sample.aiff", NULL, TRUE },       { "sample.wav", "wav", TRUE },
};

static void
test_image_audio (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (binary_cases); i++)
    {
      g_autoptr (GBytes) data = mime_test_data_bytes (binary_cases[i].file);
      g_autofree char *path = mime_test_data_path (binary_cases[i].file);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) wire = NULL;
      GMimePart *part;

      g_test_message ("%s", binary_cases[i].file);
      part = binary_cases[i].audio ? mk_mime_audio_new (data, binary_cases[i].subtype, &error)
                                   : mk_mime_image_new (data, binary_cases[i].subtype, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_mime_part_get_content_encoding (part), ==, GMIME_CONTENT_ENCODING_BASE64);
      wire = mime_test_serialize (GMIME_OBJECT (part));
      mime_test_python_check (wire, binary_cases[i].audio ? "mirror-audio" : "mirror-image", path,
                              binary_cases[i].subtype ? binary_cases[i].subtype : "-", NULL);
      if (i == 0)
        {
          g_autofree char *s = wire_string (wire);
          mime_test_assert_golden (s, "image-png.eml");
        }
      g_object_unref (part);
    }
}

static void
test_application (void)
{
  g_autoptr (GBytes) pdf = mime_test_data_bytes ("sample.pdf");
  g_autofree char *pdf_path = mime_test_data_path ("sample.pdf");
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autofree char *empty_path = mime_test_write_temp ("empty", "", 0);
  g_autoptr (GError) error = NULL;
  struct
  {
    GBytes *data;
    const char *path, *subtype, *golden;
  } cases[] = {
    { pdf, pdf_path, "pdf", "application-pdf.eml" },
    { pdf, pdf_path, NULL, NULL },
    { empty, empty_path, NULL, "application-empty.eml" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) wire = NULL;
      GMimePart *part = mk_mime_application_new (cases[i].data, cases[i].subtype, &error);

      g_assert_no_error (error);
      wire = mime_test_serialize (GMIME_OBJECT (part));
      mime_test_python_check (wire, "mirror-application", cases[i].path,
                              cases[i].subtype ? cases[i].subtype : "-", NULL);
      if (cases[i].golden != NULL)
        {
          g_autofree char *s = wire_string (wire);
          mime_test_assert_golden (s, cases[i].golden);
        }
      g_object_unref (part);
    }

  g_assert_null (mk_mime_application_new (pdf, "pdf\r\nX: y", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
}

static void
test_base_and_parameters (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GMimeObject) base = NULL;
  g_autoptr (GMimeObject) multipart = NULL;
  g_autoptr (GMimeObject) message = NULL;
  g_autofree char *s = NULL;

  base = mk_mime_base_new ("application", "x-custom", &error);
  g_assert_no_error (error);
  g_assert_true (GMIME_IS_PART (base));
  g_assert_true (mk_mime_set_parameter (base, "foo", "bar", &error));
  g_assert_true (mk_mime_set_parameter (base, "title",
                                        "caf\xc3\xa9 \xe2\x80\x94 r\xc3\xa9sum\xc3\xa9", &error));
  g_assert_true (mk_mime_set_parameter (base, "quoted", "a \"b\" \\c", &error));
  /* Replacing keeps one parameter of the name. */
  g_assert_true (mk_mime_set_parameter (base, "foo", "baz", &error));
  g_assert_no_error (error);
  wire = mime_test_serialize (base);
  mime_test_python_check (wire, "mirror-base", "application", "x-custom", "foo=baz",
                          "title=caf\xc3\xa9 \xe2\x80\x94 r\xc3\xa9sum\xc3\xa9",
                          "quoted=a \"b\" \\c", NULL);
  s = wire_string (wire);
  mime_test_assert_golden (s, "base.eml");

  multipart = mk_mime_base_new ("multipart", "mixed", &error);
  g_assert_true (GMIME_IS_MULTIPART (multipart));
  message = mk_mime_base_new ("message", "rfc822", &error);
  g_assert_true (GMIME_IS_MESSAGE_PART (message));
  g_assert_no_error (error);

  g_assert_null (mk_mime_base_new ("app lication", "x", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (mk_mime_base_new ("application", "x/y", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);

  /* hostile-peers §1.10: GMime writes a parameter value as given. */
  g_assert_false (mk_mime_set_parameter (base, "charset", "utf-8\r\nX-Injected: 1", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mk_mime_set_parameter (base, "x\r\ny", "v", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mk_mime_set_parameter (base, "name*", "v", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mk_mime_set_parameter (multipart, "boundary", "has\"quote", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mk_mime_set_parameter (base, "v", "\xc3", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (base, "charset"), ==, NULL);
}

static void
test_multipart (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *s = NULL;
  GMimeMultipart *multipart;
  GMimeTextPart *one, *two;

  multipart = mk_mime_multipart_new ("alternative", "simple boundary", &error);
  g_assert_no_error (error);
  one = mk_mime_text_new ("one\n", NULL, NULL, &error);
  two = mk_mime_text_new ("two\n", NULL, NULL, &error);
  g_mime_multipart_add (multipart, GMIME_OBJECT (one));
  g_mime_multipart_add (multipart, GMIME_OBJECT (two));
  g_object_unref (one);
  g_object_unref (two);
  wire = mime_test_serialize (GMIME_OBJECT (multipart));
  mime_test_python_check (wire, "mirror-multipart", "alternative", "simple boundary", "one\n",
                          "two\n", NULL);
  s = wire_string (wire);
  mime_test_assert_golden (s, "multipart.eml");
  g_object_unref (multipart);

  /* Defaults: mixed, and a random boundary made when written. */
  multipart = mk_mime_multipart_new (NULL, NULL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *mime_type = g_mime_content_type_get_mime_type (
        g_mime_object_get_content_type (GMIME_OBJECT (multipart)));
    g_assert_cmpstr (mime_type, ==, "multipart/mixed");
  }
  g_object_unref (multipart);

  static const char *const bad_boundaries[] = {
    "",           "ends with space ",
    "quote\"d",   "line\r\nbreak",
    "semi;colon", "01234567890123456789012345678901234567890123456789012345678901234567890",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad_boundaries); i++)
    {
      g_assert_null (mk_mime_multipart_new (NULL, bad_boundaries[i], &error));
      g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
      g_clear_error (&error);
    }
}

static void
test_message (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) inner_wire = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *inner_path = NULL;
  g_autofree char *s = NULL;
  g_autoptr (GDateTime) date = g_date_time_new_utc (2024, 2, 29, 12, 0, 0);
  GMimeMessage *inner = g_mime_message_new (FALSE);
  GMimeTextPart *body = mk_mime_text_new ("Inner body\n", NULL, NULL, &error);
  GMimeMessagePart *part;

  g_mime_message_set_date (inner, date);
  g_mime_message_set_subject (inner, "Inner", NULL);
  g_mime_message_set_message_id (inner, "inner@example.org");
  InternetAddress *alice = internet_address_mailbox_new ("Alice", "alice@example.org");

  internet_address_list_add (g_mime_message_get_from (inner), alice);
  g_object_unref (alice);
  g_mime_message_set_mime_part (inner, GMIME_OBJECT (body));
  g_object_unref (body);
  inner_wire = mime_test_serialize (GMIME_OBJECT (inner));
  inner_path = mime_test_write_temp ("inner.eml", g_bytes_get_data (inner_wire, NULL),
                                     g_bytes_get_size (inner_wire));

  part = mk_mime_message_new (inner, NULL, &error);
  g_assert_no_error (error);
  wire = mime_test_serialize (GMIME_OBJECT (part));
  mime_test_python_check (wire, "mirror-message", inner_path, "-", NULL);
  s = wire_string (wire);
  mime_test_assert_golden (s, "message.eml");
  g_object_unref (part);

  g_assert_null (mk_mime_message_new (inner, "rfc 822", &error));
  g_assert_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID);
  g_object_unref (inner);
}

/* MIME-4: MIME-Version once, at the top, not in every part as Python
 * writes it. */
static void
test_mime_version_top_level_only (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GBytes) png = mime_test_data_bytes ("sample.png");
  GMimeMessage *message = g_mime_message_new (FALSE);
  GMimeMultipart *multipart = mk_mime_multipart_new ("mixed", NULL, &error);
  GMimeTextPart *text = mk_mime_text_new ("hi\n", NULL, NULL, &error);
  GMimePart *image = mk_mime_image_new (png, NULL, &error);
  const char *data, *p;
  int count = 0;

  g_assert_no_error (error);
  g_mime_multipart_add (multipart, GMIME_OBJECT (text));
  g_mime_multipart_add (multipart, GMIME_OBJECT (image));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (multipart));
  wire = mime_test_serialize (GMIME_OBJECT (message));
  data = g_bytes_get_data (wire, NULL);
  for (p = data;
       (p = g_strstr_len (p, data + g_bytes_get_size (wire) - p, "MIME-Version:")) != NULL; p++)
    count++;
  g_assert_cmpint (count, ==, 1);
  mime_test_python_check (wire, "tree", "multipart/mixed(text/plain,image/png)", NULL);
  g_object_unref (text);
  g_object_unref (image);
  g_object_unref (multipart);
  g_object_unref (message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/mime/mirrors/text", test_text);
  g_test_add_func ("/mime/mirrors/text-long-line", test_text_long_line);
  g_test_add_func ("/mime/mirrors/text-998", test_text_998);
  g_test_add_func ("/mime/mirrors/text-errors", test_text_errors);
  g_test_add_func ("/mime/mirrors/image-audio", test_image_audio);
  g_test_add_func ("/mime/mirrors/application", test_application);
  g_test_add_func ("/mime/mirrors/base-and-parameters", test_base_and_parameters);
  g_test_add_func ("/mime/mirrors/multipart", test_multipart);
  g_test_add_func ("/mime/mirrors/message", test_message);
  g_test_add_func ("/mime/mirrors/mime-version", test_mime_version_top_level_only);
  return g_test_run ();
}
