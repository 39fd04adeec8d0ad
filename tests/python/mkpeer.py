# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python tests share: the typelib, the aiosmtpd peer, a server
that never speaks, and a bounded main loop.

The peer is tests/peers/aiosmtpd-peer.py, started on a free loopback port
and stopped by PID. Its stdin is a pipe held here: if the test dies, the
peer sees the end of its stdin and exits too.
"""

import email
import email.policy
import os
import socket
import subprocess
import sys
import tempfile


def load_typelib():
    """GLib, Gio, GMime, GObject and Mailkit through the typelib, or a
    failure naming what to install. (Only the tests of the typelib need it:
    the C examples are checked in builds without introspection too.)"""
    try:
        import gi

        gi.require_version("GLib", "2.0")
        gi.require_version("Gio", "2.0")
        gi.require_version("GMime", "3.0")
        gi.require_version("GObject", "2.0")
        gi.require_version("Mailkit", "1.0")
        from gi.repository import GLib, Gio, GMime, GObject, Mailkit
    except (ImportError, ValueError) as error:
        sys.exit("cannot load the Mailkit-1.0 typelib (%s): build with introspection "
                 "(Debian packages gobject-introspection, gir1.2-gmime-3.0, python3-gi) "
                 "and run with GI_TYPELIB_PATH set by meson test" % error)
    return GLib, Gio, GMime, GObject, Mailkit


SRCDIR = os.environ.get("MK_TEST_SRCDIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATA = os.path.join(SRCDIR, "..", "data")
PEER = os.path.join(SRCDIR, "peers", "aiosmtpd-peer.py")
PYTHON = os.environ.get("MK_TEST_PYTHON", "/usr/bin/python3")

# Every wait is bounded; MK_TEST_TIME_SCALE stretches the bounds on slow runs.
TIME_SCALE = float(os.environ.get("MK_TEST_TIME_SCALE", "1"))
WAIT_SECONDS = 30 * TIME_SCALE


class Peer:
    """aiosmtpd on 127.0.0.1, a free port, saving what arrives in a spool."""

    def __init__(self, *options):
        self.spool = tempfile.mkdtemp(prefix="mk-python-spool-")
        self.process = subprocess.Popen(
            [PYTHON, PEER, "--spool", self.spool, *options],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            sys.exit("aiosmtpd peer did not start (Debian package python3-aiosmtpd): %r" % line)
        where = line.split()[1]
        # A TCP port, or the path of a unix socket (--unix).
        self.port = int(where) if where.isdigit() else where

    def messages(self):
        """Each saved transaction, in order: (envelope text, email.message)."""
        found = []
        for name in sorted(os.listdir(self.spool)):
            if not name.endswith(".envelope"):
                continue
            base = os.path.join(self.spool, name[:-len(".envelope")])
            with open(base + ".envelope", encoding="utf-8") as f:
                envelope = f.read()
            with open(base + ".eml", "rb") as f:
                raw = f.read()
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            found.append((envelope, raw, parsed))
        return found

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()
        for name in os.listdir(self.spool):
            os.unlink(os.path.join(self.spool, name))
        os.rmdir(self.spool)


class SilentServer:
    """A loopback socket that accepts (in its backlog) and never answers:
    a greeting that never comes, to cancel or time out against."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(4)
        self.port = self.socket.getsockname()[1]

    def stop(self):
        self.socket.close()


def run_until(condition, what):
    """Iterate the default main context until condition() is true, failing
    after WAIT_SECONDS."""
    from gi.repository import GLib

    timed_out = []

    def on_timeout():
        timed_out.append(True)
        return GLib.SOURCE_REMOVE

    source = GLib.timeout_add(int(WAIT_SECONDS * 1000), on_timeout)
    context = GLib.MainContext.default()
    while not condition() and not timed_out:
        context.iteration(True)
    if timed_out:
        raise AssertionError("timed out waiting for " + what)
    GLib.source_remove(source)
