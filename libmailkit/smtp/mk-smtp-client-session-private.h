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
#include "mk-smtp-error.h"
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
  gboolean use_binarymime;
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
  /* Keeping in step with the server (hostile-peers rule 7): what each line
   * sent and not yet answered was (mk-smtp-client-session.c's ReplyTo),
   * oldest first, the greeting included; the replies still owed for a
   * body sent after DATA's 354; and whether a body is out whose replies
   * only its writer counts (BDAT chunks), until the state leaves DATA. */
  GQueue awaiting;
  guint body_replies;
  gboolean body_uncounted;
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

/* Helpers of mk-smtp-client-session.c for the transaction. */
void mk_smtp_session_trace (MkSmtpClient *client, const char *format, ...) G_GNUC_PRINTF (2, 3);
void mk_smtp_session_set_state (MkSmtpClient *client, MkSmtpSessionState state);
/* Queues a command line (CRLF added); @shown replaces it in the trace. */
gboolean mk_smtp_session_queue_line (MkSmtpClient *client, const char *line, const char *shown,
                                     GCancellable *cancellable, GError **error);
gboolean mk_smtp_session_flush (MkSmtpClient *client, GCancellable *cancellable, GError **error);
/* The stages of the replies to what the data stream writes, not
 * mk_smtp_session_queue_line(): the end of data and BDAT chunks. Read those
 * replies with these stages. The session counts the replies owed for a
 * body sent after DATA's 354 itself; the chunks of a BDAT body only their
 * writer counts, so such a body is written, and its replies read, in state
 * MK_SMTP_SESSION_DATA, which suspends the desync checks until it ends. */
#define MK_SMTP_STAGE_END_OF_DATA "End of data"
#define MK_SMTP_STAGE_BDAT "BDAT"

/* One whole reply; a malformed one, the end of the stream, an I/O error
 * and a 421 close the session. @stage names the command in errors; a reply
 * read with a stage of MK_SMTP_STAGE_* answers the message body, any other
 * the oldest line queued and not yet answered. When the reply leaves
 * nothing outstanding, any byte already waiting from the server is a reply
 * nobody asked for: MK_SMTP_ERROR_RESPONSE, the session closed (a 221 to
 * QUIT and a 220 to STARTTLS excepted: the session ends, or the TLS layer
 * refuses those bytes itself; and a waiting 421, which the next read takes
 * as a reply). mk_smtp_session_queue_line() checks the same before a line
 * goes out with nothing outstanding. */
MkSmtpReply *mk_smtp_session_read_reply (MkSmtpClient *client, const char *stage,
                                         GCancellable *cancellable, GError **error);
gboolean mk_smtp_session_reply_is (const MkSmtpReply *reply, guint code);
gboolean mk_smtp_session_reply_is_positive (const MkSmtpReply *reply);
/* "CODE text", printable and bounded in length. */
char *mk_smtp_session_reply_summary (const MkSmtpReply *reply);
void mk_smtp_session_set_reply_error (GError **error, MkSmtpError code, const char *stage,
                                      const MkSmtpReply *reply);
/* RSET after a refusal, failures ignored (a lost connection stays closed). */
void mk_smtp_session_safety_rset (MkSmtpClient *client, GCancellable *cancellable);
gboolean mk_smtp_session_check_argument (const char *what, const char *value, GError **error);
gboolean mk_smtp_session_check_arguments (const char *what, const char *const *values,
                                          GError **error);
/* ESMTP parameters the session can honour (ESMTP, the extension offered). */
gboolean mk_smtp_session_check_options (MkSmtpClient *client, const char *const *options,
                                        GError **error);
gboolean mk_smtp_session_options_have (const char *const *options, const char *keyword);
gboolean mk_smtp_session_is_ascii (const char *text);
/* MAIL FROM (@mail) or RCPT TO through the formatters; a non-ASCII address
 * needs @utf8. */
char *mk_smtp_session_format_path (gboolean mail, const char *address, const char *const *options,
                                   gboolean utf8, GError **error);

G_END_DECLS
