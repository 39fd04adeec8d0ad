#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The guides of docs/ say only what the library has, and their quick start
works.

    check-guides.py SRCDIR BUILDDIR GUIDE...

- every C name a guide mentions (mk_…, Mk…, MK_…) is declared in a public
  header, and every relative link leads to a file;
- every Mailkit.… name and every method called on a client, builder or
  reply in a Python snippet exists in the typelib;
- the C program and the Python program of quick-start.md are compiled
  and run against aiosmtpd, and their message arrives with its attachment.
gi-docgen checks the [class@…] links itself when the docs are built.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkpeer import PYTHON, WAIT_SECONDS, Peer, load_typelib  # noqa: E402

Mailkit = load_typelib()[-1]

srcdir, builddir, *guides = sys.argv[1:]
failures = []


def blocks(text, language):
    return re.findall(r"^```%s\n(.*?)^```$" % language, text, re.S | re.M)


# Every name the public headers declare.
declared = set()
for header in glob.glob(os.path.join(srcdir, "libmailkit", "**", "*.h"), recursive=True):
    if not header.endswith("-private.h"):
        with open(header, encoding="utf-8") as f:
            text = f.read()
        declared.update(re.findall(r"\b(?:mk|Mk|MK)_?\w+", text))
        # The cast and check macros G_DECLARE_*_TYPE defines.
        for upper in re.findall(r"G_DECLARE_\w+_TYPE \(\w+, \w+, MK, (\w+),", text):
            declared.update(("MK_" + upper, "MK_IS_" + upper))
for generated in glob.glob(os.path.join(builddir, "libmailkit", "*.h")):
    with open(generated, encoding="utf-8") as f:
        declared.update(re.findall(r"\b(?:mk|Mk|MK)_?\w+", f.read()))

# What Python snippets call methods on, by variable name.
python_objects = {"client": Mailkit.SmtpClient, "lmtp": Mailkit.SmtpClient,
                  "builder": Mailkit.MessageBuilder, "reply": Mailkit.SmtpReply}

for guide in guides:
    name = os.path.basename(guide)
    with open(guide, encoding="utf-8") as f:
        text = f.read()
    for word in sorted(set(re.findall(r"\b(?:mk_\w+|Mk[A-Z]\w*|MK_\w+)", text))):
        if word not in declared:
            failures.append("%s: %s is not in a public header" % (name, word))
    # Relative links lead to a file of the tree.
    for target in sorted(set(re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text))):
        if not os.path.exists(os.path.join(os.path.dirname(guide), target)):
            failures.append("%s: the link to %s leads nowhere" % (name, target))
    for code in blocks(text, "python"):
        for chain in sorted(set(re.findall(r"\bMailkit(?:\.\w+)+", code))):
            target = Mailkit
            for part in chain.split(".")[1:]:
                target = getattr(target, part, None)
                if target is None:
                    failures.append("%s: %s does not exist in the typelib" % (name, chain))
                    break
        for variable, method in sorted(set(re.findall(r"\b(\w+)\.(\w+)\(", code))):
            cls = python_objects.get(variable)
            if cls is not None and not hasattr(cls, method):
                failures.append("%s: %s.%s() does not exist" % (name, cls.__name__, method))


def check_arrival(peer, attachment, what):
    messages = peer.messages()
    if len(messages) != 1:
        failures.append("%s: %d messages arrived, not 1" % (what, len(messages)))
        return
    envelope, raw, received = messages[0]
    attachments = list(received.iter_attachments())
    with open(attachment, "rb") as f:
        if [a.get_filename() for a in attachments] != ["report.pdf"] \
                or attachments[0].get_content() != f.read():
            failures.append("%s: the attachment did not arrive intact" % what)
    if str(received["Subject"]) != "The report":
        failures.append("%s: Subject %r" % (what, str(received["Subject"])))


def run_quick_start(work, language, code, build):
    """Runs one quick-start program, pointed at a fresh aiosmtpd."""
    peer = Peer()
    try:
        local = code.replace('"localhost", 25', '"127.0.0.1", %d' % peer.port)
        if local == code:
            failures.append("quick-start.md (%s): no connection to \"localhost\", 25" % language)
            return
        command = build(local)
        if command is None:
            return
        result = subprocess.run(command, cwd=work, capture_output=True, text=True,
                                timeout=WAIT_SECONDS)
        if result.returncode != 0 or "not sent" in result.stdout:
            failures.append("quick-start.md (%s): exit %d\n%s%s" % (
                language, result.returncode, result.stdout, result.stderr))
            return
        check_arrival(peer, os.path.join(work, "report.pdf"), "quick-start.md (%s)" % language)
    finally:
        peer.stop()


quick_start = [g for g in guides if os.path.basename(g) == "quick-start.md"]
if quick_start:
    with open(quick_start[0], encoding="utf-8") as f:
        text = f.read()
    work = tempfile.mkdtemp(prefix="mk-guides-")
    try:
        with open(os.path.join(work, "report.pdf"), "wb") as f:
            f.write(os.urandom(5000))

        def build_c(code):
            source = os.path.join(work, "app.c")
            with open(source, "w", encoding="utf-8") as f:
                f.write(code)
            flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gio-2.0", "gmime-3.0"],
                                   capture_output=True, text=True, check=True).stdout.split()
            compiled = subprocess.run(
                ["cc", "-Wall", "-Werror", "-o", os.path.join(work, "app"), source,
                 "-I" + srcdir, "-I" + builddir, *flags,
                 "-L" + os.path.join(builddir, "libmailkit"), "-lmailkit-1.0"],
                capture_output=True, text=True)
            if compiled.returncode != 0:
                failures.append("quick-start.md (C) does not compile:\n" + compiled.stderr)
                return None
            return [os.path.join(work, "app")]

        def build_python(code):
            script = os.path.join(work, "app.py")
            with open(script, "w", encoding="utf-8") as f:
                f.write(code)
            return [PYTHON, script]

        programs = [c for c in blocks(text, "c") if "\nmain (void)" in c]
        scripts = [c for c in blocks(text, "python") if "Mailkit.SmtpClient.new()" in c]
        if len(programs) != 1 or len(scripts) != 1:
            failures.append("quick-start.md: expected one C program and one Python program")
        else:
            run_quick_start(work, "C", programs[0], build_c)
            run_quick_start(work, "Python", scripts[0], build_python)
    finally:
        shutil.rmtree(work)

if failures:
    sys.exit("check-guides:\n" + "\n".join(failures))
print("ok: %d guides" % len(guides))
