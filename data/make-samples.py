#!/usr/bin/python3
# Writes the small sample files in this folder: each one well formed and as
# small as its format allows. Run it from this folder; the files are
# committed, so it is needed only to change them.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import struct
import wave
import warnings
import zlib

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import aifc
    import sunau


def png():
    # 2x2 RGB, one filter byte per row (PNG spec §11.2, §9).
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    rows = b"\x00\xff\x00\x00\x00\xff\x00" + b"\x00\x00\x00\xff\xff\xff\xff"
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def jpeg():
    # Baseline JFIF, 8x8 grey: one block whose DC difference is 0 and
    # whose AC coefficients are all zero, so each Huffman table needs one
    # symbol (ITU T.81 Annex B).
    def segment(marker, data):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(data) + 2) + data
    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + b"\x01" * 64)
    sof0 = segment(0xC0, b"\x08" + struct.pack(">HH", 8, 8) + b"\x01\x01\x11\x00")
    one_symbol = b"\x01" + b"\x00" * 15
    dht = segment(0xC4, b"\x00" + one_symbol + b"\x00" + b"\x10" + one_symbol + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    # Two 1-bit codes ("0" for DC category 0, "0" for end of block), then
    # 1-bits to the end of the byte.
    return b"\xff\xd8" + app0 + dqt + sof0 + dht + sos + b"\x3f" + b"\xff\xd9"


def gif():
    # 1x1 GIF89a, two-colour global table, one LZW-coded pixel.
    return (b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)
            + b"\xff\xff\xff\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
            + b"\x02\x02\x44\x01\x00" + b"\x3b")


def tone(frames):
    return bytes((128 + (40 if (i // 4) % 2 else -40)) & 0xff for i in range(frames))


def write_wav(path):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(tone(64))


def write_au(path):
    with sunau.open(path, "wb") as a:
        a.setnchannels(1)
        a.setsampwidth(2)
        a.setframerate(8000)
        a.writeframes(b"".join(struct.pack(">h", (s - 128) * 64) for s in tone(64)))


def write_aiff(path):
    with aifc.open(path, "wb") as a:
        a.aiff()
        a.setnchannels(1)
        a.setsampwidth(2)
        a.setframerate(8000)
        a.writeframes(b"".join(struct.pack(">h", (s - 128) * 64) for s in tone(64)))


def pdf():
    # One empty A7 page; the xref offsets are computed (PDF 1.4 §3.4).
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 210 298] >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def text():
    # Mixed line ends and UTF-8 on purpose: an attachment must arrive with
    # exactly these bytes.
    return ("Notes\r\nline with LF only\nline with a bare CR\rcaf\u00e9 \u2014 na\u00efve\r\n"
            "last line without an end").encode("utf-8")


with open("sample.png", "wb") as f:
    f.write(png())
with open("sample.jpg", "wb") as f:
    f.write(jpeg())
with open("sample.gif", "wb") as f:
    f.write(gif())
write_wav("sample.wav")
write_au("sample.au")
write_aiff("sample.aiff")
with open("sample.pdf", "wb") as f:
    f.write(pdf())
with open("notes.txt", "wb") as f:
    f.write(text())
