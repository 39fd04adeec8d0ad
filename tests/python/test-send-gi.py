#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sending from Python through the Mailkit-1.0 typelib, as a GLib
application written with PyGObject does: messages built with the builder
and with the email.mime mirrors, sent with sync and async calls to aiosmtpd,
and what arrived read back with Python's email package.

Run one group with `test-send-gi.py GROUP` (a TestCase class name); meson
runs each group as its own test so that one crash cannot hide the others.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkpeer import (DATA, SRCDIR, WAIT_SECONDS, Peer, SilentServer,  # noqa: E402
                    load_typelib, run_until)

GLib, Gio, GMime, GObject, Mailkit = load_typelib()

MAIN_THREAD = threading.get_ident()


def read_data(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def builder_message(attachment=None):
    """text + HTML with an inline image + a PDF (+ optional bytes), Cc and Bcc."""
    builder = Mailkit.MessageBuilder.new()
    builder.set_from("Alice <alice@example.org>")
    builder.add_to("bob@example.org")
    builder.add_cc("carol@example.org")
    builder.add_bcc("dave@example.org")
    builder.set_subject("Caf\u00e9 report")
    builder.set_text("Hello Bob,\nthe report is attached.\n")
    cid = builder.add_inline(os.path.join(DATA, "sample.png"), "logo")
    builder.set_html('<p>Hello Bob, <img src="cid:%s"></p>' % cid)
    builder.add_attachment(os.path.join(DATA, "sample.pdf"), None, None)
    if attachment is not None:
        builder.add_attachment_bytes(GLib.Bytes.new(attachment), "big.bin",
                                     "application/octet-stream")
    return builder.build()


def mirrors_message():
    """The same kind of message assembled from the email.mime mirrors and
    GMime's own calls, as a port of Python code would."""
    message = GMime.Message.new(True)
    message.add_mailbox(GMime.AddressType.FROM, "Alice", "alice@example.org")
    message.add_mailbox(GMime.AddressType.TO, "Bob", "bob@example.org")
    message.set_subject("Mirrors", "utf-8")
    outer = Mailkit.mime_multipart_new("mixed", None)
    outer.add(Mailkit.mime_text_new("Pictures attached.\n", "plain", "utf-8"))
    image = Mailkit.mime_image_new(GLib.Bytes.new(read_data("sample.jpg")), None)
    image.set_filename("sample.jpg")
    outer.add(image)
    audio = Mailkit.mime_audio_new(GLib.Bytes.new(read_data("sample.wav")), None)
    outer.add(audio)
    application = Mailkit.mime_application_new(GLib.Bytes.new(b"\x00\x01\x02binary"),
                                               "octet-stream")
    Mailkit.mime_set_parameter(application, "name", "blob.bin")
    outer.add(application)
    message.set_mime_part(outer)
    return message


def envelope_value(envelope, key):
    for line in envelope.splitlines():
        if line.startswith(key + "="):
            return line[len(key) + 1:]
    raise AssertionError("no %s in %r" % (key, envelope))


def recipients(envelope):
    return [r for r in envelope_value(envelope, "rcpt_tos").split(";") if r]


def finish_on_loop(begin, finish):
    """Start an async call with begin(callback); iterate the main loop until
    its callback ran; return finish(result) (or raise its GLib.Error)."""
    results = []

    def done(source, result, *user_data):
        results.append((threading.get_ident(), result))

    begin(done)
    run_until(lambda: results, "an async callback")
    thread, result = results[0]
    assert thread == MAIN_THREAD, "callback ran in another thread"
    return finish(result)


class Sync(unittest.TestCase):
    def setUp(self):
        self.peer = Peer()
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()
        self.client.props.local_hostname = "client.example.org"

    def test_builder_message(self):
        greeting = self.client.connect("127.0.0.1", self.peer.port, None)
        self.assertEqual(greeting.get_code(), 220)
        message = builder_message()
        ok, refused = self.client.send_message(message, None, None, None, None, None)
        self.assertTrue(ok)
        self.assertEqual(len(refused or {}), 0)
        self.assertEqual(self.client.quit(None).get_code(), 221)
        self.assertFalse(self.client.is_connected())

        [(envelope, raw, received)] = self.peer.messages()
        self.assertEqual(envelope_value(envelope, "mail_from"), "alice@example.org")
        self.assertEqual(recipients(envelope),
                         ["bob@example.org", "carol@example.org", "dave@example.org"])
        self.assertEqual(envelope_value(envelope, "helo"), "client.example.org")
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""), "a bare LF arrived")
        self.assertIsNone(received["Bcc"])
        self.assertEqual(str(received["Subject"]), "Caf\u00e9 report")
        self.assertIsNotNone(received["Date"])
        self.assertIsNotNone(received["Message-ID"])
        self.assertEqual(received.get_content_type(), "multipart/mixed")
        body = received.get_body(("plain",))
        self.assertEqual(body.get_content().replace("\r\n", "\n"),
                         "Hello Bob,\nthe report is attached.\n")
        html = received.get_body(("html",))
        self.assertIn('cid:logo', html.get_content())
        inline = [p for p in received.walk() if p.get("Content-ID") == "<logo>"]
        self.assertEqual(len(inline), 1)
        self.assertEqual(inline[0].get_content(), read_data("sample.png"))
        [pdf] = list(received.iter_attachments())
        self.assertEqual(pdf.get_filename(), "sample.pdf")
        self.assertEqual(pdf.get_content(), read_data("sample.pdf"))
        # The caller's message keeps its Bcc.
        self.assertEqual(message.get_addresses(GMime.AddressType.BCC).to_string(None, False),
                         "dave@example.org")

    def test_mirrors_message(self):
        self.client.connect("127.0.0.1", self.peer.port, None)
        ok, refused = self.client.send_message(mirrors_message(), "bounces@example.org",
                                               ["bob@example.org", "eve@example.org"],
                                               None, None, None)
        self.assertTrue(ok)
        self.client.quit(None)

        [(envelope, raw, received)] = self.peer.messages()
        # from and to given explicitly take precedence over the headers.
        self.assertEqual(envelope_value(envelope, "mail_from"), "bounces@example.org")
        self.assertEqual(recipients(envelope), ["bob@example.org", "eve@example.org"])
        parts = list(received.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "image/jpeg", "audio/x-wav", "application/octet-stream"])
        self.assertEqual(parts[0].get_content().replace("\r\n", "\n"), "Pictures attached.\n")
        self.assertEqual(parts[1].get_content(), read_data("sample.jpg"))
        self.assertEqual(parts[1].get_filename(), "sample.jpg")
        self.assertEqual(parts[2].get_content(), read_data("sample.wav"))
        self.assertEqual(parts[3].get_param("name"), "blob.bin")
        self.assertEqual(parts[3].get_content(), b"\x00\x01\x02binary")

    def test_sendmail_bytes_and_trace(self):
        lines = []

        def on_trace(client, line):
            lines.append((threading.get_ident(), line))
            return True  # handled: not printed on stderr

        self.client.connect("127.0.0.1", self.peer.port, None)
        self.client.set_debuglevel(1)
        GObject.Object.connect(self.client, "trace", on_trace)
        raw = b"From: a@example.org\nSubject: raw\n\n.leading dot\nend\n"
        ok, refused = self.client.sendmail("a@example.org", ["b@example.org"],
                                           GLib.Bytes.new(raw), None, None, None)
        self.assertTrue(ok)
        self.client.quit(None)
        self.assertTrue(any("MAIL FROM:<a@example.org>" in line for _, line in lines), lines)
        self.assertTrue(all(thread == MAIN_THREAD for thread, _ in lines))
        [(envelope, received_raw, received)] = self.peer.messages()
        self.assertEqual(received_raw, raw.replace(b"\n", b"\r\n"))


class Async(unittest.TestCase):
    def setUp(self):
        self.peer = Peer()
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()

    def test_send_message_async_with_progress(self):
        big = os.urandom(3 * 1024 * 1024)
        message = builder_message(attachment=big)
        progress = []
        # MkSmtpClient.connect() is smtplib's connect: signals are connected
        # with GObject.Object.connect.
        GObject.Object.connect(self.client, "progress", lambda c, sent, total:
                               progress.append((threading.get_ident(), sent, total)))

        greeting = finish_on_loop(
            lambda cb: self.client.connect_async("127.0.0.1", self.peer.port, None, cb),
            self.client.connect_finish)
        self.assertEqual(greeting.get_code(), 220)
        ok, refused = finish_on_loop(
            lambda cb: self.client.send_message_async(message, None, None, None, None, None, cb),
            self.client.send_message_finish)
        self.assertTrue(ok)
        self.assertEqual(len(refused or {}), 0)
        bye = finish_on_loop(lambda cb: self.client.quit_async(None, cb),
                             self.client.quit_finish)
        self.assertEqual(bye.get_code(), 221)

        # Progress: on the main thread, in order, ending at a known total.
        self.assertGreater(len(progress), 2)
        self.assertTrue(all(thread == MAIN_THREAD for thread, _, _ in progress))
        sents = [sent for _, sent, _ in progress]
        self.assertEqual(sents, sorted(sents))
        total = progress[-1][2]
        self.assertGreater(total, len(big))
        self.assertEqual(sents[-1], total)
        self.assertTrue(all(t == total for _, _, t in progress))

        [(envelope, raw, received)] = self.peer.messages()
        attachments = list(received.iter_attachments())
        self.assertEqual([a.get_filename() for a in attachments], ["sample.pdf", "big.bin"])
        self.assertEqual(attachments[1].get_content(), big)
        # What SIZE and progress counted is what went on the wire (dot-stuffing
        # aside: base64 and our text have no leading dots).
        self.assertEqual(len(raw), total)

    def test_sendmail_async_mirrors(self):
        self.client.connect("127.0.0.1", self.peer.port, None)
        data = GLib.Bytes.new(b"Subject: async\r\n\r\nbody\r\n")
        ok, refused = finish_on_loop(
            lambda cb: self.client.sendmail_async("a@example.org", ["b@example.org"], data,
                                                  None, None, None, cb),
            self.client.sendmail_finish)
        self.assertTrue(ok)
        ok, refused = finish_on_loop(
            lambda cb: self.client.send_message_async(mirrors_message(), None, None, None, None,
                                                      None, cb),
            self.client.send_message_finish)
        self.assertTrue(ok)
        self.client.quit(None)
        messages = self.peer.messages()
        self.assertEqual(len(messages), 2)
        self.assertEqual(str(messages[0][2]["Subject"]), "async")
        self.assertEqual(str(messages[1][2]["Subject"]), "Mirrors")


class Streams(unittest.TestCase):
    """A message read from a stream (docs/large-files.md): no SIZE, a
    progress total of 0, line endings made CRLF on the wire."""

    def test_sendmail_stream_async(self):
        peer = Peer()
        self.addCleanup(peer.stop)
        body = b"".join(b"line %06d of a long message\n" % i for i in range(20000))
        raw = b"From: a@example.org\nSubject: stream\n\n" + body
        directory = tempfile.mkdtemp(prefix="mk-python-stream-")
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "outgoing.eml")
        with open(path, "wb") as f:
            f.write(raw)

        client = Mailkit.SmtpClient.new()
        progress = []
        GObject.Object.connect(client, "progress", lambda c, sent, total:
                               progress.append((threading.get_ident(), sent, total)))
        client.connect("127.0.0.1", peer.port, None)
        stream = Gio.File.new_for_path(path).read(None)
        ok, refused = finish_on_loop(
            lambda cb: client.sendmail_stream_async("a@example.org", ["b@example.org"], stream,
                                                    None, None, None, cb),
            client.sendmail_stream_finish)
        self.assertTrue(ok)
        client.quit(None)

        self.assertGreater(len(progress), 1)
        self.assertTrue(all(thread == MAIN_THREAD and total == 0
                            for thread, _, total in progress), progress[:3])
        # Progress counts the caller's bytes, before CRLF and dot-stuffing.
        self.assertEqual(progress[-1][1], len(raw))
        [(envelope, received_raw, received)] = peer.messages()
        self.assertNotIn("SIZE=", envelope_value(envelope, "mail_options"))
        self.assertEqual(received_raw, raw.replace(b"\n", b"\r\n"))


class Refused(unittest.TestCase):
    """The refused table comes back as an out parameter (a dict of
    address → Mailkit.SmtpReply) on a partially refused send."""

    def setUp(self):
        self.peer = Peer("--refuse-rcpt", "nobody@example.org=550 5.1.1 No such user",
                         "--refuse-rcpt", "later@example.org=451 4.3.0 Try again later")
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()
        self.client.connect("127.0.0.1", self.peer.port, None)
        self.to = ["bob@example.org", "nobody@example.org", "later@example.org"]

    def check_refused(self, refused):
        self.assertEqual(sorted(refused), ["later@example.org", "nobody@example.org"])
        nobody = refused["nobody@example.org"]
        self.assertEqual(nobody.get_code(), 550)
        self.assertEqual(nobody.get_enhanced_code(), "5.1.1")
        self.assertEqual(nobody.get_text(), "5.1.1 No such user")
        self.assertTrue(nobody.is_permanent())
        later = refused["later@example.org"]
        self.assertEqual(later.get_code(), 451)
        self.assertTrue(later.is_transient())

    def test_sendmail(self):
        ok, refused = self.client.sendmail("a@example.org", self.to,
                                           GLib.Bytes.new(b"Subject: x\r\n\r\nx\r\n"),
                                           None, None, None)
        self.assertTrue(ok)
        self.check_refused(refused)

    def test_sendmail_async(self):
        ok, refused = finish_on_loop(
            lambda cb: self.client.sendmail_async("a@example.org", self.to,
                                                  GLib.Bytes.new(b"Subject: x\r\n\r\nx\r\n"),
                                                  None, None, None, cb),
            self.client.sendmail_finish)
        self.assertTrue(ok)
        self.check_refused(refused)

    def test_send_message(self):
        ok, refused = self.client.send_message(builder_message(), None, self.to,
                                               None, None, None)
        self.assertTrue(ok)
        self.check_refused(refused)

    def test_send_message_async(self):
        ok, refused = finish_on_loop(
            lambda cb: self.client.send_message_async(builder_message(), None, self.to, None,
                                                      None, None, cb),
            self.client.send_message_finish)
        self.assertTrue(ok)
        self.check_refused(refused)

    def tearDown(self):
        # The replies must stay valid after the next transaction and after
        # the client is gone: a double free or a use after free shows here.
        self.client.noop(None)
        self.client.quit(None)
        del self.client
        import gc
        gc.collect()
        self.assertEqual(len(self.peer.messages()), 1)
        [(envelope, raw, received)] = self.peer.messages()
        self.assertEqual(recipients(envelope), ["bob@example.org"])


class Batch(unittest.TestCase):
    """send_messages(): one Mailkit.SendResult per message, in order, over
    one pipelined connection; the results outlive the call and the client."""

    def setUp(self):
        self.peer = Peer("--pipelining",
                         "--refuse-rcpt", "nobody@example.org=550 5.1.1 No such user",
                         "--refuse-rcpt", "later@example.org=451 4.3.0 Try again later")
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()
        self.client.connect("127.0.0.1", self.peer.port, None)
        self.messages = []
        for number, to in enumerate(["bob@example.org", "nobody@example.org",
                                     "bob@example.org, later@example.org"], 1):
            builder = Mailkit.MessageBuilder.new()
            builder.set_from("alice@example.org")
            builder.add_to(to)
            builder.set_subject("message %d" % number)
            builder.set_text("This is message %d.\n" % number)
            self.messages.append(builder.build())

    def check(self, results):
        self.client.quit(None)
        del self.client
        import gc
        gc.collect()
        self.assertEqual([r.get_outcome() for r in results],
                         [Mailkit.SmtpOutcome.DELIVERED, Mailkit.SmtpOutcome.REFUSED,
                          Mailkit.SmtpOutcome.PARTIAL])
        self.assertIsNone(results[0].get_error())
        self.assertEqual(results[0].get_reply().get_code(), 250)
        self.assertTrue(results[1].get_error().matches(
            Mailkit.smtp_error_quark(), Mailkit.SmtpError.RECIPIENTS_REFUSED))
        self.assertEqual(results[1].get_reply().get_code(), 550)
        self.assertEqual(sorted(results[1].get_refused()), ["nobody@example.org"])
        later = results[2].get_refused()["later@example.org"]
        self.assertTrue(later.is_transient())
        self.assertEqual(Mailkit.SmtpOutcome.from_error(results[1].get_error(),
                                                        results[1].get_reply()),
                         Mailkit.SmtpOutcome.REFUSED)
        subjects = [received["Subject"] for _, _, received in self.peer.messages()]
        self.assertEqual(subjects, ["message 1", "message 3"])

    def test_send_messages(self):
        self.check(self.client.send_messages(self.messages, None, None))

    def test_send_messages_async(self):
        self.check(finish_on_loop(
            lambda cb: self.client.send_messages_async(self.messages, None, None, cb),
            self.client.send_messages_finish))


class Lmtp(unittest.TestCase):
    """LMTP over a unix socket: one result per recipient after the data, in
    the same refused table (docs/lmtp.md)."""

    def test_per_recipient_results(self):
        socket_dir = tempfile.mkdtemp(prefix="mk-python-lmtp-")
        path = os.path.join(socket_dir, "lmtp")
        self.addCleanup(os.rmdir, socket_dir)
        peer = Peer("--lmtp", "--unix", path,
                    "--refuse-after-data", "bob@example.org=452 4.2.2 Mailbox full")
        self.addCleanup(peer.stop)

        lmtp = Mailkit.LmtpClient.new()
        self.assertIsInstance(lmtp, Mailkit.SmtpClient)
        self.assertEqual(lmtp.connect(path, 0, None).get_code(), 220)
        ok, refused = lmtp.send_message(builder_message(), "",
                                        ["alice@example.org", "bob@example.org"],
                                        None, None, None)
        self.assertTrue(ok)
        self.assertEqual(list(refused), ["bob@example.org"])
        self.assertEqual(refused["bob@example.org"].get_code(), 452)
        self.assertTrue(refused["bob@example.org"].is_transient())
        lmtp.quit(None)

        [(envelope, raw, received)] = peer.messages()
        # aiosmtpd keeps the brackets of the null path.
        self.assertEqual(envelope_value(envelope, "mail_from"), "<>")
        self.assertEqual(envelope_value(envelope, "delivered"), "alice@example.org;")
        self.assertEqual(envelope_value(envelope, "lmtp"), "true")


class Tls(unittest.TestCase):
    """STARTTLS required, the test CA trusted, AUTH over TLS: the Python
    snippet of docs/tls-and-authentication.md."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="mk-python-certs-")
        script = os.path.join(SRCDIR, "harness", "make-test-certs.sh")
        result = subprocess.run(["bash", script, cls.certs], capture_output=True, text=True,
                                timeout=WAIT_SECONDS)
        if result.returncode != 0:
            shutil.rmtree(cls.certs)
            raise AssertionError("make-test-certs.sh failed (Debian package openssl): "
                                 + result.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs)

    def setUp(self):
        self.peer = Peer("--starttls", "--require-starttls", "--auth-required",
                         "--cert", os.path.join(self.certs, "server.pem"),
                         "--key", os.path.join(self.certs, "server-key.pem"),
                         "--user", "alice:s3cret")
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()
        self.client.props.tls_mode = Mailkit.TlsMode.STARTTLS

    def test_starttls_and_login(self):
        self.client.props.tls_ca_file = os.path.join(self.certs, "ca.pem")
        self.client.connect("localhost", self.peer.port, None)
        self.assertEqual(self.client.login("alice", "s3cret", None).get_code(), 235)
        ok, _ = self.client.send_message(builder_message(), None, None, None, None, None)
        self.assertTrue(ok)
        self.client.quit(None)
        [(envelope, raw, received)] = self.peer.messages()
        self.assertEqual(envelope_value(envelope, "tls"), "true")
        self.assertEqual(envelope_value(envelope, "auth_user"), "alice")

    def test_wrong_password(self):
        self.client.props.tls_ca_file = os.path.join(self.certs, "ca.pem")
        self.client.connect("localhost", self.peer.port, None)
        with self.assertRaises(GLib.Error) as caught:
            self.client.login("alice", "wrong", None)
        self.assertTrue(caught.exception.matches(Mailkit.smtp_error_quark(),
                                                 Mailkit.SmtpError.AUTHENTICATION))
        self.assertNotIn("wrong", caught.exception.message)
        self.assertEqual(self.client.get_last_reply().get_code(), 535)

    def test_untrusted_certificate(self):
        # The system's trust store does not know the test CA.
        self.client.connect("localhost", self.peer.port, None)
        with self.assertRaises(GLib.Error) as caught:
            self.client.login("alice", "s3cret", None)
        self.assertEqual(caught.exception.domain, GLib.quark_to_string(Gio.tls_error_quark()),
                         caught.exception)
        self.assertFalse(self.client.is_connected())
        self.assertEqual(self.peer.messages(), [])


class Errors(unittest.TestCase):
    """Errors arrive as GLib.Error, with Mailkit.SmtpError codes."""

    def setUp(self):
        self.peer = Peer("--refuse-rcpt", "nobody@example.org=550 5.1.1 No such user")
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()

    def test_all_recipients_refused(self):
        self.client.connect("127.0.0.1", self.peer.port, None)
        with self.assertRaises(GLib.Error) as caught:
            self.client.send_message(builder_message(), None, ["nobody@example.org"],
                                     None, None, None)
        error = caught.exception
        self.assertTrue(error.matches(Mailkit.smtp_error_quark(),
                                      Mailkit.SmtpError.RECIPIENTS_REFUSED), error)
        self.assertEqual(error.domain, "mk-smtp-error-quark")
        self.assertEqual(self.client.get_last_reply().get_code(), 550)
        # A refusal keeps the session: the next message goes through.
        self.assertTrue(self.client.is_connected())
        ok, _ = self.client.send_message(builder_message(), None, None, None, None, None)
        self.assertTrue(ok)
        self.client.quit(None)

    def test_all_recipients_refused_async(self):
        self.client.connect("127.0.0.1", self.peer.port, None)
        with self.assertRaises(GLib.Error) as caught:
            finish_on_loop(
                lambda cb: self.client.send_message_async(builder_message(), None,
                                                          ["nobody@example.org"], None, None,
                                                          None, cb),
                self.client.send_message_finish)
        self.assertTrue(caught.exception.matches(Mailkit.smtp_error_quark(),
                                                 Mailkit.SmtpError.RECIPIENTS_REFUSED))
        self.assertTrue(self.client.is_connected())
        self.client.quit(None)

    def test_invalid_input(self):
        self.client.connect("127.0.0.1", self.peer.port, None)
        with self.assertRaises(GLib.Error) as caught:
            self.client.sendmail("a@example.org", ["b@example.org\r\nRCPT TO:<c@example.org>"],
                                 GLib.Bytes.new(b"x\r\n"), None, None, None)
        self.assertTrue(caught.exception.matches(Mailkit.smtp_error_quark(),
                                                 Mailkit.SmtpError.INVALID))
        self.client.quit(None)
        self.assertEqual(self.peer.messages(), [])

    def test_domain_names(self):
        # What GLib.Error.domain shows to Python code, and what a GIR
        # reader sees as the enum's error domain.
        self.assertEqual(GLib.quark_to_string(Mailkit.smtp_error_quark()), "mk-smtp-error-quark")
        self.assertEqual(GLib.quark_to_string(Mailkit.mime_error_quark()), "mk-mime-error-quark")

    def test_not_connected(self):
        with self.assertRaises(GLib.Error) as caught:
            self.client.noop(None)
        self.assertTrue(caught.exception.matches(Mailkit.smtp_error_quark(),
                                                 Mailkit.SmtpError.SERVER_DISCONNECTED))

    def test_timeout(self):
        silent = SilentServer()
        self.addCleanup(silent.stop)
        self.client.props.timeout = 0.3
        with self.assertRaises(GLib.Error) as caught:
            self.client.connect("127.0.0.1", silent.port, None)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT),
                        caught.exception)
        self.assertFalse(self.client.is_connected())


class Cancel(unittest.TestCase):
    """A cancelled async call fails with G_IO_ERROR_CANCELLED and leaves the
    client closed, ready to connect again."""

    def setUp(self):
        self.client = Mailkit.SmtpClient.new()

    def test_cancel_while_connecting(self):
        silent = SilentServer()
        self.addCleanup(silent.stop)
        cancellable = Gio.Cancellable.new()
        GLib.timeout_add(100, lambda: cancellable.cancel() or GLib.SOURCE_REMOVE)
        with self.assertRaises(GLib.Error) as caught:
            finish_on_loop(
                lambda cb: self.client.connect_async("127.0.0.1", silent.port, cancellable, cb),
                self.client.connect_finish)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
                        caught.exception)
        self.assertFalse(self.client.is_connected())

    def test_cancel_during_data(self):
        peer = Peer()
        self.addCleanup(peer.stop)
        # The attachment comes from a pipe that gives nothing until the test
        # says so: the send is certainly in its data phase when cancelled.
        read_fd, write_fd = os.pipe()
        builder = Mailkit.MessageBuilder.new()
        builder.set_from("alice@example.org")
        builder.add_to("bob@example.org")
        builder.set_text("never arrives\n")
        builder.add_attachment_stream(Gio.UnixInputStream.new(read_fd, True), "pipe.bin", None)
        message = builder.build()

        cancellable = Gio.Cancellable.new()

        def on_trace(client, line):
            if line.startswith("reply: '354"):
                cancellable.cancel()
                os.close(write_fd)  # the stream ends: the worker sees the cancel
            return True

        self.client.set_debuglevel(1)
        GObject.Object.connect(self.client, "trace", on_trace)
        self.client.connect("127.0.0.1", peer.port, None)
        with self.assertRaises(GLib.Error) as caught:
            finish_on_loop(
                lambda cb: self.client.send_message_async(message, None, None, None, None,
                                                          cancellable, cb),
                self.client.send_message_finish)
        self.assertTrue(cancellable.is_cancelled(), "cancelled before DATA was answered")
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
                        caught.exception)
        self.assertFalse(self.client.is_connected())
        self.assertEqual(peer.messages(), [])

        # Closed, not broken: the same client connects and sends again.
        self.client.set_debuglevel(0)
        self.client.connect("127.0.0.1", peer.port, None)
        ok, _ = self.client.send_message(builder_message(), None, None, None, None, None)
        self.assertTrue(ok)
        self.client.quit(None)
        self.assertEqual(len(peer.messages()), 1)


class Pending(unittest.TestCase):
    """One call at a time: a second call while one is pending fails with
    G_IO_ERROR_PENDING, and the first is not disturbed."""

    def test_second_call_while_pending(self):
        peer = Peer()
        self.addCleanup(peer.stop)
        client = Mailkit.SmtpClient.new()
        client.connect("127.0.0.1", peer.port, None)
        message = builder_message(attachment=os.urandom(512 * 1024))

        results = {}

        def sent(source, result):
            try:
                results["send"] = client.send_message_finish(result)
            except GLib.Error as error:
                results["send"] = error

        def nooped(source, result):
            try:
                results["noop"] = client.noop_finish(result)
            except GLib.Error as error:
                results["noop"] = error

        client.send_message_async(message, None, None, None, None, None, sent)
        client.noop_async(None, nooped)
        with self.assertRaises(GLib.Error) as caught:
            client.rset(None)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.PENDING))
        run_until(lambda: len(results) == 2, "both callbacks")

        self.assertIsInstance(results["noop"], GLib.Error)
        self.assertTrue(results["noop"].matches(Gio.io_error_quark(), Gio.IOErrorEnum.PENDING))
        self.assertNotIsInstance(results["send"], GLib.Error, results["send"])
        self.assertTrue(results["send"][0])
        # Free again once the first call finished.
        self.assertEqual(client.noop(None).get_code(), 250)
        client.quit(None)
        self.assertEqual(len(peer.messages()), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
