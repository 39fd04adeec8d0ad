/* mkmail-args.h: sendmail-compatible command lines and attachment specs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Rewrites sendmail's clustered forms, which GOptionContext cannot read,
 * into the separate forms it can: `-oi` → `-i`, `-fADDR` → `-f ADDR`,
 * `-FNAME` → `-F NAME`, `-rADDR` → `-r ADDR`; other `-oX` sendmail options,
 * `-bm` (the default mode) and `-BTYPE`/`-B TYPE` (the body type, which the
 * library chooses) are dropped, as msmtp does. Nothing after
 * `--` is touched. Returns a new NULL-terminated vector. */
char **mkmail_normalise_argv (int argc, char **argv);

/* `FILE;type=TYPE;name=NAME`, both overrides optional and in either order.
 * Parsed from the right, so a file name may itself contain ';'. */
typedef struct
{
  char *path;
  char *content_type;
  char *name;
} MkmailAttachmentSpec;

MkmailAttachmentSpec *mkmail_attachment_spec_parse (const char *spec, GError **error);
void mkmail_attachment_spec_free (MkmailAttachmentSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkmailAttachmentSpec, mkmail_attachment_spec_free)


/* Reads a secret from the output of a shell command or from a file; one
 * trailing newline is removed (a password may end in other white space). */
char *mkmail_read_password_file (const char *path, GError **error);
char *mkmail_run_password_command (const char *command, GError **error);

G_END_DECLS
