/* mk-send-result-private.h: making an MkSendResult
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mk-send-result.h"

G_BEGIN_DECLS

/* @refused (nullable: an empty table), @reply and @error (both nullable)
 * are copied or referenced. */
MkSendResult *mk_send_result_new (MkSmtpOutcome outcome, GHashTable *refused, MkSmtpReply *reply,
                                  const GError *error);

G_END_DECLS
