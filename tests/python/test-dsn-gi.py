#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Delivery status notifications set on an envelope from Python through the
Mailkit-1.0 typelib: the flags and enum types, errors as GLib.Error, copies,
and send_message_full to aiosmtpd (which offers no DSN: the settings are
dropped unless required)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkpeer import Peer, load_typelib, run_until  # noqa: E402

GLib, Gio, GMime, GObject, Mailkit = load_typelib()


def message():
    builder = Mailkit.MessageBuilder.new()
    builder.set_from("alice@example.org")
    builder.add_to("bob@example.org")
    builder.set_subject("DSN from Python")
    builder.set_text("Hello.\n")
    return builder.build()


class Envelope(unittest.TestCase):
    def setUp(self):
        self.envelope = Mailkit.Envelope.new("alice@example.org")
        self.envelope.add_recipient("bob@example.org")

    def test_settings_round_trip(self):
        e = self.envelope
        e.set_dsn_notify(None, Mailkit.DsnNotify.SUCCESS | Mailkit.DsnNotify.FAILURE)
        e.set_dsn_notify("bob@EXAMPLE.org", Mailkit.DsnNotify.DELAY)
        e.set_dsn_orcpt("bob@example.org", "robert@example.org")
        e.set_dsn_envid("py 1+2=3")
        e.set_dsn_return(Mailkit.DsnReturn.HEADERS)
        e.set_dsn_required(True)
        e.set_require_tls(True)
        self.assertEqual(e.get_dsn_notify(None),
                         Mailkit.DsnNotify.SUCCESS | Mailkit.DsnNotify.FAILURE)
        self.assertEqual(e.get_dsn_notify("bob@example.org"), Mailkit.DsnNotify.DELAY)
        self.assertEqual(e.get_dsn_orcpt("bob@example.org"), "robert@example.org")
        self.assertEqual(e.get_dsn_envid(), "py 1+2=3")
        self.assertEqual(e.get_dsn_return(), Mailkit.DsnReturn.HEADERS)
        self.assertTrue(e.get_dsn_required())
        self.assertTrue(e.get_require_tls())
        copy = e.copy()
        self.assertEqual(copy.get_dsn_notify("bob@example.org"), Mailkit.DsnNotify.DELAY)
        self.assertEqual(copy.get_dsn_envid(), "py 1+2=3")
        self.assertTrue(copy.get_require_tls())

    def test_invalid_settings_raise(self):
        cases = [
            lambda: self.envelope.set_dsn_notify(
                None, Mailkit.DsnNotify.NEVER | Mailkit.DsnNotify.SUCCESS),
            lambda: self.envelope.set_dsn_notify("carol@example.org", Mailkit.DsnNotify.SUCCESS),
            lambda: self.envelope.set_dsn_orcpt("bob@example.org", "x@example.org\r\nDATA"),
            lambda: self.envelope.set_dsn_envid("id\nRSET"),
            lambda: self.envelope.set_dsn_envid("x" * 101),
        ]
        for case in cases:
            with self.assertRaises(GLib.Error) as caught:
                case()
            self.assertTrue(caught.exception.matches(Mailkit.smtp_error_quark(),
                                                     Mailkit.SmtpError.INVALID))
        self.assertEqual(self.envelope.get_dsn_notify(None), Mailkit.DsnNotify.DEFAULT)
        self.assertIsNone(self.envelope.get_dsn_envid())


class SendFull(unittest.TestCase):
    def setUp(self):
        self.peer = Peer()
        self.addCleanup(self.peer.stop)
        self.client = Mailkit.SmtpClient.new()
        self.client.connect("127.0.0.1", self.peer.port, None)
        self.envelope = Mailkit.Envelope.new("alice@example.org")
        self.envelope.add_recipient("bob@example.org")
        self.envelope.set_dsn_notify(None, Mailkit.DsnNotify.SUCCESS)
        self.envelope.set_dsn_envid("py")

    def test_dropped_when_not_required(self):
        ok, refused = self.client.send_message_full(message(), self.envelope, None)
        self.assertTrue(ok)
        self.assertEqual(len(refused), 0)
        [(envelope, raw, parsed)] = self.peer.messages()
        self.assertIn("bob@example.org", envelope)
        self.assertNotIn("ENVID", envelope)
        self.assertNotIn("NOTIFY", envelope)
        self.client.quit(None)

    def test_async_dropped_when_not_required(self):
        results = []
        self.client.send_message_full_async(message(), self.envelope, None,
                                            lambda source, result: results.append(result))
        run_until(lambda: results, "send_message_full_async's callback")
        ok, refused = self.client.send_message_full_finish(results[0])
        self.assertTrue(ok)
        [(envelope, raw, parsed)] = self.peer.messages()
        self.assertNotIn("ENVID", envelope)
        self.client.quit(None)

    def test_required_raises_before_mail(self):
        self.envelope.set_dsn_required(True)
        with self.assertRaises(GLib.Error) as caught:
            self.client.send_message_full(message(), self.envelope, None)
        self.assertTrue(caught.exception.matches(Mailkit.smtp_error_quark(),
                                                 Mailkit.SmtpError.NOT_SUPPORTED))
        self.assertEqual(self.peer.messages(), [])
        self.assertTrue(self.client.is_connected())
        self.client.quit(None)


if __name__ == "__main__":
    unittest.main(verbosity=2)
