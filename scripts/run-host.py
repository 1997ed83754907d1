#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot one emulated POWER host under QEMU (TCG) and run test programs on it.

Stops QEMU at the init's end marker, or on a kernel panic, oops, BUG,
WARNING, lockdep or KASAN report, or a timeout.  Parses the KTAP the init
prints, shows progress while it runs, prints a summary, and exits non-zero
on any failure.  The whole console goes to --log.
"""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

HOSTS = {
    # name: (machine, cpu, extra kernel command line)
    "powernv9-radix": ("powernv9", "power9", ""),
    "powernv9-hash": ("powernv9", "power9", "disable_radix"),
    "powernv8": ("powernv8", "power8", ""),
}

# What means the kernel itself went wrong, whatever the tests say.
KERNEL_TROUBLE = re.compile(
    r"Kernel panic|Oops[:\s]|\bBUG[: ]|WARNING:|cut here|"
    r"possible circular locking|possible recursive locking|"
    r"inconsistent lock state|suspicious RCU usage|lockdep|"
    r"KASAN|UBSAN|Unable to handle kernel|sleeping function called|"
    r"list_add corruption|list_del corruption|stack-protector|"
    r"soft lockup|hard LOCKUP|self-detected stall|detected stalls|Call Trace:")

END_MARKER = "HPTFD-END"
BEGIN_MARKER = "HPTFD-BEGIN"
RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+) ([^#]*?)\s*(?:#\s*(.*))?$")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", required=True, choices=sorted(HOSTS))
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--run", required=True, help="programs, comma separated")
    ap.add_argument("--args", default="", help="their arguments, comma separated")
    ap.add_argument("--mode", default="ktap", choices=["ktap", "demo"])
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--memory", default="2G")
    ap.add_argument("--smp", default="2")
    ap.add_argument("--append", default="", help="more kernel command line")
    ap.add_argument("--qemu", default="qemu-system-ppc64", help="the QEMU to run")
    ap.add_argument("--icount", type=int, metavar="SHIFT",
                    help="QEMU -icount: guest time advances 2^SHIFT ns per instruction")
    ap.add_argument("--log", required=True)
    opt = ap.parse_args()

    machine, cpu, extra = HOSTS[opt.host]
    append = f"console=hvc0 loglevel=5 panic=-1 {extra} hptfd.run={opt.run} hptfd.mode={opt.mode}"
    if opt.args:
        append += f" hptfd.args={opt.args}"
    if opt.append:
        append += f" {opt.append}"
    cmd = [opt.qemu, "-M", machine, "-cpu", cpu, "-m", opt.memory,
           "-smp", opt.smp, "-nographic", "-nodefaults", "-serial", "stdio",
           "-monitor", "none", "-no-reboot",
           "-kernel", opt.kernel, "-initrd", opt.initrd, "-append", append.strip()]
    if opt.icount is not None:
        cmd += ["-icount", f"shift={opt.icount},sleep=off"]

    os.makedirs(os.path.dirname(os.path.abspath(opt.log)), exist_ok=True)
    log = open(opt.log, "w", buffering=1)  # line by line: readable while it runs
    log.write("# " + " ".join(cmd) + "\n")
    start = time.monotonic()

    def progress(msg):
        print(f"[{time.monotonic() - start:6.1f}s] {opt.host}: {msg}", flush=True)

    progress(f"booting {os.path.basename(os.path.dirname(opt.kernel)) or opt.kernel} "
             f"({machine}, {append.strip()})")
    qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    os.set_blocking(qemu.stdout.fileno(), False)

    trouble = []
    ended = False
    booted = False
    programs = []          # (name, ok, directive)
    demo_exits = []        # (name, exit code)
    cases = {"passed": 0, "failed": 0, "skipped": 0}
    failed_cases = []      # (name, why)
    assertion = None       # lines of the last "Test Assertion Failure"
    nested = 0             # cases reported since the last program result
    buf = b""
    reason = None
    trouble_deadline = None

    def handle(line):
        nonlocal ended, booted, assertion, trouble_deadline, nested
        log.write(line + "\n")
        if opt.mode == "demo" and booted and not line.startswith("HPTFD-"):
            print(line, flush=True)
        if BEGIN_MARKER in line:
            booted = True
            progress("booted: " + line.split(BEGIN_MARKER, 1)[1].strip())
            return
        if END_MARKER in line:
            ended = True
            return
        if line.startswith("HPTFD-DEMO-EXIT "):
            _, name, rc = line.split()
            demo_exits.append((name, int(rc)))
            return
        if KERNEL_TROUBLE.search(line) and "==== Test Assertion" not in line:
            trouble.append(line.strip())
            if trouble_deadline is None:
                progress("kernel reported: " + line.strip())
                # Let the report finish printing before stopping.
                trouble_deadline = time.monotonic() + 5
        m = RESULT.match(line)
        if not m or not booted:
            text = line.strip()
            if "==== Test Assertion Failure ====" in text:
                assertion = []
            elif assertion is not None and text and not text.startswith(
                    ("pid=", "sh: addr2line", "#")):
                assertion.append(text)
            return
        indent, status, _num, name, directive = m.groups()
        skipped = bool(directive) and directive.upper().startswith("SKIP")
        if indent == "":
            programs.append((name, status == "ok", directive or ""))
            progress(f"{status} {name}" + (f" # {directive}" if directive else ""))
            # A program without cases of its own counts as one case.
            if not nested:
                key = "skipped" if skipped else "passed" if status == "ok" else "failed"
                cases[key] += 1
                if key == "failed":
                    failed_cases.append((name, directive or ""))
            nested = 0
        elif indent == "  ":
            nested += 1
            if skipped:
                cases["skipped"] += 1
            elif status == "ok":
                cases["passed"] += 1
            else:
                cases["failed"] += 1
                why = ""
                if assertion:
                    why = assertion[0] + (": " + assertion[-1] if len(assertion) > 1 else "")
                failed_cases.append((name, why))
            assertion = None
            progress(f"  {status} {name}" + (f" # {directive}" if directive else ""))

    while True:
        now = time.monotonic()
        if now - start > opt.timeout:
            reason = f"timeout after {opt.timeout}s"
            break
        if ended or (trouble_deadline and now > trouble_deadline):
            break
        r, _, _ = select.select([qemu.stdout], [], [], 1.0)
        if r:
            chunk = qemu.stdout.read()
            if not chunk:
                if qemu.poll() is not None:
                    reason = f"QEMU exited ({qemu.returncode}) before the end marker"
                    break
                continue
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                handle(raw.decode("utf-8", "replace").rstrip("\r"))
                if ended:
                    break
        elif qemu.poll() is not None:
            reason = f"QEMU exited ({qemu.returncode}) before the end marker"
            break

    if buf:
        handle(buf.decode("utf-8", "replace"))
    try:
        os.killpg(qemu.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    qemu.wait()
    log.close()
    elapsed = time.monotonic() - start

    problems = []
    if reason and not ended:
        problems.append(reason)
    if trouble:
        problems.append("kernel: " + trouble[0])
    if opt.mode == "ktap":
        if not programs and not problems:
            problems.append("no KTAP results")
        for name, ok, directive in programs:
            if not ok:
                problems.append(f"{name}: {directive}")
        for name, why in failed_cases:
            problems.append(f"test failed: {name}" + (f": {why}" if why else ""))
    if opt.mode == "demo":
        if not demo_exits and not problems:
            problems.append("the demo did not run")
        for name, rc in demo_exits:
            if rc:
                problems.append(f"{name} exited {rc}")
        print(f"== {opt.host}: " + ", ".join(f"{n} exited {rc}" for n, rc in demo_exits) +
              f"; {elapsed:.0f}s, kernel {'clean' if not trouble else 'NOT clean'}; log {opt.log}")
        for p in problems:
            print(f"FAIL {opt.host}: {p}")
        return 1 if problems else 0
    print(f"== {opt.host}: {cases['passed']} passed, {cases['failed']} failed, "
          f"{cases['skipped']} skipped in {len(programs)} program(s), "
          f"{elapsed:.0f}s, kernel {'clean' if not trouble else 'NOT clean'}; log {opt.log}")
    for p in problems:
        print(f"FAIL {opt.host}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
