/* mk-test-peer.c: real SMTP/LMTP servers on loopback, started by the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mk-test-peer.h"
#include "mk-test-utils.h"

/* Seconds, before mk_test_time_scale(). The Postfix script itself waits up
 * to 20 s for each daemon and 10 s for them to stop. */
#define PEER_READY_TIMEOUT 10.0
#define POSTFIX_READY_TIMEOUT 60.0
#define PEER_STOP_TIMEOUT 10.0
#define POSTFIX_STOP_TIMEOUT 30.0
/* A port chosen free can be taken before smtp-sink binds it: retry. */
#define SMTP_SINK_START_ATTEMPTS 5
/* More than any test program runs at once. */
#define MAX_LIVE_PEERS 64
/* smtp-sink's listen backlog argument. */
#define SMTP_SINK_BACKLOG "64"
/* A READY line is short; anything longer is a broken peer. */
#define READY_LINE_MAX 4096
/* The user smtp-sink runs as when the tests run as root: nobody/nogroup. */
#define NOBODY_UID 65534
#define NOBODY_GID 65534

typedef enum
{
  PEER_AIOSMTPD,
  PEER_SMTP_SINK,
  PEER_POSTFIX,
} PeerKind;

struct _MkTestPeer
{
  PeerKind kind;
  GPid pid;
  int stdin_fd;  /* our end of the peer's stdin: its end of file stops it */
  int stdout_fd; /* the peer's stdout, where READY came from */
  char *dir;     /* the peer's own folder */
  char *host;    /* IP literal, or the unix socket path */
  guint16 port;
  guint16 submission_port;
  guint16 submissions_port;
  char *lmtp_socket;
  char *spool_dir;
  char *utf8_maildir;
  char *stderr_log; /* the peer's stderr */
  char *log;        /* Postfix's log; stderr_log for the others */
};

/* ---- stopping: by hand, at exit, and when a signal kills the program ---- */

/* Read by the signal handler: plain PIDs, no locks, no allocation. */
static volatile sig_atomic_t live_pids[MAX_LIVE_PEERS];
static GPtrArray *live_peers; /* for the exit handler */
static MkTestPeer *postfix_peer;
static pid_t registry_owner;

static const int fatal_signals[]
    = { SIGABRT, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
static struct sigaction previous_actions[G_N_ELEMENTS (fatal_signals)];

static void
on_fatal_signal (int signum)
{
  guint i;

  for (i = 0; i < MAX_LIVE_PEERS; i++)
    if (live_pids[i] > 0)
      kill (live_pids[i], SIGTERM);
  for (i = 0; i < G_N_ELEMENTS (fatal_signals); i++)
    if (fatal_signals[i] == signum)
      sigaction (signum, &previous_actions[i], NULL);
  /* A fault comes back when the faulting instruction runs again, now to the
   * previous handler (ASan's, or the default) with its real context. */
  if (signum != SIGSEGV && signum != SIGBUS && signum != SIGFPE && signum != SIGILL)
    raise (signum);
}

static void peer_stop_and_free (MkTestPeer *peer, gboolean check);

static void
stop_all_at_exit (void)
{
  /* Only the process that started them, not a forked child exiting. */
  if (registry_owner != getpid ())
    return;
  postfix_peer = NULL;
  while (live_peers->len > 0)
    peer_stop_and_free (g_ptr_array_index (live_peers, live_peers->len - 1), FALSE);
}

static void
registry_add (MkTestPeer *peer)
{
  guint i;

  if (live_peers == NULL)
    {
      struct sigaction action = { 0 };

      /* Made first, so that its exit handler (removing the folder the peers
       * run in) runs after ours. */
      mk_test_tmpdir ();
      live_peers = g_ptr_array_new ();
      registry_owner = getpid ();
      atexit (stop_all_at_exit);
      action.sa_handler = on_fatal_signal;
      sigemptyset (&action.sa_mask);
      for (i = 0; i < G_N_ELEMENTS (fatal_signals); i++)
        sigaction (fatal_signals[i], &action, &previous_actions[i]);
    }
  for (i = 0; i < MAX_LIVE_PEERS && live_pids[i] != 0; i++)
    ;
  g_assert_cmpuint (i, <, MAX_LIVE_PEERS);
  live_pids[i] = peer->pid;
  g_ptr_array_add (live_peers, peer);
}

static void
registry_remove (MkTestPeer *peer)
{
  for (guint i = 0; i < MAX_LIVE_PEERS; i++)
    if (live_pids[i] == peer->pid)
      live_pids[i] = 0;
  g_ptr_array_remove (live_peers, peer);
}

/* Whether @pid has ended, without reaping it: until it is reaped its PID
 * cannot be reused, so it can leave the signal handler's list first. */
static gboolean
has_exited (GPid pid)
{
  siginfo_t info = { 0 };

  if (waitid (P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    g_error ("waitid(%d): %s", pid, g_strerror (errno));
  return info.si_pid == pid;
}

static int
reap (GPid pid)
{
  int status = 0;

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

static double
stop_timeout (const MkTestPeer *peer)
{
  return (peer->kind == PEER_POSTFIX ? POSTFIX_STOP_TIMEOUT : PEER_STOP_TIMEOUT)
         * mk_test_time_scale ();
}

static void
peer_free (MkTestPeer *peer)
{
  if (peer->stdin_fd >= 0)
    close (peer->stdin_fd);
  if (peer->stdout_fd >= 0)
    close (peer->stdout_fd);
  g_free (peer->dir);
  g_free (peer->host);
  g_free (peer->lmtp_socket);
  g_free (peer->spool_dir);
  g_free (peer->utf8_maildir);
  g_free (peer->stderr_log);
  g_free (peer->log);
  g_free (peer);
}

/* What the peer wrote to its stderr, for a failure message. */
static char *
peer_stderr (MkTestPeer *peer)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (peer->stderr_log, &text, NULL, NULL))
    return g_strdup ("");
  return g_strdup_printf ("%s:\n%s", peer->stderr_log, text);
}

/* SIGTERM, then up to the stop timeout for the peer to end, then SIGKILL.
 * With @check, a peer that had died before, or that needed SIGKILL, fails
 * the test. */
static void
peer_stop_and_free (MkTestPeer *peer, gboolean check)
{
  gboolean died_before = has_exited (peer->pid);
  gint64 deadline = g_get_monotonic_time () + (gint64)(stop_timeout (peer) * G_USEC_PER_SEC);
  gboolean killed = FALSE;
  int status;

  if (!died_before)
    kill (peer->pid, SIGTERM);
  while (!has_exited (peer->pid) && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  if (!has_exited (peer->pid))
    {
      kill (peer->pid, SIGKILL);
      killed = TRUE;
    }
  registry_remove (peer);
  status = reap (peer->pid);
  if (check && died_before)
    g_error ("the test peer (pid %d) had ended before it was stopped (wait status %d); %s",
             peer->pid, status, peer_stderr (peer));
  if (check && killed)
    g_error ("the test peer (pid %d) did not stop within %.0f s of SIGTERM", peer->pid,
             stop_timeout (peer));
  peer_free (peer);
}

void
mk_test_peer_stop (MkTestPeer *peer)
{
  g_assert_nonnull (peer);
  g_assert_true (peer != postfix_peer); /* shared: stopped at exit */
  peer_stop_and_free (peer, TRUE);
}

/* ---- starting ---- */

static MkTestPeer *
peer_new (PeerKind kind, const char *dir_name)
{
  MkTestPeer *peer = g_new0 (MkTestPeer, 1);

  peer->kind = kind;
  peer->stdin_fd = -1;
  peer->stdout_fd = -1;
  peer->dir = mk_test_make_subdir (dir_name);
  peer->stderr_log = g_build_filename (peer->dir, "stderr.log", NULL);
  peer->log = g_strdup (peer->stderr_log);
  return peer;
}

typedef struct
{
  pid_t parent;
  gboolean as_nobody;
} ChildSetup;

/* Runs in the child between fork and exec: system calls only. The kernel
 * sends the peer SIGTERM when the thread that started it ends, however the
 * test program ends: even _exit (a failed assertion in a g_test_trap
 * subprocess) or SIGKILL, where no handler of ours runs. The setting does
 * not survive a change of user, so smtp-sink is made nobody here rather
 * than by its -u option. */
static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;

  if (setup->as_nobody
      && (setgroups (0, NULL) != 0 || setgid (NOBODY_GID) != 0 || setuid (NOBODY_UID) != 0))
    _exit (127);
  if (prctl (PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid () != setup->parent)
    _exit (127);
}

/* Starts @argv in the peer's folder. With @with_pipes, its stdin and stdout
 * are pipes to us; otherwise both are /dev/null. Its stderr goes to a file,
 * not to ours: a peer that outlived us must not hold our output open (a
 * g_test_trap parent waits for it), and the file is shown when it fails. */
static void
spawn (MkTestPeer *peer, GPtrArray *argv, gboolean with_pipes, gboolean as_nobody)
{
  g_autoptr (GError) error = NULL;
  GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD;
  ChildSetup setup = { getpid (), as_nobody };
  int stderr_fd = open (peer->stderr_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

  g_assert_no_errno (stderr_fd);
  g_ptr_array_add (argv, NULL);
  if (!with_pipes)
    flags |= G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL;
  g_spawn_async_with_pipes_and_fds (peer->dir, (const char *const *)argv->pdata, NULL, flags,
                                    child_setup, &setup, -1, -1, stderr_fd, NULL, NULL, 0,
                                    &peer->pid, with_pipes ? &peer->stdin_fd : NULL,
                                    with_pipes ? &peer->stdout_fd : NULL, NULL, &error);
  close (stderr_fd);
  g_assert_no_error (error);
  registry_add (peer);
}

/* Reads the peer's "READY …" line; returns the text after "READY ". A peer
 * that exits or stays silent until the deadline fails the test, with what it
 * wrote to its stderr. */
static char *
read_ready_line (MkTestPeer *peer, const char *what, double timeout)
{
  g_autoptr (GString) line = g_string_new (NULL);
  gint64 deadline
      = g_get_monotonic_time () + (gint64)(timeout * mk_test_time_scale () * G_USEC_PER_SEC);

  while (strchr (line->str, '\n') == NULL)
    {
      struct pollfd pfd = { .fd = peer->stdout_fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buffer[256];
      ssize_t n;

      if (left <= 0)
        g_error ("%s did not announce READY within %.0f s; %s", what,
                 timeout * mk_test_time_scale (), peer_stderr (peer));
      if (poll (&pfd, 1, (int)MIN (left, G_MAXINT)) <= 0)
        continue;
      n = read (peer->stdout_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int status;

          registry_remove (peer);
          status = reap (peer->pid);
          g_error ("%s exited before it was ready (wait status %d); %s", what, status,
                   peer_stderr (peer));
        }
      g_string_append_len (line, buffer, n);
      g_assert_cmpuint (line->len, <, READY_LINE_MAX);
    }
  g_strchomp (line->str);
  if (!g_str_has_prefix (line->str, "READY "))
    g_error ("%s said %s instead of READY", what, line->str);
  return g_strdup (line->str + strlen ("READY "));
}

static char *
python_script (const char *name)
{
  char *path = g_build_filename (mk_test_srcdir (), "peers", name, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_error ("%s is missing", path);
  return path;
}

static void
add_reply_options (GPtrArray *argv, const char *option, const char *const *values)
{
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    {
      g_ptr_array_add (argv, g_strdup (option));
      g_ptr_array_add (argv, g_strdup (values[i]));
    }
}

MkTestPeer *
mk_test_peer_start_aiosmtpd (const MkTestAiosmtpdOptions *options)
{
  static const MkTestAiosmtpdOptions defaults = { 0 };
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  MkTestPeer *peer = peer_new (PEER_AIOSMTPD, "aiosmtpd");
  g_autofree char *where = NULL;

  if (options == NULL)
    options = &defaults;
  g_ptr_array_add (argv, g_strdup (mk_test_python ()));
  g_ptr_array_add (argv, python_script ("aiosmtpd-peer.py"));
  peer->spool_dir = g_build_filename (peer->dir, "spool", NULL);
  g_ptr_array_add (argv, g_strdup_printf ("--spool=%s", peer->spool_dir));
  if (options->unix_socket)
    {
      g_ptr_array_add (argv, g_strdup ("--unix"));
      g_ptr_array_add (argv, g_build_filename (peer->dir, options->lmtp ? "lmtp" : "smtp", NULL));
    }
  else if (options->ipv6)
    g_ptr_array_add (argv, g_strdup ("--host=::1"));
  if (options->lmtp)
    g_ptr_array_add (argv, g_strdup ("--lmtp"));
  if (options->starttls || options->implicit_tls)
    {
      const MkTestCerts *certs = mk_test_certs_get ();

      g_ptr_array_add (argv,
                       g_strdup_printf ("--cert=%s", options->cert_file ? options->cert_file
                                                                        : certs->server_cert));
      g_ptr_array_add (argv, g_strdup_printf ("--key=%s", options->key_file ? options->key_file
                                                                            : certs->server_key));
    }
  if (options->starttls)
    g_ptr_array_add (argv, g_strdup ("--starttls"));
  if (options->require_starttls)
    g_ptr_array_add (argv, g_strdup ("--require-starttls"));
  if (options->implicit_tls)
    g_ptr_array_add (argv, g_strdup ("--implicit-tls"));
  for (guint i = 0; options->users != NULL && options->users[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--user=%s", options->users[i]));
  if (options->auth_plaintext)
    g_ptr_array_add (argv, g_strdup ("--auth-plaintext"));
  if (options->auth_required)
    g_ptr_array_add (argv, g_strdup ("--auth-required"));
  if (options->smtputf8)
    g_ptr_array_add (argv, g_strdup ("--smtputf8"));
  if (options->pipelining)
    g_ptr_array_add (argv, g_strdup ("--pipelining"));
  if (options->size_limit > 0)
    g_ptr_array_add (argv, g_strdup_printf ("--size=%" G_GUINT64_FORMAT, options->size_limit));
  add_reply_options (argv, "--refuse-rcpt", options->refuse_rcpt);
  add_reply_options (argv, "--refuse-after-data", options->refuse_after_data);

  spawn (peer, argv, TRUE, FALSE);
  where = read_ready_line (peer, "aiosmtpd-peer.py (needs the Debian package python3-aiosmtpd)",
                           PEER_READY_TIMEOUT);
  if (options->unix_socket)
    peer->host = g_steal_pointer (&where);
  else
    {
      guint64 port = 0;

      g_assert_true (g_ascii_string_to_unsigned (where, 10, 1, G_MAXUINT16, &port, NULL));
      peer->host = g_strdup (options->ipv6 ? "::1" : "127.0.0.1");
      peer->port = (guint16)port;
    }
  return peer;
}

static guint16
pick_free_port (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Whether the server at @address greets with a line holding @token, which
 * tells our smtp-sink from anything else that took the port. */
static gboolean
greets_with (GSocketConnectable *address, const char *token)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GDataInputStream) input = NULL;
  g_autofree char *line = NULL;

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, (guint)(2 * mk_test_time_scale ()));
  connection = g_socket_client_connect (client, address, NULL, NULL);
  if (connection == NULL)
    return FALSE;
  input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  line = g_data_input_stream_read_line (input, NULL, NULL, NULL);
  return line != NULL && g_str_has_prefix (line, "220 ") && strstr (line, token) != NULL;
}

MkTestPeer *
mk_test_peer_start_smtp_sink (const MkTestSmtpSinkOptions *options)
{
  static const MkTestSmtpSinkOptions defaults = { 0 };
  g_autofree char *program = mk_test_find_program ("smtp-sink", "postfix");
  MkTestPeer *peer = peer_new (PEER_SMTP_SINK, "smtp-sink");
  /* The name it greets with, to know it is ours that answers. */
  g_autofree char *name = g_strdup_printf ("sink-%08x.test", g_random_int ());
  /* As root it must not stay root (it refuses to); see child_setup(). */
  gboolean as_nobody = getuid () == 0;

  if (options == NULL)
    options = &defaults;
  if (options->save_messages)
    {
      peer->spool_dir = g_build_filename (peer->dir, "spool", NULL);
      g_assert_no_errno (g_mkdir (peer->spool_dir, 0755));
    }
  /* Its unix socket and its spool are made as the user it runs as. */
  if (as_nobody)
    {
      g_assert_no_errno (chown (peer->dir, NOBODY_UID, NOBODY_GID));
      if (peer->spool_dir != NULL)
        g_assert_no_errno (chown (peer->spool_dir, NOBODY_UID, NOBODY_GID));
    }

  for (guint attempt = 0; attempt < SMTP_SINK_START_ATTEMPTS; attempt++)
    {
      g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GSocketConnectable) address = NULL;
      gint64 deadline;

      g_clear_pointer (&peer->host, g_free);
      if (options->unix_socket)
        peer->host = g_build_filename (peer->dir, options->lmtp ? "lmtp" : "smtp", NULL);
      else
        {
          peer->host = g_strdup ("127.0.0.1");
          peer->port = pick_free_port ();
        }
      g_ptr_array_add (argv, g_strdup (program));
      g_ptr_array_add (argv, g_strdup ("-h"));
      g_ptr_array_add (argv, g_strdup (name));
      if (options->lmtp)
        g_ptr_array_add (argv, g_strdup ("-L"));
      if (options->no_pipelining)
        g_ptr_array_add (argv, g_strdup ("-p"));
      if (options->save_messages)
        {
          g_ptr_array_add (argv, g_strdup ("-d"));
          g_ptr_array_add (argv, g_strdup_printf ("%s/%%Y%%m%%d/", peer->spool_dir));
        }
      if (options->unix_socket)
        g_ptr_array_add (argv, g_strdup_printf ("unix:%s", peer->host));
      else
        g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", peer->port));
      g_ptr_array_add (argv, g_strdup (SMTP_SINK_BACKLOG));

      spawn (peer, argv, FALSE, as_nobody);
      address = mk_test_peer_get_address (peer, MK_TEST_SERVICE_DEFAULT);
      deadline = g_get_monotonic_time ()
                 + (gint64)(PEER_READY_TIMEOUT * mk_test_time_scale () * G_USEC_PER_SEC);
      while (!has_exited (peer->pid) && g_get_monotonic_time () < deadline)
        {
          if (greets_with (address, name))
            return peer;
          g_usleep (5000);
        }
      if (!has_exited (peer->pid))
        g_error ("smtp-sink did not answer within %.0f s; %s",
                 PEER_READY_TIMEOUT * mk_test_time_scale (), peer_stderr (peer));
      /* Exited: most likely the port was taken meanwhile. */
      registry_remove (peer);
      reap (peer->pid);
    }
  g_error ("smtp-sink did not start after %d attempts; %s", SMTP_SINK_START_ATTEMPTS,
           peer_stderr (peer));
}

/* The value of @key in the "key=value …" fields of a READY line. */
static const char *
ready_field (GHashTable *fields, const char *key)
{
  const char *value = g_hash_table_lookup (fields, key);

  if (value == NULL)
    g_error ("postfix-peer.py's READY line has no %s", key);
  return value;
}

static guint16
ready_port (GHashTable *fields, const char *key)
{
  guint64 port = 0;

  g_assert_true (
      g_ascii_string_to_unsigned (ready_field (fields, key), 10, 1, G_MAXUINT16, &port, NULL));
  return (guint16)port;
}

MkTestPeer *
mk_test_peer_get_postfix (void)
{
  const MkTestCerts *certs;
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GHashTable) fields = NULL;
  g_autofree char *ready = NULL;
  g_auto (GStrv) words = NULL;
  MkTestPeer *peer;

  if (postfix_peer != NULL)
    return postfix_peer;

  g_free (mk_test_find_program ("postfix", "postfix"));
  g_free (mk_test_find_program ("dovecot", "dovecot-core"));
  certs = mk_test_certs_get ();
  peer = peer_new (PEER_POSTFIX, "postfix");
  argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup (mk_test_python ()));
  g_ptr_array_add (argv, python_script ("postfix-peer.py"));
  g_ptr_array_add (argv, g_strdup_printf ("--dir=%s", peer->dir));
  g_ptr_array_add (argv, g_strdup_printf ("--cert=%s", certs->server_cert));
  g_ptr_array_add (argv, g_strdup_printf ("--key=%s", certs->server_key));
  g_ptr_array_add (argv, g_strdup ("--user=" MK_TEST_PEER_USER));
  g_ptr_array_add (argv, g_strdup ("--password=" MK_TEST_PEER_PASSWORD));
  g_ptr_array_add (argv, g_strdup_printf ("--size-limit=%d", MK_TEST_POSTFIX_SIZE_LIMIT));
  spawn (peer, argv, TRUE, FALSE);

  ready = read_ready_line (
      peer, "postfix-peer.py (needs the Debian packages postfix, dovecot-core, dovecot-lmtpd)",
      POSTFIX_READY_TIMEOUT);
  fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  words = g_strsplit (ready, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *equals = strchr (words[i], '=');

      if (equals != NULL)
        g_hash_table_insert (fields, g_strndup (words[i], equals - words[i]),
                             g_strdup (equals + 1));
    }
  peer->host = g_strdup ("127.0.0.1");
  peer->port = ready_port (fields, "smtp");
  peer->submission_port = ready_port (fields, "submission");
  peer->submissions_port = ready_port (fields, "submissions");
  peer->lmtp_socket = g_strdup (ready_field (fields, "lmtp"));
  peer->spool_dir = g_strdup (ready_field (fields, "maildir"));
  peer->utf8_maildir = g_strdup (ready_field (fields, "utf8_maildir"));
  g_free (peer->log);
  peer->log = g_strdup (ready_field (fields, "log"));
  postfix_peer = peer;
  return peer;
}

/* ---- what a peer offers ---- */

GPid
mk_test_peer_get_pid (MkTestPeer *peer)
{
  return peer->pid;
}

static void
check_service (MkTestPeer *peer, MkTestService service)
{
  if (service != MK_TEST_SERVICE_DEFAULT && peer->kind != PEER_POSTFIX)
    g_error ("only the Postfix peer has service %d", service);
}

const char *
mk_test_peer_get_host (MkTestPeer *peer, MkTestService service)
{
  check_service (peer, service);
  return service == MK_TEST_SERVICE_LMTP ? peer->lmtp_socket : peer->host;
}

guint16
mk_test_peer_get_port (MkTestPeer *peer, MkTestService service)
{
  check_service (peer, service);
  switch (service)
    {
    case MK_TEST_SERVICE_DEFAULT:
      return peer->port;
    case MK_TEST_SERVICE_SUBMISSION:
      return peer->submission_port;
    case MK_TEST_SERVICE_SUBMISSIONS:
      return peer->submissions_port;
    case MK_TEST_SERVICE_LMTP:
      return 0;
    }
  g_assert_not_reached ();
}

GSocketConnectable *
mk_test_peer_get_address (MkTestPeer *peer, MkTestService service)
{
  const char *host = mk_test_peer_get_host (peer, service);
  g_autoptr (GInetAddress) address = NULL;

  if (host[0] == '/')
    return G_SOCKET_CONNECTABLE (g_unix_socket_address_new (host));
  address = g_inet_address_new_from_string (host);
  return G_SOCKET_CONNECTABLE (
      g_inet_socket_address_new (address, mk_test_peer_get_port (peer, service)));
}

const char *
mk_test_peer_get_spool_dir (MkTestPeer *peer)
{
  return peer->spool_dir;
}

const char *
mk_test_peer_get_utf8_maildir (MkTestPeer *peer)
{
  g_assert_true (peer->kind == PEER_POSTFIX);
  return peer->utf8_maildir;
}

const char *
mk_test_peer_get_log (MkTestPeer *peer)
{
  return peer->log;
}

/* ---- what a peer received ---- */

void
mk_test_message_free (MkTestMessage *message)
{
  g_free (message->path);
  g_free (message->mail_from);
  g_strfreev (message->mail_options);
  g_strfreev (message->rcpt_tos);
  g_strfreev (message->rcpt_options);
  g_strfreev (message->delivered);
  g_free (message->helo);
  g_free (message->auth_user);
  g_clear_pointer (&message->data, g_bytes_unref);
  g_free (message);
}

static GBytes *
read_bytes (const char *path)
{
  gsize length = 0;
  char *contents = mk_test_read_file (path, &length);

  return g_bytes_new_take (contents, length);
}

static char *
strip_angle_brackets (const char *address)
{
  gsize length = strlen (address);

  if (length >= 2 && address[0] == '<' && address[length - 1] == '>')
    return g_strndup (address + 1, length - 2);
  return g_strdup (address);
}

/* aiosmtpd: NAME.envelope (a key file) beside NAME.eml. */
static MkTestMessage *
read_aiosmtpd_message (const char *envelope_path)
{
  g_autoptr (GKeyFile) keys = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_strndup (envelope_path, strlen (envelope_path) - strlen (".envelope"));
  MkTestMessage *message = g_new0 (MkTestMessage, 1);

  g_key_file_load_from_file (keys, envelope_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  message->path = g_strconcat (base, ".eml", NULL);
  message->data = read_bytes (message->path);
  message->mail_from = g_key_file_get_string (keys, "envelope", "mail_from", &error);
  g_assert_no_error (error);
  message->mail_options
      = g_key_file_get_string_list (keys, "envelope", "mail_options", NULL, &error);
  g_assert_no_error (error);
  message->rcpt_tos = g_key_file_get_string_list (keys, "envelope", "rcpt_tos", NULL, &error);
  g_assert_no_error (error);
  message->rcpt_options
      = g_key_file_get_string_list (keys, "envelope", "rcpt_options", NULL, &error);
  g_assert_no_error (error);
  message->delivered = g_key_file_get_string_list (keys, "envelope", "delivered", NULL, &error);
  g_assert_no_error (error);
  message->helo = g_key_file_get_string (keys, "envelope", "helo", &error);
  g_assert_no_error (error);
  message->tls = g_key_file_get_boolean (keys, "envelope", "tls", &error);
  g_assert_no_error (error);
  message->auth_user = g_key_file_get_string (keys, "envelope", "auth_user", NULL);
  return message;
}

/* smtp-sink's dump: X-Helo-Args, X-Mail-Args, X-Rcpt-Args (one per
 * recipient) and others, then the message, then one empty line. */
static MkTestMessage *
read_smtp_sink_message (const char *path)
{
  g_autoptr (GBytes) whole = read_bytes (path);
  gsize length = 0;
  const char *text = g_bytes_get_data (whole, &length);
  const char *end = text + length;
  const char *line = text;
  g_autoptr (GPtrArray) rcpt_tos = g_ptr_array_new ();
  g_autoptr (GPtrArray) rcpt_options = g_ptr_array_new ();
  MkTestMessage *message = g_new0 (MkTestMessage, 1);

  message->path = g_strdup (path);
  while (line < end && g_str_has_prefix (line, "X-"))
    {
      const char *newline = memchr (line, '\n', end - line);
      g_autofree char *field = g_strndup (line, (newline ? newline : end) - line);
      const char *value = strchr (field, ' ');
      g_auto (GStrv) args = g_strsplit (value ? value + 1 : "", " ", 2);

      if (args[0] != NULL && g_str_has_prefix (field, "X-Helo-Args: "))
        message->helo = g_strdup (value + 1);
      else if (args[0] != NULL && g_str_has_prefix (field, "X-Mail-Args: "))
        {
          message->mail_from = strip_angle_brackets (args[0]);
          message->mail_options = g_strsplit (args[1] ? args[1] : "", " ", -1);
        }
      else if (args[0] != NULL && g_str_has_prefix (field, "X-Rcpt-Args: "))
        {
          g_ptr_array_add (rcpt_tos, strip_angle_brackets (args[0]));
          g_ptr_array_add (rcpt_options, g_strdup (args[1] ? args[1] : ""));
        }
      line = newline ? newline + 1 : end;
    }
  /* The separator smtp-sink writes after each message. */
  if (end - line >= 2 && end[-1] == '\n' && end[-2] == '\n')
    end--;
  g_ptr_array_add (rcpt_tos, NULL);
  g_ptr_array_add (rcpt_options, NULL);
  message->rcpt_tos = (char **)g_ptr_array_steal (rcpt_tos, NULL);
  message->rcpt_options = (char **)g_ptr_array_steal (rcpt_options, NULL);
  message->data = g_bytes_new (line, end - line);
  return message;
}

/* A Maildir file: the envelope is in the delivery headers. */
static MkTestMessage *
read_maildir_message (const char *path)
{
  MkTestMessage *message = g_new0 (MkTestMessage, 1);
  gsize length = 0;
  const char *text;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) rcpt_tos = g_ptr_array_new ();

  message->path = g_strdup (path);
  message->data = read_bytes (path);
  text = g_bytes_get_data (message->data, &length);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_strchomp (lines[i]);
      if (message->mail_from == NULL && g_str_has_prefix (lines[i], "Return-Path: "))
        message->mail_from = strip_angle_brackets (lines[i] + strlen ("Return-Path: "));
      else if (g_str_has_prefix (lines[i], "Delivered-To: "))
        g_ptr_array_add (rcpt_tos, g_strdup (lines[i] + strlen ("Delivered-To: ")));
    }
  g_ptr_array_add (rcpt_tos, NULL);
  message->rcpt_tos = (char **)g_ptr_array_steal (rcpt_tos, NULL);
  return message;
}

typedef MkTestMessage *(*MessageReader) (const char *path);

typedef struct
{
  gint64 mtime; /* microseconds */
  char *path;
} FoundFile;

/* Adds the files of @dir whose names end in @suffix (any, if NULL) as
 * (mtime, path) pairs, recursing into sub-folders when asked. */
static void
collect_files (GArray *found, const char *dir, const char *suffix, gboolean recurse)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  if (listing == NULL)
    return;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf info;

      if (g_stat (path, &info) != 0)
        continue;
      if (S_ISDIR (info.st_mode))
        {
          if (recurse)
            collect_files (found, path, suffix, recurse);
        }
      else if (suffix == NULL || g_str_has_suffix (name, suffix))
        {
          FoundFile entry = {
            (gint64)info.st_mtim.tv_sec * G_USEC_PER_SEC + info.st_mtim.tv_nsec / 1000,
            g_steal_pointer (&path),
          };
          g_array_append_val (found, entry);
        }
    }
}

static int
compare_found (gconstpointer a, gconstpointer b)
{
  const FoundFile *fa = a;
  const FoundFile *fb = b;

  if (fa->mtime != fb->mtime)
    return fa->mtime < fb->mtime ? -1 : 1;
  return strcmp (fa->path, fb->path);
}

static void
clear_found (gpointer data)
{
  g_free (((FoundFile *)data)->path);
}

GPtrArray *
mk_test_peer_get_messages (MkTestPeer *peer)
{
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (FoundFile));
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify)mk_test_message_free);
  MessageReader reader = NULL;

  g_array_set_clear_func (found, clear_found);
  switch (peer->kind)
    {
    case PEER_AIOSMTPD:
      collect_files (found, peer->spool_dir, ".envelope", FALSE);
      reader = read_aiosmtpd_message;
      break;
    case PEER_SMTP_SINK:
      g_assert_nonnull (peer->spool_dir); /* started with save_messages */
      collect_files (found, peer->spool_dir, NULL, TRUE);
      reader = read_smtp_sink_message;
      break;
    case PEER_POSTFIX:
      for (guint i = 0; i < 2; i++)
        {
          const char *maildir = i == 0 ? peer->spool_dir : peer->utf8_maildir;
          g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
          g_autofree char *cur_dir = g_build_filename (maildir, "cur", NULL);

          collect_files (found, new_dir, NULL, FALSE);
          collect_files (found, cur_dir, NULL, FALSE);
        }
      reader = read_maildir_message;
      break;
    }
  g_array_sort (found, compare_found);
  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add (messages, reader (g_array_index (found, FoundFile, i).path));
  return messages;
}

GPtrArray *
mk_test_peer_wait_messages (MkTestPeer *peer, guint count, double timeout)
{
  gint64 deadline
      = g_get_monotonic_time () + (gint64)(timeout * mk_test_time_scale () * G_USEC_PER_SEC);

  for (;;)
    {
      g_autoptr (GPtrArray) messages = mk_test_peer_get_messages (peer);

      if (messages->len >= count || g_get_monotonic_time () >= deadline)
        return g_steal_pointer (&messages);
      g_usleep (10000);
    }
}
