/* mk-export.h: symbol visibility for the public API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

/* The library is built with hidden visibility; only declarations marked
 * with this macro are exported from libmailkit-1.0.so. */
#if defined(MAILKIT_COMPILATION) && defined(__GNUC__)
#define MK_AVAILABLE_IN_ALL __attribute__ ((visibility ("default"))) extern
#else
#define MK_AVAILABLE_IN_ALL extern
#endif
