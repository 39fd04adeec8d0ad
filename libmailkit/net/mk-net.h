/* mk-net.h: the public headers of the net/ layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <libmailkit/mk-export.h>
#include <libmailkit/net/mk-net-address.h>
#include <libmailkit/net/mk-tls-policy.h>
#include <libmailkit/net/mk-tls-stream.h>
