/* mk-test-utils.c: paths, temporary folders, certificates, async helper
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mk-test-utils.h"

static const char *
required_env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL || *value == '\0')
    g_error ("%s is not set: run the tests with `meson test`, which sets it", name);
  return value;
}

const char *
mk_test_srcdir (void)
{
  return required_env ("MK_TEST_SRCDIR");
}

const char *
mk_test_python (void)
{
  return required_env ("MK_TEST_PYTHON");
}

char *
mk_test_find_program (const char *name, const char *debian_package)
{
  g_autofree char *path = g_find_program_in_path (name);
  const char *sbin_dirs[] = { "/usr/sbin", "/sbin", NULL };

  for (guint i = 0; path == NULL && sbin_dirs[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (sbin_dirs[i], name, NULL);
      if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
        path = g_steal_pointer (&candidate);
    }
  if (path == NULL)
    g_error ("%s not found: install the Debian package %s (tools/test.sh does)", name,
             debian_package);
  return g_steal_pointer (&path);
}

double
mk_test_time_scale (void)
{
  const char *scale = g_getenv ("MK_TEST_TIME_SCALE");
  double value = scale != NULL ? g_ascii_strtod (scale, NULL) : 1.0;

  return value >= 1.0 ? value : 1.0;
}

static char *tmpdir;
static GPid tmpdir_owner;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static void
remove_tmpdir (void)
{
  /* Only the process that made the folder removes it, not a forked child. */
  if (tmpdir != NULL && tmpdir_owner == getpid ())
    remove_tree (tmpdir);
}

const char *
mk_test_tmpdir (void)
{
  if (g_once_init_enter (&tmpdir))
    {
      g_autoptr (GError) error = NULL;
      char *made = g_dir_make_tmp ("mailkit-test-XXXXXX", &error);

      g_assert_no_error (error);
      /* Peers such as Postfix and Dovecot run helpers as other users. */
      g_chmod (made, 0755);
      tmpdir_owner = getpid ();
      atexit (remove_tmpdir);
      g_once_init_leave (&tmpdir, made);
    }
  return tmpdir;
}

char *
mk_test_make_subdir (const char *name)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  g_autofree char *path = g_build_filename (mk_test_tmpdir (), template, NULL);

  g_assert_nonnull (g_mkdtemp_full (path, 0755));
  return g_steal_pointer (&path);
}

static MkTestCerts *certs;

const MkTestCerts *
mk_test_certs_get (void)
{
  if (g_once_init_enter (&certs))
    {
      g_autofree char *script = g_build_filename (mk_test_srcdir (), "harness", "make-test-certs.sh", NULL);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr (GError) error = NULL;
      MkTestCerts *made = g_new0 (MkTestCerts, 1);
      int status = 0;
      const char *argv[] = { "bash", script, NULL, NULL };

      made->dir = mk_test_make_subdir ("certs");
      argv[2] = made->dir;
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                    &status, &error);
      g_assert_no_error (error);
      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("make-test-certs.sh failed (is the Debian package openssl installed?): %s", err);

#define CERT_PAIR(field, base)                                                 \
  made->field##_cert = g_build_filename (made->dir, base ".pem", NULL);        \
  made->field##_key = g_build_filename (made->dir, base "-key.pem", NULL)
      made->ca_file = g_build_filename (made->dir, "ca.pem", NULL);
      made->other_ca_file = g_build_filename (made->dir, "other-ca.pem", NULL);
      CERT_PAIR (server, "server");
      CERT_PAIR (expired, "expired");
      CERT_PAIR (not_yet_valid, "not-yet-valid");
      CERT_PAIR (wrong_host, "wrong-host");
      CERT_PAIR (self_signed, "self-signed");
      CERT_PAIR (unknown_ca, "unknown-ca");
      CERT_PAIR (client, "client");
#undef CERT_PAIR
      g_once_init_leave (&certs, made);
    }
  return certs;
}

void
mk_test_async_init (MkTestAsync *async)
{
  async->context = g_main_context_ref_thread_default ();
  async->result = NULL;
}

void
mk_test_async_clear (MkTestAsync *async)
{
  g_clear_object (&async->result);
  g_clear_pointer (&async->context, g_main_context_unref);
}

void
mk_test_async_callback (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MkTestAsync *async = user_data;

  g_assert_null (async->result);
  async->result = g_object_ref (result);
  g_main_context_wakeup (async->context);
}

GAsyncResult *
mk_test_async_wait (MkTestAsync *async)
{
  while (async->result == NULL)
    g_main_context_iteration (async->context, TRUE);
  return async->result;
}

char *
mk_test_read_file (const char *path, gsize *length)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}
