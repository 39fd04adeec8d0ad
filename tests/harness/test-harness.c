/* test-harness.c: the harness itself works (certificates, async helper)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>

#include "mk-test-utils.h"

static X509 *
load_cert (const char *path)
{
  FILE *f = fopen (path, "r");
  X509 *cert;

  g_assert_nonnull (f);
  cert = PEM_read_X509 (f, NULL, NULL, NULL);
  fclose (f);
  g_assert_nonnull (cert);
  return cert;
}

/* Verifies @cert_path against the test CA for @host; returns the OpenSSL
 * verification result code. */
static int
verify_against_test_ca (const char *cert_path, const char *host)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  X509 *cert = load_cert (cert_path);
  int result;

  g_assert_cmpint (X509_STORE_load_file (store, certs->ca_file), ==, 1);
  g_assert_cmpint (X509_STORE_CTX_init (ctx, store, cert, NULL), ==, 1);
  X509_VERIFY_PARAM_set1_host (X509_STORE_CTX_get0_param (ctx), host, 0);
  X509_verify_cert (ctx);
  result = X509_STORE_CTX_get_error (ctx);
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  X509_free (cert);
  return result;
}

static void
test_certs_each_fault (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();

  g_assert_cmpint (verify_against_test_ca (certs->server_cert, "localhost"), ==, X509_V_OK);
  g_assert_cmpint (verify_against_test_ca (certs->expired_cert, "localhost"), ==,
                   X509_V_ERR_CERT_HAS_EXPIRED);
  g_assert_cmpint (verify_against_test_ca (certs->not_yet_valid_cert, "localhost"), ==,
                   X509_V_ERR_CERT_NOT_YET_VALID);
  g_assert_cmpint (verify_against_test_ca (certs->wrong_host_cert, "localhost"), ==,
                   X509_V_ERR_HOSTNAME_MISMATCH);
  g_assert_cmpint (verify_against_test_ca (certs->self_signed_cert, "localhost"), ==,
                   X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  g_assert_cmpint (verify_against_test_ca (certs->unknown_ca_cert, "localhost"), ==,
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  g_assert_cmpint (verify_against_test_ca (certs->client_cert, "localhost"), ==,
                   X509_V_ERR_HOSTNAME_MISMATCH);
}

static void
return_in_idle (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_task_return_int (task, 42);
}

static void
test_async_helper_waits_for_result (void)
{
  MkTestAsync async;
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;

  mk_test_async_init (&async);
  task = g_task_new (NULL, NULL, mk_test_async_callback, &async);
  g_task_run_in_thread (task, return_in_idle);
  g_assert_cmpint (g_task_propagate_int (G_TASK (mk_test_async_wait (&async)), &error), ==, 42);
  g_assert_no_error (error);
  mk_test_async_clear (&async);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/harness/certs/each-fault", test_certs_each_fault);
  g_test_add_func ("/harness/async/waits-for-result", test_async_helper_waits_for_result);
  return g_test_run ();
}
