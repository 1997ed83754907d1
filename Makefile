# SPDX-License-Identifier: GPL-2.0
#
# The HPT fd project: build a patched Linux 6.12 and test KVM_PPC_GET_HTAB_FD
# on emulated POWER8/POWER9 hosts.  See README.md.

HOST	?= powernv9-radix
KERNEL	?= host
TESTS	?= htab_fd_test,hpt_resize_test,htab_fd_write_test,htab_fd_stress_test,htab_fd_demo,htab_fd_migrate
ARGS	?=
TIMEOUT	?= 900

initrd	:= build/initramfs.cpio.gz

.NOTPARALLEL:
.PHONY: all deps tree kernel kernel-debug kernel-base tests initramfs run check \
	check-base check-host static harness fuzz bench bench-kernel initramfs-qemu check-qemu \
	check-qemu-base series series-check clean distclean

all: kernel kernel-debug initramfs

deps:
	@scripts/deps.sh

tree: deps
	@scripts/prepare-tree.sh

kernel: tree
	@scripts/build-kernel.sh host

kernel-debug: tree
	@scripts/build-kernel.sh debug

kernel-base: tree
	@scripts/build-kernel.sh base

tests: tree
	@scripts/build-tests.sh

initramfs: tests
	@scripts/mkinitramfs.sh

# The host initramfs with Debian's ppc64el QEMU, a guest kernel and the
# QEMU tests (downloaded once into build/dl/qemu).
initramfs-qemu: initramfs
	@scripts/mkinitramfs-qemu.sh

# The main job: on the POWER9 host, live-migrate an HPT between two VMs
# while the source guest keeps changing it.
run: kernel initramfs
	@scripts/run-host.py --host powernv9-radix --kernel build/obj/host/vmlinux \
		--initrd $(initrd) --mode demo --run htab_fd_migrate --log build/logs/run.log

# Every test: static checks, the userspace harness, the selftests on all
# three hosts, real QEMU's live migration.
check: kernel kernel-debug initramfs initramfs-qemu
	@TESTS=$(TESTS) scripts/check.sh

# The same selftests against the unmodified base kernel (README lists the
# differences).
check-base: kernel-base initramfs initramfs-qemu
	@TESTS=$(TESTS) scripts/check.sh base

# One host, one kernel, chosen tests: make check-host HOST=powernv8 ARGS=-t,first_pass
check-host: kernel$(if $(filter-out host,$(KERNEL)),-$(KERNEL)) initramfs
	@scripts/run-host.py --host $(HOST) --kernel build/obj/$(KERNEL)/vmlinux \
		--initrd $(initrd) --run $(TESTS) $(if $(ARGS),--args=$(ARGS)) \
		--timeout $(TIMEOUT) --log build/logs/$(HOST)-$(KERNEL).log

# Real QEMU migrating and snapshotting a hash-MMU guest on the POWER9 hash
# host: every case (QEMU_CASE=<case> stops after that one), then a guest
# resizing its HPT while migrated; make check runs live_migration and the
# resize cases.
QEMU_CASE ?= big_guest

check-qemu: kernel initramfs-qemu
	@scripts/run-qemu-tests.sh host $(QEMU_CASE)

check-qemu-base: kernel-base initramfs-qemu
	@scripts/run-qemu-tests.sh base $(QEMU_CASE)

static: tree tests
	@scripts/static-checks.sh

# The HPT fd's real code in userspace (tools/testing/kvm_htab_fd): model-
# checked tests under ASan/UBSan, corpus replay, FUZZ_SECONDS of fuzzing.
harness: tree
	@scripts/harness.sh check

# Fuzz each target for FUZZ_SECONDS (default 300).
fuzz: tree
	@scripts/harness.sh fuzz

# The read side's cost at 2^16..2^28 entries (first pass, later passes,
# QEMU's debug read; time, longest read, entries visited per read, reader
# memory), then callgrind's instruction counts; kept in
# tools/testing/kvm_htab_fd/bench-results.txt.
bench: tree
	@scripts/harness.sh bench

# The fd's cost on the emulated POWER9 hash host, our kernel against the
# base, alternating boots: medians, spread, ratios (docs/bench-kernel.txt).
bench-kernel: kernel kernel-base initramfs
	@scripts/bench-kernel.sh

# The series as mails in build/series/: author and Signed-off-by are the
# sender's (AUTHOR='Name <email>', else git config user.name/user.email).
series: tree
	@scripts/make-series.sh build/series

# Apply the exported series to a fresh base tree, build after every patch,
# checkpatch --strict every patch, the build matrix where headers change.
series-check: tree
	@scripts/series-check.sh

clean:
	rm -rf build/obj build/initramfs build/initramfs.cpio.gz build/logs build/series \
		build/series-check

distclean:
	git -C build/linux worktree remove --force ../linux-base 2>/dev/null || true
	rm -rf build
