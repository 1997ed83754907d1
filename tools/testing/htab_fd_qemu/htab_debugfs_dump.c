// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print a running QEMU's guest HPT as the guest sees it, from KVM's debugfs
 * dump (/sys/kernel/debug/kvm/<pid>-<fd>/htab): one line per valid HPTE,
 *
 *   index  V  B  R
 *
 * V without the kernel's lock and host-absent bits, B the segment size
 * (kept in the second dword on ISA v3.00), R the guest's view of the second
 * dword without the kernel's reserved bit.  Two QEMUs (migration source and
 * destination, or a snapshot and its restore) hold the same HPT when their
 * dumps are equal: the host's own second dword (real addresses) is left out.
 *
 * Not through KVM_PPC_GET_HTAB_FD on QEMU's VM fd: KVM refuses VM ioctls
 * from any process but the VM's creator, pidfd_getfd() or not.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HPTE_V_VALID		0x1ULL
#define HPTE_V_ABSENT		0x20ULL
#define HPTE_V_HVLOCK		0x40ULL
#define HPTE_R_3_0_SSIZE_SHIFT	58
#define HPTE_GR_RESERVED	0x4000000000000000ULL

int main(int argc, char **argv)
{
	char prefix[32], path[512] = "", line[256];
	unsigned long long i, v, hr, gr, n = 0;
	struct dirent *d;
	FILE *f;
	DIR *dir;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <pid of QEMU>\n", argv[0]);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "%s-", argv[1]);
	dir = opendir("/sys/kernel/debug/kvm");
	if (!dir) {
		perror("/sys/kernel/debug/kvm");
		return 1;
	}
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, strlen(prefix)))
			snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s/htab", d->d_name);
	closedir(dir);
	f = *path ? fopen(path, "r") : NULL;
	if (!f) {
		fprintf(stderr, "no KVM HPT dump for pid %s\n", argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %llx %llx %llx", &i, &v, &hr, &gr) != 4) {
			fprintf(stderr, "%s: cannot parse: %s", path, line);
			return 1;
		}
		v = (v & ~(HPTE_V_HVLOCK | HPTE_V_ABSENT)) | HPTE_V_VALID;
		printf("%6llx %016llx %llu %016llx\n", i, v, (hr >> HPTE_R_3_0_SSIZE_SHIFT) & 3,
		       gr & ~HPTE_GR_RESERVED);
		n++;
	}
	fclose(f);
	fprintf(stderr, "%s: %llu valid HPTEs\n", path, n);
	return 0;
}
