#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The patch series of patches/series: parse it, build it, export it.

  series.py check
      Parse patches/series and check it against the repository: every file
      of ours under arch/ include/ Documentation/ tools/ belongs to exactly
      one commit or is local; every .msg and .diff in patches/ is named by a
      stanza.  Prints each commit with the files it adds.
  series.py build TREE
      Make TREE's branch base + one commit per stanza.  The commits are
      built in a private index (the work tree is not touched meanwhile) with
      a fixed author, date and no Signed-off-by, so that the same inputs
      give the same commits; then the branch moves with `git reset --keep`,
      which rewrites only the files that differ: kbuild rebuilds only what
      changed.
  series.py diff TREE NAME
      Regenerate patches/NAME.diff from TREE's work tree: the upstream files
      stanza NAME edits, as they are now, against the tree before that
      commit (after the strip, for the stanza that strips).  Refused when a
      later commit edits the same files.
  series.py export TREE OUT "Name <email>"
      Re-commit base..HEAD of TREE with that author and a Signed-off-by of
      theirs, and write it as mails into OUT with the cover letter
      (patches/cover-letter) and To/Cc from scripts/get_maintainer.pl.
"""
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERIES = os.path.join(TOP, "patches", "series")
OUR_DIRS = ("arch", "include", "Documentation", "tools")
STRIP = os.path.join(TOP, "scripts", "strip-base-htab-fd.py")
STRIPPED = "arch/powerpc/kvm/book3s_64_mmu_hv.c"	# the file STRIP edits
# The prepared tree's commits: no one's identity, no sign-off.
BUILD_IDENT = {"GIT_AUTHOR_NAME": "prepared tree", "GIT_AUTHOR_EMAIL": "prepared-tree@invalid",
               "GIT_COMMITTER_NAME": "prepared tree",
               "GIT_COMMITTER_EMAIL": "prepared-tree@invalid",
               "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}


def die(msg):
    sys.exit(f"series: {msg}")


class Commit:
    def __init__(self, name, line):
        self.name, self.line = name, line
        self.strip = self.diff = False
        self.add = []		# paths as written (a trailing / is a directory)
        self.files = []		# resolved files

    @property
    def msg_path(self):
        return os.path.join(TOP, "patches", self.name + ".msg")

    @property
    def diff_path(self):
        return os.path.join(TOP, "patches", self.name + ".diff")


def parse():
    commits, local = [], []
    for n, raw in enumerate(open(SERIES), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, *args = line.split()
        where = f"patches/series:{n}"
        if word == "commit":
            if len(args) != 1 or not re.fullmatch(r"[a-z0-9-]+", args[0]):
                die(f"{where}: 'commit NAME' (lower case, digits, dashes)")
            if any(c.name == args[0] for c in commits):
                die(f"{where}: commit {args[0]} named twice")
            commits.append(Commit(args[0], n))
        elif word == "local":
            local += args
        elif word in ("strip", "diff", "add"):
            if not commits:
                die(f"{where}: '{word}' before any 'commit'")
            c = commits[-1]
            if word == "add":
                if not args:
                    die(f"{where}: 'add' names no path")
                c.add += args
            elif args:
                die(f"{where}: '{word}' takes no argument")
            else:
                setattr(c, word, True)
        else:
            die(f"{where}: unknown word '{word}'")
    return commits, local


def our_files():
    out = subprocess.run(["git", "-C", TOP, "ls-files", "--cached", "--others",
                          "--exclude-standard", "--", *OUR_DIRS],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    return sorted(f for f in set(out) if f and os.path.isfile(os.path.join(TOP, f)))


def covers(path, f):
    return f == path or (path.endswith("/") and f.startswith(path))


def resolve():
    """Give each file of ours to the commit (or local) whose path names it
    most precisely; fail on files no one or two claim equally."""
    commits, local = parse()
    claims = [(p, c) for c in commits for p in c.add] + [(p, None) for p in local]
    for p, _ in claims:
        if not os.path.exists(os.path.join(TOP, p)):
            die(f"patches/series names {p}, which does not exist")
    errors = []
    for f in our_files():
        best = [(len(p), c) for p, c in claims if covers(p, f)]
        if not best:
            errors.append(f"{f} is in no commit of patches/series (nor 'local')")
            continue
        longest = max(n for n, _ in best)
        owners = {c.name if c else "local" for n, c in best if n == longest}
        if len(owners) > 1:
            errors.append(f"{f} is claimed by {', '.join(sorted(owners))}")
            continue
        owner = next(c for n, c in best if n == longest)
        if owner:
            owner.files.append(f)
    named = {os.path.basename(c.msg_path) for c in commits} | \
        {os.path.basename(c.diff_path) for c in commits if c.diff}
    for c in commits:
        if not os.path.isfile(c.msg_path):
            errors.append(f"commit {c.name}: patches/{c.name}.msg missing")
        if c.diff and not os.path.isfile(c.diff_path):
            errors.append(f"commit {c.name}: patches/{c.name}.diff missing")
        if not (c.strip or c.diff or c.files):
            errors.append(f"commit {c.name} changes nothing")
    for f in os.listdir(os.path.join(TOP, "patches")):
        if f.endswith((".msg", ".diff")) and f not in named:
            errors.append(f"patches/{f} is named by no stanza")
    if errors:
        die("\n  ".join(["patches/series does not match the repository:"] + errors))
    return commits


def git(tree, *args, env=None, inp=None):
    e = dict(os.environ, **(env or {}))
    r = subprocess.run(["git", "-C", tree, *args], env=e, input=inp,
                       capture_output=True, text=True)
    if r.returncode:
        die(f"git {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def check():
    for c in resolve():
        parts = (["strip"] if c.strip else []) + (["diff"] if c.diff else [])
        print(f"{c.name}: {' + '.join(parts + [f'{len(c.files)} files of ours'])}")
        for f in c.files:
            print(f"    {f}")


def message(c):
    text = open(c.msg_path).read().strip() + "\n"
    if re.search(r"^Signed-off-by:", text, re.M):
        die(f"patches/{c.name}.msg carries a Signed-off-by: make series adds the sender's")
    return text


def stage_stripped(tree, env):
    """Strip the base's HPT fd from STRIPPED as it is in @env's index."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, STRIPPED)
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(git(tree, "show", f":{STRIPPED}", env=env) + "\n")
        subprocess.run([sys.executable, STRIP, tmp], check=True, stdout=subprocess.DEVNULL)
        blob = git(tree, "hash-object", "-w", path)
    git(tree, "update-index", "--cacheinfo", f"100644,{blob},{STRIPPED}", env=env)


def build(tree):
    commits = resolve()
    index = os.path.join(git(tree, "rev-parse", "--absolute-git-dir"), "series-index")
    env = dict(BUILD_IDENT, GIT_INDEX_FILE=index)
    parent = git(tree, "rev-parse", "base^{commit}")
    git(tree, "read-tree", parent, env=env)
    for c in commits:
        if c.strip:
            stage_stripped(tree, env)
        if c.diff:
            git(tree, "apply", "--cached", c.diff_path, env=env)
        for f in c.files:
            src = os.path.join(TOP, f)
            blob = git(tree, "hash-object", "-w", src)
            mode = "100755" if os.access(src, os.X_OK) else "100644"
            git(tree, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{f}", env=env)
        t = git(tree, "write-tree", env=env)
        parent = git(tree, "commit-tree", t, "-p", parent, env=env, inp=message(c))
        git(tree, "tag", "-f", f"series/{c.name}", parent)
    os.unlink(index)
    old = git(tree, "rev-parse", "HEAD")
    if old != parent:
        # Edits made in the tree and written back (series-diff) are what the
        # new commits hold: let them go so that reset --keep takes them over.
        for f in filter(None, git(tree, "diff", "--name-only", "HEAD").split("\n")):
            new_blob = subprocess.run(["git", "-C", tree, "rev-parse", "-q", "--verify",
                                       f"{parent}:{f}"], capture_output=True, text=True)
            if new_blob.stdout.strip() == git(tree, "hash-object", f):
                git(tree, "checkout", "-q", old, "--", f)
        git(tree, "reset", "-q", "--keep", parent)
    print(f"tree: {len(commits)} commits over base, HEAD {parent[:12]}"
          f"{'' if old != parent else ' (unchanged)'}")


def diff(tree, name):
    commits = resolve()
    c = next((c for c in commits if c.name == name), None)
    if not c:
        die(f"no commit {name} in patches/series")
    rev = f"series/{name}"
    ours = set(c.files)
    changed = [f for f in git(tree, "diff", "--name-only", f"{rev}^", rev).split("\n")
               if f and f not in ours]
    before = f"{rev}^"
    if c.strip:		# the diff applies after the strip: diff against that
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            git(tree, "read-tree", f"{rev}^", env=env)
            stage_stripped(tree, env)
            before = git(tree, "write-tree", env=env)
    # The work tree's version of these files: a later commit must not touch
    # them, or its diff would no longer apply.
    for later in commits[commits.index(c) + 1:]:
        lrev = f"series/{later.name}"
        both = set(changed) & set(git(tree, "diff", "--name-only", f"{lrev}^", lrev).split("\n"))
        if both:
            die(f"{', '.join(sorted(both))} also changed by later commit {later.name}: "
                f"edit patches/{name}.diff and patches/{later.name}.diff by hand")
    text = git(tree, "diff", before, "--", *changed) + "\n" if changed else ""
    with open(c.diff_path, "w") as f:
        f.write(text)
    print(f"patches/{name}.diff: {len(changed)} upstream files")


def get_maintainers(tree, patches):
    """To: the maintainers, Cc: reviewers and lists, for these patches.  By
    file pattern only: keywords match words like "clang" in the text."""
    out = subprocess.run(["perl", "scripts/get_maintainer.pl", "--no-git", "--no-git-fallback",
                          "--no-keywords", "--rolestats", "--no-multiline", "--separator", "\n",
                          *patches],
                         cwd=tree, capture_output=True, text=True)
    to, cc = [], []
    for line in out.stdout.split("\n"):
        m = re.match(r"(.*?) \((.*)\)$", line.strip())
        if not m:
            continue
        addr, role = m.groups()
        # A person who is not a reviewer maintains (get_maintainer names some
        # maintainers by their entry's status, "supporter" or other).
        person = "@" in addr and "<" in addr
        (to if person and not role.startswith("reviewer") else cc).append(addr)
    return to, cc


def export(tree, out, ident):
    m = re.fullmatch(r"\s*(.+?)\s*<([^<>@\s]+@[^<>\s]+)>\s*", ident)
    if not m:
        die(f"identity '{ident}' is not 'Name <email>'")
    name, email = m.groups()
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    revs = git(tree, "rev-list", "--reverse", "base..HEAD").split("\n")
    parent = git(tree, "rev-parse", "base^{commit}")
    for rev in revs:
        msg = git(tree, "log", "-1", "--format=%B", rev)
        msg = git(tree, "interpret-trailers", "--trailer",
                  f"Signed-off-by: {name} <{email}>", inp=msg + "\n")
        parent = git(tree, "commit-tree", f"{rev}^{{tree}}", "-p", parent, env=env,
                     inp=msg + "\n")
    git(tree, "update-ref", "refs/heads/series-export", parent)
    if os.path.isdir(out):
        for f in os.listdir(out):
            os.unlink(os.path.join(out, f))
    os.makedirs(out, exist_ok=True)
    git(tree, "format-patch", "-q", "--cover-letter", "--thread", "-o", out,
        "base..series-export", env=env)
    patches = sorted(os.path.join(out, f) for f in os.listdir(out) if not f.startswith("0000-"))
    to, cc = get_maintainers(tree, patches)
    letter = os.path.join(out, sorted(os.listdir(out))[0])
    subject, _, blurb = open(os.path.join(TOP, "patches", "cover-letter")).read().partition("\n")
    body = open(letter).read()
    for ph in ("*** SUBJECT HERE ***", "*** BLURB HERE ***"):
        if ph not in body:
            die(f"{letter}: no '{ph}'")
    body = body.replace("*** SUBJECT HERE ***", subject.strip())
    body = body.replace("*** BLURB HERE ***", blurb.strip())
    headers = "".join(f"{h}: {', '.join(a)}\n" for h, a in (("To", to), ("Cc", cc)) if a)
    for p in [letter] + patches:
        text = body if p == letter else open(p).read()
        head, sep, rest = text.partition("\nSubject: ")
        open(p, "w").write(head + "\n" + headers.rstrip("\n") + sep + rest)
    print(f"series: {len(patches)} patches and a cover letter in {out}")
    print(f"series: from {name} <{email}>; To: {', '.join(to) or '-'}")
    print(f"series: Cc: {', '.join(cc) or '-'}")


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "export" and len(args) == 3:
        args[1] = os.path.abspath(args[1])
    if cmd == "check" and not args:
        check()
    elif cmd == "build" and len(args) == 1:
        build(*args)
    elif cmd == "diff" and len(args) == 2:
        diff(*args)
    elif cmd == "export" and len(args) == 3:
        export(*args)
    else:
        die(__doc__)


if __name__ == "__main__":
    main()
