/* mkmail-config.h: accounts from $XDG_CONFIG_HOME/mkmail/config
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The delivery settings one account (or the command line) gives; every
 * field is optional (NULL / 0 when not set). Keys of the file are named like
 * mkmail's long options. */
typedef struct
{
  char *server;
  guint port;
  char *lmtp;
  char *tls;
  char *cafile;
  char *user;
  char *password;
  char *password_file;
  char *password_command;
  char *auth;
  char *from;
  char *helo;
  double timeout;
} MkmailAccount;

MkmailAccount *mkmail_account_new (void);
void mkmail_account_free (MkmailAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkmailAccount, mkmail_account_free)

/* Fills in each field of @into that is still unset from @from. */
void mkmail_account_merge (MkmailAccount *into, const MkmailAccount *from);

/* The path of the configuration file: $XDG_CONFIG_HOME/mkmail/config. */
char *mkmail_config_path (void);

/* Loads account @name (NULL: the `default=` of the [mkmail] group, or no
 * account when there is none) from the file at @path. A missing file is no
 * error when @name is NULL. Refuses a file that holds a password and that
 * group or others can read. Errors are G_KEY_FILE_ERROR or G_FILE_ERROR. */
MkmailAccount *mkmail_config_load (const char *path, const char *name, GError **error);

G_END_DECLS
