/* mk-send-messages.c: mk_smtp_client_send_messages(), many messages at one round trip each
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The script: each message's envelope taken in the calling thread; then
 * one step runs every message through one MkSmtpPipeline, so the end of data of one goes out with the next one's
 * MAIL/RCPT/DATA, and each message's result lands in its own slot
 * whenever its last reply is read. While the server answers one message,
 * the next is looked at and prepared (the pipeline's idle work), so the
 * client's work on it overlaps the server's.
 */
#include "config.h"

#include "mk-send-message-private.h"
#include "mk-send-messages.h"
#include "mk-send-result-private.h"
#include "libmailkit/smtp/mk-smtp-error.h"

typedef struct
{
  guint n_messages;
  /* Per message: its call (NULL when it failed before the session was
   * used), its request, and its result once known. */
  GPtrArray *calls;
  MkSmtpTransactionRequest *requests;
  GPtrArray *results;
  /* The async call's: see mk_smtp_client_send_messages_async(). */
  GCancellable *cancellable;
  /* While the step runs: its client, and the message being sent. */
  MkSmtpClient *client;
  guint sending;
} SendMessages;

static void
send_messages_free (gpointer data)
{
  SendMessages *batch = data;

  g_clear_pointer (&batch->calls, g_ptr_array_unref);
  g_free (batch->requests);
  g_clear_pointer (&batch->results, g_ptr_array_unref);
  g_clear_object (&batch->cancellable);
  g_free (batch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendMessages, send_messages_free)

static void
set_result (SendMessages *batch, guint index, MkSmtpOutcome outcome, const GError *error)
{
  g_ptr_array_index (batch->results, index) = mk_send_result_new (outcome, NULL, NULL, error);
}

static void
set_failed (SendMessages *batch, guint index, const GError *error)
{
  set_result (batch, index, mk_smtp_outcome_from_error (error, NULL), error);
}

/* The arguments checked, and each message's envelope taken; a message that
 * fails here has its result already. */
static SendMessages *
send_messages_new (GPtrArray *messages, GPtrArray *envelopes, GError **error)
{
  g_autoptr (SendMessages) batch = g_new0 (SendMessages, 1);

  if (envelopes != NULL && envelopes->len != messages->len)
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                   "%u messages and %u envelopes: give one envelope per message, or none",
                   messages->len, envelopes->len);
      return NULL;
    }
  for (guint i = 0; i < messages->len; i++)
    if (!GMIME_IS_MESSAGE (g_ptr_array_index (messages, i)))
      {
        g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                     "Element %u of the messages is not a GMimeMessage", i);
        return NULL;
      }

  batch->n_messages = messages->len;
  batch->calls = g_ptr_array_new_full (messages->len, (GDestroyNotify)mk_send_call_free);
  batch->requests = g_new0 (MkSmtpTransactionRequest, messages->len);
  batch->results = g_ptr_array_new_full (messages->len, (GDestroyNotify)mk_send_result_unref);
  g_ptr_array_set_size (batch->results, messages->len);
  for (guint i = 0; i < messages->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      MkSendCall *call = mk_send_call_new (
          g_ptr_array_index (messages, i),
          envelopes != NULL ? g_ptr_array_index (envelopes, i) : NULL, &local_error);

      g_ptr_array_add (batch->calls, call);
      if (call == NULL)
        set_failed (batch, i, local_error);
    }
  return g_steal_pointer (&batch);
}

static void
message_done (gpointer user_data, MkSmtpOutcome outcome, GHashTable *refused, MkSmtpReply *reply,
              const GError *error)
{
  MkSendResult **slot = user_data;

  *slot = mk_send_result_new (outcome, refused, reply, error);
}

/* Makes message @i ready for the session (its request filled), once; a
 * message that fails here fails alone, nothing of it sent. */
static gboolean
prepare_message (SendMessages *batch, MkSmtpClient *client, guint i, GCancellable *cancellable)
{
  MkSendCall *call = g_ptr_array_index (batch->calls, i);
  g_autoptr (GError) local_error = NULL;

  if (batch->requests[i].write_body != NULL)
    return TRUE;
  if (mk_send_call_prepare (call, client, &batch->requests[i], cancellable, &local_error))
    return TRUE;
  set_failed (batch, i, local_error);
  return FALSE;
}

/* While the server answers one message, the next one is prepared (for a
 * small one that is its whole serialisation), so that its commands can
 * follow the first one's body at once. */
static void
prepare_next (gpointer user_data, GCancellable *cancellable)
{
  SendMessages *batch = user_data;

  for (guint i = batch->sending + 1; i < batch->n_messages; i++)
    if (g_ptr_array_index (batch->results, i) == NULL)
      {
        prepare_message (batch, batch->client, i, cancellable);
        return;
      }
}

static gboolean
step_send_messages (MkSmtpClient *client, gpointer step_data, GCancellable *cancellable,
                    GError **error)
{
  SendMessages *batch = step_data;
  MkSmtpPipeline *pipeline = mk_smtp_pipeline_new (client, prepare_next, batch);

  if (batch->cancellable != NULL)
    cancellable = batch->cancellable;
  batch->client = client;

  for (guint i = 0; i < batch->n_messages; i++)
    {
      g_autoptr (GError) local_error = NULL;

      /* Failed already, when it was looked at or prepared. */
      if (g_ptr_array_index (batch->results, i) != NULL)
        continue;
      /* Cancelled, or the connection is gone: what is left is not
       * attempted, and safe to send again. */
      if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
        {
          set_result (batch, i, MK_SMTP_OUTCOME_RETRY, local_error);
          continue;
        }
      if (!mk_smtp_client_is_connected (client))
        {
          g_set_error_literal (&local_error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED,
                               "Not attempted: the client is not connected (the connection was "
                               "lost or closed before this message)");
          set_result (batch, i, MK_SMTP_OUTCOME_RETRY, local_error);
          continue;
        }
      if (!prepare_message (batch, client, i, cancellable))
        continue;
      batch->sending = i;
      mk_smtp_pipeline_add (pipeline, &batch->requests[i], message_done,
                            &g_ptr_array_index (batch->results, i), cancellable);
    }
  mk_smtp_pipeline_finish (pipeline, cancellable);
  batch->client = NULL;
  return TRUE;
}

/**
 * mk_smtp_client_send_messages:
 * @client: a connected client
 * @messages: (element-type GMime.Message): the messages to send, in order
 * @envelopes: (nullable) (element-type MkEnvelope): one envelope per
 *   message (an element may be %NULL), or %NULL: the envelope of each
 *   message comes from its headers, as for mk_smtp_client_send_message()
 *   with no @from and @to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends several messages over the connection, one mail transaction each,
 * as many calls of mk_smtp_client_send_message() would, but at one
 * network round trip per message when the server offers PIPELINING (with
 * or without CHUNKING): the end of the data of one message goes out in
 * the same write as the next message's `MAIL FROM`, `RCPT TO` and `DATA`
 * (RFC 2920 §3.1 allows it), and the reply to that end of data is read
 * first, with theirs. Without PIPELINING the messages go one after
 * another, each command waiting for its reply, with the same results.
 *
 * Every message gets a result, in the order of @messages, and nothing the
 * network does is lost in a single error: a message refused (at MAIL,
 * RCPT, DATA or the end of data) is refused alone and the next one goes
 * on (after an RSET when the refusal came before the end of data); a
 * message whose end of data went out and whose reply never came is
 * %MK_SMTP_OUTCOME_UNKNOWN (%MK_SMTP_ERROR_DELIVERY_UNKNOWN); after a lost
 * connection (or a 421, or a part whose file could not be read while it
 * was being sent, which closes the connection without ending the data)
 * the messages left are not attempted, %MK_SMTP_OUTCOME_RETRY with
 * %MK_SMTP_ERROR_SERVER_DISCONNECTED. Reconnect and send those again.
 * Cancelling stops the batch the same way: the message being sent fails
 * (unknown if its end of data was out), the rest are not attempted
 * (%G_IO_ERROR_CANCELLED). A message that cannot be sent as it is (no
 * recipients, an unusable address, SIZE over the server's limit, a
 * missing file) fails alone, before anything of it is sent.
 *
 * Each message's envelope is taken when the call starts, in the calling
 * thread; the message itself is looked at as mk_smtp_client_send_message()
 * does (headers, files, parts that might travel as they are) just before
 * it is sent, while the server answers the message before it, then
 * serialised (a small message into memory, a large one streamed). The
 * messages must not be changed until the call finishes, and may have a
 * part's Content-Transfer-Encoding changed. #MkSmtpClient::progress is emitted
 * for each message, its total being that message's size.
 *
 * Errors: the call fails, returning %NULL, only when it cannot start:
 * %MK_SMTP_ERROR_INVALID when @envelopes and @messages differ in length or
 * an element of @messages is not a message; %G_IO_ERROR_PENDING when
 * another operation is running on @client. Everything else is in the
 * results.
 *
 * Returns: (transfer container) (element-type MkSendResult) (nullable): one
 *   result per message, in order; %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
mk_smtp_client_send_messages (MkSmtpClient *client, GPtrArray *messages, GPtrArray *envelopes,
                              GCancellable *cancellable, GError **error)
{
  g_autoptr (SendMessages) batch = NULL;

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (messages != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  batch = send_messages_new (messages, envelopes, error);
  if (batch == NULL || !mk_smtp_client_run_step (client, step_send_messages, batch, cancellable,
                                                 error))
    return NULL;
  return g_steal_pointer (&batch->results);
}

/**
 * mk_smtp_client_send_messages_async:
 * @client: a connected client
 * @messages: (element-type GMime.Message): the messages to send, in order;
 *   they must not be changed until the call finishes
 * @envelopes: (nullable) (element-type MkEnvelope): one envelope per
 *   message, or %NULL, as for mk_smtp_client_send_messages()
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_send_messages(): the envelopes
 * are taken in the calling thread, then the messages are looked at and
 * sent in a worker thread;
 * #MkSmtpClient::progress and #MkSmtpClient::trace arrive on the caller's
 * thread-default main context.
 *
 * Since: 0.1
 */
void
mk_smtp_client_send_messages_async (MkSmtpClient *client, GPtrArray *messages,
                                    GPtrArray *envelopes, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  SendMessages *batch;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (messages != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  batch = send_messages_new (messages, envelopes, &error);
  if (batch == NULL)
    {
      g_task_report_error (client, callback, user_data, mk_smtp_client_send_messages_async, error);
      return;
    }
  /* The task itself gets no cancellable: GTask would answer a cancelled
   * call with G_IO_ERROR_CANCELLED instead of the results, and the
   * results say what cancelling did to each message. */
  batch->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  mk_smtp_client_run_step_async (client, step_send_messages, batch, send_messages_free,
                                 mk_smtp_client_send_messages_async, NULL, callback, user_data);
}

/**
 * mk_smtp_client_send_messages_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_send_messages_async().
 *
 * Returns: (transfer container) (element-type MkSendResult) (nullable): one
 *   result per message, in order; %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
mk_smtp_client_send_messages_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  SendMessages *batch;

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mk_smtp_client_run_step_finish (client, result, mk_smtp_client_send_messages_async, error))
    return NULL;
  batch = mk_smtp_client_step_get_data (result);
  return g_steal_pointer (&batch->results);
}
