#!/usr/bin/python3
# Runs docs/examples/mime-examples and checks that docs/mime.md shows each
# section of its output, verbatim, in a fenced block:
#
#   check-docs.py EXAMPLE-PROGRAM DOC-FILE DATA-DIR
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import subprocess
import sys

program, doc_path, data_dir = sys.argv[1:4]
output = subprocess.run([program, data_dir], check=True, capture_output=True).stdout
with open(doc_path, "rb") as f:
    doc = f.read()

sections = output.split(b"==> ")[1:]
if len(sections) != 8:
    sys.exit("check-docs.py: expected 8 sections, got %d" % len(sections))
for section in sections:
    name, _, text = section.partition(b"\n")
    if b"```\n" + text + b"```\n" not in doc:
        sys.exit("check-docs.py: docs/mime.md does not show the %s example's output as it is "
                 "now:\n%s" % (name.decode(), text.decode("ascii", "replace")))
print("ok: %d examples" % len(sections))
