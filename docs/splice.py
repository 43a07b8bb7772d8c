#!/usr/bin/python3
"""splice.py - replaces the generated key reference in docs/spec.md (between the BEGIN/END
markers) with the output of `bin/pipec docs`. Run by `make docs`."""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
path = os.path.join(root, "docs", "spec.md")
ref = subprocess.run([os.path.join(root, "bin", "pipec"), "docs"], check=True, capture_output=True, text=True).stdout
doc = open(path).read()
begin, end = "<!-- BEGIN pipec docs -->\n", "<!-- END pipec docs -->"
if begin not in doc or end not in doc:
    sys.exit("docs/spec.md has no generated-reference markers")
head, rest = doc.split(begin, 1)
tail = rest.split(end, 1)[1]
open(path, "w").write(head + begin + ref + end + tail)
