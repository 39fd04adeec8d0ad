#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs docs/examples/send-async (the C program, or the Python script
under Debian's python3) against aiosmtpd and checks what arrived; then
against a server that never answers, where the cancel timeout must fire.

    check-send-async-example.py PROGRAM [ARGS-BEFORE...]
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkpeer import DATA, WAIT_SECONDS, Peer, SilentServer  # noqa: E402

command = sys.argv[1:]
if not command:
    sys.exit(__doc__)
attachment = os.path.join(DATA, "sample.pdf")


def fail(what, result=None):
    if result is not None:
        what += "\nexit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout,
                                                      result.stderr)
    sys.exit("check-send-async-example: " + what)


def run(port, *extra):
    return subprocess.run(command + ["127.0.0.1", str(port), "Alice <alice@example.org>",
                                     "bob@example.org", attachment, *extra],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=WAIT_SECONDS)


# Sent: progress shown, the attachment arrives byte for byte.
peer = Peer()
try:
    result = run(peer.port, "30")
    if result.returncode != 0:
        fail("sending failed", result)
    if "sent" not in result.stderr or "(100%)" not in result.stderr:
        fail("no progress line reaching 100%", result)
    messages = peer.messages()
    if len(messages) != 1:
        fail("%d messages arrived, not 1" % len(messages))
    envelope, raw, received = messages[0]
    if "rcpt_tos=bob@example.org;" not in envelope or "mail_from=alice@example.org" not in envelope:
        fail("envelope %r" % envelope)
    if str(received["Subject"]) != "The file sample.pdf":
        fail("Subject %r" % str(received["Subject"]))
    attachments = list(received.iter_attachments())
    with open(attachment, "rb") as f:
        if [a.get_filename() for a in attachments] != ["sample.pdf"] \
                or attachments[0].get_content() != f.read():
            fail("the attachment did not arrive intact")
finally:
    peer.stop()

# The only recipient refused for good: 69, nothing delivered.
peer = Peer("--refuse-rcpt", "bob@example.org=550 5.1.1 No such user")
try:
    result = run(peer.port, "30")
    if result.returncode != 69 or "refused" not in result.stderr:
        fail("a refused recipient did not give exit 69", result)
    if peer.messages():
        fail("a message arrived for a refused recipient")
finally:
    peer.stop()

# A server that never greets: the cancel timeout ends the wait, exit 75.
silent = SilentServer()
try:
    started = time.monotonic()
    result = run(silent.port, "0.5")
    elapsed = time.monotonic() - started
    if result.returncode != 75 or "cancelling" not in result.stderr \
            or "connect:" not in result.stderr:
        fail("the cancel timeout did not end the wait with exit 75", result)
    if elapsed > WAIT_SECONDS / 2:
        fail("cancelling took %.1f s" % elapsed)
finally:
    silent.stop()

# Usage errors are told apart from failures.
result = subprocess.run(command + ["127.0.0.1"], capture_output=True, text=True,
                        timeout=WAIT_SECONDS)
if result.returncode != 64:
    fail("usage error not 64", result)
print("ok")
