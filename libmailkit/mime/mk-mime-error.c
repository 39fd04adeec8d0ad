/* mk-mime-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-mime-error.h"

/**
 * mk_mime_error_quark:
 *
 * The quark of the %MK_MIME_ERROR domain; use the macro instead.
 *
 * Returns: the error domain of message building
 *
 * Since: 0.1
 */
/* clang-format off: the quark's name must stay one word */
G_DEFINE_QUARK (mk-mime-error-quark, mk_mime_error)
/* clang-format on */
