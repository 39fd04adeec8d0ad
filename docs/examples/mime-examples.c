/* mime-examples.c: each email.mime mirror and the message builder, with the
 * message each produces
 *
 * Build against an installed libmailkit:
 *   cc mime-examples.c $(pkg-config --cflags --libs mailkit-1.0) -o mime-examples
 * Run it with the sample-file folder of the source tree:
 *   ./mime-examples ../../data
 *
 * Every section prints "==> name" and the message, with LF line ends (on
 * the wire each line ends with CRLF). docs/mime.md shows this output; a
 * test checks that it still matches.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <libmailkit/mailkit.h>
#include <stdio.h>
#include <stdlib.h>

static void
print_object (const char *name, GMimeObject *object)
{
  GMimeFormatOptions *options = g_mime_format_options_new ();
  char *text;

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_UNIX);
  text = g_mime_object_to_string (object, options);
  printf ("==> %s\n%s", name, text);
  if (text[0] != '\0' && text[strlen (text) - 1] != '\n')
    printf ("\n");
  g_free (text);
  g_mime_format_options_free (options);
}

static void
check (GError *error)
{
  if (error != NULL)
    {
      fprintf (stderr, "mime-examples: %s\n", error->message);
      exit (1);
    }
}

/* MIMEText("Grüße aus Köln!\nThe meeting is on Monday at ten.\n") */
static void
example_text (void)
{
  GError *error = NULL;
  GMimeTextPart *part = mk_mime_text_new ("Gr\xc3\xbc\xc3\x9f"
                                          "e aus K\xc3\xb6ln!\nThe meeting is on Monday at ten.\n",
                                          NULL, NULL, &error);
  check (error);
  print_object ("text", GMIME_OBJECT (part));
  g_object_unref (part);
}

/* MIMEImage(data): the subtype is recognised from the bytes. */
static void
example_image (void)
{
  static const guint8 gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
                              "\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";
  GError *error = NULL;
  GBytes *data = g_bytes_new_static (gif, sizeof gif - 1);
  GMimePart *part = mk_mime_image_new (data, NULL, &error);

  check (error);
  print_object ("image", GMIME_OBJECT (part));
  g_object_unref (part);
  g_bytes_unref (data);
}

/* MIMEAudio(data): a Sun .au header is "basic". */
static void
example_audio (void)
{
  static const guint8 au[] = ".snd\x00\x00\x00\x18\x00\x00\x00\x04\x00\x00\x00\x01"
                             "\x00\x00\x1f\x40\x00\x00\x00\x01\xff\x7f\xff\x7f";
  GError *error = NULL;
  GBytes *data = g_bytes_new_static (au, sizeof au - 1);
  GMimePart *part = mk_mime_audio_new (data, NULL, &error);

  check (error);
  print_object ("audio", GMIME_OBJECT (part));
  g_object_unref (part);
  g_bytes_unref (data);
}

/* MIMEApplication(data): octet-stream unless a subtype is given. */
static void
example_application (void)
{
  GError *error = NULL;
  GBytes *data = g_bytes_new_static ("\x00\x01\x02 any bytes \xff", 16);
  GMimePart *part = mk_mime_application_new (data, NULL, &error);

  check (error);
  print_object ("application", GMIME_OBJECT (part));
  g_object_unref (part);
  g_bytes_unref (data);
}

/* MIMEMultipart('alternative', boundary='example-boundary',
 *               _subparts=[MIMEText(...), MIMEText(..., 'html')]) */
static void
example_multipart (void)
{
  GError *error = NULL;
  GMimeMultipart *multipart = mk_mime_multipart_new ("alternative", "example-boundary", &error);
  GMimeTextPart *text = mk_mime_text_new ("Hello!\n", NULL, NULL, &error);
  GMimeTextPart *html = mk_mime_text_new ("<p>Hello!</p>\n", "html", NULL, &error);

  check (error);
  g_mime_multipart_add (multipart, GMIME_OBJECT (text));
  g_mime_multipart_add (multipart, GMIME_OBJECT (html));
  print_object ("multipart", GMIME_OBJECT (multipart));
  g_object_unref (text);
  g_object_unref (html);
  g_object_unref (multipart);
}

/* MIMEMessage(msg): a whole message as a part, as a forward is. */
static void
example_message (void)
{
  GError *error = NULL;
  GMimeMessage *inner = g_mime_message_new (FALSE);
  GDateTime *date = g_date_time_new_utc (2024, 3, 1, 9, 30, 0);
  InternetAddress *from = internet_address_mailbox_new ("Carol", "carol@example.org");
  GMimeTextPart *body = mk_mime_text_new ("The original text.\n", NULL, NULL, &error);
  GMimeMessagePart *part;

  check (error);
  g_mime_message_set_date (inner, date);
  internet_address_list_add (g_mime_message_get_from (inner), from);
  g_mime_message_set_subject (inner, "Original", NULL);
  g_mime_message_set_message_id (inner, "original@example.org");
  g_mime_message_set_mime_part (inner, GMIME_OBJECT (body));
  part = mk_mime_message_new (inner, NULL, &error);
  check (error);
  print_object ("message", GMIME_OBJECT (part));
  g_object_unref (part);
  g_object_unref (body);
  g_object_unref (from);
  g_date_time_unref (date);
  g_object_unref (inner);
}

/* MIMEBase('application', 'x-example', version='2', title='Résumé') */
static void
example_base (void)
{
  GError *error = NULL;
  GMimeObject *part = mk_mime_base_new ("application", "x-example", &error);

  check (error);
  mk_mime_set_parameter (part, "version", "2", &error);
  check (error);
  mk_mime_set_parameter (part, "title", "R\xc3\xa9sum\xc3\xa9", &error);
  check (error);
  print_object ("base", part);
  g_object_unref (part);
}

/* The builder's boundaries are random; for a reproducible listing they are
 * replaced here, with GMime, once the message is built. */
static void
fix_boundaries (GMimeObject *object, int *counter)
{
  if (GMIME_IS_MULTIPART (object))
    {
      char boundary[32];
      int n = g_mime_multipart_get_count (GMIME_MULTIPART (object));

      g_snprintf (boundary, sizeof boundary, "boundary-%d", ++*counter);
      g_mime_multipart_set_boundary (GMIME_MULTIPART (object), boundary);
      for (int i = 0; i < n; i++)
        fix_boundaries (g_mime_multipart_get_part (GMIME_MULTIPART (object), i), counter);
    }
}

static void
example_builder (const char *data_dir)
{
  GError *error = NULL;
  MkMessageBuilder *builder = mk_message_builder_new ();
  GDateTime *date = g_date_time_new_utc (2024, 3, 1, 10, 0, 0);
  char *gif = g_build_filename (data_dir, "sample.gif", NULL);
  char *notes = g_build_filename (data_dir, "notes.txt", NULL);
  char *cid;
  GMimeMessage *message;
  int counter = 0;

  mk_message_builder_set_from (builder, "J\xc3\xb6rg M\xc3\xbcller <joerg@example.org>", &error);
  check (error);
  mk_message_builder_add_to (builder, "Bob <bob@example.org>, carol@example.org", &error);
  check (error);
  mk_message_builder_add_bcc (builder, "audit@example.org", &error);
  check (error);
  mk_message_builder_set_subject (builder, "Quarterly report \xe2\x80\x94 Q1", &error);
  check (error);
  mk_message_builder_set_text (builder, "Hello Bob,\n\nthe notes are attached.\n", &error);
  check (error);
  cid = mk_message_builder_add_inline (builder, gif, "logo@example.org", &error);
  check (error);
  mk_message_builder_set_html (builder,
                               "<p>Hello Bob,</p>\n"
                               "<p>the notes are attached.</p>\n"
                               "<img src=\"cid:logo@example.org\">\n",
                               &error);
  check (error);
  mk_message_builder_add_attachment (builder, notes, "Notizen zum Bericht \xc3\xbc.txt", NULL,
                                     &error);
  check (error);
  /* Generated unless set: */
  mk_message_builder_set_date (builder, date);
  mk_message_builder_set_message_id (builder, "report-q1@example.org", &error);
  check (error);

  message = mk_message_builder_build (builder, &error);
  check (error);
  fix_boundaries (g_mime_message_get_mime_part (message), &counter);
  print_object ("builder", GMIME_OBJECT (message));

  g_object_unref (message);
  g_free (cid);
  g_free (gif);
  g_free (notes);
  g_date_time_unref (date);
  g_object_unref (builder);
}

int
main (int argc, char **argv)
{
  mk_init ();
  example_text ();
  example_image ();
  example_audio ();
  example_application ();
  example_multipart ();
  example_message ();
  example_base ();
  example_builder (argc > 1 ? argv[1] : "data");
  return 0;
}
