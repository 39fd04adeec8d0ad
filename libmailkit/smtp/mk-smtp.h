/* mk-smtp.h: the public headers of the smtp/ layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <libmailkit/mk-export.h>
#include <libmailkit/smtp/mk-smtp-error.h>
#include <libmailkit/smtp/mk-smtp-reply.h>
#include <libmailkit/smtp/mk-smtp-outcome.h>
#include <libmailkit/smtp/mk-smtp-capabilities.h>
#include <libmailkit/smtp/mk-tls-mode.h>
#include <libmailkit/smtp/mk-smtp-client.h>
#include <libmailkit/smtp/mk-lmtp-client.h>
