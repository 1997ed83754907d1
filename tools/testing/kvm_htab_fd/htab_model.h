/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reference model: the HPT as a plain array of what the guest sees,
 * kept up to date from the operations applied to the simulated VM (never
 * read back from it), and for each open reader what its stream must say.
 *
 * Each reader's stream is checked record by record as it is read:
 *  - records are whole, inside the table, and never empty;
 *  - a first pass is contiguous from the start index to the end of the
 *    table, and a read stops where it ends;
 *  - a later pass returns only entries changed since this reader last
 *    returned them;
 *  - every entry returned is what the guest sees now (unless the guest
 *    changed it while the read was in progress);
 *  - a read returns 0 only when nothing changed, and never 0 when
 *    something did;
 *  - at every 0, the copy rebuilt from the stream equals the model.
 * Failures are reported with model_fail(), which prints and aborts.
 */
#ifndef HTAB_MODEL_H
#define HTAB_MODEL_H

#include "htab_sim.h"

#define MODEL_MAX_READERS	8

struct model_hpte {
	bool valid;
	bool present;	/* in the hardware, so that R and C can be set */
	u64 v, r;
};

struct model_reader {
	int fd;			/* 0: slot unused */
	u64 flags;
	unsigned long start;
	unsigned long cursor;	/* where the first pass goes on */
	bool first_pass;
	unsigned long *dirty;	/* changed since this reader returned them */
	unsigned long *during;	/* changed while the current read runs */
	unsigned long *during_may;	/* R/C set meanwhile, as news it may bring */
	/*
	 * Before the start index at open, entries the hardware may have set
	 * R or C in: the reader may find those changed later, without a
	 * change the model saw after the open.
	 */
	unsigned long *may_resend;
	unsigned long *returned;	/* HPTEs this reader has returned */
	bool reading;
	struct model_hpte *mirror;	/* rebuilt from the stream */
	int dest_fd;		/* write fd the stream is replayed into, or 0 */
	u64 reads, bytes, zeros;
};

struct model {
	struct kvm *kvm;
	unsigned long npte;
	struct model_hpte *hpte;
	struct model_reader readers[MODEL_MAX_READERS];
	/* A second VM that receives a reader's stream, as a migration target. */
	struct kvm *dest;
	u64 ops, changes;
	u64 reads, bytes, zeros;	/* over all readers */
};

/* A source of choices: a PRNG for the random tests, the input for fuzzing. */
struct choice {
	u64 state;
	const u8 *data;
	size_t len, pos;
};

u64 choose(struct choice *c, u64 n);	/* 0 <= result < n; n > 0 */
bool choice_exhausted(struct choice *c);

void model_init(struct model *m, struct kvm *kvm);
void model_free(struct model *m);
__printf(2, 3) void model_fail(struct model *m, const char *fmt, ...);

/* A random HPTE a guest could enter: RAM or MMIO, 4K, 64K or 16M pages. */
void model_random_hpte(struct model *m, struct choice *c, u64 *v, u64 *r);

/* Operations, applied to the simulated VM and to the model alike. */
void model_h_enter(struct model *m, unsigned long i, u64 v, u64 r);
void model_h_remove(struct model *m, unsigned long i);
void model_h_protect(struct model *m, unsigned long i, u64 pp_n);
void model_h_clear_ref(struct model *m, unsigned long i);
void model_hw_set_rc(struct model *m, unsigned long i, u64 rc);
void model_host_unmap(struct model *m, unsigned long i);
void model_host_fault_in(struct model *m, unsigned long i);
/* One random operation of the above on a random entry. */
void model_random_op(struct model *m, struct choice *c);

/* Readers. */
struct model_reader *model_open(struct model *m, u64 flags, unsigned long start, bool replay);
void model_close(struct model *m, struct model_reader *rd);
/* One read of @count bytes, checked.  Returns what read() returned. */
ssize_t model_read(struct model *m, struct model_reader *rd, size_t count);
/* Read until 0; checks the mirror (and the replay target) against the model. */
void model_drain(struct model *m, struct model_reader *rd, size_t count);
/* The destination VM's table equals the model. */
void model_check_dest(struct model *m);

/* A random sequence: operations, reads of random sizes, readers coming and going. */
void model_run(struct model *m, struct choice *c, unsigned long steps);

#endif /* HTAB_MODEL_H */
