/* mk-test-peer.h: real SMTP/LMTP servers on loopback, started by the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three kinds of peer (tests/peers/ and reference/real-peers.md say what
 * each offers):
 *   aiosmtpd   tests/peers/aiosmtpd-peer.py: SMTP or LMTP, TLS, AUTH,
 *              SMTPUTF8, chosen refusals, every transaction saved
 *   smtp-sink  Postfix's sink: PIPELINING, DSN, LMTP (-L); the fastest
 *   postfix    tests/peers/postfix-peer.py: a private Postfix smtpd with
 *              Dovecot (CHUNKING, SIZE, SMTPUTF8, STARTTLS, real AUTH,
 *              LMTP delivery into a Maildir); one per test program, shared
 *
 * Every peer listens on 127.0.0.1, ::1 or a unix socket under
 * mk_test_tmpdir(), on a free port. A peer that cannot start fails the test
 * with a message naming the Debian package to install (and what the peer
 * wrote to its stderr, which goes to a file, never to the test's output).
 * Peers are stopped by PID: by mk_test_peer_stop(), at exit, from a handler
 * of fatal signals (a failed assertion's abort, meson's SIGTERM on timeout),
 * and by the kernel's parent-death signal however else the program ends
 * (_exit, SIGKILL). That signal follows the thread that started the peer:
 * call these functions from the test's main thread only.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Postfix/Dovecot's only account; for aiosmtpd, pass
 * MK_TEST_PEER_USER ":" MK_TEST_PEER_PASSWORD in its options' users. */
#define MK_TEST_PEER_USER "testuser"
#define MK_TEST_PEER_PASSWORD "test-password"

/* Postfix routes MK_TEST_POSTFIX_DOMAIN through Dovecot LMTP into the
 * Maildir of MK_TEST_PEER_USER (any other local part there is refused
 * at RCPT with 550 5.1.1), and any local part at MK_TEST_POSTFIX_UTF8_DOMAIN
 * into a virtual(8) Maildir (SMTPUTF8 works there: Dovecot LMTP has no
 * SMTPUTF8, so Postfix bounces such mail to MK_TEST_POSTFIX_DOMAIN). Other
 * domains are refused; nothing is delivered off this machine. */
#define MK_TEST_POSTFIX_DOMAIN "example.test"
#define MK_TEST_POSTFIX_UTF8_DOMAIN "utf8.test"
/* message_size_limit, advertised as SIZE 10485760. */
#define MK_TEST_POSTFIX_SIZE_LIMIT 10485760

typedef struct _MkTestPeer MkTestPeer;

/* The services a peer offers. Every peer has MK_TEST_SERVICE_DEFAULT; the
 * others are Postfix's. */
typedef enum
{
  MK_TEST_SERVICE_DEFAULT,     /* the peer's listener; Postfix: port 25 style
                                  SMTP, STARTTLS offered, no AUTH */
  MK_TEST_SERVICE_SUBMISSION,  /* Postfix: STARTTLS required, then AUTH
                                  PLAIN LOGIN; mail only after AUTH */
  MK_TEST_SERVICE_SUBMISSIONS, /* Postfix: implicit TLS, AUTH PLAIN LOGIN */
  MK_TEST_SERVICE_LMTP,        /* Postfix: Dovecot's LMTP unix socket */
} MkTestService;

typedef struct
{
  gboolean lmtp;             /* LMTP (LHLO, one reply per recipient) */
  gboolean unix_socket;      /* a unix socket instead of TCP */
  gboolean ipv6;             /* ::1 instead of 127.0.0.1 */
  gboolean starttls;         /* offer STARTTLS */
  gboolean require_starttls; /* refuse mail commands before STARTTLS */
  gboolean implicit_tls;     /* TLS from the first byte */
  const char *cert_file;     /* NULL: the test server certificate */
  const char *key_file;      /* NULL: its key */
  /* "user:password" accounts for AUTH PLAIN and LOGIN; NULL: no AUTH
   * (MK_TEST_PEER_USER ":" MK_TEST_PEER_PASSWORD is the usual one) */
  const char *const *users;
  gboolean auth_plaintext; /* allow AUTH before STARTTLS */
  gboolean auth_required;  /* refuse mail before AUTH */
  gboolean smtputf8;       /* offer SMTPUTF8 */
  guint64 size_limit;      /* SIZE advertised and enforced; 0: 32 MiB */
  /* "address=CODE text" pairs: RCPT TO:<address> is answered with that
   * reply (e.g. "gone@example.org=550 5.1.1 No such user", a 4xx for a
   * temporary refusal) */
  const char *const *refuse_rcpt;
  /* LMTP only, same form: the reply for that recipient after DATA, while
   * the others get 250 */
  const char *const *refuse_after_data;
  /* advertise PIPELINING (aiosmtpd handles pipelined commands but does not
   * say so by itself) */
  gboolean pipelining;
} MkTestAiosmtpdOptions;

typedef struct
{
  gboolean lmtp;          /* -L: LHLO, one 250 per recipient after DATA */
  gboolean no_pipelining; /* -p: do not advertise PIPELINING */
  gboolean unix_socket;   /* a unix socket instead of 127.0.0.1 */
  gboolean save_messages; /* -d: one file per transaction in the spool */
} MkTestSmtpSinkOptions;

/* Starts a peer and returns once it accepts connections (aiosmtpd takes
 * about 0.3 s, smtp-sink a few ms). @options may be NULL for the defaults
 * (all zero). Stop it with mk_test_peer_stop(). */
MkTestPeer *mk_test_peer_start_aiosmtpd (const MkTestAiosmtpdOptions *options);
MkTestPeer *mk_test_peer_start_smtp_sink (const MkTestSmtpSinkOptions *options);

/* The test program's Postfix + Dovecot instance, started by the first call
 * (under a second) and stopped when the program exits. Transfer none: never
 * pass it to mk_test_peer_stop(). */
MkTestPeer *mk_test_peer_get_postfix (void);

/* SIGTERM, a bounded wait, SIGKILL as the last resort; then frees @peer.
 * Fails the test if the peer had already died. */
void mk_test_peer_stop (MkTestPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkTestPeer, mk_test_peer_stop)

GPid mk_test_peer_get_pid (MkTestPeer *peer);

/* Where @service listens: the IP literal ("127.0.0.1" or "::1"), or the
 * path of the unix socket (which starts with '/', as MkLmtpClient takes
 * it). A service the peer lacks fails the test. */
const char *mk_test_peer_get_host (MkTestPeer *peer, MkTestService service);
/* The TCP port; 0 for a unix socket. */
guint16 mk_test_peer_get_port (MkTestPeer *peer, MkTestService service);
/* The same as a GSocketAddress (GInetSocketAddress or GUnixSocketAddress),
 * for g_socket_client_connect(). (transfer full) */
GSocketConnectable *mk_test_peer_get_address (MkTestPeer *peer, MkTestService service);

/* Where a peer's messages are written: aiosmtpd's spool (always), smtp-sink's
 * (with save_messages; NULL otherwise), Postfix's Maildir of
 * MK_TEST_PEER_USER. mk_test_peer_get_messages() reads them for you. */
const char *mk_test_peer_get_spool_dir (MkTestPeer *peer);
/* Postfix only: the virtual(8) Maildir of MK_TEST_POSTFIX_UTF8_DOMAIN. */
const char *mk_test_peer_get_utf8_maildir (MkTestPeer *peer);
/* A log for a failing test to show: Postfix's mail log (Dovecot's is in the
 * same peer folder, dovecot/dovecot.log); for the other peers, what they
 * wrote to stderr (a peer's stderr never goes to the test's own). */
const char *mk_test_peer_get_log (MkTestPeer *peer);

/* One transaction a peer received. What each peer can tell:
 *   aiosmtpd   everything; data as received (dot-unstuffed, line ends kept)
 *   smtp-sink  mail_from, mail_options, rcpt_tos, rcpt_options, helo; data
 *              as smtp-sink stores it: LF line ends, its Received: first
 *   postfix    mail_from (Return-Path), rcpt_tos (Delivered-To); data as
 *              stored in the Maildir (LF, delivery headers first)
 * Fields a peer cannot tell are NULL / FALSE. */
typedef struct
{
  char *path;          /* the file the message was read from */
  char *mail_from;     /* without <>; "" for the null sender */
  char **mail_options; /* MAIL FROM parameters, e.g. "SMTPUTF8" */
  char **rcpt_tos;     /* accepted recipients, without <>, in RCPT order */
  char **rcpt_options; /* per recipient: its parameters joined by spaces */
  char **delivered;    /* LMTP (aiosmtpd): recipients accepted after DATA */
  char *helo;          /* the EHLO/LHLO argument */
  char *auth_user;     /* aiosmtpd: the AUTH identity; NULL without AUTH */
  gboolean tls;        /* aiosmtpd: the transaction ran under TLS */
  GBytes *data;        /* the message */
} MkTestMessage;

void mk_test_message_free (MkTestMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkTestMessage, mk_test_message_free)

/* Every message the peer has stored so far, oldest first (Postfix: from both
 * Maildirs). aiosmtpd has stored a transaction before it answers the final
 * ".", so its messages are all there once the client has the reply;
 * smtp-sink creates its file at MAIL, so read it only after the
 * transaction's final reply. (transfer full) (element-type MkTestMessage) */
GPtrArray *mk_test_peer_get_messages (MkTestPeer *peer);
/* The same, after waiting until there are at least @count (Postfix delivers
 * after its 250, asynchronously), at most @timeout seconds (scaled by
 * mk_test_time_scale()). Returns what is there at the deadline: the caller
 * asserts the number. */
GPtrArray *mk_test_peer_wait_messages (MkTestPeer *peer, guint count, double timeout);

G_END_DECLS
