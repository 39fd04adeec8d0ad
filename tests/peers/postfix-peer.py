#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private Postfix smtpd with Dovecot (LMTP delivery, SASL) on loopback.

Everything lives in the folder given with --dir: configuration, queue,
sockets, logs and Maildirs. Nothing in /etc/postfix or /etc/dovecot is
touched, no standard port is used and any system daemon is ignored.

Services (each on a free port of 127.0.0.1):
  smtp         plain SMTP, STARTTLS offered, no AUTH
  submission   STARTTLS required, AUTH PLAIN/LOGIN via Dovecot after TLS
  submissions  implicit TLS (wrapper mode), AUTH PLAIN/LOGIN via Dovecot
Mail for DOMAIN_LMTP goes through Dovecot LMTP into the Maildir of the test
user (any other local part is refused with 550 5.1.1 at RCPT); mail for
DOMAIN_UTF8 (any local part, SMTPUTF8 allowed) goes to a virtual(8) Maildir,
because Dovecot LMTP has no SMTPUTF8. Dovecot's LMTP socket is exposed too.

When both run, one line goes to stdout:
  READY smtp=P submission=P submissions=P lmtp=PATH maildir=PATH
        utf8_maildir=PATH user=U password=W domain=D utf8_domain=D
        size_limit=N log=PATH dovecot_log=PATH
(on one line). The script then waits for SIGTERM, SIGINT or the end of its
stdin (the test program holding the other end died) and stops both daemons
by PID. It runs in its own session so that a kill of the test's process
group cannot stop it before it has stopped the daemons.
"""

import argparse
import ctypes
import grp
import os
import pwd
import select
import signal
import socket
import subprocess
import sys
import time

DOMAIN_LMTP = "example.test"
DOMAIN_UTF8 = "utf8.test"
# The uid/gid mail is delivered as: nobody, present on every Debian system.
MAIL_UID = 65534
MAIL_GID = 65534
START_ATTEMPTS = 4  # free-port races are rare; a few retries settle them
START_TIMEOUT = 20.0  # seconds for a daemon to come up
STOP_TIMEOUT = 10.0  # seconds for a daemon to exit after SIGTERM

POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"


def fail(message):
    sys.stderr.write(f"postfix-peer: {message}\n")
    sys.exit(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    # Postfix rereads a configuration file modified in the last second until
    # it is older (300 ms sleeps, seconds in all): date it in the past.
    past = time.time() - 60
    os.utime(path, (past, past))


def read_pid(path):
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def become_subreaper():
    """Daemons that fork into the background become our children instead of
    init's, so their exit is seen (waitpid) and no zombie is left when init
    does not reap (as in some containers)."""
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        fail(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def alive(pid):
    reap()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_pids(pids):
    """SIGTERM to each daemon, a bounded wait for all, then SIGKILL to the
    whole group of any still running."""
    pids = [pid for pid in pids if pid is not None and alive(pid)]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in pids:
        if alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(check, what, log):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    tail = ""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            tail = "".join(f.readlines()[-20:])
    except OSError:
        pass
    sys.stderr.write(f"postfix-peer: {what} did not come up; {log}:\n{tail}\n")
    return False


def run_daemon_command(argv, log):
    """Runs a command that starts a daemon. Its output goes to a file: a
    pipe would stay open in the daemon and never reach end of file."""
    with open(log, "a", encoding="utf-8") as out:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, check=False)
    if result.returncode == 0:
        return ""
    with open(log, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-5:]).strip() or f"exit status {result.returncode}"


def greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(4).startswith(b"220")
    except OSError:
        return False


# The queue folders `postfix set-permissions` would make (owner, group, mode);
# made here because set-permissions takes seconds.
QUEUE_LAYOUT = {
    "active": ("postfix", "root", 0o700),
    "bounce": ("postfix", "root", 0o700),
    "corrupt": ("postfix", "root", 0o700),
    "defer": ("postfix", "root", 0o700),
    "deferred": ("postfix", "root", 0o700),
    "flush": ("postfix", "root", 0o700),
    "hold": ("postfix", "root", 0o700),
    "incoming": ("postfix", "root", 0o700),
    "maildrop": ("postfix", "postdrop", 0o730),
    "pid": ("root", "root", 0o755),
    "private": ("postfix", "root", 0o700),
    "public": ("postfix", "postdrop", 0o710),
    "saved": ("postfix", "root", 0o700),
    "trace": ("postfix", "root", 0o700),
}


def make_dir(path, owner="root", group="root", mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(path, mode)


def make_queue(queue, data):
    make_dir(queue)
    for name, (owner, group, mode) in QUEUE_LAYOUT.items():
        make_dir(os.path.join(queue, name), owner, group, mode)
    make_dir(data, "postfix", "root", 0o700)
    # Skips postfix-script's integrity checks, which take seconds and only
    # check what was just made above.
    write(os.path.join(queue, "quick-start"), "")


def ensure_reachable(folder):
    """The helpers run as postfix, dovecot and nobody: every ancestor must be
    searchable by others (mkdtemp makes 0700 folders)."""
    os.chmod(folder, 0o755)
    parent = os.path.dirname(folder)
    while parent not in ("", "/"):
        if not os.stat(parent).st_mode & 0o001:
            fail(f"{parent} is not searchable by other users; Postfix and "
                 f"Dovecot helpers cannot reach {folder} (chmod o+x it)")
        parent = os.path.dirname(parent)


def dovecot_config(d, user, password):
    run = os.path.join(d, "dovecot", "run")
    passwd = os.path.join(d, "dovecot", "passwd")
    write(passwd, f"{user}:{{PLAIN}}{password}::::::\n", 0o644)
    conf = os.path.join(d, "dovecot", "dovecot.conf")
    log = os.path.join(d, "dovecot", "dovecot.log")
    write(conf, f"""\
base_dir = {run}
state_dir = {os.path.join(d, "dovecot", "state")}
log_path = {log}
info_log_path = {log}
protocols = lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
lmtp_rcpt_check_quota = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_GID} home={os.path.join(d, "mail")}/%n
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
""")
    return conf, log, run


def postfix_config(d, log, ports, user, size_limit, cert, key, lmtp_socket, auth_socket):
    conf = os.path.join(d, "postfix", "conf")
    virtual_base = os.path.join(d, "virtual")
    write(os.path.join(conf, "main.cf"), f"""\
compatibility_level = 3.6
config_directory = {conf}
queue_directory = {os.path.join(d, "postfix", "queue")}
data_directory = {os.path.join(d, "postfix", "data")}
meta_directory = /etc/postfix
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {log}
maillog_file_prefixes = {os.path.dirname(log)}
myhostname = postfix.test
mydomain = postfix.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Loopback clients may not relay either: mail for other domains is refused
# at RCPT (554 5.7.1) unless the client authenticated.
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
biff = no
readme_directory = no
notify_classes =
# Nothing leaves this machine and nothing is looked up in DNS.
default_transport = error:remote delivery is disabled in the test peer
relay_transport = error:remote delivery is disabled in the test peer
local_transport = error:local delivery is disabled in the test peer
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtputf8_enable = yes
message_size_limit = {size_limit}
virtual_mailbox_limit = 0
mailbox_size_limit = 0
virtual_mailbox_domains = {DOMAIN_LMTP} {DOMAIN_UTF8}
virtual_mailbox_base = {virtual_base}
virtual_mailbox_maps = inline:{{ {{@{DOMAIN_UTF8} = utf8/}}, {{{user}@{DOMAIN_LMTP} = lmtp}} }}
virtual_uid_maps = static:{MAIL_UID}
virtual_gid_maps = static:{MAIL_GID}
transport_maps = inline:{{ {{{DOMAIN_LMTP} = lmtp:unix:{lmtp_socket}}}, {{{DOMAIN_UTF8} = virtual:}} }}
smtpd_banner = $myhostname ESMTP
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = {auth_socket}
smtpd_sasl_auth_enable = no
""")
    submission_opts = """\
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
"""
    write(os.path.join(conf, "master.cf"), f"""\
127.0.0.1:{ports['smtp']} inet n - n - - smtpd
127.0.0.1:{ports['submission']} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
{submission_opts}127.0.0.1:{ports['submissions']} inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
{submission_opts}cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
""")
    return conf, virtual_base


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="folder to run in (made if missing)")
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="its private key (PEM)")
    ap.add_argument("--user", default="testuser")
    ap.add_argument("--password", default="test-password")
    ap.add_argument("--size-limit", type=int, default=10 * 1024 * 1024)
    args = ap.parse_args()

    for program, package in ((POSTFIX, "postfix"), (DOVECOT, "dovecot-core"),
                             ("/usr/lib/dovecot/lmtp", "dovecot-lmtpd")):
        if not os.access(program, os.X_OK):
            fail(f"{program} not found: install the Debian package {package}")
    if os.geteuid() != 0:
        fail("Postfix and Dovecot instances need root (they switch users)")

    os.setsid()
    become_subreaper()
    cert = os.path.realpath(args.cert)
    key = os.path.realpath(args.key)
    d = os.path.realpath(args.dir)
    os.makedirs(d, exist_ok=True)
    ensure_reachable(d)
    for sub in ("postfix", "postfix/conf", "dovecot", "dovecot/run", "dovecot/state"):
        make_dir(os.path.join(d, sub))
    for sub in ("mail", "virtual"):
        make_dir(os.path.join(d, sub))
        os.chown(os.path.join(d, sub), MAIL_UID, MAIL_GID)

    # Signals only set a flag here; the wait loop below acts on it.
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    dovecot_conf, dovecot_log, run = dovecot_config(d, args.user, args.password)
    lmtp_socket = os.path.join(run, "lmtp")
    auth_socket = os.path.join(run, "auth-postfix")
    dovecot_pid_file = os.path.join(run, "master.pid")
    queue = os.path.join(d, "postfix", "queue")
    postfix_log = os.path.join(d, "postfix", "maillog")
    postfix_pid_file = os.path.join(queue, "pid", "master.pid")

    # Also when fail() raises SystemExit halfway through starting.
    try:
        start_log = os.path.join(d, "start.log")
        problem = run_daemon_command([DOVECOT, "-c", dovecot_conf], start_log)
        if problem:
            fail(f"dovecot did not start: {problem}")
        if not wait_for(lambda: os.path.exists(lmtp_socket) and os.path.exists(auth_socket),
                        "Dovecot", dovecot_log):
            sys.exit(1)

        for attempt in range(START_ATTEMPTS):
            ports = {name: free_port() for name in ("smtp", "submission", "submissions")}
            if len(set(ports.values())) < len(ports):
                continue
            postfix_conf, virtual_base = postfix_config(
                d, postfix_log, ports, args.user, args.size_limit, cert, key, lmtp_socket,
                auth_socket)
            make_queue(queue, os.path.join(d, "postfix", "data"))
            problem = run_daemon_command([POSTFIX, "-c", postfix_conf, "start"], start_log)
            if not problem and wait_for(
                    lambda: all(greets(p) for p in (ports["smtp"], ports["submission"])),
                    "Postfix", postfix_log):
                break
            sys.stderr.write(f"postfix-peer: start attempt {attempt + 1} failed "
                             f"({problem}), retrying on other ports\n")
            stop_pids([read_pid(postfix_pid_file)])
        else:
            fail(f"Postfix did not start after {START_ATTEMPTS} attempts; see {postfix_log}")

        fields = {
            **ports,
            "lmtp": lmtp_socket,
            "maildir": os.path.join(d, "mail", args.user, "Maildir"),
            "utf8_maildir": os.path.join(virtual_base, "utf8"),
            "user": args.user,
            "password": args.password,
            "domain": DOMAIN_LMTP,
            "utf8_domain": DOMAIN_UTF8,
            "size_limit": args.size_limit,
            "log": postfix_log,
            "dovecot_log": dovecot_log,
        }
        print("READY " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)

        # Bounded only by the test's own lifetime: stdin closes when it ends.
        while not stop:
            try:
                readable, _, _ = select.select([sys.stdin], [], [], 1.0)
            except InterruptedError:
                continue
            if readable and not os.read(sys.stdin.fileno(), 4096):
                break
    finally:
        stop_pids([read_pid(postfix_pid_file), read_pid(dovecot_pid_file)])


if __name__ == "__main__":
    main()
