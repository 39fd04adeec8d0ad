/* mkmail-args.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mkmail-args.h"

/* Options of sendmail whose value may be glued to the letter. */
static gboolean
is_glued_value_option (char letter)
{
  return letter == 'f' || letter == 'F' || letter == 'r';
}

char **
mkmail_normalise_argv (int argc, char **argv)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  gboolean options_ended = FALSE;

  for (int i = 0; i < argc; i++)
    {
      const char *arg = argv[i];

      if (i == 0 || options_ended || arg[0] != '-' || arg[1] == '-' || arg[1] == '\0')
        {
          options_ended = options_ended || g_str_equal (arg, "--");
          g_ptr_array_add (out, g_strdup (arg));
          continue;
        }
      if (arg[1] == 'o')
        {
          /* -oi is sendmail's -i; the other -oX options tune a local MTA
           * (delivery mode, error mode) and mean nothing here. */
          if (g_str_equal (arg, "-oi"))
            g_ptr_array_add (out, g_strdup ("-i"));
          continue;
        }
      if (g_str_equal (arg, "-bm"))
        continue;
      if (arg[1] == 'B')
        {
          /* -B8BITMIME (cron passes it) or -B TYPE: the body type, which
           * the library works out itself. */
          if (arg[2] == '\0' && i + 1 < argc)
            i++;
          continue;
        }
      if (is_glued_value_option (arg[1]) && arg[2] != '\0')
        {
          g_ptr_array_add (out, g_strndup (arg, 2));
          g_ptr_array_add (out, g_strdup (arg + 2));
          continue;
        }
      g_ptr_array_add (out, g_strdup (arg));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

void
mkmail_attachment_spec_free (MkmailAttachmentSpec *spec)
{
  g_free (spec->path);
  g_free (spec->content_type);
  g_free (spec->name);
  g_free (spec);
}

MkmailAttachmentSpec *
mkmail_attachment_spec_parse (const char *text, GError **error)
{
  g_autoptr (MkmailAttachmentSpec) spec = g_new0 (MkmailAttachmentSpec, 1);
  g_autofree char *rest = g_strdup (text);
  char *semicolon;

  while ((semicolon = strrchr (rest, ';')) != NULL)
    {
      char **slot;
      const char *value;

      if (g_str_has_prefix (semicolon + 1, "type="))
        slot = &spec->content_type;
      else if (g_str_has_prefix (semicolon + 1, "name="))
        slot = &spec->name;
      else
        break;
      value = strchr (semicolon, '=') + 1;
      if (*slot != NULL || *value == '\0')
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "attachment “%s”: give type= and name= at most once each, with a value",
                       text);
          return NULL;
        }
      *slot = g_strdup (value);
      *semicolon = '\0';
    }
  if (*rest == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "attachment “%s” names no file", text);
      return NULL;
    }
  spec->path = g_steal_pointer (&rest);
  return g_steal_pointer (&spec);
}

static char *
strip_one_newline (char *secret)
{
  gsize length = strlen (secret);

  if (length > 0 && secret[length - 1] == '\n')
    secret[--length] = '\0';
  if (length > 0 && secret[length - 1] == '\r')
    secret[--length] = '\0';
  return secret;
}

char *
mkmail_read_password_file (const char *path, GError **error)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  return strip_one_newline (contents);
}

char *
mkmail_run_password_command (const char *command, GError **error)
{
  g_autofree char *out = NULL;
  int status = 0;
  const char *argv[] = { "/bin/sh", "-c", command, NULL };

  /* The command's stderr goes to ours, so its own prompt or error shows. */
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &out,
                     NULL, &status, error))
    return NULL;
  if (!g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "the password command “%s” failed: ", command);
      return NULL;
    }
  return strip_one_newline (g_steal_pointer (&out));
}
