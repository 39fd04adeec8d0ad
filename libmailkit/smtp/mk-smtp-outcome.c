/* mk-smtp-outcome.c: the outcome classes of a send
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "mk-smtp-error.h"
#include "mk-smtp-outcome.h"

/* A reply decides by its class (RFC 5321 §4.2.1): 4yz is transient, 5yz
 * permanent. A refusal without a reply is treated as transient: nothing
 * was delivered, and nothing says a retry must fail. */
static MkSmtpOutcome
outcome_for_reply (const MkSmtpReply *reply)
{
  return reply != NULL && mk_smtp_reply_is_permanent (reply) ? MK_SMTP_OUTCOME_REFUSED
                                                             : MK_SMTP_OUTCOME_RETRY;
}

static MkSmtpOutcome
outcome_for_smtp_error (int code, const MkSmtpReply *reply)
{
  switch ((MkSmtpError)code)
    {
    case MK_SMTP_ERROR_DELIVERY_UNKNOWN:
      return MK_SMTP_OUTCOME_UNKNOWN;
    case MK_SMTP_ERROR_SERVER_DISCONNECTED:
      return MK_SMTP_OUTCOME_RETRY;
    case MK_SMTP_ERROR_RESPONSE:
    case MK_SMTP_ERROR_SENDER_REFUSED:
    case MK_SMTP_ERROR_RECIPIENTS_REFUSED:
    case MK_SMTP_ERROR_DATA:
    case MK_SMTP_ERROR_CONNECT:
    case MK_SMTP_ERROR_HELO:
      return outcome_for_reply (reply);
    case MK_SMTP_ERROR_AUTHENTICATION:
    case MK_SMTP_ERROR_NOT_SUPPORTED:
    case MK_SMTP_ERROR_TLS:
    case MK_SMTP_ERROR_INVALID:
      return MK_SMTP_OUTCOME_REFUSED;
    }
  return MK_SMTP_OUTCOME_REFUSED;
}

/* The network's errors pass again; the local ones (a file, bad data from
 * the caller) do not. */
static MkSmtpOutcome
outcome_for_io_error (int code)
{
  switch (code)
    {
    case G_IO_ERROR_CANCELLED:
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_PARTIAL_INPUT:
    case G_IO_ERROR_INVALID_DATA:
    case G_IO_ERROR_MESSAGE_TOO_LARGE:
      return MK_SMTP_OUTCOME_RETRY;
    default:
      return MK_SMTP_OUTCOME_REFUSED;
    }
}

/**
 * mk_smtp_outcome_from_error:
 * @error: (nullable): the error of a send call
 *   (mk_smtp_client_sendmail(), mk_smtp_client_send_message(), …), or
 *   %NULL when it succeeded
 * @reply: (nullable): the server's reply behind @error
 *   (mk_smtp_client_get_last_reply() right after the call), if any
 *
 * Classifies the result of one send. %NULL is
 * %MK_SMTP_OUTCOME_DELIVERED (tell %MK_SMTP_OUTCOME_PARTIAL from it with
 * the call's refused table). In the %MK_SMTP_ERROR domain,
 * %MK_SMTP_ERROR_DELIVERY_UNKNOWN is %MK_SMTP_OUTCOME_UNKNOWN, a lost
 * connection %MK_SMTP_OUTCOME_RETRY, a refusal (sender, recipients, data,
 * greeting, HELO, or %MK_SMTP_ERROR_RESPONSE) retry or refused by the
 * class of @reply (4xx or 5xx; no reply counts as temporary), and
 * invalid input, a missing extension, TLS or authentication failures
 * %MK_SMTP_OUTCOME_REFUSED. In %G_IO_ERROR, the network's failures
 * (timeouts, closed, refused or unreachable connections, a cancelled call,
 * bytes the server got wrong) are %MK_SMTP_OUTCOME_RETRY and the rest (a
 * file that cannot be read) %MK_SMTP_OUTCOME_REFUSED;
 * %G_RESOLVER_ERROR_TEMPORARY_FAILURE is a retry; every other error is
 * %MK_SMTP_OUTCOME_REFUSED.
 *
 * An error cannot tell whether a cancelled call had already sent the end
 * of the data: mk_smtp_client_send_messages() reports that case as
 * %MK_SMTP_OUTCOME_UNKNOWN itself.
 *
 * Returns: the outcome
 *
 * Since: 0.1
 */
MkSmtpOutcome
mk_smtp_outcome_from_error (const GError *error, const MkSmtpReply *reply)
{
  if (error == NULL)
    return MK_SMTP_OUTCOME_DELIVERED;
  if (error->domain == MK_SMTP_ERROR)
    return outcome_for_smtp_error (error->code, reply);
  if (error->domain == G_IO_ERROR)
    return outcome_for_io_error (error->code);
  if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE))
    return MK_SMTP_OUTCOME_RETRY;
  return MK_SMTP_OUTCOME_REFUSED;
}
