#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compiler and sparse warnings a commit adds in the files it touches.

usage: new-warnings.py SRC OBJ BASE_LOG LOG TOUCHED...

A warning is "file: kind: message", without its line and column (a commit
that moves code moves the base's warnings too).  One counts as new when LOG
has it more often than BASE_LOG (the build of the base tree in the same
configuration), for a file in TOUCHED.  Prints the new ones; exits 1 if any.
"""
import collections
import os
import re
import sys

DIAG = re.compile(r"^(\S+?):\d+(?::\d+)?: (warning|error): (.*)$")


def warnings(src, obj, log):
    found = collections.Counter()
    for line in open(log, errors="replace"):
        m = DIAG.match(line.strip())
        if not m:
            continue
        path, kind, msg = m.groups()
        if not os.path.isabs(path):
            path = os.path.join(obj, path)
        path = os.path.relpath(os.path.normpath(path), src)
        found[(path, kind, msg)] += 1
    return found


def main():
    src, obj, base_log, log, *touched = sys.argv[1:]
    base, now = warnings(src, obj, base_log), warnings(src, obj, log)
    touched = set(touched)
    new = [(key, n - base[key]) for key, n in sorted(now.items())
           if key[0] in touched and n > base[key]]
    for (path, kind, msg), n in new:
        print(f"{path}: {kind}: {msg}" + (f" (x{n})" if n > 1 else ""))
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
