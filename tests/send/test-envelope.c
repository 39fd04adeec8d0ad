/* test-envelope.c: MkEnvelope and the envelope taken from a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"

typedef struct
{
  const char *name;
  const char *headers;
  const char *from;
  const char *const *to;
  /* The expected envelope: sender, then the recipients, space-separated;
   * or, when it starts with "!", a piece of the expected error message. */
  const char *expected;
  gboolean smtputf8;
} EnvelopeCase;

static const char *const to_carol[] = { "carol@example.net", NULL };
static const char *const to_none[] = { NULL };
static const char *const to_twice[] = { "x@example.net", "x@EXAMPLE.net", "y@example.net", NULL };
static const char *const to_route[] = { "@relay.example,@b.example:x@example.net", NULL };
static const char *const to_crlf[] = { "x@example.net\r\nRCPT TO:<evil@example.net>", NULL };
static const char *const to_display[] = { "Bob <bob@example.net>", NULL };
static const char *const to_list[] = { "a@example.net, b@example.net", NULL };

static const EnvelopeCase cases[] = {
  { "from-and-to", "From: Alice <alice@example.org>\nTo: bob@example.net\n", NULL, NULL,
    "alice@example.org bob@example.net" },
  { "sender-overrides-from",
    "From: Alice <alice@example.org>\nSender: sec@example.org\nTo: bob@example.net\n", NULL, NULL,
    "sec@example.org bob@example.net" },
  { "to-cc-bcc-order", "Bcc: b@example.net\nCc: c@example.net\nTo: t@example.net\nFrom: a@x.org\n",
    NULL, NULL, "a@x.org t@example.net c@example.net b@example.net" },
  { "every-header-of-a-name",
    "From: a@x.org\nTo: t1@example.net\nCc: c1@example.net\nTo: t2@example.net\n"
    "Bcc: b1@example.net\nCc: c2@example.net\nBcc: b2@example.net\n",
    NULL, NULL,
    "a@x.org t1@example.net t2@example.net c1@example.net c2@example.net b1@example.net "
    "b2@example.net" },
  { "duplicates-once",
    "From: a@x.org\nTo: t@example.net, T <t@EXAMPLE.NET>\nCc: t@example.net, c@example.net\n"
    "Bcc: c@example.net\n",
    NULL, NULL, "a@x.org t@example.net c@example.net" },
  { "local-part-case-kept", "From: a@x.org\nTo: T@example.net, t@example.net\n", NULL, NULL,
    "a@x.org T@example.net t@example.net" },
  { "display-names-dropped",
    "From: \"Doe, Jane\" <jane@x.org>\nTo: \"C, D\" <cd@example.net>, =?utf-8?q?J=C3=B6rg?= "
    "<j@example.net>\n",
    NULL, NULL, "jane@x.org cd@example.net j@example.net" },
  { "groups-expanded",
    "From: a@x.org\nTo: team: t1@example.net, \"T 2\" <t2@example.net>;, solo@example.net\n", NULL,
    NULL, "a@x.org t1@example.net t2@example.net solo@example.net" },
  { "empty-group-adds-nobody",
    "From: a@x.org\nTo: undisclosed-recipients:;\nBcc: hidden@example.net\n", NULL, NULL,
    "a@x.org hidden@example.net" },
  { "only-empty-group", "From: a@x.org\nTo: undisclosed-recipients:;\n", NULL, NULL,
    "!no recipient in its To, Cc or Bcc" },
  { "resent-block",
    "From: a@x.org\nTo: t@example.net\nResent-Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
    "Resent-From: r@x.org\nResent-To: rt@example.net\nResent-Cc: rc@example.net\n"
    "Resent-Bcc: rb@example.net\n",
    NULL, NULL, "r@x.org rt@example.net rc@example.net rb@example.net" },
  { "resent-sender",
    "From: a@x.org\nTo: t@example.net\nResent-Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
    "Resent-From: r@x.org\nResent-Sender: rs@x.org\nResent-To: rt@example.net\n",
    NULL, NULL, "rs@x.org rt@example.net" },
  { "resent-without-date-ignored", "From: a@x.org\nTo: t@example.net\nResent-From: r@x.org\n", NULL,
    NULL, "a@x.org t@example.net" },
  { "resent-block-without-from",
    "From: a@x.org\nTo: t@example.net\nResent-Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
    "Resent-To: rt@example.net\n",
    NULL, NULL, "!no Resent-From or Resent-Sender header" },
  { "several-resent-blocks",
    "From: a@x.org\nTo: t@example.net\nResent-Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
    "Resent-From: r@x.org\nResent-Date: Tue, 3 Jan 2023 10:00:00 +0000\nResent-From: s@x.org\n",
    NULL, NULL, "!2 Resent-Date headers" },
  { "several-resent-blocks-explicit",
    "From: a@x.org\nTo: t@example.net\nResent-Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
    "Resent-Date: Tue, 3 Jan 2023 10:00:00 +0000\n",
    "me@x.org", to_carol, "me@x.org carol@example.net" },
  { "explicit-from-wins", "From: a@x.org\nTo: t@example.net\n", "me@x.org", NULL,
    "me@x.org t@example.net" },
  { "explicit-to-wins", "From: a@x.org\nTo: t@example.net\nBcc: b@example.net\n", NULL, to_carol,
    "a@x.org carol@example.net" },
  { "explicit-null-sender", "To: t@example.net\n", "", NULL, " t@example.net" },
  { "explicit-duplicates-once", "From: a@x.org\n", NULL, to_twice,
    "a@x.org x@example.net y@example.net" },
  { "explicit-empty-to", "From: a@x.org\nTo: t@example.net\n", NULL, to_none, "!is empty" },
  { "no-sender", "To: t@example.net\nSubject: x\n", NULL, NULL, "!no From or Sender header" },
  { "empty-from", "From: \nTo: t@example.net\n", NULL, NULL, "!From header holds no address" },
  { "empty-sender", "Sender: \nFrom: a@x.org\nTo: t@example.net\n", NULL, NULL,
    "!Sender header holds no address" },
  { "no-recipients", "From: a@x.org\nSubject: x\n", NULL, NULL,
    "!no recipient in its To, Cc or Bcc headers" },
  { "explicit-source-route", "From: a@x.org\n", NULL, to_route, "!source route" },
  { "explicit-source-route-sender", "To: t@example.net\n", "@relay.example:a@x.org", NULL,
    "!source route" },
  { "explicit-crlf", "From: a@x.org\n", NULL, to_crlf, "!control character" },
  { "explicit-display-form", "From: a@x.org\n", NULL, to_display, "!not a single bare address" },
  { "explicit-list", "From: a@x.org\n", NULL, to_list, "!not a single bare address" },
  { "explicit-no-domain", "From: a@x.org\n", "a@", to_carol, "!not a single bare address" },
  { "idn-domain-to-a-labels", "From: a@bücher.example\nTo: bob@bücher.example\n", NULL, NULL,
    "a@xn--bcher-kva.example bob@xn--bcher-kva.example", FALSE },
  { "utf8-local-part", "From: a@x.org\nTo: jörg@bücher.example\n", NULL, NULL,
    "a@x.org jörg@xn--bcher-kva.example", TRUE },
  { "utf8-sender", "From: ålice@x.org\nTo: t@example.net\n", NULL, NULL,
    "ålice@x.org t@example.net", TRUE },
  { "utf8-display-name-only", "From: Jörg <j@x.org>\nTo: t@example.net\n", NULL, NULL,
    "j@x.org t@example.net", FALSE },
  { "postmaster", "From: a@x.org\nTo: postmaster\n", NULL, NULL, "a@x.org postmaster" },
  { "domain-literal", "From: a@x.org\nTo: t@[192.0.2.1]\n", NULL, NULL, "a@x.org t@[192.0.2.1]" },
};

static char *
describe (MkEnvelope *envelope)
{
  GString *text = g_string_new (mk_envelope_get_reverse_path (envelope));
  const char *const *recipients = mk_envelope_get_recipients (envelope);

  for (gsize i = 0; recipients[i] != NULL; i++)
    g_string_append_printf (text, " %s", recipients[i]);
  return g_string_free (text, FALSE);
}

static void
test_table (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const EnvelopeCase *c = &cases[i];
      g_autofree char *text = g_strconcat (c->headers, "Subject: s\n\nbody\n", NULL);
      g_autoptr (GMimeMessage) message = mk_test_send_parse_message (text);
      g_autoptr (GError) error = NULL;
      g_autoptr (MkEnvelope) envelope = NULL;

      g_test_message ("case %s", c->name);
      envelope = mk_envelope_new_from_message (message, c->from, c->to, &error);
      if (c->expected[0] == '!')
        {
          g_assert_null (envelope);
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
          if (strstr (error->message, c->expected + 1) == NULL)
            g_error ("case %s: error “%s” does not say “%s”", c->name, error->message,
                     c->expected + 1);
        }
      else
        {
          g_autofree char *got = NULL;
          g_autoptr (MkEnvelope) copy = NULL;
          g_autofree char *copied = NULL;

          g_assert_no_error (error);
          got = describe (envelope);
          g_assert_cmpstr (got, ==, c->expected);
          g_assert_cmpint (mk_envelope_needs_smtputf8 (envelope), ==, c->smtputf8);
          copy = mk_envelope_copy (envelope);
          copied = describe (copy);
          g_assert_cmpstr (copied, ==, got);
          g_assert_cmpint (mk_envelope_needs_smtputf8 (copy), ==, c->smtputf8);
        }
    }
}

/* GMime keeps CR/LF inside a quoted local part given through its API: the
 * envelope must refuse it rather than put it into RCPT TO. */
static void
test_quoted_crlf_from_api (void)
{
  g_autoptr (GMimeMessage) message = g_mime_message_new (TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkEnvelope) envelope = NULL;

  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, "A", "a@x.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, "Bob",
                              "\"evil\r\nDATA\"@example.org");
  envelope = mk_envelope_new_from_message (message, NULL, NULL, &error);
  g_assert_null (envelope);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "To header"));
}

/* g_mime_message_new (TRUE) leaves value-less Sender, To and Cc
 * placeholders: they are not headers of the message. */
static void
test_api_message (void)
{
  g_autoptr (GMimeMessage) message = g_mime_message_new (TRUE);
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autofree char *text = NULL;

  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, "A", "a@x.org");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_BCC, NULL, "b@example.net");
  envelope = mk_envelope_new_from_message (message, NULL, NULL, NULL);
  g_assert_nonnull (envelope);
  text = describe (envelope);
  g_assert_cmpstr (text, ==, "a@x.org b@example.net");
}

static void
test_build_by_hand (void)
{
  g_autoptr (MkEnvelope) envelope = mk_envelope_new ("me@example.org", NULL);
  g_autoptr (MkEnvelope) copy = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_nonnull (envelope);
  g_assert_true (mk_envelope_add_recipient (envelope, "a@example.net", NULL));
  g_assert_true (mk_envelope_add_recipient (envelope, "\"quoted <x>\"@example.net", NULL));
  g_assert_true (mk_envelope_add_recipient (envelope, "a@Example.NET", NULL));
  g_assert_false (mk_envelope_add_recipient (envelope, "", &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);

  /* A copy is independent. */
  copy = mk_envelope_copy (envelope);
  g_assert_true (mk_envelope_add_recipient (copy, "z@example.net", NULL));
  text = describe (envelope);
  g_assert_cmpstr (text, ==, "me@example.org a@example.net \"quoted <x>\"@example.net");
  g_clear_pointer (&text, g_free);
  text = describe (copy);
  g_assert_cmpstr (text, ==,
                   "me@example.org a@example.net \"quoted <x>\"@example.net z@example.net");
  /* The copy kept the duplicate check. */
  g_assert_true (mk_envelope_add_recipient (copy, "A@example.net", NULL));
  g_assert_true (mk_envelope_add_recipient (copy, "a@EXAMPLE.net", NULL));
  g_assert_cmpuint (g_strv_length ((char **)mk_envelope_get_recipients (copy)), ==, 4);

  /* The domain of a generated Message-ID. */
  g_assert_cmpstr (mk_envelope_get_message_id_domain (envelope), ==, "example.org");
  g_clear_pointer (&copy, mk_envelope_free);
  copy = mk_envelope_new ("", NULL);
  g_assert_null (mk_envelope_get_message_id_domain (copy));
  g_clear_pointer (&copy, mk_envelope_free);
  copy = mk_envelope_new ("x@[192.0.2.1]", NULL);
  g_assert_null (mk_envelope_get_message_id_domain (copy));
  g_clear_pointer (&copy, mk_envelope_free);
  copy = mk_envelope_new ("x@bücher.example", NULL);
  g_assert_cmpstr (mk_envelope_get_message_id_domain (copy), ==, "xn--bcher-kva.example");

  g_assert_null (mk_envelope_new ("bad\naddress@x", &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_true (G_TYPE_IS_BOXED (MK_TYPE_ENVELOPE));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/envelope/table", test_table);
  g_test_add_func ("/envelope/quoted-crlf-from-api", test_quoted_crlf_from_api);
  g_test_add_func ("/envelope/api-message", test_api_message);
  g_test_add_func ("/envelope/build-by-hand", test_build_by_hand);

  return g_test_run ();
}
