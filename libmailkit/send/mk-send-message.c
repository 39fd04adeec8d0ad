/* mk-send-message.c: mk_smtp_client_send_message(), smtplib's send_message()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The script: envelope and a look at the message (in the calling thread,
 * before the session is touched) → session prepared → transport chosen
 * from the capabilities → size counted → the client's one mail
 * transaction, whose body writer is GMime writing through MkMessageWriter.
 */
#include "config.h"

#include <string.h>

#include "mk-envelope-private.h"
#include "mk-message-writer-private.h"
#include "mk-send-message-private.h"
#include "mk-send-message.h"
#include "libmailkit/smtp/mk-smtp-error.h"

struct _MkSendCall
{
  GMimeMessage *message;
  MkEnvelope *envelope;
  char **mail_options;
  char **rcpt_options;
  MkMessageWriter *writer;
  GHashTable *refused;
  /* What the prepared request borrows: the MAIL parameters, DSN's among
   * them, and each recipient's own. */
  GPtrArray *options;
  GPtrArray *dsn_mail;
  GPtrArray *dsn_rcpt;
};

typedef MkSendCall SendMessage;

static void
send_message_free (gpointer data)
{
  SendMessage *call = data;

  g_clear_object (&call->message);
  g_clear_pointer (&call->envelope, mk_envelope_free);
  g_strfreev (call->mail_options);
  g_strfreev (call->rcpt_options);
  g_clear_pointer (&call->writer, mk_message_writer_free);
  g_clear_pointer (&call->refused, g_hash_table_unref);
  g_clear_pointer (&call->options, g_ptr_array_unref);
  g_clear_pointer (&call->dsn_mail, g_ptr_array_unref);
  g_clear_pointer (&call->dsn_rcpt, g_ptr_array_unref);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendMessage, send_message_free)

/* The message's headers, parts and files, once. */
static gboolean
look_at_message (SendMessage *call, GCancellable *cancellable, GError **error)
{
  if (call->writer == NULL)
    call->writer = mk_message_writer_new (
        call->message, mk_envelope_get_message_id_domain (call->envelope), cancellable, error);
  return call->writer != NULL;
}

/* Everything that can be checked before the session is used: the
 * envelope (@envelope, else from the message with @from and @to), and the
 * message's headers, parts and files. A failure here leaves the
 * connection as it was. */
static SendMessage *
send_message_new (GMimeMessage *message, const MkEnvelope *envelope, const char *from,
                  const char *const *to, const char *const *mail_options,
                  const char *const *rcpt_options, GCancellable *cancellable, GError **error)
{
  g_autoptr (SendMessage) call = g_new0 (SendMessage, 1);

  call->envelope = envelope != NULL ? mk_envelope_copy (envelope)
                                    : mk_envelope_new_from_message (message, from, to, error);
  if (call->envelope == NULL)
    return NULL;
  call->message = g_object_ref (message);
  call->mail_options = g_strdupv ((char **)mail_options);
  call->rcpt_options = g_strdupv ((char **)rcpt_options);
  if (!look_at_message (call, cancellable, error))
    return NULL;
  return g_steal_pointer (&call);
}

static gboolean
has_option (char **options, const char *keyword, gboolean with_value)
{
  gsize length = strlen (keyword);

  for (gsize i = 0; options != NULL && options[i] != NULL; i++)
    if (g_ascii_strncasecmp (options[i], keyword, length) == 0
        && options[i][length] == (with_value ? '=' : '\0'))
      return TRUE;
  return FALSE;
}

static gboolean
write_body (GOutputStream *stream, gpointer user_data, GCancellable *cancellable, GError **error)
{
  SendMessage *call = user_data;

  return mk_message_writer_write (call->writer, stream, cancellable, error);
}

/* The DSN parameters go out only to a server that offers DSN (RFC 3461
 * §4); otherwise they are dropped, unless the envelope requires them.
 * Fills @mail (owned strings) and @recipients (one list or NULL per
 * recipient, in envelope order). */
static gboolean
dsn_parameters (MkSmtpClient *client, const MkEnvelope *envelope, GPtrArray *mail,
                GPtrArray *recipients, GError **error)
{
  const char *const *to = mk_envelope_get_recipients (envelope);

  if (!mk_smtp_client_session_supports (client, "DSN"))
    {
      if (!mk_envelope_get_dsn_required (envelope))
        return TRUE;
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "Delivery status notifications were required and the server does "
                           "not offer DSN (RFC 3461)");
      return FALSE;
    }
  if (!mk_envelope_has_dsn (envelope))
    return TRUE;
  mk_envelope_add_dsn_mail_parameters (envelope, mail);
  for (gsize i = 0; to[i] != NULL; i++)
    g_ptr_array_add (recipients, mk_envelope_get_dsn_rcpt_parameters (envelope, to[i]));
  return TRUE;
}

MkSendCall *
mk_send_call_new (GMimeMessage *message, const MkEnvelope *envelope, GError **error)
{
  g_autoptr (SendMessage) call = g_new0 (SendMessage, 1);

  call->envelope
      = envelope != NULL ? mk_envelope_copy (envelope)
                         : mk_envelope_new_from_message (message, NULL, NULL, error);
  if (call->envelope == NULL)
    return NULL;
  call->message = g_object_ref (message);
  return g_steal_pointer (&call);
}

void
mk_send_call_free (MkSendCall *call)
{
  if (call != NULL)
    send_message_free (call);
}

gboolean
mk_send_call_prepare (MkSendCall *call, MkSmtpClient *client, MkSmtpTransactionRequest *request,
                      GCancellable *cancellable, GError **error)
{
  GPtrArray *options, *dsn_mail, *dsn_rcpt;
  g_autoptr (GError) count_error = NULL;
  gboolean utf8 = mk_envelope_needs_smtputf8 (call->envelope);
  gboolean require_tls = mk_envelope_get_require_tls (call->envelope);
  goffset size;

  if (!look_at_message (call, cancellable, error)
      || !mk_smtp_client_prepare_session (client, cancellable, error))
    return FALSE;
  g_clear_pointer (&call->options, g_ptr_array_unref);
  g_clear_pointer (&call->dsn_mail, g_ptr_array_unref);
  g_clear_pointer (&call->dsn_rcpt, g_ptr_array_unref);
  options = call->options = g_ptr_array_new ();
  dsn_mail = call->dsn_mail = g_ptr_array_new_with_free_func (g_free);
  dsn_rcpt = call->dsn_rcpt = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);

  if (utf8 && !mk_smtp_client_session_supports (client, "SMTPUTF8"))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "One or more addresses need internationalized email support "
                           "(SMTPUTF8), which the server does not offer");
      return FALSE;
    }
  if ((require_tls && !mk_smtp_client_check_require_tls (client, error))
      || !dsn_parameters (client, call->envelope, dsn_mail, dsn_rcpt, error))
    return FALSE;
  /* A caller's own BODY= decides for itself: no binary body then. */
  if (!mk_message_writer_choose_transport (
          call->writer, mk_smtp_client_session_supports (client, "8BITMIME"),
          mk_smtp_client_session_supports (client, "BINARYMIME")
              && mk_smtp_client_session_supports (client, "CHUNKING")
              && !has_option (call->mail_options, "BODY", TRUE),
          error))
    return FALSE;
  size = mk_message_writer_count (call->writer, cancellable, &count_error);
  if (count_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&count_error));
      return FALSE;
    }

  /* smtplib's order: the caller's options, then SMTPUTF8 and BODY. */
  for (gsize i = 0; call->mail_options != NULL && call->mail_options[i] != NULL; i++)
    g_ptr_array_add (options, call->mail_options[i]);
  if (utf8 && !has_option (call->mail_options, "SMTPUTF8", FALSE))
    g_ptr_array_add (options, "SMTPUTF8");
  if (mk_message_writer_needs_binarymime (call->writer))
    g_ptr_array_add (options, "BODY=BINARYMIME");
  else if (mk_message_writer_needs_8bitmime (call->writer)
           && !has_option (call->mail_options, "BODY", TRUE))
    g_ptr_array_add (options, "BODY=8BITMIME");
  if (require_tls)
    g_ptr_array_add (options, "REQUIRETLS");
  for (guint i = 0; i < dsn_mail->len; i++)
    g_ptr_array_add (options, g_ptr_array_index (dsn_mail, i));
  g_ptr_array_add (options, NULL);

  *request = (MkSmtpTransactionRequest){
    .from = mk_envelope_get_reverse_path (call->envelope),
    .to = mk_envelope_get_recipients (call->envelope),
    .mail_options = (const char *const *)options->pdata,
    .rcpt_options = (const char *const *)call->rcpt_options,
    .recipient_options = dsn_rcpt->len > 0 ? (const char *const *const *)dsn_rcpt->pdata : NULL,
    .size = size,
    .write_body = write_body,
    .write_body_data = call,
  };
  return TRUE;
}

static gboolean
step_send_message (MkSmtpClient *client, gpointer step_data, GCancellable *cancellable,
                   GError **error)
{
  SendMessage *call = step_data;
  MkSmtpTransactionRequest request;

  return mk_send_call_prepare (call, client, &request, cancellable, error)
         && mk_smtp_client_run_transaction_full (
             client, request.from, request.to, request.mail_options, request.rcpt_options,
             request.recipient_options, request.size, request.write_body, request.write_body_data,
             &call->refused, cancellable, error);
}

static gboolean
send_message_run (MkSmtpClient *client, SendMessage *call, GHashTable **refused,
                  GCancellable *cancellable, GError **error)
{
  gboolean ok = mk_smtp_client_run_step (client, step_send_message, call, cancellable, error);

  if (refused != NULL)
    *refused = g_steal_pointer (&call->refused);
  return ok;
}

/* @call NULL: it could not be made (@error says why). */
static void
send_message_start (MkSmtpClient *client, SendMessage *call, GError *error, gpointer source_tag,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  if (call == NULL)
    {
      g_task_report_error (client, callback, user_data, source_tag, error);
      return;
    }
  mk_smtp_client_run_step_async (client, step_send_message, call, send_message_free, source_tag,
                                 cancellable, callback, user_data);
}

static gboolean
send_message_finish (MkSmtpClient *client, GAsyncResult *result, gpointer source_tag,
                     GHashTable **refused, GError **error)
{
  gboolean ok = mk_smtp_client_run_step_finish (client, result, source_tag, error);

  /* A call refused before it started (g_task_report_error) has no data. */
  if (refused != NULL && g_task_get_task_data (G_TASK (result)) != NULL)
    {
      SendMessage *call = mk_smtp_client_step_get_data (result);

      *refused = g_steal_pointer (&call->refused);
    }
  return ok;
}

/**
 * mk_smtp_client_send_message:
 * @client: a client
 * @message: the message to send
 * @from: (nullable): the envelope sender; %NULL takes it from the message
 * @to: (nullable) (array zero-terminated=1): the recipients; %NULL takes
 *   them from the message
 * @mail_options: (nullable) (array zero-terminated=1): ESMTP parameters for MAIL
 * @rcpt_options: (nullable) (array zero-terminated=1): ESMTP parameters for every RCPT
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
 *   recipients the server refused, address → reply; empty when all were accepted
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a message, as smtplib's `send_message()`: the envelope comes from
 * the message's headers as mk_envelope_new_from_message() describes
 * (Sender or From; To, Cc, Bcc; one Resent- block), with @from and @to
 * taking precedence, and the message goes out with mk_smtp_client_sendmail()'s
 * transaction (SIZE, PIPELINING and CHUNKING when offered). @mail_options
 * and @rcpt_options are sent as given (smtplib's); for delivery status
 * notifications per recipient, or REQUIRETLS, give an #MkEnvelope to
 * mk_smtp_client_send_message_full() instead.
 *
 * What is sent differs from what @message holds in these ways only: lines
 * end with CRLF; the Bcc and Resent-Bcc headers are left out; a Date and a
 * Message-ID header are added when the message has none (RFC 5322 requires
 * Date; the Message-ID uses the sender's domain). None of this changes
 * @message. What may change it: a part whose data cannot travel as it is
 * gets another Content-Transfer-Encoding (its content is unchanged) — 8-bit
 * data for a server without 8BITMIME (quoted-printable or base64), NUL
 * octets or lines over 998 octets (always). With 8BITMIME, 8-bit text is
 * sent as it is, labelled 8bit, and MAIL carries `BODY=8BITMIME`. A
 * multipart boundary GMime has to generate is also stored in @message.
 *
 * The message is streamed: GMime writes it straight into the connection
 * and a 1 GiB attachment is never held in memory. When every part can be
 * read twice (files, memory), a first pass counts its size for `SIZE=` and
 * for the total of #MkSmtpClient::progress; a part read from a one-shot
 * stream means no `SIZE=` and a total of 0. A part whose file cannot be
 * read, or that changed between the count and the sending, makes the call
 * fail with a %G_IO_ERROR naming the file, and the connection is closed
 * before the end of the data, so the server never takes a truncated
 * message.
 *
 * An address whose local part is not ASCII needs a server offering
 * SMTPUTF8 (`SMTPUTF8` is then added to MAIL); a domain in Unicode is sent
 * in its ASCII form and needs nothing. The message must not be changed by
 * another thread while it is being sent.
 *
 * Before the session is used, in the calling thread, the envelope is taken
 * and the message is looked at: its headers, which files its parts read
 * (a missing one fails here, naming it, with the connection left as it
 * was) and the content of parts whose transfer encoding is an identity
 * (7bit, 8bit, binary or none), which is read once to see whether it can
 * travel as it is. Base64 and quoted-printable parts (attachments) are not
 * read then.
 *
 * Errors: %MK_SMTP_ERROR_INVALID before anything is sent (no sender, no
 * recipients, several Resent- blocks, an unusable address, a header line
 * over 998 octets); %MK_SMTP_ERROR_NOT_SUPPORTED (SMTPUTF8 needed but not
 * offered, the message over the server's SIZE limit, 8-bit headers or a
 * signed part needing re-encoding without 8BITMIME); %G_IO_ERROR (a part's
 * file); and those of mk_smtp_client_sendmail().
 *
 * Returns: %TRUE when the message was accepted (for at least one recipient)
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_send_message (MkSmtpClient *client, GMimeMessage *message, const char *from,
                             const char *const *to, const char *const *mail_options,
                             const char *const *rcpt_options, GHashTable **refused,
                             GCancellable *cancellable, GError **error)
{
  g_autoptr (SendMessage) call = NULL;

  if (refused != NULL)
    *refused = NULL;
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (GMIME_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  call = send_message_new (message, NULL, from, to, mail_options, rcpt_options, cancellable, error);
  return call != NULL && send_message_run (client, call, refused, cancellable, error);
}

/**
 * mk_smtp_client_send_message_async:
 * @client: a client
 * @message: the message to send; it must not be changed until the call
 *   finishes
 * @from: (nullable): the envelope sender; %NULL takes it from the message
 * @to: (nullable) (array zero-terminated=1): the recipients; %NULL takes
 *   them from the message
 * @mail_options: (nullable) (array zero-terminated=1): ESMTP parameters for MAIL
 * @rcpt_options: (nullable) (array zero-terminated=1): ESMTP parameters for every RCPT
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_send_message(): the message is
 * read and sent in a worker thread; #MkSmtpClient::progress and
 * #MkSmtpClient::trace arrive on the caller's thread-default main context.
 * Cancelling closes the connection; the message is then not sent (or,
 * once the end of data went out, its fate is unknown).
 *
 * Since: 0.1
 */
void
mk_smtp_client_send_message_async (MkSmtpClient *client, GMimeMessage *message, const char *from,
                                   const char *const *to, const char *const *mail_options,
                                   const char *const *rcpt_options, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  SendMessage *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (GMIME_IS_MESSAGE (message));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  call
      = send_message_new (message, NULL, from, to, mail_options, rcpt_options, cancellable, &error);
  send_message_start (client, call, error, mk_smtp_client_send_message_async, cancellable, callback,
                      user_data);
}

/**
 * mk_smtp_client_send_message_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
 *   refused recipients, as for mk_smtp_client_send_message()
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_send_message_async().
 *
 * Returns: %TRUE when the message was accepted
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_send_message_finish (MkSmtpClient *client, GAsyncResult *result,
                                    GHashTable **refused, GError **error)
{
  if (refused != NULL)
    *refused = NULL;
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return send_message_finish (client, result, mk_smtp_client_send_message_async, refused, error);
}

/**
 * mk_smtp_client_send_message_full:
 * @client: a client
 * @message: the message to send
 * @envelope: (nullable): the envelope: sender, recipients, delivery status
 *   notifications (DSN) and REQUIRETLS; %NULL takes sender and recipients
 *   from the message as mk_envelope_new_from_message() does
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
 *   recipients the server refused, address → reply; empty when all were accepted
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a message with an #MkEnvelope, as mk_smtp_client_send_message()
 * does with its @from and @to (everything said there holds here), and
 * with what the envelope asks for beyond them:
 *
 * - Delivery status notifications (RFC 3461): `RET` and `ENVID` on
 *   `MAIL FROM`, each recipient's `NOTIFY` and `ORCPT` on its `RCPT TO`
 *   (mk_envelope_set_dsn_notify() and the like). They go out only when the
 *   server offers DSN; otherwise they are dropped, or with
 *   mk_envelope_set_dsn_required() the call fails with
 *   %MK_SMTP_ERROR_NOT_SUPPORTED before `MAIL FROM`.
 * - `REQUIRETLS` (RFC 8689, mk_envelope_set_require_tls()): the call fails
 *   with %MK_SMTP_ERROR_NOT_SUPPORTED before `MAIL FROM` unless the session
 *   is TLS-protected with a verified certificate and the server offers
 *   REQUIRETLS.
 *
 * @envelope is copied; it is not changed.
 *
 * Errors: those of mk_smtp_client_send_message().
 *
 * Returns: %TRUE when the message was accepted (for at least one recipient)
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_send_message_full (MkSmtpClient *client, GMimeMessage *message,
                                  const MkEnvelope *envelope, GHashTable **refused,
                                  GCancellable *cancellable, GError **error)
{
  g_autoptr (SendMessage) call = NULL;

  if (refused != NULL)
    *refused = NULL;
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (GMIME_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  call = send_message_new (message, envelope, NULL, NULL, NULL, NULL, cancellable, error);
  return call != NULL && send_message_run (client, call, refused, cancellable, error);
}

/**
 * mk_smtp_client_send_message_full_async:
 * @client: a client
 * @message: the message to send; it must not be changed until the call
 *   finishes
 * @envelope: (nullable): the envelope, as for
 *   mk_smtp_client_send_message_full() (copied)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_send_message_full(), run as
 * mk_smtp_client_send_message_async() says.
 *
 * Since: 0.1
 */
void
mk_smtp_client_send_message_full_async (MkSmtpClient *client, GMimeMessage *message,
                                        const MkEnvelope *envelope, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  SendMessage *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (GMIME_IS_MESSAGE (message));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  call = send_message_new (message, envelope, NULL, NULL, NULL, NULL, cancellable, &error);
  send_message_start (client, call, error, mk_smtp_client_send_message_full_async, cancellable,
                      callback, user_data);
}

/**
 * mk_smtp_client_send_message_full_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
 *   refused recipients, as for mk_smtp_client_send_message_full()
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_send_message_full_async().
 *
 * Returns: %TRUE when the message was accepted
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_send_message_full_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GHashTable **refused, GError **error)
{
  if (refused != NULL)
    *refused = NULL;
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return send_message_finish (client, result, mk_smtp_client_send_message_full_async, refused,
                              error);
}
