/* mk-smtp-client-private.h: what send/ and MkLmtpClient build on
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mk-smtp-client.h"
#include "mk-smtp-outcome.h"

G_BEGIN_DECLS

/* RFC 2920 §3.1 lets a client send a whole group of commands before reading
 * their replies, but a server that writes replies while the client still
 * writes commands must not block on a full socket buffer: we never have more
 * than this many commands (MAIL, RCPT, DATA, BDAT chunks) waiting for a
 * reply. 100 replies of ~50 bytes fit easily in any TCP window (the same
 * reason as msmtp's PIPELINE_LIMIT). */
#define MK_SMTP_PIPELINE_WINDOW 100

/* MkSmtpBodyWriter:
 * @stream: where to write the message: the raw RFC 5322 message, with any
 *   line endings. The stream normalises bare CR and LF to CRLF and dot-stuffs
 *   (DATA) or frames the bytes in BDAT chunks (CHUNKING); the writer must do
 *   neither, and must not close @stream.
 * @user_data: the data given to mk_smtp_client_run_transaction()
 *
 * Writes the message body of a transaction. Runs in the thread of the
 * transaction (a worker thread for async calls). Returning FALSE (with
 * @error set) aborts the transaction: the final `.` is never sent and the
 * connection is closed, so the server cannot take a truncated message.
 */
typedef gboolean (*MkSmtpBodyWriter) (GOutputStream *stream, gpointer user_data,
                                      GCancellable *cancellable, GError **error);

/* MkSmtpClientStep:
 *
 * One blocking, cancellable piece of protocol: the body of a public call.
 * Runs through mk_smtp_client_run_step() (sync) or
 * mk_smtp_client_run_step_async() (in a worker thread), never directly.
 */
typedef gboolean (*MkSmtpClientStep) (MkSmtpClient *client, gpointer step_data,
                                      GCancellable *cancellable, GError **error);

/* Runs @step as one operation of @client in the calling thread: fails with
 * G_IO_ERROR_PENDING while another operation is running; closes the session
 * when @step was cancelled, lost the connection or hit a protocol error; the
 * trace and progress signals are emitted in the calling thread. */
gboolean mk_smtp_client_run_step (MkSmtpClient *client, MkSmtpClientStep step, gpointer step_data,
                                  GCancellable *cancellable, GError **error);

/* The same in a worker thread (g_task_run_in_thread); the trace and progress
 * signals and @callback run on the thread-default main context of the
 * caller. @step_data is the GTask's task data (freed with @step_data_free),
 * so the _finish function can take outputs from it with
 * mk_smtp_client_step_get_data(). */
void mk_smtp_client_run_step_async (MkSmtpClient *client, MkSmtpClientStep step, gpointer step_data,
                                    GDestroyNotify step_data_free, gpointer source_tag,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);

gboolean mk_smtp_client_run_step_finish (MkSmtpClient *client, GAsyncResult *result,
                                         gpointer source_tag, GError **error);

gpointer mk_smtp_client_step_get_data (GAsyncResult *result);

/* Inside a step: EHLO (or HELO) when no greeting was exchanged since the
 * connection or the last STARTTLS, then what #MkSmtpClient:tls-mode asks
 * for (STARTTLS and EHLO again). After it the capabilities are those the
 * transaction will run with. */
gboolean mk_smtp_client_prepare_session (MkSmtpClient *client, GCancellable *cancellable,
                                         GError **error);

/* Inside a step, after mk_smtp_client_prepare_session(): whether the
 * server advertised @keyword (case-insensitive, whole word) and the
 * matching use-* property (use-8bitmime, use-smtputf8, use-pipelining,
 * use-chunking, use-binarymime) leaves it on. send/ asks this for "8BITMIME" and
 * "SMTPUTF8" before it chooses transfer encodings. */
gboolean mk_smtp_client_session_supports (MkSmtpClient *client, const char *keyword);

/* Inside a step: whether the connection is TLS-protected now (STARTTLS
 * done or implicit TLS), as RFC 8689's REQUIRETLS needs. */
gboolean mk_smtp_client_session_is_tls (MkSmtpClient *client);

/* mk_smtp_client_run_transaction:
 * @from: the envelope sender, as it goes between < and > ("" for <>)
 * @to: (array zero-terminated=1): the recipients, in order; a duplicate is
 *   sent once. At least one.
 * @mail_options: (nullable): ESMTP parameters for MAIL, verbatim
 *   (e.g. "SMTPUTF8", "BODY=8BITMIME", "RET=HDRS"); SIZE= is added here
 * @rcpt_options: (nullable): ESMTP parameters for every RCPT
 * @size: the message's size in bytes as the writer will write it (for
 *   SIZE= and the progress total), or -1 when unknown
 * @refused: (out) (optional): recipients refused at RCPT (and, for LMTP,
 *   after DATA): address → MkSmtpReply, the table owning both. Set on
 *   success (empty when nobody was refused) and whenever a recipient was
 *   refused, also when the call fails with MK_SMTP_ERROR_RECIPIENTS_REFUSED.
 *
 * The one mail transaction of the library, used by sendmail(),
 * sendmail_stream() and send/'s send_message(); runs inside a step.
 * prepare (EHLO, TLS policy, SIZE and SMTPUTF8 checks) → MAIL → RCPT×n →
 * flush the pipeline → DATA or BDAT → end of data. Pipelined when the
 * server offers PIPELINING, BDAT when it offers CHUNKING; the result is the
 * same either way. A refusal leaves the session usable (RSET sent); a 421,
 * an I/O error or a failed writer close it.
 *
 * Errors: MK_SMTP_ERROR_INVALID (no recipient, CR/LF, a bad address),
 * _NOT_SUPPORTED (a parameter of an extension not offered: SMTPUTF8, DSN,
 * BODY=8BITMIME…; a non-ASCII address without SMTPUTF8; SIZE over the
 * limit), _SENDER_REFUSED,
 * _RECIPIENTS_REFUSED, _DATA, _SERVER_DISCONNECTED, _DELIVERY_UNKNOWN,
 * _RESPONSE, _TLS, the writer's own errors, G_IO_ERROR.
 */
gboolean mk_smtp_client_run_transaction (MkSmtpClient *client, const char *from,
                                         const char *const *to, const char *const *mail_options,
                                         const char *const *rcpt_options, goffset size,
                                         MkSmtpBodyWriter write_body, gpointer write_body_data,
                                         GHashTable **refused, GCancellable *cancellable,
                                         GError **error);

/* mk_smtp_client_run_transaction() with, besides @rcpt_options for every
 * RCPT, each recipient's own ESMTP parameters (DSN's NOTIFY and ORCPT):
 * @recipient_options (nullable) has one entry per entry of @to, each NULL
 * or a NULL-terminated list sent after @rcpt_options on that recipient's
 * RCPT (checked like @rcpt_options). A duplicate recipient is sent once,
 * with the parameters of its first occurrence. */
gboolean mk_smtp_client_run_transaction_full (
    MkSmtpClient *client, const char *from, const char *const *to, const char *const *mail_options,
    const char *const *rcpt_options, const char *const *const *recipient_options, goffset size,
    MkSmtpBodyWriter write_body, gpointer write_body_data, GHashTable **refused,
    GCancellable *cancellable, GError **error);

/* MkSmtpTransactionRequest: what one transaction sends, as the arguments
 * of the same names of mk_smtp_client_run_transaction_full(). */
typedef struct
{
  const char *from;
  const char *const *to;
  const char *const *mail_options;
  const char *const *rcpt_options;
  const char *const *const *recipient_options;
  goffset size;
  MkSmtpBodyWriter write_body;
  gpointer write_body_data;
} MkSmtpTransactionRequest;

/* MkSmtpTransactionDone:
 * @outcome: the class of the result (a cancel once the end of data went
 *   out is MK_SMTP_OUTCOME_UNKNOWN, which the error alone cannot tell)
 * @refused: (transfer none): the refused table, as
 *   mk_smtp_client_run_transaction_full()'s, empty when nobody was refused
 * @reply: (transfer none) (nullable): the reply that decided: the final
 *   reply on success, the refusal behind a refusal error
 * @error: (nullable): what mk_smtp_client_run_transaction_full() would
 *   have failed with, NULL on success
 *
 * The result of one transaction of a pipeline.
 */
typedef void (*MkSmtpTransactionDone) (gpointer user_data, MkSmtpOutcome outcome,
                                       GHashTable *refused, MkSmtpReply *reply,
                                       const GError *error);

/* MkSmtpPipeline: transactions run one after another inside one step,
 * each left without the reply to its end of data until the next one's
 * MAIL/RCPT/DATA (or BDAT) are written, in the same write as that end of
 * data; the reply is read first when the next one reads its own (RFC 2920
 * §3.1 lets the final `.` be pipelined with the next MAIL). So a message
 * costs one round trip with PIPELINING alone. Without PIPELINING each
 * transaction runs as mk_smtp_client_run_transaction_full() does, reply
 * by reply. The window MK_SMTP_PIPELINE_WINDOW counts the replies owed by
 * both transactions.
 *
 * A refused end of data gets no RSET when the next transaction's commands
 * followed it (the reply ends the transaction anyway, RFC 5321 §4.1.1.4);
 * every other refusal does, as on its own. */
typedef struct _MkSmtpPipeline MkSmtpPipeline;

/* Work that needs no reply, done while the server works: called once per
 * transaction, right after its commands went out and before their replies
 * are read. It must not use the session. */
typedef void (*MkSmtpPipelineIdle) (gpointer user_data, GCancellable *cancellable);

/* @idle (nullable): see MkSmtpPipelineIdle; sending the next message's
 * preparation there takes it off the path from one reply to the next
 * write. */
MkSmtpPipeline *mk_smtp_pipeline_new (MkSmtpClient *client, MkSmtpPipelineIdle idle,
                                      gpointer idle_data);

/* Runs one transaction in @pipeline; @done gets its result exactly once,
 * before this returns or during a later mk_smtp_pipeline_add() or
 * mk_smtp_pipeline_finish() of the same step (results may thus come out
 * of order). @request's strings and writer data must stay valid until
 * then. A lost connection fails every later transaction with
 * MK_SMTP_ERROR_SERVER_DISCONNECTED before anything is sent. */
void mk_smtp_pipeline_add (MkSmtpPipeline *pipeline, const MkSmtpTransactionRequest *request,
                           MkSmtpTransactionDone done, gpointer done_data,
                           GCancellable *cancellable);

/* Reads the reply still owed (reporting it) and frees @pipeline. Call it
 * before the step ends. Cancelled, an end of data still queued is not
 * sent: that transaction is reported cancelled, safe to retry. */
void mk_smtp_pipeline_finish (MkSmtpPipeline *pipeline, GCancellable *cancellable);

/* Inside a step: REQUIRETLS (RFC 8689 §4.1) can be honoured — the session
 * is TLS-protected, the certificate verified and the server offers it —
 * else MK_SMTP_ERROR_NOT_SUPPORTED. Checked for the envelope's setting and
 * for a REQUIRETLS given among raw MAIL parameters alike. */
gboolean mk_smtp_client_check_require_tls (MkSmtpClient *client, GError **error);

/* For MkLmtpClient: speak LMTP (LHLO, no HELO fallback, one reply per
 * accepted recipient after the data, default port 2003). */
void mk_smtp_client_set_lmtp (MkSmtpClient *client);

G_END_DECLS
