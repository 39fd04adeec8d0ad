/* test-net-peer.c: implicit TLS and STARTTLS through MkConnection against a
 * real server (aiosmtpd), with the valid test certificate and each faulty
 * one: refused by default, accepted only with a matching pin or the opt-out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libmailkit/mailkit.h>
#include <string.h>

#include "libmailkit/net/mk-connection-private.h"
#include "mk-test-peer.h"
#include "mk-test-utils.h"

/* Reads one SMTP reply, returns its last line. net/ knows nothing of SMTP;
 * this is the least of it a test needs: lines until "NNN " or "NNN". */
static char *
read_reply (MkConnection *connection)
{
  mk_connection_begin_reply (connection);
  for (int i = 0; i < 100; i++)
    {
      g_autoptr (GError) error = NULL;
      gsize length = 0;
      g_autofree char *line = mk_connection_read_line (connection, &length, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (length, >=, 3);
      if (length == 3 || line[3] == ' ')
        return g_steal_pointer (&line);
      g_assert_cmpint (line[3], ==, '-');
    }
  g_assert_not_reached ();
}

static void
command (MkConnection *connection, const char *line, const char *expected_prefix)
{
  GOutputStream *out = mk_connection_get_output_stream (connection);
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = g_strconcat (line, "\r\n", NULL);
  g_autofree char *reply = NULL;

  g_assert_true (g_output_stream_write_all (out, wire, strlen (wire), NULL, NULL, &error));
  g_assert_true (mk_connection_flush (connection, NULL, &error));
  g_assert_no_error (error);
  reply = read_reply (connection);
  g_assert_true (g_str_has_prefix (reply, expected_prefix));
}

static MkTestPeer *
start_peer (gboolean starttls, const char *cert, const char *key)
{
  MkTestAiosmtpdOptions options
      = { .starttls = starttls, .implicit_tls = !starttls, .cert_file = cert, .key_file = key };

  return mk_test_peer_start_aiosmtpd (&options);
}

/* One connection to @peer through TLS; TRUE when the server was accepted
 * and a whole conversation ran inside TLS, FALSE with the refusal. */
static gboolean
session (MkTestPeer *peer, gboolean starttls, MkTlsPolicy *policy, GError **error)
{
  g_autoptr (MkConnection) connection = mk_connection_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *greeting = NULL;

  mk_connection_set_timeout (connection, 10 * mk_test_time_scale ());
  g_assert_true (mk_connection_connect (
      connection, mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT),
      mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), NULL, &local_error));
  g_assert_no_error (local_error);

  if (starttls)
    {
      greeting = read_reply (connection);
      g_assert_true (g_str_has_prefix (greeting, "220"));
      command (connection, "EHLO client.example", "250");
      command (connection, "STARTTLS", "220");
    }
  /* The certificates name localhost, the peer listens on 127.0.0.1. */
  if (!mk_connection_start_tls (connection, policy, "localhost", NULL, error))
    {
      g_assert_false (mk_connection_is_connected (connection));
      return FALSE;
    }
  g_assert_true (mk_connection_is_tls (connection));
  if (!starttls)
    {
      greeting = read_reply (connection);
      g_assert_true (g_str_has_prefix (greeting, "220"));
    }
  command (connection, "EHLO client.example", "250");
  command (connection, "NOOP", "250");
  command (connection, "QUIT", "221");
  mk_connection_close (connection);
  return TRUE;
}

static char *
spki_pin_with_openssl (const char *cert_path)
{
  g_autofree char *openssl = mk_test_find_program ("openssl", "openssl");
  g_autofree char *script = g_strdup_printf ("'%s' x509 -in '%s' -pubkey -noout | "
                                             "'%s' pkey -pubin -outform DER | "
                                             "'%s' dgst -sha256 -binary | base64",
                                             openssl, cert_path, openssl, openssl);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;

  /* curl's documented recipe for --pinnedpubkey, so the pin is computed
   * outside the library. */
  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                               &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strconcat ("sha256//", g_strstrip (out), NULL);
}

static void
test_peer (gconstpointer data)
{
  gboolean starttls = GPOINTER_TO_INT (data);
  const MkTestCerts *certs = mk_test_certs_get ();
  struct
  {
    const char *cert, *key, *refusal;
  } cases[] = {
    { certs->server_cert, certs->server_key, NULL },
    { certs->expired_cert, certs->expired_key, "The certificate for localhost has expired" },
    { certs->not_yet_valid_cert, certs->not_yet_valid_key, "is not valid yet" },
    { certs->wrong_host_cert, certs->wrong_host_key, "is for other.example, not localhost" },
    { certs->self_signed_cert, certs->self_signed_key, "is self-signed" },
    { certs->unknown_ca_cert, certs->unknown_ca_key, "unknown authority" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MkTestPeer) peer = start_peer (starttls, cases[i].cert, cases[i].key);
      g_autoptr (MkTlsPolicy) policy = mk_tls_policy_new ();
      g_autofree char *pin = spki_pin_with_openssl (cases[i].cert);
      g_autoptr (GError) error = NULL;

      g_test_message ("%s", cases[i].refusal ? cases[i].refusal : "valid");
      mk_tls_policy_set_ca_file (policy, certs->ca_file);
      if (cases[i].refusal == NULL)
        {
          g_assert_true (session (peer, starttls, policy, &error));
          g_assert_no_error (error);
          continue;
        }

      g_assert_false (session (peer, starttls, policy, &error));
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
      g_assert_nonnull (strstr (error->message, cases[i].refusal));
      g_clear_error (&error);

      mk_tls_policy_set_pin_sha256 (policy, pin);
      g_assert_true (session (peer, starttls, policy, &error));
      g_assert_no_error (error);

      mk_tls_policy_set_pin_sha256 (policy, NULL);
      mk_tls_policy_set_insecure_skip_verify (policy, TRUE);
      g_assert_true (session (peer, starttls, policy, &error));
      g_assert_no_error (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/net/peer/aiosmtpd/implicit-tls", GINT_TO_POINTER (FALSE), test_peer);
  g_test_add_data_func ("/net/peer/aiosmtpd/starttls", GINT_TO_POINTER (TRUE), test_peer);
  return g_test_run ();
}
