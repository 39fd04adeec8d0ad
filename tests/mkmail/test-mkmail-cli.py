#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Black-box tests of the built mkmail binary.

Usage: test-mkmail-cli.py MKMAIL [unittest options]

Real peers (tests/peers/aiosmtpd-peer.py) receive what mkmail sends, and
Python's email package reads it back. A small scripted server in this file
plays what no real server does on cue: a connection lost after the final
dot, a failing QUIT, XOAUTH2, a server that stops reading during DATA.
Every server listens on loopback (a free port or a unix socket) and is
stopped by PID; no test resolves or contacts an outside name.
"""

import base64
import email
import email.policy
import os
import pty
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

MKMAIL = None
SRCDIR = os.environ.get("MK_TEST_SRCDIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PEER = os.path.join(SRCDIR, "peers", "aiosmtpd-peer.py")
MAKE_CERTS = os.path.join(SRCDIR, "harness", "make-test-certs.sh")
DATA = os.path.join(SRCDIR, "..", "data")
RUN_TIMEOUT = 60  # seconds for one mkmail run; every run ends well before
CANARY = "S3cr3t-CANARY-4f9a"
TOKEN = "ya29.CANARY-token-77c1"
FIXED_HEADERS = ["-H", "Date: Mon, 02 Nov 2026 10:00:00 +0000",
                 "-H", "Message-ID: <fixed-1@example.org>"]

CERTS = None
TMP = None


def setUpModule():
    global CERTS, TMP
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        raise RuntimeError("python3-aiosmtpd is missing: apt-get install python3-aiosmtpd")
    TMP = tempfile.TemporaryDirectory(prefix="mkmail-cli-")
    CERTS = os.path.join(TMP.name, "certs")
    subprocess.run(["bash", MAKE_CERTS, CERTS], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=RUN_TIMEOUT)


def tearDownModule():
    TMP.cleanup()


def cert(name):
    return os.path.join(CERTS, name)


def run(args, stdin=b"", env=None, timeout=RUN_TIMEOUT):
    """Runs mkmail; returns (exit code, stdout bytes, stderr text)."""
    full_env = dict(os.environ)
    full_env.setdefault("XDG_CONFIG_HOME", "/nonexistent")
    full_env.pop("EMAIL", None)
    if env:
        full_env.update(env)
    p = subprocess.run([MKMAIL] + args, input=stdin, capture_output=True, env=full_env,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def keyfile_list(value):
    items, current, i = [], "", 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            current += {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(value[i + 1], value[i + 1])
            i += 2
            continue
        if c == ";":
            items.append(current)
            current = ""
        else:
            current += c
        i += 1
    if current:
        items.append(current)
    return items


def stop_process(proc, timeout):
    """SIGTERM to a peer started with pipes, a bounded wait, SIGKILL as the
    last resort; then its pipes are closed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()


class Peer:
    """aiosmtpd-peer.py with the given options, on a free port or a socket."""

    def __init__(self, *options, unix=None):
        self.dir = tempfile.mkdtemp(dir=TMP.name)
        self.spool = os.path.join(self.dir, "spool")
        args = ["/usr/bin/python3", PEER, "--spool", self.spool] + list(options)
        if unix:
            args += ["--unix", unix]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().split()
        if not line or line[0] != "READY":
            self.stop()
            raise RuntimeError("aiosmtpd-peer.py did not start: "
                               + self.proc.stderr.read().decode(errors="replace"))
        self.port = line[1]
        self.address = f"127.0.0.1:{self.port}"

    def stop(self):
        stop_process(self.proc, 10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def received(self):
        """[(envelope dict, raw message bytes)] in the order received."""
        out = []
        if not os.path.isdir(self.spool):
            return out
        for name in sorted(os.listdir(self.spool)):
            if not name.endswith(".envelope"):
                continue
            base = os.path.join(self.spool, name[:-len(".envelope")])
            envelope = {}
            with open(base + ".envelope", encoding="utf-8") as f:
                for line in f:
                    key, sep, value = line.rstrip("\n").partition("=")
                    if sep:
                        envelope[key] = value
            for key in ("mail_options", "rcpt_tos", "delivered"):
                envelope[key] = keyfile_list(envelope.get(key, ""))
            with open(base + ".eml", "rb") as f:
                out.append((envelope, f.read()))
        return out


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(part):
    """A text part's content with the CRLF of the wire made "\n"."""
    return part.get_content().replace("\r\n", "\n")


class Scripted:
    """A scripted SMTP server for what real servers do not do on cue.

    ehlo: extension lines after the greeting line; after_data: a reply,
    'close' (the connection is lost after the final dot) or 'silent' (no
    reply until the client closes); quit: a reply or
    'close'; stall_data: after 354, stop reading until the client is gone.
    Records every byte each connection sent."""

    def __init__(self, ehlo=("PIPELINING", "8BITMIME"), after_data="250 2.0.0 queued",
                 quit="221 bye", stall_data=False, greeting="220 scripted.test ESMTP"):
        self.ehlo = list(ehlo)
        self.after_data = after_data
        self.quit = quit
        self.stall_data = stall_data
        self.greeting = greeting
        self.connections = []
        self.data_started = threading.Event()
        self.data_ended = threading.Event()
        self.done = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(RUN_TIMEOUT)
        self.sock.close()

    def serve(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            record = bytearray()
            self.connections.append(record)
            with conn:
                conn.settimeout(RUN_TIMEOUT)
                try:
                    self.session(conn, record)
                except OSError:
                    pass

    def session(self, conn, record):
        buffer = bytearray()

        def send(text):
            conn.sendall(text.encode() + b"\r\n")

        def line():
            while b"\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                record.extend(chunk)
                buffer.extend(chunk)
            end = buffer.index(b"\n") + 1
            text = bytes(buffer[:end])
            del buffer[:end]
            return text.decode("utf-8", "replace").rstrip("\r\n")

        send(self.greeting)
        while True:
            command = line()
            if command is None:
                return
            verb = command.split(" ")[0].upper()
            if verb in ("EHLO", "HELO", "LHLO"):
                lines = ["scripted.test"] + self.ehlo
                for extension in lines[:-1]:
                    send("250-" + extension)
                send("250 " + lines[-1])
            elif verb == "AUTH":
                if len(command.split(" ")) == 2:
                    send("334 ")
                    if line() is None:
                        return
                send("235 2.7.0 accepted")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                send("250 2.1.0 ok")
            elif verb == "DATA":
                send("354 go ahead")
                self.data_started.set()
                if self.stall_data:
                    while not self.done.is_set():
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        record.extend(chunk)
                        if len(record) > 64 * 1024:
                            # Stop reading: the client's writes now block.
                            self.done.wait(RUN_TIMEOUT)
                    return
                while not buffer.endswith(b"\r\n.\r\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    record.extend(chunk)
                    buffer.extend(chunk)
                buffer.clear()
                self.data_ended.set()
                if self.after_data == "close":
                    return
                if self.after_data == "silent":
                    conn.recv(1)  # until the client gives up
                    return
                send(self.after_data)
            elif verb == "QUIT":
                if self.quit != "close":
                    send(self.quit)
                return
            else:
                send("500 5.5.2 what?")


def secret_forms(user, secret):
    """The secret and the encodings a trace could leak it in."""
    b64 = lambda b: base64.b64encode(b).decode()
    forms = [secret, b64(secret.encode()), b64(f"\0{user}\0{secret}".encode()),
             b64(f"{user}\0{user}\0{secret}".encode()),
             b64(f"user={user}\1auth=Bearer {secret}\1\1".encode())]
    # base64 of the secret at any alignment inside a longer payload.
    for pad in ("", "x", "xx"):
        encoded = b64((pad + secret).encode())
        skip = {0: 0, 1: 2, 2: 3}[len(pad)]
        forms.append(encoded[skip:skip + 16])
    return forms


class MkmailTestCase(unittest.TestCase):
    def write(self, name, content, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        os.chmod(path, mode)
        return path

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=TMP.name)

    def assertExit(self, result, code):
        rc, out, err = result
        self.assertEqual(rc, code, f"exit {rc}, expected {code}; stderr:\n{err}")
        return result

    def assertNoSecret(self, text, user, secret):
        for form in secret_forms(user, secret):
            self.assertNotIn(form, text, f"a form of the secret leaked: {form!r}")


class Compose(MkmailTestCase):
    def test_every_composing_option_arrives(self):
        html = self.write("body.html", '<p>Hi <img src="cid:sample.png"></p>\n')
        body = self.write("body.txt", "Text body, caf\u00e9.\n")
        notes = os.path.join(DATA, "notes.txt")
        pdf = os.path.join(DATA, "sample.pdf")
        with Peer() as peer:
            self.assertExit(run([
                "--server", peer.address, "-f", "Alice Example <alice@example.org>",
                "-s", "Quarterly report \u2013 Q3", "-c", "carol@example.org",
                "-b", "audit@example.org", "--reply-to", "replies@example.org",
                "-H", "X-Mailer-Test: yes", "-H", "Message-ID: <one@example.org>",
                "--body", body, "--html", html, "--inline", os.path.join(DATA, "sample.png"),
                "-a", pdf, "-a", notes + ";type=text/x-notes;name=notes for Bob.txt",
                "bob@example.org"]), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(envelope["mail_from"], "alice@example.org")
        self.assertEqual(envelope["rcpt_tos"],
                         ["bob@example.org", "carol@example.org", "audit@example.org"])
        self.assertNotIn(b"\nBcc:", raw.replace(b"\r\n", b"\n"))
        m = parse(raw)
        self.assertEqual(str(m["Subject"]), "Quarterly report \u2013 Q3")
        self.assertEqual(m["From"].addresses[0].display_name, "Alice Example")
        self.assertEqual(m["From"].addresses[0].addr_spec, "alice@example.org")
        self.assertEqual(str(m["To"]), "bob@example.org")
        self.assertEqual(str(m["Cc"]), "carol@example.org")
        self.assertEqual(str(m["Reply-To"]), "replies@example.org")
        self.assertEqual(str(m["X-Mailer-Test"]), "yes")
        self.assertEqual(m.get_all("Message-ID"), ["<one@example.org>"])
        self.assertIsNone(m["Bcc"])
        self.assertEqual(m.get_content_type(), "multipart/mixed")
        self.assertEqual(text_of(m.get_body(("plain",))), "Text body, caf\u00e9.\n")
        self.assertIn("cid:sample.png", m.get_body(("html",)).get_content())
        parts = {p.get_content_type(): p for p in m.walk()}
        self.assertEqual(parts["image/png"]["Content-ID"], "<sample.png>")
        with open(os.path.join(DATA, "sample.png"), "rb") as f:
            self.assertEqual(parts["image/png"].get_payload(decode=True), f.read())
        attachments = {a.get_filename(): a for a in m.iter_attachments()}
        self.assertEqual(sorted(attachments), ["notes for Bob.txt", "sample.pdf"])
        self.assertEqual(attachments["notes for Bob.txt"].get_content_type(), "text/x-notes")
        self.assertEqual(attachments["sample.pdf"].get_content_type(), "application/pdf")
        for name, path in (("notes for Bob.txt", notes), ("sample.pdf", pdf)):
            with open(path, "rb") as f:
                self.assertEqual(attachments[name].get_payload(decode=True), f.read(), name)

    def test_body_from_stdin_and_full_name(self):
        with Peer() as peer:
            self.assertExit(run(["--server", peer.address, "-f", "bob@example.org",
                                 "-F", "Bob B\u00f6hm", "-s", "stdin", "to@example.org"],
                                stdin="line one\n.\nlast line\n".encode()), 0)
            (envelope, raw), = peer.received()
        m = parse(raw)
        self.assertEqual(m["From"].addresses[0].display_name, "Bob B\u00f6hm")
        self.assertEqual(text_of(m), "line one\n.\nlast line\n")
        self.assertNotIn(b"\xc3", raw.split(b"\r\n\r\n")[0], "raw 8-bit in a header")

    def test_bcc_recipients_get_it_without_a_header(self):
        with Peer() as peer:
            self.assertExit(run(["--server", peer.address, "-f", "a@example.org",
                                 "-b", "hidden1@example.org", "--bcc", "hidden2@example.org",
                                 "to@example.org"], stdin=b"x\n"), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(envelope["delivered"],
                         ["to@example.org", "hidden1@example.org", "hidden2@example.org"])
        self.assertNotIn(b"hidden", raw)
        self.assertIsNone(parse(raw)["Bcc"])

    def test_sender_from_EMAIL(self):
        with Peer() as peer:
            self.assertExit(run(["--server", peer.address, "to@example.org"], stdin=b"x\n",
                                env={"EMAIL": "env@example.org"}), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(envelope["mail_from"], "env@example.org")

    def test_terminal_is_told_how_to_end_the_text(self):
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([MKMAIL, "--print", "-f", "a@example.org", "b@example.org"],
                                 stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(os.environ, XDG_CONFIG_HOME="/nonexistent"))
            os.write(master, b"typed text\n\x04")
            out, err = p.communicate(timeout=RUN_TIMEOUT)
        finally:
            os.close(master)
            os.close(slave)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(b"Ctrl-D", err)
        self.assertIn(b"typed text", out)


class SendmailMode(MkmailTestCase):
    MESSAGE = ("From: Alice <alice@example.org>\n"
               "To: bob@example.org\n"
               "Cc: carol@example.org\n"
               "Bcc: secret-bcc@example.org\n"
               "Subject: -t mode\n"
               "Date: Mon, 02 Nov 2026 10:00:00 +0000\n"
               "Message-ID: <t-mode@example.org>\n"
               "MIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\n"
               "Content-Transfer-Encoding: 8bit\n"
               "\n"
               "Gr\u00fc\u00dfe aus K\u00f6ln\n"
               ".\n"
               "..two dots\n"
               "last\n").encode()

    def test_recipients_from_headers_bcc_stripped_extra_added(self):
        with Peer() as peer:
            self.assertExit(run(["-oi", "-t", "--server", peer.address, "extra@example.org"],
                                stdin=self.MESSAGE), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(envelope["mail_from"], "alice@example.org")
        self.assertEqual(envelope["rcpt_tos"], ["bob@example.org", "carol@example.org",
                                                "secret-bcc@example.org", "extra@example.org"])
        self.assertNotIn(b"secret-bcc", raw)
        self.assertEqual(raw.count(b"\n"), raw.count(b"\r\n"), "bare LF on arrival")
        m = parse(raw)
        self.assertEqual(text_of(m), "Gr\u00fc\u00dfe aus K\u00f6ln\n.\n..two dots\nlast\n")
        self.assertEqual(str(m["Subject"]), "-t mode")

    def test_cron_and_git_style_without_t(self):
        # cron: sendmail -FCronDaemon -i -B8BITMIME -oem USER; git send-email:
        # sendmail -i RECIPIENT...: the message on stdin, recipients from
        # the command line only.
        with Peer() as peer:
            self.assertExit(run(["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "--server",
                                 peer.address, "root@example.org"], stdin=self.MESSAGE), 0)
            self.assertExit(run(["-i", "--server", peer.address, "-f", "git@example.org",
                                 "one@example.org", "two@example.org"], stdin=self.MESSAGE), 0)
            received = peer.received()
        self.assertEqual([e["rcpt_tos"] for e, _ in received],
                         [["root@example.org"], ["one@example.org", "two@example.org"]])
        self.assertEqual([e["mail_from"] for e, _ in received],
                         ["alice@example.org", "git@example.org"])
        for envelope, raw in received:
            m = parse(raw)
            self.assertEqual(str(m["Subject"]), "-t mode")
            self.assertIsNone(m["Bcc"])
            self.assertNotIn(b"secret-bcc", raw)
        self.assertExit(run(["-i", "--server", "127.0.0.1:1"], stdin=self.MESSAGE), 64)

    def test_envelope_sender_options(self):
        with Peer() as peer:
            self.assertExit(run(["-t", "-fbounce@example.org", "--server", peer.address],
                                stdin=self.MESSAGE), 0)
            self.assertExit(run(["-t", "-r", "other@example.org", "--server", peer.address],
                                stdin=self.MESSAGE.replace(b"From: Alice <alice@example.org>\n",
                                                           b"From: Alice <alice@example.org>\n"
                                                           b"Sender: sec@example.org\n")), 0)
            self.assertExit(run(["-t", "--server", peer.address],
                                stdin=b"Sender: sec@example.org\n" + self.MESSAGE), 0)
            received = peer.received()
        self.assertEqual([e["mail_from"] for e, _ in received],
                         ["bounce@example.org", "other@example.org", "sec@example.org"])

    def test_print_of_a_multipart_message_equals_what_arrives(self):
        message = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: mp\r\n"
                   b"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mp@example.org>\r\n"
                   b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BOUND\"\r\n"
                   b"\r\n--BOUND\r\nContent-Type: text/plain\r\n\r\nhello\r\n.\r\n"
                   b"--BOUND\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--BOUND--\r\n")
        rc, printed, err = self.assertExit(run(["-t", "--print"], stdin=message), 0)
        with Peer() as peer:
            self.assertExit(run(["-t", "--server", peer.address], stdin=message), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(printed, raw)


class Print(MkmailTestCase):
    def test_print_equals_what_the_server_receives(self):
        args = ["-f", "a@example.org", "-s", "Reproducible", "-b", "hidden@example.org",
                "to@example.org"] + FIXED_HEADERS
        body = b"first\nsecond line\r\n.\n"
        rc, printed, err = self.assertExit(run(["--print"] + args, stdin=body), 0)
        self.assertEqual(printed.count(b"\n"), printed.count(b"\r\n"), "--print is not CRLF")
        self.assertNotIn(b"hidden", printed)
        with Peer() as peer:
            self.assertExit(run(["--server", peer.address] + args, stdin=body), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(printed, raw)

    def test_dry_run_shows_the_envelope_and_sends_nothing(self):
        with Scripted() as server:
            rc, out, err = self.assertExit(run(
                ["--dry-run", "--server", server.address, "-f", "Al <al@example.org>",
                 "-c", "c@example.org", "-b", "h@example.org", "to@example.org"]
                + FIXED_HEADERS, stdin=b"x\n"), 0)
            time.sleep(0.3)
            self.assertEqual(server.connections, [])
        head = out.split(b"\n\n")[0].decode()
        self.assertIn("Envelope-From: <al@example.org>", head)
        self.assertIn("Envelope-To: to@example.org, c@example.org, h@example.org", head)


class Accounts(MkmailTestCase):
    def config(self, text, mode=0o600):
        os.makedirs(os.path.join(self.dir, "mkmail"), exist_ok=True)
        path = os.path.join(self.dir, "mkmail", "config")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return {"XDG_CONFIG_HOME": self.dir}

    def test_default_and_named_accounts(self):
        password = self.write("pw", "pw-of-u\n", 0o600)
        with Peer("--starttls", "--cert", cert("server.pem"), "--key", cert("server-key.pem"),
                  "--user", "u:pw-of-u") as peer, Peer() as plain:
            env = self.config(
                "[mkmail]\ndefault=work\n\n"
                f"[work]\nserver=127.0.0.1\nport={peer.port}\ncafile={cert('ca.pem')}\n"
                f"user=u\npassword-file={password}\nfrom=Worker <worker@example.org>\n"
                "helo=client.example.org\ntimeout=20\n\n"
                f"[plain]\nserver={plain.address}\nfrom=plain@example.org\n")
            self.assertExit(run(["to@example.org"], stdin=b"x\n", env=env), 0)
            self.assertExit(run(["--account", "plain", "to@example.org"], stdin=b"y\n",
                                env=env), 0)
            (envelope, raw), = peer.received()
            (plain_envelope, plain_raw), = plain.received()
        self.assertEqual(envelope["mail_from"], "worker@example.org")
        self.assertEqual(envelope["auth_user"], "u")
        self.assertEqual(envelope["tls"], "true")
        self.assertEqual(envelope["helo"], "client.example.org")
        self.assertEqual(parse(raw)["From"].addresses[0].display_name, "Worker")
        self.assertEqual(plain_envelope["mail_from"], "plain@example.org")

    def test_password_in_a_private_file_is_used(self):
        with Peer("--starttls", "--cert", cert("server.pem"), "--key", cert("server-key.pem"),
                  "--user", "u:" + CANARY) as peer:
            env = self.config(f"[a]\nserver={peer.address}\ncafile={cert('ca.pem')}\n"
                              f"user=u\npassword={CANARY}\nfrom=a@example.org\n")
            rc, out, err = self.assertExit(run(["--account", "a", "--debug", "to@example.org"],
                                               stdin=b"x\n", env=env), 0)
            self.assertEqual(len(peer.received()), 1)
        self.assertNoSecret(err, "u", CANARY)

    def test_readable_password_file_is_refused(self):
        env = self.config("[a]\nserver=127.0.0.1:1\nuser=u\npassword=" + CANARY + "\n", 0o644)
        rc, out, err = self.assertExit(run(["--account", "a", "-f", "a@example.org",
                                            "to@example.org"], stdin=b"x\n", env=env), 78)
        self.assertIn("chmod 600", err)
        self.assertNotIn(CANARY, err)

    def test_bad_configurations_are_78(self):
        for text, account in (("[a]\nserver=x\nsrever=typo\n", "a"),
                              ("[a]\nserver=x\n", "nosuch"),
                              ("[mkmail]\ndefault=gone\n", None),
                              ("[a]\nport=eighty\n", "a"),
                              ("not a key file\n", "a")):
            with self.subTest(config=text):
                env = self.config(text)
                args = ["-f", "a@example.org", "to@example.org"]
                if account:
                    args = ["--account", account] + args
                self.assertExit(run(args, stdin=b"x\n", env=env), 78)

    def test_failing_password_command_is_78(self):
        rc, out, err = self.assertExit(run(["--server", "127.0.0.1:1", "--user", "u",
                                            "--password-command", "exit 3",
                                            "-f", "a@example.org", "to@example.org"],
                                           stdin=b"x\n"), 78)


class TlsAndAuth(MkmailTestCase):
    def tls_peer(self, certificate="server", *extra):
        return Peer("--starttls", "--cert", cert(certificate + ".pem"),
                    "--key", cert(certificate + "-key.pem"), "--user", "u:" + CANARY, *extra)

    def test_starttls_and_auth_with_the_test_ca(self):
        password = self.write("pw", CANARY + "\n", 0o600)
        for mechanism in ("PLAIN", "LOGIN", None):
            with self.subTest(mechanism=mechanism), self.tls_peer() as peer:
                args = ["--debug", "--server", peer.address, "--cafile", cert("ca.pem"),
                        "--user", "u", "--password-file", password, "-f", "a@example.org",
                        "to@example.org"]
                if mechanism:
                    args = ["--auth", mechanism] + args
                rc, out, err = self.assertExit(run(args, stdin=b"x\n"), 0)
                (envelope, raw), = peer.received()
                self.assertEqual(envelope["tls"], "true")
                self.assertEqual(envelope["auth_user"], "u")
                self.assertIn("AUTH " + (mechanism or "PLAIN"), err)
                self.assertNoSecret(err, "u", CANARY)

    def test_password_command(self):
        with self.tls_peer() as peer:
            rc, out, err = self.assertExit(run([
                "--server", peer.address, "--cafile", cert("ca.pem"), "--user", "u",
                "--password-command", f"printf '%s\\n' '{CANARY}'", "--debug",
                "-f", "a@example.org", "to@example.org"], stdin=b"x\n"), 0)
            self.assertEqual(len(peer.received()), 1)
        self.assertNoSecret(err, "u", CANARY)

    def test_implicit_tls(self):
        with Peer("--implicit-tls", "--cert", cert("server.pem"),
                  "--key", cert("server-key.pem")) as peer:
            self.assertExit(run(["--tls=implicit", "--server", peer.address, "--cafile",
                                 cert("ca.pem"), "-f", "a@example.org", "to@example.org"],
                                stdin=b"x\n"), 0)
            (envelope, raw), = peer.received()
        self.assertEqual(envelope["tls"], "true")

    def test_xoauth2_token_is_not_shown(self):
        with Scripted(ehlo=("AUTH XOAUTH2 PLAIN",)) as server:
            rc, out, err = self.assertExit(run([
                "--debug", "--tls=none", "--server", server.address, "--user", "u@example.org",
                "--oauth2-token-command", f"echo {TOKEN}", "-f", "a@example.org",
                "to@example.org"], stdin=b"x\n"), 0)
            wire = bytes(server.connections[0]).decode()
        self.assertIn("AUTH XOAUTH2", wire)
        expected = base64.b64encode(f"user=u@example.org\1auth=Bearer {TOKEN}\1\1".encode())
        self.assertIn(expected.decode(), wire, "the token did not reach the server")
        self.assertIn("AUTH XOAUTH2", err)
        self.assertNoSecret(err, "u@example.org", TOKEN)

    def test_no_secret_in_stderr_when_authentication_fails(self):
        password = self.write("pw", CANARY + "-wrong\n", 0o600)
        for mechanism in ("PLAIN", "LOGIN"):
            with self.subTest(mechanism=mechanism), self.tls_peer() as peer:
                rc, out, err = self.assertExit(run([
                    "--debug", "--auth", mechanism, "--server", peer.address, "--cafile",
                    cert("ca.pem"), "--user", "u", "--password-file", password,
                    "-f", "a@example.org", "to@example.org"], stdin=b"x\n"), 77)
                self.assertEqual(peer.received(), [])
                self.assertIn("535", err)
                self.assertNoSecret(err, "u", CANARY + "-wrong")


class ExitCodes(MkmailTestCase):
    def send(self, server, *recipients, extra=(), stdin=b"x\n"):
        return run(["--server", server, "-f", "a@example.org"] + list(extra) + list(recipients),
                   stdin=stdin)

    def test_refused_recipient_is_69_and_named(self):
        with Peer("--refuse-rcpt", "bad@example.org=550 5.1.1 No such user") as peer:
            rc, out, err = self.assertExit(self.send(peer.address, "bad@example.org"), 69)
            self.assertEqual(peer.received(), [])
        self.assertIn("bad@example.org", err)
        self.assertIn("550", err)
        self.assertIn("No such user", err)

    def test_temporary_refusal_is_75(self):
        with Peer("--refuse-rcpt", "busy@example.org=451 4.3.0 Try later") as peer:
            rc, out, err = self.assertExit(self.send(peer.address, "busy@example.org"), 75)
        self.assertIn("451", err)

    def test_partial_delivery(self):
        with Peer("--refuse-rcpt", "bad@example.org=550 5.1.1 No such user",
                  "--refuse-rcpt", "busy@example.org=452 4.2.2 Mailbox full") as peer:
            rc, out, err = self.assertExit(self.send(peer.address, "ok@example.org",
                                                     "bad@example.org"), 69)
            self.assertIn("bad@example.org", err)
            self.assertExit(self.send(peer.address, "ok@example.org", "bad@example.org",
                                      "busy@example.org"), 75)
            rc, out, err = self.assertExit(self.send(peer.address, "ok@example.org",
                                                     "bad@example.org",
                                                     extra=["--allow-partial"]), 0)
            self.assertIn("bad@example.org", err)
            self.assertEqual([e["delivered"] for e, _ in peer.received()],
                             [["ok@example.org"]] * 3)

    def test_lmtp_unix_socket_and_refusal_after_data(self):
        path = os.path.join(self.dir, "lmtp.sock")
        with Peer("--lmtp", "--refuse-after-data", "full@example.org=452 4.2.2 Over quota",
                  unix=path) as peer:
            self.assertExit(run(["--lmtp", path, "-f", "a@example.org", "one@example.org"],
                                stdin=b"x\n"), 0)
            rc, out, err = self.assertExit(run(["--lmtp", path, "-f", "a@example.org",
                                                "two@example.org", "full@example.org"],
                                               stdin=b"x\n"), 75)
            received = peer.received()
        self.assertIn("full@example.org", err)
        self.assertIn("Over quota", err)
        self.assertEqual([e["delivered"] for e, _ in received],
                         [["one@example.org"], ["two@example.org"]])
        self.assertEqual(received[0][0]["lmtp"], "true")

    def test_server_down_is_75(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nobody listens there now
        rc, out, err = self.assertExit(self.send(f"127.0.0.1:{port}", "to@example.org"), 75)
        self.assertIn("try again", err)

    def test_bad_certificates_are_77(self):
        for certificate in ("wrong-host", "self-signed", "expired", "unknown-ca"):
            with self.subTest(certificate=certificate), Peer(
                    "--starttls", "--cert", cert(certificate + ".pem"),
                    "--key", cert(certificate + "-key.pem")) as peer:
                self.assertExit(self.send(peer.address, "to@example.org",
                                          extra=["--tls=starttls", "--cafile", cert("ca.pem")]),
                                77)
                self.assertEqual(peer.received(), [])

    def test_insecure_skip_verify_is_loud(self):
        with Peer("--starttls", "--cert", cert("self-signed.pem"),
                  "--key", cert("self-signed-key.pem")) as peer:
            rc, out, err = self.assertExit(self.send(
                peer.address, "to@example.org",
                extra=["--tls=starttls", "--insecure-skip-verify"]), 0)
        self.assertIn("WARNING", err)

    def test_starttls_required_but_not_offered_is_77(self):
        password = self.write("pw", CANARY + "\n", 0o600)
        with Scripted(ehlo=("AUTH PLAIN LOGIN",)) as server:
            rc, out, err = self.assertExit(self.send(
                server.address, "to@example.org",
                extra=["--user", "u", "--password-file", password]), 77)
            wire = b"".join(server.connections).decode()
        self.assertIn("EHLO", wire)
        self.assertNotIn("AUTH", wire)
        self.assertNotIn("MAIL", wire)
        self.assertNoSecret(wire, "u", CANARY)
        with Scripted() as server:
            self.assertExit(self.send(server.address, "to@example.org",
                                      extra=["--tls=starttls"]), 77)
            self.assertNotIn("MAIL", b"".join(server.connections).decode())

    def test_missing_attachment_is_66_before_connecting(self):
        with Scripted() as server:
            for path in (os.path.join(self.dir, "missing.pdf"), self.dir):
                with self.subTest(path=path):
                    rc, out, err = self.assertExit(self.send(server.address, "to@example.org",
                                                             extra=["-a", path]), 66)
                    self.assertIn(os.path.basename(path), err)
            self.assertExit(self.send(server.address, "to@example.org",
                                      extra=["--body", os.path.join(self.dir, "nobody.txt")]),
                            66)
            time.sleep(0.3)
            self.assertEqual(server.connections, [])

    def test_usage_errors_are_64(self):
        for args in (["--no-such-option"], ["--password", CANARY, "to@example.org"],
                     ["--password=" + CANARY, "to@example.org"], ["-f", "a@example.org"],
                     ["--tls=maybe", "-f", "a@example.org", "to@example.org"],
                     ["--port", "70000", "-f", "a@example.org", "to@example.org"],
                     ["--dsn-notify=sometimes", "-f", "a@example.org", "to@example.org"],
                     ["-t", "-s", "subject"]):
            with self.subTest(args=args):
                rc, out, err = self.assertExit(run(args, stdin=b"x\n"), 64)
                self.assertNotIn(CANARY, err)
                self.assertEqual(out, b"")

    def test_invalid_address_is_65(self):
        self.assertExit(run(["--print", "-f", "a@example.org", "not an address@"],
                            stdin=b"x\n"), 65)
        self.assertExit(run(["--print", "-f", "a@example.org", "-H", "Bad Name: x",
                             "to@example.org"], stdin=b"x\n"), 65)

    def test_unknown_host_is_68(self):
        # A 64-octet label is not a valid DNS name: the resolver fails
        # without sending a query, so nothing leaves the machine.
        host = "a" * 64 + ".invalid"
        rc, out, err = self.assertExit(self.send(host, "to@example.org"), 68)
        self.assertIn("server name", err)

    def test_extension_not_supported_is_69(self):
        with Peer() as peer:  # aiosmtpd offers no DSN
            self.assertExit(self.send(peer.address, "to@example.org",
                                      extra=["--dsn-notify=success,failure"]), 69)
            self.assertEqual(peer.received(), [])

    def test_delivery_unknown_is_75_with_its_own_message(self):
        with Scripted(after_data="close") as server:
            rc, out, err = self.assertExit(self.send(server.address, "to@example.org"), 75)
            self.assertTrue(bytes(server.connections[0]).endswith(b"\r\n.\r\n"))
        self.assertIn("may have accepted", err)
        self.assertIn("twice", err)
        self.assertNotIn("nothing was delivered", err)

    def test_quit_failure_after_250_is_success(self):
        for quit in ("close", "421 4.3.2 shutting down", "500 what"):
            with self.subTest(quit=quit), Scripted(quit=quit) as server:
                self.assertExit(self.send(server.address, "to@example.org"), 0)
                self.assertIn(b"\r\n.\r\n", bytes(server.connections[0]))

    def test_silent_server_times_out_with_75(self):
        with Scripted(greeting="220-first line of a greeting that never ends") as server:
            start = time.monotonic()
            self.assertExit(self.send(server.address, "to@example.org",
                                      extra=["--timeout", "1"]), 75)
            self.assertLess(time.monotonic() - start, 20)

    def test_protocol_error_is_76_and_server_text_is_sanitised(self):
        with Scripted(greeting="22x \x1b[31mred\x1b[0m") as server:
            rc, out, err = self.assertExit(self.send(server.address, "to@example.org"), 76)
        self.assertNotIn("\x1b", err)
        with Scripted(greeting="554 5.3.2 \x1b[2Jgo away") as server:
            rc, out, err = self.assertExit(self.send(server.address, "to@example.org"), 69)
        self.assertNotIn("\x1b", err)
        self.assertIn("go away", err)


class Signals(MkmailTestCase):
    def test_sigint_during_data_does_not_deliver(self):
        big = self.write("big.bin", os.urandom(24 * 1024 * 1024))
        with Scripted(stall_data=True) as server:
            p = subprocess.Popen([MKMAIL, "--server", server.address, "-f", "a@example.org",
                                  "-a", big, "to@example.org"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(os.environ, XDG_CONFIG_HOME="/nonexistent"))
            try:
                self.assertTrue(server.data_started.wait(RUN_TIMEOUT), "DATA never started")
                time.sleep(0.5)
                self.assertIsNone(p.poll(), "mkmail did not wait for the server")
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=RUN_TIMEOUT)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
                server.done.set()
            self.assertFalse(bytes(server.connections[0]).endswith(b"\r\n.\r\n"))
        self.assertGreater(p.returncode, 0, "killed by a signal, or success")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"interrupted", err)
        self.assertIn(b"nothing was delivered", err)


    def test_sigint_while_waiting_for_the_final_reply_is_delivery_unknown(self):
        with Scripted(after_data="silent") as server:
            p = subprocess.Popen([MKMAIL, "--server", server.address, "-f", "a@example.org",
                                  "to@example.org"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(os.environ, XDG_CONFIG_HOME="/nonexistent"))
            try:
                p.stdin.write(b"x\n")
                p.stdin.close()
                self.assertTrue(server.data_ended.wait(RUN_TIMEOUT), "the data never ended")
                time.sleep(0.3)
                p.send_signal(signal.SIGINT)
                err = p.stderr.read()
                p.wait(RUN_TIMEOUT)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()
                p.stderr.close()
        self.assertEqual(p.returncode, 75, err)
        self.assertIn(b"may have accepted", err)
        self.assertNotIn(b"nothing was delivered", err)


class Progress(MkmailTestCase):
    def run_with_stderr(self, stderr, big, server):
        p = subprocess.Popen([MKMAIL, "--server", server.address, "-f", "a@example.org",
                              "-a", big, "to@example.org"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=stderr,
                             env=dict(os.environ, XDG_CONFIG_HOME="/nonexistent"))
        return p.wait(RUN_TIMEOUT)

    def test_progress_bar_only_on_a_terminal(self):
        big = self.write("big.bin", os.urandom(6 * 1024 * 1024))
        master, slave = pty.openpty()
        shown = bytearray()

        def read_terminal():  # so that mkmail never blocks on a full terminal
            try:
                while True:
                    chunk = os.read(master, 65536)
                    if not chunk:
                        return
                    shown.extend(chunk)
            except OSError:
                pass  # EIO: the other end is closed and everything was read

        reader = threading.Thread(target=read_terminal, daemon=True)
        reader.start()
        try:
            with Scripted() as server:
                self.assertEqual(self.run_with_stderr(slave, big, server), 0)
        finally:
            os.close(slave)
            reader.join(RUN_TIMEOUT)
            os.close(master)
        self.assertIn(b"100%", shown)
        self.assertIn(b"MiB/s", shown)
        with open(os.path.join(self.dir, "stderr"), "w+b") as f, Scripted() as server:
            self.assertEqual(self.run_with_stderr(f, big, server), 0)
            f.seek(0)
            self.assertEqual(f.read(), b"")


class PostfixPeer:
    """tests/peers/postfix-peer.py: a private Postfix smtpd with Dovecot
    (DSN, CHUNKING, STARTTLS); mail for testuser@example.test lands in a
    Maildir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(dir=TMP.name)
        # Postfix's and Dovecot's helpers (other users) must reach the
        # folder: searchable, not listable.
        for folder in (TMP.name, self.dir):
            os.chmod(folder, 0o711)
        script = os.path.join(SRCDIR, "peers", "postfix-peer.py")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", script, "--dir", os.path.join(self.dir, "peer"),
             "--cert", cert("server.pem"), "--key", cert("server-key.pem")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().split()
        if not line or line[0] != "READY":
            self.proc.stdin.close()
            problem = self.proc.stderr.read().decode(errors="replace")
            self.stop()
            raise RuntimeError("postfix-peer.py did not start (apt-get install postfix "
                               "dovecot-core dovecot-lmtpd): " + problem)
        self.fields = dict(field.split("=", 1) for field in line[1:])
        self.address = "127.0.0.1:" + self.fields["smtp"]
        self.user = self.fields["user"] + "@" + self.fields["domain"]

    def stop(self):
        # Postfix and Dovecot take a few seconds to stop.
        stop_process(self.proc, 30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def wait_messages(self, count, timeout=20):
        """The raw messages in the Maildir once there are count (Postfix
        delivers after its 250), or what is there at the deadline."""
        new = os.path.join(self.fields["maildir"], "new")
        deadline = time.monotonic() + timeout
        while True:
            names = sorted(os.listdir(new)) if os.path.isdir(new) else []
            if len(names) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        out = []
        for name in names:
            with open(os.path.join(new, name), "rb") as f:
                out.append(f.read())
        return out


class Dsn(MkmailTestCase):
    """--dsn-notify, --dsn-return, --dsn-envid and --require-tls."""

    DSN_OPTIONS = ["--dsn-notify=success,failure", "--dsn-return=headers",
                   "--dsn-envid=id 1+2=3"]

    def send(self, server, *recipients, extra=()):
        return run(["--server", server, "-f", "a@example.org"] + list(extra) + list(recipients),
                   stdin=b"x\n")

    def test_parameters_on_the_wire(self):
        with Scripted(ehlo=("PIPELINING", "DSN")) as server:
            self.assertExit(self.send(server.address, "to@example.org", "cc@example.org",
                                      extra=self.DSN_OPTIONS), 0)
            record = bytes(server.connections[0])
        self.assertIn(b"MAIL FROM:<a@example.org> RET=HDRS ENVID=id+201+2B2+3D3\r\n", record)
        self.assertIn(b"RCPT TO:<to@example.org> NOTIFY=SUCCESS,FAILURE\r\n", record)
        self.assertIn(b"RCPT TO:<cc@example.org> NOTIFY=SUCCESS,FAILURE\r\n", record)

    def test_never_alone(self):
        with Scripted(ehlo=("DSN",)) as server:
            self.assertExit(self.send(server.address, "to@example.org",
                                      extra=["--dsn-notify=NEVER"]), 0)
            record = bytes(server.connections[0])
        self.assertIn(b"RCPT TO:<to@example.org> NOTIFY=NEVER\r\n", record)
        self.assertIn(b"MAIL FROM:<a@example.org>\r\n", record)

    def test_bad_values_are_64_before_connecting(self):
        with Scripted(ehlo=("DSN",)) as server:
            for extra in (["--dsn-notify=never,success"], ["--dsn-return=body"],
                          ["--dsn-envid=" + "x" * 101], ["--dsn-envid=line\nbreak"],
                          ["--dsn-envid="]):
                with self.subTest(extra=extra):
                    self.assertExit(self.send(server.address, "to@example.org", extra=extra), 64)
            time.sleep(0.3)
            self.assertEqual(server.connections, [])

    def test_not_offered_is_69_and_nothing_sent(self):
        # aiosmtpd offers no DSN: asked for explicitly, nothing goes.
        with Peer() as peer:
            for option in self.DSN_OPTIONS:
                with self.subTest(option=option):
                    rc, out, err = self.assertExit(
                        self.send(peer.address, "to@example.org", extra=[option]), 69)
                    self.assertIn("DSN", err)
            self.assertEqual(peer.received(), [])
            self.assertExit(self.send(peer.address, "to@example.org"), 0)
            [(envelope, raw)] = peer.received()
            self.assertEqual([o for o in envelope["mail_options"]
                              if o.split("=")[0] in ("RET", "ENVID")], [])

    def test_require_tls_is_69_when_not_possible(self):
        # Advertised over plaintext: refused before MAIL.
        with Scripted(ehlo=("REQUIRETLS",)) as server:
            rc, out, err = self.assertExit(
                self.send(server.address, "to@example.org",
                          extra=["--require-tls", "--tls=none"]), 69)
            self.assertIn("REQUIRETLS", err)
            self.assertNotIn(b"MAIL FROM", bytes(server.connections[0]))
        # Over STARTTLS, not offered (aiosmtpd): refused too.
        with Peer("--starttls", "--cert", cert("server.pem"), "--key",
                  cert("server-key.pem")) as peer:
            rc, out, err = self.assertExit(
                self.send(peer.address, "to@example.org",
                          extra=["--require-tls", "--cafile", cert("ca.pem")]), 69)
            self.assertIn("does not offer", err)
            self.assertEqual(peer.received(), [])

    def test_postfix_honours_the_request(self):
        # Postfix offers DSN: the message is delivered, and the success
        # notification asked for comes back to the sender with the
        # envelope identifier and only the headers (RET=HDRS).
        with PostfixPeer() as postfix:
            self.assertExit(run(["--server", postfix.address, "--cafile", cert("ca.pem"),
                                 "-f", postfix.user, "-s", "cli dsn"] + self.DSN_OPTIONS
                                + [postfix.user], stdin=b"body text\n"), 0)
            messages = postfix.wait_messages(2)
            rc, out, err = self.assertExit(
                run(["--server", postfix.address, "--cafile", cert("ca.pem"), "-f", postfix.user,
                     "--require-tls", postfix.user], stdin=b"x\n"), 69)
            self.assertIn("REQUIRETLS", err)
            self.assertEqual(len(postfix.wait_messages(3, timeout=1)), 2)
        self.assertEqual(len(messages), 2)
        reports = [m for m in messages if b"report-type=delivery-status" in m]
        self.assertEqual(len(reports), 1)
        self.assertIn(b"Original-Envelope-Id: id 1+2=3\n", reports[0])
        self.assertIn(b"text/rfc822-headers", reports[0])
        self.assertNotIn(b"body text", reports[0])


class Help(MkmailTestCase):
    def test_help_and_version(self):
        rc, out, err = self.assertExit(run(["--help"]), 0)
        text = out.decode()
        for option in ("--subject", "--attach", "--server", "--tls", "--password-file",
                       "--account", "--print", "--allow-partial", "--dsn-notify", "--dsn-return",
                       "--dsn-envid", "--require-tls", "Exit status"):
            self.assertIn(option, text)
        self.assertNotIn("--password=", text)
        rc, out, err = self.assertExit(run(["--version"]), 0)
        self.assertRegex(out.decode(), r"^mkmail \d+\.\d+\.\d+")


if __name__ == "__main__":
    MKMAIL = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
