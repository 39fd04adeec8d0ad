/* mk-smtp-client-session-private.h: inside MkSmtpClient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What mk-smtp-client.c (the object and its public calls) and
 * mk-smtp-client-session.c (the protocol) share. Nothing else includes it.
 */
#pragma once

#include "libmailkit/net/mk-connection-private.h"
#include "mk-smtp-client-private.h"
#include "mk-smtp-reply-parser-private.h"

G_BEGIN_DECLS

typedef enum
{
  MK_SMTP_SESSION_DISCONNECTED,
  MK_SMTP_SESSION_CONNECTED, /* greeting read, no EHLO/HELO answer yet */
  MK_SMTP_SESSION_READY,     /* EHLO/HELO answered */
  MK_SMTP_SESSION_MAIL,      /* a transaction is open on the server */
  MK_SMTP_SESSION_DATA,      /* the message body is being sent */
} MkSmtpSessionState;

typedef struct
{
  /* Properties. */
  char *local_hostname;
  double timeout;
  char *source_address;
  MkTlsMode tls_mode;
  char *tls_ca_file;
  char *tls_client_certificate;
  char *tls_client_key;
  char *tls_pin_sha256;
  char *tls_server_name;
  gboolean tls_insecure_skip_verify;
  gboolean allow_plaintext_auth;
  gboolean use_pipelining;
  gboolean use_chunking;
  gboolean use_8bitmime;
  gboolean use_smtputf8;
  int debuglevel;
  gboolean lmtp;

  /* The session. */
  MkSmtpSessionState state;
  MkConnection *connection;
  char *host;
  MkSmtpReplyParser *parser;
  MkSmtpReply *helo_resp;
  MkSmtpReply *ehlo_resp;
  MkSmtpReply *last_reply;
  MkSmtpCapabilities *capabilities;
  gboolean does_esmtp;
  /* Recipients accepted since the last MAIL (LMTP's data() answers once
   * for each). */
  guint accepted_recipients;
  /* The last refused table handed out, kept alive: PyGObject (3.42) wraps
   * the boxed values of a returned GHashTable without copying them and
   * then unrefs the table, so they must outlive it (until the next
   * transaction). */
  GHashTable *refused_keepalive;

  /* The running operation: set by run_step, read by the signal emitters. */
  gint busy;
  GMainContext *signal_context;
} MkSmtpClientPrivate;

MkSmtpClientPrivate *mk_smtp_client_get_private (MkSmtpClient *client);

/* Signals, emitted where mk_smtp_client_run_step*() says. @line is taken. */
void mk_smtp_client_emit_trace (MkSmtpClient *client, char *line);
void mk_smtp_client_emit_progress (MkSmtpClient *client, guint64 sent, guint64 total);

/* The protocol steps behind the public calls of the same names; each runs
 * inside a step, and the replies are returned whatever their code unless
 * the public call says otherwise. */
MkSmtpReply *mk_smtp_session_connect (MkSmtpClient *client, const char *host, guint16 port,
                                      GCancellable *cancellable, GError **error);
MkSmtpReply *mk_smtp_session_helo (MkSmtpClient *client, const char *name,
                                   GCancellable *cancellable, GError **error);
MkSmtpReply *mk_smtp_session_ehlo (MkSmtpClient *client, const char *name,
                                   GCancellable *cancellable, GError **error);
gboolean mk_smtp_session_ehlo_or_helo_if_needed (MkSmtpClient *client, GCancellable *cancellable,
                                                 GError **error);
MkSmtpReply *mk_smtp_session_starttls (MkSmtpClient *client, GCancellable *cancellable,
                                       GError **error);
MkSmtpReply *mk_smtp_session_mail (MkSmtpClient *client, const char *sender,
                                   const char *const *options, GCancellable *cancellable,
                                   GError **error);
MkSmtpReply *mk_smtp_session_rcpt (MkSmtpClient *client, const char *recipient,
                                   const char *const *options, GCancellable *cancellable,
                                   GError **error);
MkSmtpReply *mk_smtp_session_data (MkSmtpClient *client, GBytes *message, GCancellable *cancellable,
                                   GError **error);
MkSmtpReply *mk_smtp_session_rset (MkSmtpClient *client, GCancellable *cancellable, GError **error);
MkSmtpReply *mk_smtp_session_quit (MkSmtpClient *client, GCancellable *cancellable, GError **error);
MkSmtpReply *mk_smtp_session_auth (MkSmtpClient *client, const char *mechanism, const char *user,
                                   const char *secret, gboolean is_token, GCancellable *cancellable,
                                   GError **error);
MkSmtpReply *mk_smtp_session_login (MkSmtpClient *client, const char *user, const char *password,
                                    GCancellable *cancellable, GError **error);
/* Sends @line (taken; NULL: the formatter failed and set @error) and reads
 * the reply. */
MkSmtpReply *mk_smtp_session_command (MkSmtpClient *client, char *line, const char *stage,
                                      GCancellable *cancellable, GError **error);
/* With tls-mode STARTTLS (or opportunistic): the upgrade, before anything
 * private is sent. */
gboolean mk_smtp_session_require_tls (MkSmtpClient *client, GCancellable *cancellable,
                                      GError **error);
gboolean mk_smtp_session_has_capability (MkSmtpClient *client, const char *keyword);
/* Closes the connection and forgets the session; sends nothing. */
void mk_smtp_session_close (MkSmtpClient *client);

G_END_DECLS
