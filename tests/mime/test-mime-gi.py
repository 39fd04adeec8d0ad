#!/usr/bin/python3
# The builder and the mirrors from Python, through the Mailkit-1.0 typelib:
# what a GLib application written in Python does. The message is parsed
# back with Python's email package.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import email
import email.policy
import os
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GMime", "3.0")
gi.require_version("Mailkit", "1.0")
from gi.repository import GLib, GMime, Mailkit  # noqa: E402

DATA = os.path.join(os.environ["MK_TEST_SRCDIR"], "..", "data")


def wire_of(obj):
    options = GMime.FormatOptions.new()
    options.set_newline_format(GMime.NewLineFormat.DOS)
    return obj.to_string(options).encode("ascii")


def check(condition, what):
    if not condition:
        sys.exit("test-mime-gi.py: " + what)


builder = Mailkit.MessageBuilder.new()
builder.set_from("J\u00f6rg <joerg@example.org>")
builder.add_to("bob@example.org, carol@example.org")
builder.set_subject("Gr\u00fc\u00dfe")
builder.set_text("Hello\n")
builder.set_html('<p>Hello <img src="cid:logo"></p>')
cid = builder.add_inline(os.path.join(DATA, "sample.png"), "logo")
check(cid == "logo", "Content-ID %r" % cid)
builder.add_attachment(os.path.join(DATA, "sample.pdf"), None, None)
builder.add_attachment_bytes(GLib.Bytes.new(b"\x00\x01binary"), "blob.bin", None)
builder.add_address(GMime.AddressType.CC, GMime.InternetAddressMailbox.new("Dave", "dave@example.org"))
message = builder.build()
check(isinstance(message, GMime.Message), "build() gives %r" % type(message))

parsed = email.message_from_bytes(wire_of(message), policy=email.policy.default)
check(str(parsed["Subject"]) == "Gr\u00fc\u00dfe", "Subject %r" % str(parsed["Subject"]))
check(parsed["From"].addresses[0].display_name == "J\u00f6rg", "From %r" % str(parsed["From"]))
check(len(parsed["To"].addresses) == 2, "To %r" % str(parsed["To"]))
check(parsed["Cc"].addresses[0].addr_spec == "dave@example.org", "Cc %r" % str(parsed["Cc"]))
attachments = list(parsed.iter_attachments())
check([a.get_filename() for a in attachments] == ["sample.pdf", "blob.bin"],
      "attachments %r" % [a.get_filename() for a in attachments])
with open(os.path.join(DATA, "sample.pdf"), "rb") as f:
    check(attachments[0].get_content() == f.read(), "PDF content")
check(attachments[1].get_content() == b"\x00\x01binary", "bytes content")

# Errors arrive as GLib.Error in Mailkit's domain.
try:
    builder.add_header("X-A\r\nBcc", "v")
    check(False, "header name with CRLF accepted")
except GLib.Error as error:
    check(error.matches(Mailkit.mime_error_quark(), Mailkit.MimeError.INVALID), str(error))
try:
    builder.add_attachment(os.path.join(DATA, "missing.pdf"), None, None)
    check(False, "missing file accepted")
except GLib.Error as error:
    # G_IO_ERROR_NOT_FOUND
    check(error.domain == "g-io-error-quark" and error.code == 1, str(error))

# The mirrors.
text = Mailkit.mime_text_new("caf\u00e9\n", None, None)
check(text.get_content_type().get_parameter("charset") == "utf-8", "charset")
with open(os.path.join(DATA, "sample.jpg"), "rb") as f:
    image = Mailkit.mime_image_new(GLib.Bytes.new(f.read()), None)
check(image.get_content_type().get_mime_type() == "image/jpeg", "image type")
try:
    Mailkit.mime_audio_new(GLib.Bytes.new(b"BMW is a car"), None)
    check(False, "text taken for audio")
except GLib.Error as error:
    check(error.matches(Mailkit.mime_error_quark(), Mailkit.MimeError.UNKNOWN_TYPE), str(error))
multipart = Mailkit.mime_multipart_new("mixed", "b1")
multipart.add(text)
multipart.add(image)
Mailkit.mime_set_parameter(multipart, "x-test", "1")
part = email.message_from_bytes(wire_of(multipart), policy=email.policy.default)
check([p.get_content_type() for p in part.iter_parts()] == ["text/plain", "image/jpeg"],
      "multipart parts")
check(part.get_param("x-test") == "1", "parameter")
print("ok")
