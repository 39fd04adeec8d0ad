/* mk-test-utils.h: the harness every libmailkit test links
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Paths handed to every test by tests/meson.build, through the environment.
 * A test that cannot find what it needs fails with a message naming the
 * package to install; it never skips. */
const char *mk_test_srcdir (void);
const char *mk_test_python (void);
char *mk_test_find_program (const char *name, const char *debian_package);

/* Factor by which a test stretches its deadlines and the timeouts it gives
 * the library: 1 normally, 10 under `meson test --setup valgrind` (from
 * MK_TEST_TIME_SCALE). A test asserting that a timeout fires within a bound
 * scales the bound too. */
double mk_test_time_scale (void);

/* A folder under the system temporary directory, removed with everything in
 * it when the test program exits. */
const char *mk_test_tmpdir (void);
char *mk_test_make_subdir (const char *name);

/* TLS material under a throw-away CA, made once per test program by
 * tests/harness/make-test-certs.sh (see it for what each file is). */
typedef struct
{
  char *dir;
  char *ca_file;
  char *other_ca_file;
  char *server_cert, *server_key;
  char *expired_cert, *expired_key;
  char *not_yet_valid_cert, *not_yet_valid_key;
  char *wrong_host_cert, *wrong_host_key;
  char *self_signed_cert, *self_signed_key;
  char *unknown_ca_cert, *unknown_ca_key;
  char *client_cert, *client_key;
} MkTestCerts;

const MkTestCerts *mk_test_certs_get (void);

/* Runs the thread-default main context until the async call started just
 * before has called back through mk_test_async_callback(); returns its
 * result, for the *_finish function. Lets one test body check the sync and
 * the async path alike. */
typedef struct
{
  GMainContext *context;
  GAsyncResult *result;
} MkTestAsync;

void mk_test_async_init (MkTestAsync *async);
void mk_test_async_clear (MkTestAsync *async);
void mk_test_async_callback (GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *mk_test_async_wait (MkTestAsync *async);

/* Reads a whole file into a string, failing the test if it cannot. */
char *mk_test_read_file (const char *path, gsize *length);

G_END_DECLS
