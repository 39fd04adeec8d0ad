/* mk-send.h: the public headers of the send/ layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <libmailkit/mk-export.h>
#include <libmailkit/send/mk-envelope.h>
#include <libmailkit/send/mk-send-message.h>
#include <libmailkit/send/mk-send-messages.h>
#include <libmailkit/send/mk-send-result.h>
#include <libmailkit/send/mk-message-write.h>
