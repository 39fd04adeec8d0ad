/* mkmail-exit.h: exit codes (sysexits.h, as sendmail and msmtp) and the one
 * line that explains a failure
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <sysexits.h>

G_BEGIN_DECLS

/* The exit code for a failure. @reply_code is the code of the server reply
 * behind the error (0 when there was none); @any_refusal_transient says
 * whether any refused recipient was refused with a 4xx reply. */
int mkmail_exit_code_for_error (const GError *error, guint reply_code,
                                gboolean any_refusal_transient);

/* What the user can do about @error (nullable), which gave @exit_code. */
const char *mkmail_exit_advice (const GError *error, int exit_code);

/* Server text made safe for a terminal: control characters and escape
 * sequences become '?', as Postfix censors what it logs. */
char *mkmail_sanitize_text (const char *text);

G_END_DECLS
