/* mk-smtp-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-smtp-error.h"

G_DEFINE_QUARK (mk-smtp-error-quark, mk_smtp_error)
