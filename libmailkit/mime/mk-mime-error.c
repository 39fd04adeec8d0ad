/* mk-mime-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-mime-error.h"

G_DEFINE_QUARK (mk - mime - error - quark, mk_mime_error)
