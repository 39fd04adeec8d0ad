/* mk-envelope-private.h: an envelope's extension parameters as they go on
 * the wire
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mk-envelope.h"

G_BEGIN_DECLS

/* Whether any DSN parameter (NOTIFY, ORCPT, RET, ENVID) was asked for. */
gboolean mk_envelope_has_dsn (const MkEnvelope *envelope);

/* Appends RET= and ENVID= (xtext), as set, to @parameters, which owns them
 * (its free function must be g_free). */
void mk_envelope_add_dsn_mail_parameters (const MkEnvelope *envelope, GPtrArray *parameters);

/* NOTIFY= and ORCPT= of @recipient, an address as get_recipients() returns
 * it: a NULL-terminated list, or NULL when it asks for neither. */
char **mk_envelope_get_dsn_rcpt_parameters (const MkEnvelope *envelope, const char *recipient);

G_END_DECLS
