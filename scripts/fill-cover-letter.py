#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Put the subject (first line) and blurb (the rest) of a cover-letter text
into git format-patch's cover letter, in place of its placeholders."""
import sys

text, letter = sys.argv[1], sys.argv[2]
subject, _, blurb = open(text).read().partition("\n")
body = open(letter).read()
for placeholder in ("*** SUBJECT HERE ***", "*** BLURB HERE ***"):
    if placeholder not in body:
        sys.exit(f"{letter}: no '{placeholder}'")
body = body.replace("*** SUBJECT HERE ***", subject.strip())
body = body.replace("*** BLURB HERE ***", blurb.strip())
open(letter, "w").write(body)
