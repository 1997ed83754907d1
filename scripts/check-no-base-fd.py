#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fail if code of the base's HPT fd shows up in this repository or tree.

The base's implementation is what scripts/strip-base-htab-fd.py removes
from the base tree.  A single line may well coincide with
ours (mutex_lock(&kvm->arch.mmu_setup_lock); is how anyone takes that
lock), so look for runs: any three consecutive non-trivial lines of the
base found consecutively in a file is reported.

usage: check-no-base-fd.py TREE PATH...
"""
import difflib
import os
import subprocess
import sys
import tempfile

RUN = 3


def normal(line):
    return " ".join(line.split())


def trivial(line):
    return len(line) < 8 or line.startswith(("/*", "*", "//")) or \
        line in ("} else {", "return ret;", "return 0;", "break;", "continue;")


def runs(lines):
    body = [normal(line) for line in lines]
    body = [line for line in body if line and not trivial(line)]
    return {tuple(body[i:i + RUN]) for i in range(len(body) - RUN + 1)}, body


def stripped_lines(tree):
    """The lines scripts/strip-base-htab-fd.py removes from the base."""
    path = "arch/powerpc/kvm/book3s_64_mmu_hv.c"
    before = subprocess.run(["git", "-C", tree, "show", f"base:{path}"],
                            capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, os.path.dirname(path)))
        with open(os.path.join(tmp, path), "w") as f:
            f.write(before)
        strip = os.path.join(os.path.dirname(os.path.abspath(__file__)), "strip-base-htab-fd.py")
        subprocess.run([sys.executable, strip, tmp], check=True, stdout=subprocess.DEVNULL)
        after = open(os.path.join(tmp, path)).read()
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]


def main():
    tree, paths = sys.argv[1], sys.argv[2:]
    removed = stripped_lines(tree)
    base_runs, base_body = runs(removed)
    if len(base_body) < 100:
        sys.exit(f"only {len(base_body)} lines of the base's HPT fd found: is the tree prepared?")

    found = 0
    for top in paths:
        for root, _, files in os.walk(top):
            for name in files:
                path = os.path.join(root, name)
                if not name.endswith((".c", ".h", ".patch", ".diff", ".msg", ".py", ".sh", ".rst", ".md")):
                    continue
                with open(path, errors="replace") as f:
                    file_runs, _ = runs(f.read().splitlines())
                for run in sorted(file_runs & base_runs):
                    print(f"{path}: base HPT fd code: {' / '.join(run)}")
                    found += 1
    print(f"checked against {len(base_body)} lines ({len(base_runs)} runs of {RUN}) "
          f"of the base's HPT fd: {found} found")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
