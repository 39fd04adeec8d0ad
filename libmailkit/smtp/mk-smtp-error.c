/* mk-smtp-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-smtp-error.h"

/**
 * mk_smtp_error_quark:
 *
 * The quark of the %MK_SMTP_ERROR domain; use the macro instead.
 *
 * Returns: the error domain of the SMTP session and of sending
 *
 * Since: 0.1
 */
/* clang-format off: the quark's name must stay one word */
G_DEFINE_QUARK (mk-smtp-error-quark, mk_smtp_error)
/* clang-format on */
