/* mk-send-result.c: what became of one message of mk_smtp_client_send_messages()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-send-result-private.h"

/**
 * MkSendResult:
 *
 * What became of one message sent with mk_smtp_client_send_messages(): its
 * #MkSmtpOutcome, the error mk_smtp_client_send_message() would have given
 * for it, the server reply that decided, and the recipients refused.
 *
 * A result is immutable and reference counted.
 *
 * Since: 0.1
 */
struct _MkSendResult
{
  gatomicrefcount ref_count;
  MkSmtpOutcome outcome;
  GError *error;
  MkSmtpReply *reply;
  GHashTable *refused;
};

G_DEFINE_BOXED_TYPE (MkSendResult, mk_send_result, mk_send_result_ref, mk_send_result_unref)

MkSendResult *
mk_send_result_new (MkSmtpOutcome outcome, GHashTable *refused, MkSmtpReply *reply,
                    const GError *error)
{
  MkSendResult *result = g_new0 (MkSendResult, 1);

  g_atomic_ref_count_init (&result->ref_count);
  result->outcome = outcome;
  result->error = error != NULL ? g_error_copy (error) : NULL;
  result->reply = reply != NULL ? mk_smtp_reply_ref (reply) : NULL;
  result->refused = refused != NULL
                        ? g_hash_table_ref (refused)
                        : g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify)mk_smtp_reply_unref);
  return result;
}

/**
 * mk_send_result_ref:
 * @result: a result
 *
 * Adds a reference to @result.
 *
 * Returns: (transfer full): @result
 *
 * Since: 0.1
 */
MkSendResult *
mk_send_result_ref (MkSendResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  g_atomic_ref_count_inc (&result->ref_count);
  return result;
}

/**
 * mk_send_result_unref:
 * @result: (transfer full): a result
 *
 * Drops a reference to @result, freeing it with the last one.
 *
 * Since: 0.1
 */
void
mk_send_result_unref (MkSendResult *result)
{
  g_return_if_fail (result != NULL);

  if (!g_atomic_ref_count_dec (&result->ref_count))
    return;
  g_clear_error (&result->error);
  g_clear_pointer (&result->reply, mk_smtp_reply_unref);
  g_clear_pointer (&result->refused, g_hash_table_unref);
  g_free (result);
}

/**
 * mk_send_result_get_outcome:
 * @result: a result
 *
 * What became of the message: delivered (to every recipient, or to some),
 * to retry later, refused for good, or unknown (the end of the data went
 * out and its reply never came). docs/errors-and-retry.md says what to do
 * with each.
 *
 * Returns: the outcome
 *
 * Since: 0.1
 */
MkSmtpOutcome
mk_send_result_get_outcome (const MkSendResult *result)
{
  g_return_val_if_fail (result != NULL, MK_SMTP_OUTCOME_UNKNOWN);
  return result->outcome;
}

/**
 * mk_send_result_get_error:
 * @result: a result
 *
 * The error mk_smtp_client_send_message() would have given for this
 * message (the same domain and code), or, for a message not attempted
 * because an earlier one lost the connection,
 * %MK_SMTP_ERROR_SERVER_DISCONNECTED (%G_IO_ERROR_CANCELLED when the call
 * was cancelled before it).
 *
 * Returns: (transfer none) (nullable): the error, %NULL when the message
 *   was accepted
 *
 * Since: 0.1
 */
const GError *
mk_send_result_get_error (const MkSendResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->error;
}

/**
 * mk_send_result_get_reply:
 * @result: a result
 *
 * The server reply that decided the outcome: the reply to the end of the
 * data when the message was accepted (for LMTP, the last recipient's);
 * the refusal behind a refusal error (for a message refused for every
 * recipient, a temporary refusal if there was one, since it is what a
 * retry could change). %NULL when no reply decided: a lost connection, a
 * message not attempted, an error found before sending.
 *
 * Returns: (transfer none) (nullable): the reply
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_send_result_get_reply (const MkSendResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->reply;
}

/**
 * mk_send_result_get_refused:
 * @result: a result
 *
 * The recipients the server refused, as the refused table of
 * mk_smtp_client_send_message(): at `RCPT TO` and, for LMTP, after the
 * data. Empty when none was refused (or none was asked).
 *
 * Returns: (transfer none) (element-type utf8 MkSmtpReply): address → reply
 *
 * Since: 0.1
 */
GHashTable *
mk_send_result_get_refused (const MkSendResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->refused;
}
