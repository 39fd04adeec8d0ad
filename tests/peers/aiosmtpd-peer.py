#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An aiosmtpd SMTP or LMTP server for the tests, configured by options.

Listens on 127.0.0.1 or ::1 (port 0, the default, picks a free port with no
race) or on a unix socket, prints `READY <port>` (`READY <path>` for a unix
socket) on stdout once it accepts connections, and runs until SIGTERM,
SIGINT or the end of its stdin (the test program holding the other end
died). Run it with Debian's /usr/bin/python3 (python3-aiosmtpd).

Every transaction that ends with at least one recipient accepted is saved
in the spool folder as PID-NNNNNN.eml (the message as received after DATA:
dot-unstuffed, line ends untouched) and then PID-NNNNNN.envelope, a GLib key
file (the C tests read it with GKeyFile; GLib has no JSON reader) with one
[envelope] group:
  mail_from      the reverse path, without <>
  mail_options   list: the MAIL FROM parameters
  rcpt_tos       list: the recipients accepted at RCPT, in order
  rcpt_options   list: per recipient, its parameters joined by spaces
  delivered      list: the recipients accepted after DATA
  helo           the EHLO/LHLO argument
  auth_user      the AUTH identity (key absent without AUTH)
  tls            true or false
  lmtp           true or false
The .envelope file appears last, by rename, so a reader that sees it sees
the whole transaction.
"""

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# Fixed, so aiosmtpd never asks the resolver for the machine's name.
SERVER_NAME = "aiosmtpd.test"


def reply_option(text):
    """ADDRESS=REPLY, e.g. 'bad@example.org=550 5.1.1 No such user'."""
    address, sep, reply = text.partition("=")
    if not sep or len(reply) < 4 or not reply[:3].isdigit() or reply[3] != " ":
        raise argparse.ArgumentTypeError(f"expected ADDRESS=CODE TEXT, got {text!r}")
    return address.lower(), reply


def keyfile_value(text):
    """A GKeyFile string value (g_key_file_set_string's escapes)."""
    text = (text.replace("\\", "\\\\").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))
    return "\\s" + text[1:] if text.startswith(" ") else text


def keyfile_list(items):
    return "".join(keyfile_value(item).replace(";", "\\;") + ";" for item in items)


def user_option(text):
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected USER:PASSWORD, got {text!r}")
    return name, password


class Handler:
    def __init__(self, args):
        self.lmtp = args.lmtp
        self.pipelining = args.pipelining
        self.spool = args.spool
        self.users = dict(args.user)
        self.refuse_rcpt = dict(args.refuse_rcpt)
        self.refuse_after_data = dict(args.refuse_after_data)
        self.count = 0

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and self.users.get(auth_data.login.decode("utf-8", "replace"))
              == auth_data.password.decode("utf-8", "replace"))
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data.login.decode("utf-8", "replace") if ok else None)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.users:
            # No accounts, no AUTH (aiosmtpd would advertise it empty).
            responses = [line for line in responses if not line[4:].upper().startswith("AUTH")]
        if self.pipelining:
            # aiosmtpd reads commands in order from one stream and answers
            # each in turn, which is all RFC 2920 asks; it just does not say so.
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.refuse_rcpt.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(list(rcpt_options))
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        replies = []
        delivered = []
        for address in envelope.rcpt_tos:
            refusal = self.refuse_after_data.get(address.lower()) if self.lmtp else None
            if refusal is None:
                delivered.append(address)
                replies.append(f"250 2.0.0 <{address}> delivered")
            else:
                replies.append(refusal)
        if delivered:
            self.save(server, session, envelope, delivered)
        if not self.lmtp:
            return "250 2.0.0 OK: queued"
        # LMTP (RFC 2033 section 4.2): one reply per accepted recipient, in
        # RCPT order. Stock aiosmtpd sends only one (aiosmtpd issue 517).
        return "\r\n".join(replies)

    def save(self, server, session, envelope, delivered):
        if self.spool is None:
            return
        self.count += 1
        base = os.path.join(self.spool, f"{os.getpid()}-{self.count:06d}")
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        tls = server.transport.get_extra_info("ssl_object") is not None
        lines = [
            "[envelope]",
            f"mail_from={keyfile_value(envelope.mail_from)}",
            f"mail_options={keyfile_list(envelope.mail_options)}",
            f"rcpt_tos={keyfile_list(envelope.rcpt_tos)}",
            f"rcpt_options={keyfile_list(' '.join(o) for o in envelope.rcpt_options)}",
            f"delivered={keyfile_list(delivered)}",
            f"helo={keyfile_value(session.host_name or '')}",
            f"tls={str(tls).lower()}",
            f"lmtp={str(self.lmtp).lower()}",
        ]
        if session.authenticated:
            lines.append(f"auth_user={keyfile_value(session.auth_data)}")
        with open(base + ".envelope.tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(base + ".envelope.tmp", base + ".envelope")


def tls_context(args):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    return context


async def serve(args):
    handler = Handler(args)
    context = tls_context(args) if args.starttls or args.implicit_tls else None
    protocol = LMTP if args.lmtp else SMTP
    loop = asyncio.get_running_loop()

    def factory():
        return protocol(
            handler,
            hostname=SERVER_NAME,
            ident="aiosmtpd test peer",
            data_size_limit=args.size,
            enable_SMTPUTF8=args.smtputf8,
            decode_data=False,
            tls_context=context if args.starttls else None,
            require_starttls=args.require_starttls,
            # aiosmtpd checks for STARTTLS, not for TLS: an implicit-TLS
            # session must be allowed AUTH explicitly.
            auth_require_tls=not (args.auth_plaintext or args.implicit_tls),
            auth_required=args.auth_required,
            authenticator=handler.authenticate,
            loop=loop)

    listen_tls = context if args.implicit_tls else None
    if args.unix:
        server = await loop.create_unix_server(factory, args.unix, ssl=listen_tls)
        os.chmod(args.unix, 0o666)
        where = args.unix
    else:
        server = await loop.create_server(factory, args.host, args.port, ssl=listen_tls)
        where = server.sockets[0].getsockname()[1]

    done = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, done.set)

    def stdin_readable():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            done.set()

    try:
        loop.add_reader(sys.stdin.fileno(), stdin_readable)
    except PermissionError:
        pass  # a regular file or /dev/null: nothing to watch
    print(f"READY {where}", flush=True)
    await done.wait()
    server.close()
    await server.wait_closed()
    if args.unix:
        os.unlink(args.unix)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--unix", metavar="PATH", help="listen on this unix socket instead")
    ap.add_argument("--lmtp", action="store_true", help="speak LMTP (LHLO, a reply per recipient)")
    ap.add_argument("--cert", help="server certificate (PEM), for TLS")
    ap.add_argument("--key", help="its private key (PEM)")
    ap.add_argument("--starttls", action="store_true", help="offer STARTTLS")
    ap.add_argument("--require-starttls", action="store_true", help="refuse mail before STARTTLS")
    ap.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte")
    ap.add_argument("--user", action="append", default=[], type=user_option,
                    metavar="USER:PASSWORD", help="offer AUTH PLAIN LOGIN for these (repeatable)")
    ap.add_argument("--auth-plaintext", action="store_true", help="allow AUTH before STARTTLS")
    ap.add_argument("--auth-required", action="store_true", help="refuse mail before AUTH")
    ap.add_argument("--smtputf8", action="store_true", help="offer SMTPUTF8")
    ap.add_argument("--pipelining", action="store_true", help="advertise PIPELINING")
    ap.add_argument("--size", type=int, default=32 * 1024 * 1024,
                    help="SIZE limit advertised and enforced (0: none)")
    ap.add_argument("--refuse-rcpt", action="append", default=[], type=reply_option,
                    metavar="ADDRESS=REPLY", help="answer RCPT TO:<ADDRESS> with REPLY (repeatable)")
    ap.add_argument("--refuse-after-data", action="append", default=[], type=reply_option,
                    metavar="ADDRESS=REPLY", help="LMTP: REPLY for ADDRESS after DATA (repeatable)")
    ap.add_argument("--spool", metavar="DIR", help="save each transaction here")
    args = ap.parse_args()

    if (args.starttls or args.implicit_tls) and not (args.cert and args.key):
        ap.error("--starttls and --implicit-tls need --cert and --key")
    if args.refuse_after_data and not args.lmtp:
        ap.error("--refuse-after-data is for --lmtp")
    if args.spool:
        os.makedirs(args.spool, exist_ok=True)
    # aiosmtpd warns of its own deprecated attributes on every AUTH.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
