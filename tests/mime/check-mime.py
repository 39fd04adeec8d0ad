#!/usr/bin/python3
# Reads a message (or a part) that libmailkit wrote, with Python's email
# package (policy.default), and runs the checks named on the command line:
#
#   check-mime.py WIRE-FILE CHECK ARG… [-- CHECK ARG…]…
#
# Every run also checks the wire form: CRLF line ends only, no line over
# 998 octets, and no defect found by the parser. Exits 1 with a message on
# the first failure. The "mirror-*" checks build the email.mime object
# Python builds from the same input and compare content type, parameters,
# charset and decoded payload.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import email
import email.header
import email.policy
import email.utils
import sys
import warnings
from email.mime.application import MIMEApplication
from email.mime.audio import MIMEAudio
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

warnings.simplefilter("ignore", DeprecationWarning)


def fail(text):
    sys.stderr.write("check-mime.py: %s\n" % text)
    sys.exit(1)


def expect(what, ours, theirs):
    if ours != theirs:
        fail("%s: ours %r, Python's %r" % (what, ours, theirs))


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def arg_or_none(value):
    return None if value == "-" else value


def check_wire(data):
    lines = data.split(b"\r\n")
    for number, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            fail("line %d has a bare CR or LF: %r" % (number, line[:80]))
        if len(line) > 998:
            fail("line %d is %d octets long" % (number, len(line)))


def check_defects(message):
    for part in message.walk():
        if part.defects:
            fail("defects in %s: %r" % (part.get_content_type(), part.defects))


def text_of(part):
    # Line ends as Python's generator writes them: CRLF, CR and LF alike.
    return part.get_payload(decode=True).decode(part.get_content_charset() or "us-ascii") \
        .replace("\r\n", "\n").replace("\r", "\n")


def params_of(part):
    # RFC 2231 values come back as (charset, language, value) from the
    # legacy API that both message classes share.
    return {k.lower(): email.utils.collapse_rfc2231_value(v) for k, v in part.get_params()[1:]}


def compare(ours, theirs, text=False):
    expect("content type", ours.get_content_type(), theirs.get_content_type())
    expect("parameters", params_of(ours), params_of(theirs))
    expect("charset", ours.get_content_charset(), theirs.get_content_charset())
    if text:
        expect("decoded text", text_of(ours), text_of(theirs))
    elif not ours.is_multipart() and ours.get_content_maintype() != "message":
        # MIMEBase has no payload at all; ours is written as an empty body.
        expect("decoded payload", ours.get_payload(decode=True) or None,
               theirs.get_payload(decode=True) or None)


def tree_of(part):
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        return "%s(%s)" % (part.get_content_type(),
                           ",".join(tree_of(p) for p in part.get_payload()))
    return part.get_content_type()


def leaves(message):
    return [p for p in message.walk() if not p.is_multipart()]


def run(message, check, args):
    if check == "mirror-text":
        text = read(args[0]).decode("utf-8")
        compare(message, MIMEText(text, arg_or_none(args[1]) or "plain", arg_or_none(args[2])),
                text=True)
    elif check == "mirror-image":
        compare(message, MIMEImage(read(args[0]), arg_or_none(args[1])))
    elif check == "mirror-audio":
        compare(message, MIMEAudio(read(args[0]), arg_or_none(args[1])))
    elif check == "mirror-application":
        compare(message, MIMEApplication(read(args[0]), arg_or_none(args[1]) or "octet-stream"))
    elif check == "mirror-base":
        params = dict(p.split("=", 1) for p in args[2:])
        compare(message, MIMEBase(args[0], args[1], **params))
    elif check == "mirror-multipart":
        theirs = MIMEMultipart(arg_or_none(args[0]) or "mixed", arg_or_none(args[1]),
                               [MIMEText(t) for t in args[2:]])
        compare(message, theirs)
        expect("number of parts", len(message.get_payload()), len(theirs.get_payload()))
        for ours_part, their_part in zip(message.get_payload(), theirs.get_payload()):
            compare(ours_part, their_part, text=True)
    elif check == "mirror-message":
        inner = email.message_from_bytes(read(args[0]), policy=email.policy.compat32)
        theirs = MIMEMessage(inner, arg_or_none(args[1]) or "rfc822")
        compare(message, theirs)
        ours_inner = message.get_payload(0)
        expect("enclosed subject", str(ours_inner["Subject"]), str(inner["Subject"]))
        compare(ours_inner, inner, text=True)
    elif check == "tree":
        expect("structure", tree_of(message), args[0])
    elif check == "header":
        value = message[args[0]]
        expect("header " + args[0], None if value is None else str(value), arg_or_none(args[1]))
    elif check == "header-file":
        expect("header " + args[0], str(message[args[0]]), read(args[1]).decode("utf-8"))
    elif check == "header-names":
        expect("header names", ",".join(message.keys()), args[0])
    elif check == "address":
        field, index = args[0], int(args[1])
        address = message[field].addresses[index]
        expect(field + " display name", address.display_name, args[2])
        expect(field + " address", address.addr_spec, args[3])
    elif check == "body":
        part = next((p for p in leaves(message) if p.get_content_type() == args[0]
                     and p.get_content_disposition() is None), None)
        if part is None:
            fail("no %s body" % args[0])
        expect(args[0] + " body", text_of(part), read(args[1]).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    elif check == "attachment":
        parts = [p for p in leaves(message) if p.get_content_disposition() is not None]
        part = parts[int(args[0])]
        expect("file name", part.get_filename(), arg_or_none(args[1]))
        raw_name = part.get_param("name", header="content-type")
        if args[1] != "-":
            decoded = str(email.header.make_header(email.header.decode_header(
                email.utils.collapse_rfc2231_value(raw_name))))
            expect("name= (RFC 2047)", decoded, args[1])
        expect("type", part.get_content_type(), args[2])
        expect("content", part.get_payload(decode=True), read(args[3]))
        expect("disposition", part.get_content_disposition(), args[4])
    elif check == "parts":
        expect("number of leaf parts", len(leaves(message)), int(args[0]))
    else:
        fail("unknown check " + check)


def main():
    data = read(sys.argv[1])
    check_wire(data)
    message = email.message_from_bytes(data, policy=email.policy.default)
    check_defects(message)
    checks, current = [], []
    for word in sys.argv[2:]:
        if word == "--":
            checks.append(current)
            current = []
        else:
            current.append(word)
    if current:
        checks.append(current)
    for check in checks:
        run(message, check[0], check[1:])


main()
