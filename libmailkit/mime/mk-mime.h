/* mk-mime.h: the public headers of the mime/ layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <libmailkit/mk-export.h>
#include <libmailkit/mime/mk-mime-error.h>
#include <libmailkit/mime/mk-mime-mirrors.h>
#include <libmailkit/mime/mk-message-builder.h>
