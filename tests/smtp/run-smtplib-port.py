#!/usr/bin/python3
# run-smtplib-port.py: docs/examples/smtplib-port against aiosmtpd, next to
# the Python program it ports.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Starts aiosmtpd on 127.0.0.1 (a free port), feeds the same answers to the
# C port and to Python's smtplib doing the same, and checks that both
# delivered the same envelope and the same message, and that the C trace has
# smtplib's shape. Run by meson with Debian's /usr/bin/python3.
import smtplib
import socket
import subprocess
import sys

try:
    from aiosmtpd.controller import Controller
except ImportError:
    sys.exit("aiosmtpd not importable: install the Debian package python3-aiosmtpd")


class Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    program = sys.argv[1]
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        answers = "alice@example.org\nbob@example.org carol@example.org\nHello,\n.dot line\nbye\n"
        run = subprocess.run([program, "127.0.0.1:%d" % port], input=answers.encode(),
                             capture_output=True, timeout=60)
        out, err = run.stdout.decode(), run.stderr.decode()
        if run.returncode != 0:
            sys.exit("the example failed (%d):\n%s\n%s" % (run.returncode, out, err))

        lines = ["From: alice@example.org", "To: bob@example.org, carol@example.org", "",
                 "Hello,", ".dot line", "bye"]
        msg = "\r\n".join(lines)
        if "Message length is %d" % len(msg) not in out:
            sys.exit("unexpected output: %r" % out)
        server = smtplib.SMTP("127.0.0.1", port)
        server.sendmail("alice@example.org", ["bob@example.org", "carol@example.org"], msg)
        server.quit()
    finally:
        controller.stop()

    if len(handler.messages) != 2:
        sys.exit("expected 2 messages, got %d" % len(handler.messages))
    ours, theirs = handler.messages
    if ours != theirs:
        sys.exit("libmailkit delivered %r\nsmtplib delivered %r" % (ours, theirs))
    for expected in ("send: 'MAIL FROM:<alice@example.org> SIZE=",
                     "send: 'RCPT TO:<bob@example.org>\\r\\n'", "reply: retcode (250",
                     "send: 'QUIT\\r\\n'"):
        if expected not in err:
            sys.exit("the trace lacks %r:\n%s" % (expected, err))
    print("ok: the C port and smtplib delivered the same message")


main()
