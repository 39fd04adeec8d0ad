/* mk-sasl-session.c: the client side of SMTP AUTH (RFC 4954)
 *
 * GNU SASL does the mechanisms it has (PLAIN, LOGIN, CRAM-MD5, SCRAM-*,
 * GSSAPI, …); OAUTHBEARER (RFC 7628) and Google's XOAUTH2, which it lacks,
 * are small enough to live here. Everything that crosses the wire passes
 * through this file, so it is also where the secrets to redact are known.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gsasl.h>
#include <string.h>

#include "mk-sasl-session-private.h"
#include "mk-smtp-command-private.h"
#include "mk-smtp-error.h"

typedef enum
{
  MECHANISM_GSASL,
  MECHANISM_OAUTHBEARER,
  MECHANISM_XOAUTH2,
} MechanismKind;

struct _MkSaslSession
{
  char *mechanism;
  MechanismKind kind;
  Gsasl *context;
  Gsasl_session *gsasl;
  char *oauth_response; /* the whole client response of the OAuth mechanisms */
  char *pending;        /* an initial response too long for the AUTH line */
  guint rounds;
  GPtrArray *secrets; /* char *, NULL-terminated */
};

/* DESIGN.md, "SASL choice": strongest first. */
static const char *const password_preference[] = {
  "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "CRAM-MD5", "LOGIN", NULL,
};
/* RFC 7628 is the standard; XOAUTH2 is what it grew from. */
static const char *const token_preference[] = { "OAUTHBEARER", "XOAUTH2", NULL };

static const char *const cleartext_mechanisms[] = {
  "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", NULL,
};

/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=" */
#define B64TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"

/* RFC 7628 §3.1 and XOAUTH2 separate key=value pairs with ^A. */
#define OAUTH_SEPARATOR "\001"

static gboolean
in_list (const char *const *list, const char *name)
{
  for (; *list != NULL; list++)
    if (g_ascii_strcasecmp (*list, name) == 0)
      return TRUE;
  return FALSE;
}

gboolean
mk_sasl_mechanism_is_cleartext (const char *mechanism)
{
  g_return_val_if_fail (mechanism != NULL, FALSE);

  return in_list (cleartext_mechanisms, mechanism);
}

static MechanismKind
mechanism_kind (const char *upper)
{
  if (strcmp (upper, "OAUTHBEARER") == 0)
    return MECHANISM_OAUTHBEARER;
  if (strcmp (upper, "XOAUTH2") == 0)
    return MECHANISM_XOAUTH2;
  return MECHANISM_GSASL;
}

const char *
mk_sasl_choose_mechanism (const char *const *advertised, gboolean have_token)
{
  const char *const *preference = have_token ? token_preference : password_preference;
  Gsasl *context = NULL;
  const char *chosen = NULL;

  g_return_val_if_fail (advertised != NULL, NULL);

  if (gsasl_init (&context) != GSASL_OK)
    return NULL;
  for (; *preference != NULL && chosen == NULL; preference++)
    {
      if (!in_list (advertised, *preference))
        continue;
      if (mechanism_kind (*preference) != MECHANISM_GSASL
          || gsasl_client_support_p (context, *preference))
        chosen = *preference;
    }
  gsasl_done (context);
  return chosen;
}

static void
add_secret (MkSaslSession *session, const char *secret)
{
  if (secret == NULL || *secret == '\0')
    return;
  g_ptr_array_insert (session->secrets, session->secrets->len - 1, g_strdup (secret));
}

/* Also called on the array's NULL terminator. */
static void
free_secret (gpointer secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

void
mk_sasl_session_free (MkSaslSession *session)
{
  if (session == NULL)
    return;
  if (session->gsasl != NULL)
    gsasl_finish (session->gsasl);
  if (session->context != NULL)
    gsasl_done (session->context);
  g_clear_pointer (&session->oauth_response, free_secret);
  g_clear_pointer (&session->pending, free_secret);
  g_ptr_array_unref (session->secrets);
  g_free (session->mechanism);
  g_free (session);
}

static gboolean fail (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, int code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (MK_SMTP_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

static gboolean
has_control (const char *text)
{
  for (const guchar *p = (const guchar *)text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static gboolean
is_bearer_token (const char *token)
{
  gsize body = strspn (token, B64TOKEN_CHARS);

  return body > 0 && token[body + strspn (token + body, "=")] == '\0';
}

/* RFC 7628 §3.1 (after RFC 5801 §4): in the gs2 header's saslname, "," is
 * written "=2C" and "=" is written "=3D". */
static void
append_saslname (GString *out, const char *name)
{
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append (out, "=2C");
      else if (*p == '=')
        g_string_append (out, "=3D");
      else
        g_string_append_c (out, *p);
    }
}

static gboolean
setup_oauth (MkSaslSession *session, const MkSaslCredentials *credentials, GError **error)
{
  const char *user = credentials->username != NULL ? credentials->username : "";
  GString *response;

  if (credentials->token == NULL || *credentials->token == '\0')
    return fail (error, MK_SMTP_ERROR_INVALID, "%s needs an OAuth 2 token", session->mechanism);
  if (!is_bearer_token (credentials->token))
    return fail (error, MK_SMTP_ERROR_INVALID,
                 "The OAuth 2 token is not a bearer token (RFC 6750 §2.1)");
  if (has_control (user) || !g_utf8_validate (user, -1, NULL)
      || (credentials->hostname != NULL && has_control (credentials->hostname)))
    return fail (error, MK_SMTP_ERROR_INVALID,
                 "The user name or host name contains a control character or is not UTF-8");

  response = g_string_new (NULL);
  if (session->kind == MECHANISM_XOAUTH2)
    g_string_append_printf (response, "user=%s" OAUTH_SEPARATOR, user);
  else
    {
      /* gs2-header: no channel binding ("n"), the authzid, then the
       * key/value pairs (RFC 7628 §3.1). */
      g_string_append (response, "n,");
      if (*user != '\0')
        {
          g_string_append (response, "a=");
          append_saslname (response, user);
        }
      g_string_append (response, "," OAUTH_SEPARATOR);
      if (credentials->hostname != NULL)
        g_string_append_printf (response, "host=%s" OAUTH_SEPARATOR, credentials->hostname);
      if (credentials->port != 0)
        g_string_append_printf (response, "port=%u" OAUTH_SEPARATOR, credentials->port);
    }
  g_string_append_printf (response, "auth=Bearer %s" OAUTH_SEPARATOR OAUTH_SEPARATOR,
                          credentials->token);
  session->oauth_response = g_string_free (response, FALSE);
  return TRUE;
}

static gboolean
setup_gsasl (MkSaslSession *session, const MkSaslCredentials *credentials, GError **error)
{
  int rc;

  /* SCRAM hashes the SASLprep form of the password (RFC 5802 §2.2); one
   * that has none (a control character, RFC 4013 §2.3) is refused here,
   * before anything is sent, rather than deep in the exchange. */
  if (g_str_has_prefix (session->mechanism, "SCRAM-") && credentials->password != NULL)
    {
      char *prepared = NULL;

      rc = gsasl_saslprep (credentials->password, GSASL_ALLOW_UNASSIGNED, &prepared, NULL);
      if (prepared != NULL)
        explicit_bzero (prepared, strlen (prepared));
      gsasl_free (prepared);
      if (rc != GSASL_OK)
        return fail (error, MK_SMTP_ERROR_INVALID,
                     "The password cannot be used with %s: SASLprep refuses it (RFC 4013)",
                     session->mechanism);
    }

  if ((rc = gsasl_init (&session->context)) != GSASL_OK)
    return fail (error, MK_SMTP_ERROR_AUTHENTICATION, "GNU SASL could not start: %s",
                 gsasl_strerror (rc));
  if (!gsasl_client_support_p (session->context, session->mechanism))
    return fail (error, MK_SMTP_ERROR_NOT_SUPPORTED, "The SASL mechanism %s is not available",
                 session->mechanism);
  if ((rc = gsasl_client_start (session->context, session->mechanism, &session->gsasl)) != GSASL_OK)
    return fail (error, MK_SMTP_ERROR_AUTHENTICATION, "SASL mechanism %s could not start: %s",
                 session->mechanism, gsasl_strerror (rc));

  if (credentials->username != NULL)
    gsasl_property_set (session->gsasl, GSASL_AUTHID, credentials->username);
  if (credentials->password != NULL)
    gsasl_property_set (session->gsasl, GSASL_PASSWORD, credentials->password);
  if (credentials->authzid != NULL)
    gsasl_property_set (session->gsasl, GSASL_AUTHZID, credentials->authzid);
  gsasl_property_set (session->gsasl, GSASL_SERVICE,
                      credentials->service != NULL ? credentials->service : "smtp");
  if (credentials->hostname != NULL)
    gsasl_property_set (session->gsasl, GSASL_HOSTNAME, credentials->hostname);
  return TRUE;
}

MkSaslSession *
mk_sasl_session_new (const char *mechanism, const MkSaslCredentials *credentials, GError **error)
{
  g_autoptr (MkSaslSession) session = NULL;

  g_return_val_if_fail (mechanism != NULL, NULL);
  g_return_val_if_fail (credentials != NULL, NULL);

  /* RFC 4616 §2 and RFC 5802 §5.1 carry UTF-8; anything else would be
   * sent as whatever bytes it is, or fail inside SASLprep. The message
   * names the field, never its value. */
  if ((credentials->username != NULL && !g_utf8_validate (credentials->username, -1, NULL))
      || (credentials->password != NULL && !g_utf8_validate (credentials->password, -1, NULL))
      || (credentials->authzid != NULL && !g_utf8_validate (credentials->authzid, -1, NULL)))
    {
      fail (error, MK_SMTP_ERROR_INVALID,
            "The user name, password or authorization identity is not UTF-8");
      return NULL;
    }

  session = g_new0 (MkSaslSession, 1);
  session->secrets = g_ptr_array_new_with_free_func (free_secret);
  g_ptr_array_add (session->secrets, NULL);
  session->mechanism = g_ascii_strup (mechanism, -1);
  session->kind = mechanism_kind (session->mechanism);
  add_secret (session, credentials->password);
  add_secret (session, credentials->token);

  if (session->kind == MECHANISM_GSASL ? !setup_gsasl (session, credentials, error)
                                       : !setup_oauth (session, credentials, error))
    return NULL;
  return g_steal_pointer (&session);
}

const char *
mk_sasl_session_get_mechanism (const MkSaslSession *session)
{
  return session->mechanism;
}

/* Base64 of @data, remembered as a secret (every response may carry the
 * password, its hash or the token). */
static char *
encode_response (MkSaslSession *session, const char *data, gsize length)
{
  char *encoded = g_base64_encode ((const guchar *)data, length);

  add_secret (session, encoded);
  return encoded;
}

/* Runs one GNU SASL step; returns the base64 response, or NULL. */
static char *
gsasl_response (MkSaslSession *session, const char *input, gsize length, GError **error)
{
  char *output = NULL;
  size_t output_length = 0;
  char *encoded;
  int rc;

  rc = gsasl_step (session->gsasl, input, length, &output, &output_length);
  if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
    {
      fail (error, MK_SMTP_ERROR_AUTHENTICATION, "SASL %s failed: %s", session->mechanism,
            gsasl_strerror (rc));
      return NULL;
    }
  encoded = encode_response (session, output != NULL ? output : "", output_length);
  if (output != NULL)
    explicit_bzero (output, output_length);
  gsasl_free (output);
  return encoded;
}

char *
mk_sasl_session_start (MkSaslSession *session, GError **error)
{
  g_autofree char *initial = NULL;

  g_return_val_if_fail (session != NULL, NULL);

  if (session->kind != MECHANISM_GSASL)
    initial = encode_response (session, session->oauth_response, strlen (session->oauth_response));
  else if (strcmp (session->mechanism, "LOGIN") != 0)
    {
      char *output = NULL;
      size_t output_length = 0;
      int rc;

      /* A mechanism that has nothing to say before the server's challenge
       * (CRAM-MD5) answers "needs more" with no output and stays where it
       * was; one that finishes at once (EXTERNAL) may have an empty
       * response, which is sent as "=". */
      rc = gsasl_step (session->gsasl, NULL, 0, &output, &output_length);
      if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
        {
          fail (error, MK_SMTP_ERROR_AUTHENTICATION, "SASL %s failed: %s", session->mechanism,
                gsasl_strerror (rc));
          return NULL;
        }
      if (rc == GSASL_OK || output_length > 0)
        initial = encode_response (session, output != NULL ? output : "", output_length);
      if (output != NULL)
        explicit_bzero (output, output_length);
      gsasl_free (output);
    }

  /* "AUTH " mechanism " " response CRLF must fit (RFC 4954 §4). */
  if (initial != NULL
      && strlen ("AUTH  \r\n") + strlen (session->mechanism) + MAX (strlen (initial), 1)
             > MK_SMTP_COMMAND_LINE_MAX)
    {
      session->pending = g_steal_pointer (&initial);
    }
  return mk_smtp_command_auth (session->mechanism, initial, error);
}

char *
mk_sasl_session_step (MkSaslSession *session, const char *challenge, GError **error)
{
  g_autofree char *trimmed = NULL;
  char *decoded = NULL;
  size_t decoded_length = 0;
  char *response;
  int rc;

  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (challenge != NULL, NULL);

  if (++session->rounds > MK_SASL_MAX_ROUNDS)
    {
      fail (error, MK_SMTP_ERROR_AUTHENTICATION, "The server sent more than %d SASL challenges",
            MK_SASL_MAX_ROUNDS);
      return NULL;
    }
  if (session->pending != NULL)
    return g_steal_pointer (&session->pending);

  trimmed = g_strstrip (g_strdup (challenge));
  if (strlen (trimmed) > MK_SASL_MAX_CHALLENGE)
    {
      fail (error, MK_SMTP_ERROR_AUTHENTICATION,
            "The server's SASL challenge is longer than %d bytes", MK_SASL_MAX_CHALLENGE);
      return NULL;
    }
  rc = gsasl_base64_from (trimmed, strlen (trimmed), &decoded, &decoded_length);
  if (rc != GSASL_OK)
    {
      fail (error, MK_SMTP_ERROR_AUTHENTICATION, "The server's SASL challenge is not base64");
      return NULL;
    }

  switch (session->kind)
    {
    case MECHANISM_GSASL:
      response = gsasl_response (session, decoded != NULL ? decoded : "", decoded_length, error);
      break;
    case MECHANISM_XOAUTH2:
    case MECHANISM_OAUTHBEARER:
      /* The only challenge after the initial response is the server's
       * error report (JSON); the client acknowledges it so the server can
       * send its 535: an empty response for XOAUTH2, a lone ^A for
       * OAUTHBEARER (RFC 7628 §3.2.3). A second one is a loop. */
      if (session->rounds > 1)
        {
          fail (error, MK_SMTP_ERROR_AUTHENTICATION, "SASL %s: unexpected challenge",
                session->mechanism);
          response = NULL;
        }
      else if (session->kind == MECHANISM_XOAUTH2)
        response = g_strdup ("");
      else
        response = g_base64_encode ((const guchar *)OAUTH_SEPARATOR, 1);
      break;
    default:
      g_assert_not_reached ();
    }
  gsasl_free (decoded);
  return response;
}

const char *const *
mk_sasl_session_get_secrets (const MkSaslSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);

  return (const char *const *)session->secrets->pdata;
}

static gint
longer_first (gconstpointer a, gconstpointer b)
{
  gsize la = strlen (*(const char *const *)a);
  gsize lb = strlen (*(const char *const *)b);

  return la < lb ? 1 : la > lb ? -1 : 0;
}

char *
mk_sasl_session_redact (const MkSaslSession *session, const char *text)
{
  g_autoptr (GPtrArray) secrets = g_ptr_array_new ();
  GString *out;

  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  /* One pass, longest secret first at each position, so neither a secret
   * inside a longer one nor the marker itself can be redacted twice. */
  for (guint i = 0; i + 1 < session->secrets->len; i++)
    g_ptr_array_add (secrets, g_ptr_array_index (session->secrets, i));
  g_ptr_array_sort (secrets, longer_first);

  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0';)
    {
      gsize matched = 0;

      for (guint i = 0; i < secrets->len && matched == 0; i++)
        {
          const char *secret = g_ptr_array_index (secrets, i);

          if (g_str_has_prefix (p, secret))
            matched = strlen (secret);
        }
      if (matched > 0)
        {
          g_string_append (out, MK_SASL_REDACTED);
          p += matched;
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}
