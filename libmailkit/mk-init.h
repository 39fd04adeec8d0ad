/* mk-init.h: one-time initialisation of the libraries libmailkit stands on
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib.h>
#include <libmailkit/mk-export.h>

G_BEGIN_DECLS

MK_AVAILABLE_IN_ALL
void mk_init (void);

G_END_DECLS
