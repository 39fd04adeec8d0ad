#!/usr/bin/python3
# send-async.py: send-async.c in Python with PyGObject: a message with an
# attachment sent from a GLib main loop, with a progress line and a cancel
# timeout.
#
#   send-async.py HOST PORT FROM TO FILE [CANCEL-AFTER-SECONDS]
#
# Exit status: 0 sent, 75 cancelled or temporary failure (try again later),
# 69 refused for good, 64 usage. Needs Debian's python3-gi and the
# Mailkit-1.0 typelib (GI_TYPELIB_PATH when it is not installed in /usr).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import os
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("GObject", "2.0")
gi.require_version("Mailkit", "1.0")
from gi.repository import Gio, GLib, GObject, Mailkit  # noqa: E402

EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_TEMPFAIL = 64, 69, 75


def build_message(sender, recipient, path):
    # Built before connecting: a missing file fails here, not mid-session.
    builder = Mailkit.MessageBuilder.new()
    builder.set_from(sender)
    builder.add_to(recipient)
    builder.set_subject("The file " + os.path.basename(path))
    builder.set_text("Here is the file.\n")
    builder.add_attachment(path, None, None)
    return builder.build()


def failure_status(client, error):
    """75 when a retry may work (4xx, connection lost, timeout, cancel)."""
    reply = client.get_last_reply()
    if error.domain in (GLib.quark_to_string(Gio.io_error_quark()),
                        GLib.quark_to_string(Gio.resolver_error_quark())):
        return EXIT_TEMPFAIL
    if (error.matches(Mailkit.smtp_error_quark(), Mailkit.SmtpError.SERVER_DISCONNECTED)
            or error.matches(Mailkit.smtp_error_quark(), Mailkit.SmtpError.DELIVERY_UNKNOWN)):
        return EXIT_TEMPFAIL
    if reply is not None and reply.is_transient():
        return EXIT_TEMPFAIL
    return EXIT_UNAVAILABLE


def main(argv):
    if len(argv) not in (6, 7):
        print("usage: %s HOST PORT FROM TO FILE [CANCEL-AFTER-SECONDS]" % argv[0],
              file=sys.stderr)
        return EXIT_USAGE
    host, port, sender, recipient, path = argv[1:6]
    cancel_after = float(argv[6]) if len(argv) == 7 else 0

    try:
        message = build_message(sender, recipient, path)
    except GLib.Error as error:
        print(error.message, file=sys.stderr)
        return EXIT_USAGE

    loop = GLib.MainLoop()
    cancellable = Gio.Cancellable()
    client = Mailkit.SmtpClient.new()
    status = [EXIT_TEMPFAIL]

    # On the main loop, never from the library's worker thread.
    def on_progress(client, sent, total):
        if total:
            sys.stderr.write("\rsent %d of %d bytes (%d%%)" % (sent, total, 100 * sent // total))
        else:
            sys.stderr.write("\rsent %d bytes" % sent)

    def on_cancel_timeout():
        print("\ntaking too long: cancelling", file=sys.stderr)
        cancellable.cancel()
        return GLib.SOURCE_REMOVE

    def fail(stage, error):
        print("\n%s: %s" % (stage, error.message), file=sys.stderr)
        status[0] = failure_status(client, error)
        loop.quit()

    def on_quit(client, result):
        try:
            client.quit_finish(result)
        except GLib.Error as error:  # delivered already: only worth a note
            print("quit: " + error.message, file=sys.stderr)
        loop.quit()

    def on_sent(client, result):
        try:
            ok, refused = client.send_message_finish(result)
        except GLib.Error as error:
            fail("send", error)
            return
        print("\nsent", file=sys.stderr)
        for address, reply in (refused or {}).items():
            print("refused %s: %d %s" % (address, reply.get_code(), reply.get_text()),
                  file=sys.stderr)
        status[0] = 0
        client.quit_async(None, on_quit)

    def on_connected(client, result):
        try:
            client.connect_finish(result)
        except GLib.Error as error:
            fail("connect", error)
            return
        # None for from and to: the envelope comes from the headers.
        client.send_message_async(message, None, None, None, None, cancellable, on_sent)

    # Mailkit.SmtpClient.connect() is smtplib's connect(): signals are
    # connected with GObject.Object.connect.
    GObject.Object.connect(client, "progress", on_progress)
    timeout_id = GLib.timeout_add(int(cancel_after * 1000), on_cancel_timeout) \
        if cancel_after > 0 else 0
    client.connect_async(host, int(port), cancellable, on_connected)
    loop.run()
    if timeout_id and not cancellable.is_cancelled():
        GLib.source_remove(timeout_id)
    return status[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
