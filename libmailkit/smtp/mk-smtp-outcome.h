/* mk-smtp-outcome.h: what became of a message, as a caller acts on it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/smtp/mk-smtp-reply.h>

G_BEGIN_DECLS

/**
 * MkSmtpOutcome:
 * @MK_SMTP_OUTCOME_DELIVERED: the server accepted the message for every
 *   recipient
 * @MK_SMTP_OUTCOME_PARTIAL: the server accepted the message, but refused
 *   some recipients (the refused table says which, and each reply says
 *   whether that refusal was temporary)
 * @MK_SMTP_OUTCOME_RETRY: not delivered, and safe to send again later: a
 *   temporary refusal (4xx), a connection lost or a wait timed out before
 *   the end of the data, a cancelled call, a message not attempted because
 *   an earlier one lost the connection
 * @MK_SMTP_OUTCOME_REFUSED: not delivered, and sending it again unchanged
 *   fails again: a permanent refusal (5xx), or an error of the message or
 *   the arguments found before anything was sent (an invalid address, an
 *   extension the server lacks, SIZE over its limit, a file that cannot be
 *   read), or TLS or authentication refused
 * @MK_SMTP_OUTCOME_UNKNOWN: the end of the data went out and its reply never
 *   came (connection lost, timeout, cancelled): the server may have
 *   accepted the message, and sending it again may deliver it twice
 *
 * What became of one message, in the classes a program acts on: done,
 * retry later, give up, or ask a human. mk_smtp_outcome_from_error()
 * classifies the error of a send call; #MkSendResult carries one per
 * message of mk_smtp_client_send_messages().
 *
 * Since: 0.1
 */
typedef enum {
  MK_SMTP_OUTCOME_DELIVERED,
  MK_SMTP_OUTCOME_PARTIAL,
  MK_SMTP_OUTCOME_RETRY,
  MK_SMTP_OUTCOME_REFUSED,
  MK_SMTP_OUTCOME_UNKNOWN,
} MkSmtpOutcome;

MK_AVAILABLE_IN_ALL
MkSmtpOutcome mk_smtp_outcome_from_error (const GError *error, const MkSmtpReply *reply);

G_END_DECLS
