/* test-capabilities.c: EHLO answers of real servers and odd ones
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/smtp/mk-smtp-reply-parser-private.h"
#include "mk-test-utils.h"

#define MAX_EXPECTED 16

typedef struct
{
  const char *name;
  const char *ehlo; /* the server's reply, as on the wire */
  const char *keywords[MAX_EXPECTED];
  const char *mechanisms[MAX_EXPECTED];
  gboolean has_size;
  guint64 size_limit;
} CapsCase;

static const CapsCase cases[] = {
  { "postfix",
    "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
    "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
    { "PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "AUTH", "ENHANCEDSTATUSCODES", "8BITMIME",
      "DSN", "SMTPUTF8", "CHUNKING" },
    { "PLAIN", "LOGIN" },
    TRUE,
    10240000 },
  { "aiosmtpd",
    "250-host.example\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
    "250-AUTH LOGIN PLAIN\r\n250 HELP\r\n",
    { "SIZE", "8BITMIME", "SMTPUTF8", "AUTH", "HELP" },
    { "LOGIN", "PLAIN" },
    TRUE,
    33554432 },
  /* Postfix 3.7's smtp-sink, as captured: the last line is an empty "250 ". */
  { "smtp-sink",
    "250-smtp-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n"
    "250-XCLIENT NAME HELO\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250 \r\n",
    { "PIPELINING", "8BITMIME", "AUTH", "XCLIENT", "XFORWARD", "ENHANCEDSTATUSCODES", "DSN" },
    { "PLAIN", "LOGIN" },
    FALSE,
    0 },
  /* An Exchange-like server advertising only the old form. */
  { "exchange-old-auth",
    "250-EXCH.example.com Hello [192.0.2.1]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n"
    "250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-X-ANONYMOUSTLS\r\n250-AUTH=LOGIN\r\n"
    "250-X-EXPS GSSAPI NTLM\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 XRDST\r\n",
    { "SIZE", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "X-ANONYMOUSTLS", "AUTH", "X-EXPS",
      "8BITMIME", "BINARYMIME", "CHUNKING", "XRDST" },
    { "LOGIN" },
    TRUE,
    37748736 },
  /* smtplib's example [E1]: both forms merged, case folded, duplicates once. */
  { "auth-merge",
    "250-h\r\n250-AUTH LOGIN PLAIN\r\n250-AUTH=CRAM-MD5 XOAUTH2\r\n250 auth=login\r\n",
    { "AUTH" },
    { "LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2" },
    FALSE,
    0 },
  { "lower-case",
    "250-h\r\n250-8bitmime\r\n250-auth plain\r\n250 size 100\r\n",
    { "8BITMIME", "AUTH", "SIZE" },
    { "PLAIN" },
    TRUE,
    100 },
  { "whole-words",
    "250-h\r\n250-SIZEX 1\r\n250-SIZE=5\r\n250 STARTTLSX\r\n",
    { "SIZEX", "STARTTLSX" },
    { NULL },
    FALSE,
    0 },
  { "size-bare", "250-h\r\n250 SIZE\r\n", { "SIZE" }, { NULL }, TRUE, 0 },
  { "size-zero", "250-h\r\n250 SIZE 0\r\n", { "SIZE" }, { NULL }, TRUE, 0 },
  { "size-overflow", "250-h\r\n250 SIZE 99999999999999999999\r\n", { "SIZE" }, { NULL }, TRUE, 0 },
  { "size-max",
    "250-h\r\n250 SIZE 18446744073709551615\r\n",
    { "SIZE" },
    { NULL },
    TRUE,
    G_MAXUINT64 },
  { "size-negative", "250-h\r\n250 SIZE -1\r\n", { "SIZE" }, { NULL }, TRUE, 0 },
  { "size-letters", "250-h\r\n250 SIZE abc\r\n", { "SIZE" }, { NULL }, TRUE, 0 },
  { "size-trailing", "250-h\r\n250 SIZE 12x\r\n", { "SIZE" }, { NULL }, TRUE, 0 },
  { "size-later-wins",
    "250-h\r\n250-SIZE 35882577\r\n250 SIZE 1\r\n",
    { "SIZE" },
    { NULL },
    TRUE,
    1 },
  { "duplicates",
    "250-h\r\n250-STARTTLS\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
    { "STARTTLS", "PIPELINING" },
    { NULL },
    FALSE,
    0 },
  { "not-keywords",
    "250-h\r\n250--DASH\r\n250- LEADING\r\n250-\r\n250-\tTAB\r\n250 ,x\r\n",
    { NULL },
    { NULL },
    FALSE,
    0 },
  { "greeting-only", "250 mail.example.org at your service\r\n", { NULL }, { NULL }, FALSE, 0 },
  /* The first line is the greeting, even when it looks like a keyword. */
  { "first-line-skipped", "250-PIPELINING\r\n250 DSN\r\n", { "DSN" }, { NULL }, FALSE, 0 },
  { "odd-mechanisms",
    "250-h\r\n250 AUTH PLAIN L@GIN TWENTY-ONE-CHARS-LONG x-oauth_2 TWENTY-CHARS-LONG-OK\r\n",
    { "AUTH" },
    { "PLAIN", "X-OAUTH_2", "TWENTY-CHARS-LONG-OK" },
    FALSE,
    0 },
};

static MkSmtpCapabilities *
caps_from_wire (const char *ehlo)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) replies = mk_smtp_reply_parse_buffer (ehlo, strlen (ehlo), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (replies->len, ==, 1);
  return mk_smtp_capabilities_new_from_reply (g_ptr_array_index (replies, 0));
}

static void
test_case (gconstpointer data)
{
  const CapsCase *c = data;
  g_autoptr (MkSmtpCapabilities) caps = caps_from_wire (c->ehlo);

  g_assert_cmpstrv (mk_smtp_capabilities_get_keywords (caps), c->keywords);
  g_assert_cmpstrv (mk_smtp_capabilities_get_auth_mechanisms (caps), c->mechanisms);
  g_assert_true (mk_smtp_capabilities_has (caps, "SIZE") == c->has_size);
  g_assert_cmpuint (mk_smtp_capabilities_get_size_limit (caps), ==, c->size_limit);

  for (gsize i = 0; c->keywords[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (c->keywords[i], -1);

      g_assert_true (mk_smtp_capabilities_has (caps, c->keywords[i]));
      g_assert_true (mk_smtp_capabilities_has (caps, lower));
      g_assert_nonnull (mk_smtp_capabilities_get_parameter (caps, lower));
    }
  for (gsize i = 0; c->mechanisms[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (c->mechanisms[i], -1);

      g_assert_true (mk_smtp_capabilities_has_auth_mechanism (caps, lower));
    }
  g_assert_false (mk_smtp_capabilities_has_auth_mechanism (caps, "NOT-OFFERED"));
  g_assert_false (mk_smtp_capabilities_has (caps, "NOT-OFFERED"));
  g_assert_null (mk_smtp_capabilities_get_parameter (caps, "NOT-OFFERED"));
}

static void
test_parameters (void)
{
  g_autoptr (MkSmtpCapabilities) caps = caps_from_wire (
      "250-h\r\n250-X-FOO  a   b  \r\n250-PIPELINING\r\n250-AUTH LOGIN\r\n250-AUTH=PLAIN\r\n"
      "250 DELIVERBY 240\r\n");

  /* Surrounding blanks go, internal spacing stays (smtplib's rule). */
  g_assert_cmpstr (mk_smtp_capabilities_get_parameter (caps, "x-foo"), ==, "a   b");
  g_assert_cmpstr (mk_smtp_capabilities_get_parameter (caps, "PIPELINING"), ==, "");
  g_assert_cmpstr (mk_smtp_capabilities_get_parameter (caps, "Auth"), ==, "LOGIN PLAIN");
  g_assert_cmpstr (mk_smtp_capabilities_get_parameter (caps, "DELIVERBY"), ==, "240");
  g_assert_false (mk_smtp_capabilities_has (caps, "PIPE"));
  g_assert_false (mk_smtp_capabilities_has (caps, "PIPELININGX"));
  g_assert_false (mk_smtp_capabilities_has (caps, ""));
}

/* EAST-style abuse: many mechanisms, a huge keyword; nothing breaks and the
 * usual answers stay right. */
static void
test_abuse (void)
{
  g_autoptr (GString) wire = g_string_new ("250-h\r\n250-AUTH");
  g_autoptr (MkSmtpCapabilities) caps = NULL;

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (wire, " X-MECH-%u", i);
  g_string_append (wire, "\r\n250-AUTH=PLAIN\r\n250-");
  for (guint i = 0; i < 10000; i++)
    g_string_append_c (wire, 'K');
  g_string_append (wire, "\r\n250 SIZE 1000\r\n");

  caps = caps_from_wire (wire->str);
  g_assert_cmpuint (g_strv_length ((char **)mk_smtp_capabilities_get_auth_mechanisms (caps)), ==,
                    61);
  g_assert_cmpstr (mk_smtp_capabilities_get_auth_mechanisms (caps)[60], ==, "PLAIN");
  g_assert_cmpuint (mk_smtp_capabilities_get_size_limit (caps), ==, 1000);
  g_assert_cmpuint (g_strv_length ((char **)mk_smtp_capabilities_get_keywords (caps)), ==, 3);
}

static void
test_boxed (void)
{
  g_autoptr (MkSmtpReply) reply = mk_smtp_reply_new (250, "h\nPIPELINING");
  g_autoptr (MkSmtpCapabilities) caps = mk_smtp_capabilities_new_from_reply (reply);
  MkSmtpCapabilities *copy;

  g_assert_true (G_TYPE_IS_BOXED (MK_TYPE_SMTP_CAPABILITIES));
  copy = g_boxed_copy (MK_TYPE_SMTP_CAPABILITIES, caps);
  g_assert_true (copy == caps);
  g_assert_true (mk_smtp_capabilities_has (copy, "pipelining"));
  g_boxed_free (MK_TYPE_SMTP_CAPABILITIES, copy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smtp/capabilities/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/smtp/capabilities/parameters", test_parameters);
  g_test_add_func ("/smtp/capabilities/abuse", test_abuse);
  g_test_add_func ("/smtp/capabilities/boxed", test_boxed);
  return g_test_run ();
}
