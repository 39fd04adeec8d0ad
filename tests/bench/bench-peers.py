#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Loopback peers for run-benchmarks.py: a CHUNKING sink and a delaying proxy.

  bench-peers.py sink
      An SMTP sink on a free port of 127.0.0.1 that offers PIPELINING and
      CHUNKING (Postfix's smtp-sink has no CHUNKING): it accepts every
      command, DATA and BDAT, keeps nothing, and answers a pipelined group
      in one write once it has read all of it, as a real server does.

  bench-peers.py proxy TARGET_PORT DELAY_MS
      A TCP proxy on a free port of 127.0.0.1 to 127.0.0.1:TARGET_PORT that
      delays every piece of data DELAY_MS milliseconds in each direction (a
      round trip of twice that; this kernel has no netem). It counts the
      client's write bursts: client data that arrives after the proxy has
      passed server data to the client since the client last wrote, i.e. the
      client's round trips. When a connection ends it prints
        CONNECTION bursts=N client_bytes=N server_bytes=N

Both print `READY PORT` on stdout once listening and stop at the end of
their stdin (the driver holding the other end went away) or on SIGTERM.
"""

import asyncio
import signal
import sys

READ_SIZE = 65536
# RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; a client that
# sends more without a line end is not one we measure.
MAX_LINE = 512
EHLO_REPLY = (
    b"250-bench-sink\r\n250-PIPELINING\r\n250-CHUNKING\r\n"
    b"250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
)
END_OF_DATA = b"\r\n.\r\n"


class SinkSession:
    """One SMTP session: a pure state machine over the bytes received."""

    def __init__(self):
        self.buffer = b""
        self.mode = "command"  # or "data", "bdat"
        self.bdat_left = 0
        self.done = False

    def feed(self, data):
        """Takes bytes, returns the replies to everything complete so far."""
        self.buffer += data
        replies = []
        while not self.done:
            if self.mode == "bdat":
                taken = min(self.bdat_left, len(self.buffer))
                self.buffer = self.buffer[taken:]
                self.bdat_left -= taken
                if self.bdat_left:
                    break
                self.mode = "command"
                replies.append(b"250 2.0.0 Ok: chunk\r\n")
            elif self.mode == "data":
                # Keep "\r\n" before the dot: the terminator may start in the
                # last line end of a previous piece.
                end = self.buffer.find(END_OF_DATA)
                if end < 0:
                    self.buffer = self.buffer[-len(END_OF_DATA):]
                    break
                self.buffer = self.buffer[end + len(END_OF_DATA):]
                self.mode = "command"
                replies.append(b"250 2.0.0 Ok: queued\r\n")
            else:
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    if len(self.buffer) > MAX_LINE:
                        replies.append(b"500 5.5.0 Line too long\r\n")
                        self.done = True
                    break
                line = self.buffer[:end]
                self.buffer = self.buffer[end + 2:]
                replies.append(self.command(line))
        return b"".join(replies)

    def command(self, line):
        words = line.split()
        verb = words[0].upper() if words else b""
        if verb == b"EHLO":
            return EHLO_REPLY
        if verb == b"HELO":
            return b"250 bench-sink\r\n"
        if verb == b"DATA":
            # After DATA the line before the first body line is the reply's;
            # a "\r\n" in front lets an empty body end with ".\r\n" at once.
            self.mode = "data"
            self.buffer = b"\r\n" + self.buffer
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"BDAT" and len(words) >= 2 and words[1].isdigit():
            self.mode = "bdat"
            self.bdat_left = int(words[1])
            return b""  # answered once the chunk has been read
        if verb == b"QUIT":
            self.done = True
            return b"221 2.0.0 Bye\r\n"
        if verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            return b"250 2.0.0 Ok\r\n"
        return b"502 5.5.2 Command not implemented\r\n"


async def serve_sink(reader, writer):
    session = SinkSession()
    writer.write(b"220 bench-sink ESMTP\r\n")
    try:
        while not session.done:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            replies = session.feed(data)
            if replies:
                writer.write(replies)
                await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class Counter:
    """Round trips of one proxied connection."""

    def __init__(self):
        self.bursts = 0
        self.server_spoke = False
        self.client_bytes = 0
        self.server_bytes = 0


async def pump(reader, writer, delay, on_read, on_write):
    """Copies reader to writer, each piece DELAY seconds late, in order."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            on_write(data)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(READ_SIZE)
            on_read(data)
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await delivering
    except OSError:
        # The other side went away (smtp-source resets after QUIT): the
        # connection is over, whatever was still queued.
        delivering.cancel()


def make_proxy(target_port, delay):
    async def serve_proxy(client_reader, client_writer):
        counter = Counter()

        def client_read(data):
            if data and counter.server_spoke:
                counter.bursts += 1
                counter.server_spoke = False
            counter.client_bytes += len(data)

        def server_written(data):
            # Set before the next await: the client cannot answer earlier.
            counter.server_spoke = True
            counter.server_bytes += len(data)

        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                pump(client_reader, server_writer, delay, client_read, lambda data: None),
                pump(server_reader, client_writer, delay, lambda data: None, server_written),
            )
        finally:
            server_writer.close()
            client_writer.close()
        print(
            f"CONNECTION bursts={counter.bursts} client_bytes={counter.client_bytes}"
            f" server_bytes={counter.server_bytes}",
            flush=True,
        )

    return serve_proxy


async def main(argv):
    if argv[1:] == ["sink"]:
        handler = serve_sink
    elif len(argv) == 4 and argv[1] == "proxy":
        handler = make_proxy(int(argv[2]), int(argv[3]) / 1000.0)
    else:
        sys.stderr.write("usage: bench-peers.py sink | proxy TARGET_PORT DELAY_MS\n")
        return 64
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # The end of stdin means the driver is gone: stop rather than linger.
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(1) or stop.set())
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
