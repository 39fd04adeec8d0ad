/* mk-sasl-session-private.h: the client side of SMTP AUTH (RFC 4954)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A server that answers every response with another 334 would keep the
 * client forever (smtplib gives up after 5 rounds, Python's AUTH_BUGGY
 * test). The longest honest exchanges, SCRAM and LOGIN, take 2 challenges;
 * GSSAPI takes a few more. */
#define MK_SASL_MAX_ROUNDS 10

/* RFC 4954 §4 lets SASL lines grow to 12288 octets; a challenge longer than
 * that (base64 text, blanks stripped) is hostile (curl CVE-2013-0249 was an
 * overlong DIGEST-MD5 realm). */
#define MK_SASL_MAX_CHALLENGE 12288

/* What the trace and error messages show instead of a secret. */
#define MK_SASL_REDACTED "<redacted>"

/* Credentials for one AUTH exchange. Strings are UTF-8 (RFC 4616 §2 for
 * PLAIN; SCRAM applies SASLprep). */
typedef struct
{
  const char *username; /* the authentication identity */
  const char *password; /* for password mechanisms; may be NULL with a token */
  const char *token;    /* an OAuth 2 bearer token, for OAUTHBEARER and XOAUTH2 */
  const char *authzid;  /* nullable: act as this identity */
  const char *service;  /* nullable, "smtp" by default (GSSAPI, DIGEST-MD5) */
  const char *hostname; /* nullable: the server's name (GSSAPI, DIGEST-MD5, OAUTHBEARER) */
  guint16 port;         /* 0, or the server's port for OAUTHBEARER (RFC 7628 §3.1) */
} MkSaslCredentials;

/* The mechanism to use when the caller names none: among @advertised
 * (names compared without regard to case) the first of SCRAM-SHA-256,
 * SCRAM-SHA-1, PLAIN, CRAM-MD5, LOGIN, or with @have_token the first of
 * OAUTHBEARER, XOAUTH2; mechanisms this libgsasl lacks are passed over.
 * Others (GSSAPI, NTLM, …) are only used when named. Returns a static
 * upper-case name, or NULL when nothing fits. */
const char *mk_sasl_choose_mechanism (const char *const *advertised, gboolean have_token);

/* Whether @mechanism exposes the secret to anyone who can read the
 * connection (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER): the client refuses those
 * on an unencrypted connection unless its policy allows them. */
gboolean mk_sasl_mechanism_is_cleartext (const char *mechanism);

typedef struct _MkSaslSession MkSaslSession;

/* @mechanism in any case; OAUTHBEARER and XOAUTH2 are ours, every other
 * name goes to GNU SASL. %MK_SMTP_ERROR_NOT_SUPPORTED when neither knows
 * it, %MK_SMTP_ERROR_INVALID when the credentials cannot be framed (a
 * control character in a user name or token for the OAuth mechanisms). */
MkSaslSession *mk_sasl_session_new (const char *mechanism, const MkSaslCredentials *credentials,
                                    GError **error);
void mk_sasl_session_free (MkSaslSession *session);

/* The upper-case mechanism name. */
const char *mk_sasl_session_get_mechanism (const MkSaslSession *session);

/* The AUTH command line to send (without CRLF): with the initial response
 * when the mechanism starts the exchange and the line stays within
 * MK_SMTP_COMMAND_LINE_MAX; otherwise the response waits for the server's
 * first (empty) challenge. LOGIN waits for its "Username:" prompt, as many
 * servers expect. Errors are %MK_SMTP_ERROR_AUTHENTICATION. */
char *mk_sasl_session_start (MkSaslSession *session, GError **error);

/* Answers one 334 challenge: @challenge is the reply's text (base64,
 * surrounding blanks ignored); returns the base64 response line to send
 * (possibly empty). Returns NULL with %MK_SMTP_ERROR_AUTHENTICATION for
 * too many rounds, an oversized or invalid challenge, or one the mechanism
 * rejects: the client then cancels with "*" (RFC 4954 §4), reads the
 * server's reply and fails. */
char *mk_sasl_session_step (MkSaslSession *session, const char *challenge, GError **error);

/* The strings that must never appear in a trace, a log or an error
 * message: the password, the token, and every response sent so far
 * (base64), the initial response included. NULL-terminated. */
const char *const *mk_sasl_session_get_secrets (const MkSaslSession *session);

/* A copy of @text with every secret of @session replaced by
 * MK_SASL_REDACTED. */
char *mk_sasl_session_redact (const MkSaslSession *session, const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkSaslSession, mk_sasl_session_free)

G_END_DECLS
