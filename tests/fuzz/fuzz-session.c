/* fuzz-session.c: libFuzzer target for a whole client session with TLS
 * required
 *
 * The input is a server: its first byte picks how the client authenticates
 * (login(), or auth() with PLAIN, LOGIN or an XOAUTH2 token), the rest is
 * what the server sends, in pieces separated by 0xFF bytes (never UTF-8).
 * A thread in this process plays it on a unix socket: the first piece at
 * once, each next one when the client has sent a line or has been silent
 * for PEER_WAIT_MS, and then the end of the stream. The client runs with
 * tls-mode STARTTLS: whatever the server says, it may upgrade, fail or
 * give up, but since this server never speaks TLS, no AUTH, no MAIL and no
 * form of the secret may ever reach it. A unix socket is where the library
 * would otherwise allow cleartext AUTH, so the policy alone stands between
 * the secret and the wire.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmailkit/mailkit.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SEPARATOR 0xff
/* How long the scripted server waits for the client before it sends its
 * next piece anyway: the client may be waiting for the rest of a reply. A
 * client that is merely slow then gets two pieces at once, which is one more
 * way a server may send them. */
#define PEER_WAIT_MS 2
/* As curl-fuzzer's TLV responses: past this many, the rest is one piece.
 * Empty pieces are skipped, so a run of separators costs no waiting. */
#define MAX_PIECES 16
/* Bounds the wait for the client to connect and to close: the client's own
 * timeout (CLIENT_TIMEOUT_S) always comes first. */
#define PEER_LIMIT_MS 5000
#define CLIENT_TIMEOUT_S 2.0

#define USER "fuzz-user"
#define SECRET "S3cr3t-CANARY-4f9a"

/* A CA the client trusts instead of the system store, whose loading
 * (hundreds of certificates) would take most of each run's time. The server
 * never gets far enough in a handshake for it to matter which CA it is. */
static const char ca_pem[]
    = "-----BEGIN CERTIFICATE-----\n"
      "MIIBgjCCASmgAwIBAgIUNcVQ5wJoqhAV6IP93ZdPNtUAr10wCgYIKoZIzj0EAwIw\n"
      "FzEVMBMGA1UEAwwMZnV6ei10ZXN0LWNhMB4XDTI2MTEyODEzMjIwN1oXDTM2MTEy\n"
      "NTEzMjIwN1owFzEVMBMGA1UEAwwMZnV6ei10ZXN0LWNhMFkwEwYHKoZIzj0CAQYI\n"
      "KoZIzj0DAQcDQgAE0Yky6sWNtyFPV3hW7dU8CHjgmP5GoNz607sVyKPPOm//Egz6\n"
      "4BVPxZlJHsMd0P4QhVatyuC8XnP282jXpwLReaNTMFEwHQYDVR0OBBYEFGYFiple\n"
      "L76fKRDtISn7d8SiP2C2MB8GA1UdIwQYMBaAFGYFipleL76fKRDtISn7d8SiP2C2\n"
      "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgCBKMWLdRUHuIM2Ti\n"
      "Qle0pSUO5gQPpRWItL0XDckBgaUCIEguZD80RsK6Km26AOR+lJX/DzaBaEH4DRuh\n"
      "pQxYvVKI\n"
      "-----END CERTIFICATE-----\n";

static char *socket_dir;
static char *socket_path;
static char *ca_path;
static int listen_fd = -1;
static char **forbidden;

typedef struct
{
  const guint8 *script;
  gsize length;
  GByteArray *received;
} Peer;

static void
remove_socket (void)
{
  if (listen_fd >= 0)
    close (listen_fd);
  g_unlink (socket_path);
  g_unlink (ca_path);
  g_rmdir (socket_dir);
}

static char *
base64_of (const char *bytes, gsize length)
{
  return g_base64_encode ((const guchar *)bytes, length);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  static const char plain[] = "\0" USER "\0" SECRET;
  static const char plain_authzid[] = USER "\0" USER "\0" SECRET;
  static const char xoauth2[] = "user=" USER "\001auth=Bearer " SECRET "\001\001";
  GPtrArray *words = g_ptr_array_new ();

  socket_dir = g_dir_make_tmp ("mk-fuzz-session-XXXXXX", NULL);
  g_assert_nonnull (socket_dir);
  socket_path = g_build_filename (socket_dir, "smtp", NULL);
  ca_path = g_build_filename (socket_dir, "ca.pem", NULL);
  g_assert_true (g_file_set_contents (ca_path, ca_pem, -1, NULL));
  g_assert_cmpuint (strlen (socket_path), <, sizeof address.sun_path);
  strcpy (address.sun_path, socket_path);
  listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (listen_fd, >=, 0);
  g_assert_cmpint (bind (listen_fd, (struct sockaddr *)&address, sizeof address), ==, 0);
  g_assert_cmpint (listen (listen_fd, 1), ==, 0);
  atexit (remove_socket);

  /* What must never reach a server that never did TLS. */
  g_ptr_array_add (words, g_strdup (SECRET));
  g_ptr_array_add (words, base64_of (SECRET, strlen (SECRET)));
  g_ptr_array_add (words, base64_of (plain, sizeof plain - 1));
  g_ptr_array_add (words, base64_of (plain_authzid, sizeof plain_authzid - 1));
  g_ptr_array_add (words, base64_of (xoauth2, sizeof xoauth2 - 1));
  g_ptr_array_add (words, g_strdup ("AUTH"));
  g_ptr_array_add (words, g_strdup ("MAIL FROM"));
  g_ptr_array_add (words, g_strdup ("RCPT TO"));
  g_ptr_array_add (words, NULL);
  forbidden = (char **)g_ptr_array_free (words, FALSE);
  return 0;
}

static gboolean
wait_readable (int fd, int timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int r;

  do
    r = poll (&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

/* Reads what the client sent until it completes a line (TRUE), stays
 * silent for PEER_WAIT_MS (TRUE) or closes (FALSE). */
static gboolean
read_client (int fd, GByteArray *received, int wait_ms)
{
  guint8 buffer[4096];

  while (wait_readable (fd, wait_ms))
    {
      ssize_t n = recv (fd, buffer, sizeof buffer, 0);

      if (n <= 0)
        return FALSE;
      g_byte_array_append (received, buffer, n);
      if (memchr (buffer, '\n', n) != NULL)
        return TRUE;
    }
  return TRUE;
}

static gpointer
serve (gpointer data)
{
  Peer *peer = data;
  const guint8 *p = peer->script, *end = peer->script + peer->length;
  guint pieces = 0;
  int fd;

  if (!wait_readable (listen_fd, PEER_LIMIT_MS))
    return NULL;
  fd = accept (listen_fd, NULL, NULL);
  if (fd < 0)
    return NULL;
  for (;;)
    {
      const guint8 *separator;
      const guint8 *piece_end;

      while (p < end && *p == SEPARATOR)
        p++;
      separator = ++pieces < MAX_PIECES ? memchr (p, SEPARATOR, end - p) : NULL;
      piece_end = separator != NULL ? separator : end;
      if (piece_end > p && send (fd, p, piece_end - p, MSG_NOSIGNAL) < 0)
        break;
      if (separator == NULL)
        {
          /* The script is over: the server hangs up and listens until the
           * client has closed too. */
          shutdown (fd, SHUT_WR);
          while (read_client (fd, peer->received, PEER_LIMIT_MS))
            ;
          break;
        }
      p = separator + 1;
      if (!read_client (fd, peer->received, PEER_WAIT_MS))
        break;
    }
  close (fd);
  return NULL;
}

static void
run_client (guint8 choice)
{
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (MkSmtpReply) greeting = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GBytes) message = g_bytes_new_static ("Subject: x\r\n\r\nbody\r\n", 21);
  g_autoptr (GHashTable) refused = NULL;
  const char *const to[] = { "b@example.org", NULL };
  const char *const mechanisms[] = { NULL, "PLAIN", "LOGIN", "XOAUTH2" };
  const char *mechanism = mechanisms[choice % G_N_ELEMENTS (mechanisms)];

  /* A fixed local name: no lookup of this machine's name per run. */
  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, "timeout", CLIENT_TIMEOUT_S,
                "tls-ca-file", ca_path, "local-hostname", "client.example", NULL);
  greeting = mk_smtp_client_connect (client, socket_path, 0, NULL, NULL);
  if (greeting == NULL)
    return;
  if (mechanism == NULL)
    reply = mk_smtp_client_login (client, USER, SECRET, NULL, NULL);
  else
    reply = mk_smtp_client_auth (client, mechanism, USER, SECRET, NULL, NULL);
  /* A careless caller sends even when the login failed. */
  g_assert_false (mk_smtp_client_sendmail (client, "a@example.org", to, message, NULL, NULL,
                                           &refused, NULL, NULL));
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = mk_smtp_client_quit (client, NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GByteArray) received = g_byte_array_new ();
  Peer peer;
  GThread *thread;

  if (size == 0)
    return 0;
  peer = (Peer){ .script = data + 1, .length = size - 1, .received = received };
  thread = g_thread_new ("fuzz-peer", serve, &peer);
  run_client (data[0]);
  g_thread_join (thread);

  for (guint i = 0; forbidden[i] != NULL; i++)
    if (received->len > 0
        && memmem (received->data, received->len, forbidden[i], strlen (forbidden[i])) != NULL)
      g_error ("“%s” reached a server that never did TLS", forbidden[i]);
  return 0;
}
