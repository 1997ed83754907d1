#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Remove the base kernel's KVM_PPC_GET_HTAB_FD implementation.

In arch/powerpc/kvm/book3s_64_mmu_hv.c of the prepared tree, delete the
block that runs from the comment introducing the HPT fd ("Functions for
reading and writing the hash table via reads and writes on a file
descriptor") to the end of kvm_vm_ioctl_get_htab_fd(): its context struct,
HPTE_SIZE, read, write, release, file operations and ioctl entry.  (The
debugfs dump below it, which used HPTE_SIZE too, gets its own size from a
patch.)

Fails loudly when the file no longer has the shape this expects: each
landmark must be found exactly once, in order, and nothing of the fd may be
left afterwards.  Our implementation provides kvm_vm_ioctl_get_htab_fd()
with the same prototype, so the ioctl dispatch needs no change.
"""
import re
import sys

PATH = "arch/powerpc/kvm/book3s_64_mmu_hv.c"

START = ("/*\n * Functions for reading and writing the hash table via reads and\n"
         " * writes on a file descriptor.\n")
# Landmarks inside the block, in order: what the block must contain.
LANDMARKS = [
    "struct kvm_htab_ctx {\n",
    "#define HPTE_SIZE\t(2 * sizeof(unsigned long))\n",
    "static int hpte_dirty(struct revmap_entry *revp, __be64 *hptp)\n",
    "static long record_hpte(unsigned long flags, __be64 *hptp,\n",
    "static ssize_t kvm_htab_read(struct file *file, char __user *buf,\n",
    "static ssize_t kvm_htab_write(struct file *file, const char __user *buf,\n",
    "static int kvm_htab_release(struct inode *inode, struct file *filp)\n",
    "static const struct file_operations kvm_htab_fops = {\n",
    "int kvm_vm_ioctl_get_htab_fd(struct kvm *kvm, struct kvm_get_htab_fd *ghf)\n",
]
END = "\nstruct debugfs_htab_state {\n"
GONE = re.compile(r"kvm_htab_ctx|kvm_htab_(read|write|release|fops)|"
                  r"record_hpte|hpte_dirty\(|kvm_vm_ioctl_get_htab_fd|"
                  r"define HPTE_SIZE")


def die(msg):
    sys.exit(f"strip-base-htab-fd: {PATH}: {msg}")


def main():
    tree = sys.argv[1] if len(sys.argv) > 1 else "."
    path = f"{tree}/{PATH}"
    src = open(path).read()

    if src.count(START) != 1:
        die("the HPT fd block's opening comment is not there exactly once")
    start = src.index(START)
    if src.count(END) != 1 or src.index(END) < start:
        die("'struct debugfs_htab_state' does not follow the HPT fd block")
    end = src.index(END) + 1
    block = src[start:end]

    pos = 0
    for mark in LANDMARKS:
        if src.count(mark) != 1:
            die(f"expected exactly one {mark.strip()!r}")
        at = block.find(mark, pos)
        if at < 0:
            die(f"{mark.strip()!r} is not inside the HPT fd block, in order")
        pos = at + len(mark)
    if not block.rstrip().endswith("return ret;\n}"):
        die("the block does not end with kvm_vm_ioctl_get_htab_fd()'s closing brace")

    out = src[:start] + src[end:]
    left = GONE.search(out)
    if left:
        die(f"something of the fd is still there after stripping: {left.group(0)!r}")
    open(path, "w").write(out)
    print(f"strip: removed {block.count(chr(10))} lines of the base HPT fd from {PATH}")


if __name__ == "__main__":
    main()
