/* mkmail-config.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "mkmail-config.h"

#define SETTINGS_GROUP "mkmail"

MkmailAccount *
mkmail_account_new (void)
{
  return g_new0 (MkmailAccount, 1);
}

void
mkmail_account_free (MkmailAccount *account)
{
  g_free (account->server);
  g_free (account->lmtp);
  g_free (account->tls);
  g_free (account->cafile);
  g_free (account->user);
  if (account->password != NULL)
    memset (account->password, 0, strlen (account->password));
  g_free (account->password);
  g_free (account->password_file);
  g_free (account->password_command);
  g_free (account->auth);
  g_free (account->from);
  g_free (account->helo);
  g_free (account);
}

#define MERGE_STRING(field)                                                    \
  if (into->field == NULL)                                                     \
    into->field = g_strdup (from->field)

void
mkmail_account_merge (MkmailAccount *into, const MkmailAccount *from)
{
  MERGE_STRING (server);
  MERGE_STRING (lmtp);
  MERGE_STRING (tls);
  MERGE_STRING (cafile);
  MERGE_STRING (user);
  MERGE_STRING (password);
  MERGE_STRING (password_file);
  MERGE_STRING (password_command);
  MERGE_STRING (auth);
  MERGE_STRING (from);
  MERGE_STRING (helo);
  if (into->port == 0)
    into->port = from->port;
  if (into->timeout == 0)
    into->timeout = from->timeout;
}

#undef MERGE_STRING

char *
mkmail_config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "mkmail", "config", NULL);
}

static const char *const known_keys[] = {
  "server", "port", "lmtp", "tls", "cafile", "user", "password", "password-file",
  "password-command", "auth", "from", "helo", "timeout", NULL,
};

static gboolean
check_keys (GKeyFile *file, const char *path, const char *group, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (file, group, NULL, error);

  if (keys == NULL)
    return FALSE;
  for (guint i = 0; keys[i] != NULL; i++)
    if (!g_strv_contains (known_keys, keys[i]))
      {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                     "%s: account “%s” has an unknown key “%s”", path, group, keys[i]);
        return FALSE;
      }
  return TRUE;
}

/* Like msmtp: a password stored in a file that others can read is not a
 * secret any more, so refuse rather than use it. */
static gboolean
check_private (const char *path, GError **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot check its permissions",
                   path);
      return FALSE;
    }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s holds a password and can be read by other users; "
                   "run “chmod 600 %s”, or use password-file or password-command instead",
                   path, path);
      return FALSE;
    }
  return TRUE;
}

MkmailAccount *
mkmail_config_load (const char *path, const char *name, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (MkmailAccount) account = mkmail_account_new ();
  g_autofree char *default_name = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *group;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      if (name == NULL && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&account);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return NULL;
    }

  default_name = g_key_file_get_string (file, SETTINGS_GROUP, "default", NULL);
  group = name != NULL ? name : default_name;
  if (group == NULL)
    return g_steal_pointer (&account);
  if (g_str_equal (group, SETTINGS_GROUP) || !g_key_file_has_group (file, group))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                   "%s has no account “%s”", path, group);
      return NULL;
    }
  if (!check_keys (file, path, group, error))
    return NULL;
  if (g_key_file_has_key (file, group, "password", NULL) && !check_private (path, error))
    return NULL;

#define GET_STRING(field, key)                                                 \
  account->field = g_key_file_get_string (file, group, key, NULL)
  GET_STRING (server, "server");
  GET_STRING (lmtp, "lmtp");
  GET_STRING (tls, "tls");
  GET_STRING (cafile, "cafile");
  GET_STRING (user, "user");
  GET_STRING (password, "password");
  GET_STRING (password_file, "password-file");
  GET_STRING (password_command, "password-command");
  GET_STRING (auth, "auth");
  GET_STRING (from, "from");
  GET_STRING (helo, "helo");
#undef GET_STRING

  if (g_key_file_has_key (file, group, "port", NULL))
    {
      int port = g_key_file_get_integer (file, group, "port", &local_error);
      if (local_error != NULL || port <= 0 || port > 65535)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: account “%s”: port must be a number from 1 to 65535", path, group);
          return NULL;
        }
      account->port = port;
    }
  if (g_key_file_has_key (file, group, "timeout", NULL))
    {
      account->timeout = g_key_file_get_double (file, group, "timeout", &local_error);
      if (local_error != NULL || account->timeout < 0)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: account “%s”: timeout must be a number of seconds", path, group);
          return NULL;
        }
    }
  return g_steal_pointer (&account);
}
