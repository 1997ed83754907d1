// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference model of the HPT fd: see htab_model.h for what it checks.
 */
#include <stdarg.h>

#include "htab_model.h"

#define HEADER_BYTES	sizeof(struct kvm_get_htab_header)
#define HPTE_BYTES	16
#define READ_MIN	(HEADER_BYTES + HPTE_BYTES)

/* ---- Choices ---- */

u64 choose(struct choice *c, u64 n)
{
	u64 x = 0;

	if (c->data) {
		int k;

		/* As many input bytes as @n needs, little-endian. */
		for (k = 0; k < 8 && (n - 1) >> (8 * k); k++)
			if (c->pos < c->len)
				x |= (u64)c->data[c->pos++] << (8 * k);
		return x % n;
	}
	/* xorshift64* */
	c->state ^= c->state >> 12;
	c->state ^= c->state << 25;
	c->state ^= c->state >> 27;
	x = c->state * 0x2545f4914f6cdd1dULL;
	return x % n;
}

bool choice_exhausted(struct choice *c)
{
	return c->data && c->pos >= c->len;
}

/* ---- The model ---- */

void model_fail(struct model *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "model: after %llu operations (%llu changes): ",
		(unsigned long long)m->ops, (unsigned long long)m->changes);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void model_init(struct model *m, struct kvm *kvm)
{
	memset(m, 0, sizeof(*m));
	m->kvm = kvm;
	m->npte = sim_npte(kvm);
	m->hpte = calloc(m->npte, sizeof(*m->hpte));
	if (!m->hpte)
		abort();
}

void model_free(struct model *m)
{
	int k;

	for (k = 0; k < MODEL_MAX_READERS; k++)
		if (m->readers[k].fd)
			model_close(m, &m->readers[k]);
	free(m->hpte);
}

static bool model_gpa_is_ram(struct model *m, u64 v, u64 r)
{
	unsigned long psize = kvmppc_actual_pgsz(v, r);

	return ((r & HPTE_R_RPN) & ~(psize - 1)) + psize <= sim_ram_bytes(m->kvm);
}

/* What a reader with @flags must return for HPTE @i. */
static bool model_view(struct model *m, u64 flags, unsigned long i, u64 *v, u64 *r)
{
	struct model_hpte *e = &m->hpte[i];

	if (!e->valid || ((flags & KVM_GET_HTAB_BOLTED_ONLY) && !(e->v & HPTE_V_BOLTED)))
		return false;
	*v = e->v;
	*r = e->r;
	return true;
}

/* MODEL_TRACE=1 in the environment: every operation on stderr, to replay a failure. */
static __printf(1, 2) void model_trace(const char *fmt, ...)
{
	static int on = -1;
	va_list ap;

	if (on < 0)
		on = !!getenv("MODEL_TRACE");
	if (!on)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/*
 * HPTE @i changed.  @hw: only its R/C, set by the hardware; a reader finds
 * those only in entries it has returned (they are candidates of its sweep):
 * below its start index, until it has returned the entry, they are news it
 * may bring, not news it must.
 */
static void model_mark_changed(struct model *m, unsigned long i, bool hw)
{
	model_trace("  change %lu%s\n", i, hw ? " (hardware)" : "");
	int k;

	m->changes++;
	for (k = 0; k < MODEL_MAX_READERS; k++) {
		struct model_reader *rd = &m->readers[k];

		if (!rd->fd)
			continue;
		/* Also while a read runs: news it may bring, never news it must. */
		if (hw && i < rd->start && !test_bit(i, rd->returned)) {
			set_bit(i, rd->may_resend);
			if (rd->reading)
				set_bit(i, rd->during_may);
			continue;
		}
		set_bit(i, rd->dirty);
		if (rd->reading)
			set_bit(i, rd->during);
	}
}

static void model_expect(struct model *m, const char *op, unsigned long i, long got, long want)
{
	m->ops++;
	if (got != want)
		model_fail(m, "%s of HPTE %lu returned %ld, expected %ld", op, i, got, want);
}

void model_random_hpte(struct model *m, struct choice *c, u64 *v, u64 *r)
{
	static const unsigned long psizes[] = { 1UL << 12, 1UL << 16, 1UL << 24 };
	unsigned long psize = psizes[choose(c, 3)];
	unsigned long ram = sim_ram_bytes(m->kvm);
	u64 gpa;

	*v = (choose(c, 1ULL << 45) << 7) | HPTE_V_VALID;
	*v |= choose(c, 4) ? 0 : HPTE_V_BOLTED;
	*v |= choose(c, 2) ? HPTE_V_SECONDARY : 0;
	*v |= choose(c, 2) << HPTE_V_SSIZE_SHIFT;
	if (psize > 1UL << 12)
		*v |= HPTE_V_LARGE;

	if (ram >= psize && choose(c, 5))
		gpa = choose(c, ram / psize) * psize;			/* RAM */
	else
		gpa = (1ULL << 40) + choose(c, 1024) * psize;		/* MMIO */
	*r = gpa | (psize == 1UL << 16 ? 1UL << 12 : 0);
	*r |= choose(c, 4) | (choose(c, 2) ? HPTE_R_PP0 : 0) | (choose(c, 2) ? HPTE_R_N : 0);
	*r |= choose(c, 16) << 3;					/* WIMG */
	*r |= choose(c, 4) << 7;					/* C, R */
	*r |= choose(c, 8) << 9;					/* KEY_LO */
}

void model_h_enter(struct model *m, unsigned long i, u64 v, u64 r)
{
	struct model_hpte *e = &m->hpte[i];
	long ret = sim_h_enter(m->kvm, i, v, r);

	model_expect(m, "H_ENTER", i, ret, e->valid ? H_PTEG_FULL : H_SUCCESS);
	if (ret != H_SUCCESS)
		return;
	e->valid = true;
	e->v = v & ~(HPTE_V_HVLOCK | HPTE_V_ABSENT);
	e->r = r;
	e->present = model_gpa_is_ram(m, v, r);
	model_mark_changed(m, i, false);
}

void model_h_remove(struct model *m, unsigned long i)
{
	struct model_hpte *e = &m->hpte[i];
	long ret = sim_h_remove(m->kvm, i);

	model_expect(m, "H_REMOVE", i, ret, e->valid ? H_SUCCESS : H_NOT_FOUND);
	if (ret != H_SUCCESS)
		return;
	e->valid = false;
	model_mark_changed(m, i, false);
}

void model_h_protect(struct model *m, unsigned long i, u64 pp_n)
{
	const u64 mask = HPTE_R_PP0 | HPTE_R_PP | HPTE_R_N;
	struct model_hpte *e = &m->hpte[i];
	long ret = sim_h_protect(m->kvm, i, pp_n);

	model_expect(m, "H_PROTECT", i, ret, e->valid ? H_SUCCESS : H_NOT_FOUND);
	if (ret != H_SUCCESS)
		return;
	e->r = (e->r & ~mask) | (pp_n & mask);
	model_mark_changed(m, i, false);
}

void model_h_clear_ref(struct model *m, unsigned long i)
{
	struct model_hpte *e = &m->hpte[i];
	long ret = sim_h_clear_ref(m->kvm, i);

	model_expect(m, "H_CLEAR_REF", i, ret, e->valid ? H_SUCCESS : H_NOT_FOUND);
	if (ret != H_SUCCESS)
		return;
	e->r &= ~HPTE_R_R;
	model_mark_changed(m, i, false);
}

void model_hw_set_rc(struct model *m, unsigned long i, u64 rc)
{
	struct model_hpte *e = &m->hpte[i];
	bool done = sim_hw_set_rc(m->kvm, i, rc);

	model_trace("hardware rc %lu %llx\n", i, (unsigned long long)rc);

	model_expect(m, "hardware R/C", i, done, e->valid && e->present);
	if (!hpte_is_writable(e->r))
		rc &= ~HPTE_R_C;
	if (!done || !(rc & ~e->r))
		return;
	e->r |= rc;
	model_mark_changed(m, i, true);
}

void model_host_unmap(struct model *m, unsigned long i)
{
	struct model_hpte *e = &m->hpte[i];
	bool done = sim_host_unmap(m->kvm, i);

	model_expect(m, "host unmap", i, done, e->valid && e->present);
	/* The guest sees the same entry: R/C the hardware set are in e->r already. */
	if (done)
		e->present = false;
}

void model_host_fault_in(struct model *m, unsigned long i)
{
	struct model_hpte *e = &m->hpte[i];
	bool done = sim_host_fault_in(m->kvm, i);

	model_expect(m, "fault in", i, done,
		     e->valid && !e->present && model_gpa_is_ram(m, e->v, e->r));
	if (done)
		e->present = true;
}

void model_random_op(struct model *m, struct choice *c)
{
	unsigned long i = choose(c, m->npte);
	u64 v, r;

	switch (choose(c, 20)) {
	case 0 ... 6:
		model_random_hpte(m, c, &v, &r);
		model_h_enter(m, i, v, r);
		break;
	case 7 ... 9:
		model_h_remove(m, i);
		break;
	case 10 ... 12:
		model_h_protect(m, i, choose(c, 4) | (choose(c, 2) ? HPTE_R_PP0 : 0) |
				(choose(c, 2) ? HPTE_R_N : 0));
		break;
	case 13:
		model_h_clear_ref(m, i);
		break;
	case 14 ... 16:
		model_hw_set_rc(m, i, (choose(c, 3) + 1) << 7);
		break;
	case 17 ... 18:
		model_host_unmap(m, i);
		break;
	default:
		model_host_fault_in(m, i);
		break;
	}
}

/* ---- Readers ---- */

struct model_reader *model_open(struct model *m, u64 flags, unsigned long start, bool replay)
{
	struct model_reader *rd = NULL;
	unsigned long i;
	int k;

	for (k = 0; k < MODEL_MAX_READERS && !rd; k++)
		if (!m->readers[k].fd)
			rd = &m->readers[k];
	if (!rd)
		return NULL;
	memset(rd, 0, sizeof(*rd));
	rd->fd = sim_get_htab_fd(m->kvm, flags, start);
	model_trace("open reader %ld flags %llx start %lu\n", (long)(rd - m->readers),
		    (unsigned long long)flags, start);
	if (rd->fd < 0)
		model_fail(m, "KVM_PPC_GET_HTAB_FD(flags %llx, start %lu): %d",
			   (unsigned long long)flags, start, rd->fd);
	rd->flags = flags;
	rd->start = start;
	rd->cursor = start;
	rd->first_pass = true;
	rd->dirty = calloc(BITS_TO_LONGS(m->npte), sizeof(long));
	rd->during = calloc(BITS_TO_LONGS(m->npte), sizeof(long));
	rd->during_may = calloc(BITS_TO_LONGS(m->npte), sizeof(long));
	rd->may_resend = calloc(BITS_TO_LONGS(m->npte), sizeof(long));
	rd->returned = calloc(BITS_TO_LONGS(m->npte), sizeof(long));
	rd->mirror = calloc(m->npte, sizeof(*rd->mirror));
	if (!rd->dirty || !rd->during || !rd->during_may || !rd->may_resend || !rd->returned ||
	    !rd->mirror)
		abort();
	/*
	 * Changes the readers already open have yet to read may be left to
	 * the shared map by the open's bounded harvest: this reader may get
	 * them too, once its first pass has passed them.
	 */
	for (k = 0; k < MODEL_MAX_READERS; k++)
		if (m->readers[k].fd && &m->readers[k] != rd)
			for (i = 0; i < BITS_TO_LONGS(m->npte); i++)
				rd->may_resend[i] |= m->readers[k].dirty[i];
	/* A first pass from @start never returns what lies before it. */
	for (i = 0; i < start; i++) {
		rd->mirror[i].valid = model_view(m, flags, i, &rd->mirror[i].v, &rd->mirror[i].r);
		if (m->hpte[i].valid && m->hpte[i].present)
			set_bit(i, rd->may_resend);
	}
	if (replay && m->dest) {
		rd->dest_fd = sim_get_htab_fd(m->dest, KVM_GET_HTAB_WRITE, 0);
		if (rd->dest_fd < 0)
			model_fail(m, "write fd on the destination: %d", rd->dest_fd);
	}
	return rd;
}

void model_close(struct model *m, struct model_reader *rd)
{
	if (sim_close(rd->fd))
		model_fail(m, "close of reader fd failed");
	if (rd->dest_fd && sim_close(rd->dest_fd))
		model_fail(m, "close of write fd failed");
	free(rd->dirty);
	free(rd->during);
	free(rd->during_may);
	free(rd->may_resend);
	free(rd->returned);
	free(rd->mirror);
	memset(rd, 0, sizeof(*rd));
}

static void model_check_entry(struct model *m, struct model_reader *rd, unsigned long i,
			      bool valid, u64 v, u64 r)
{
	u64 want_v = 0, want_r = 0;
	bool want;

	if (!rd->first_pass && !test_bit(i, rd->dirty) && !test_bit(i, rd->may_resend))
		model_fail(m, "later pass (from %lu, flags %llx) returned HPTE %lu: unchanged",
			   rd->start, (unsigned long long)rd->flags, i);
	if (valid && (!(v & HPTE_V_VALID) || (v & (HPTE_V_HVLOCK | HPTE_V_ABSENT))))
		model_fail(m, "HPTE %lu returned with V %llx: not valid or kernel bits set", i,
			   (unsigned long long)v);
	if (valid && (rd->flags & KVM_GET_HTAB_BOLTED_ONLY) && !(v & HPTE_V_BOLTED))
		model_fail(m, "bolted-only reader got HPTE %lu, not bolted", i);
	if (test_bit(i, rd->during) || test_bit(i, rd->during_may))
		return;		/* changed while being read: either value will do */
	want = model_view(m, rd->flags, i, &want_v, &want_r);
	if (want != valid || (valid && (want_v != v || want_r != r)))
		model_fail(m, "HPTE %lu returned %s v %llx r %llx, guest has %s v %llx r %llx",
			   i, valid ? "valid" : "invalid", (unsigned long long)v,
			   (unsigned long long)r, want ? "valid" : "invalid",
			   (unsigned long long)want_v, (unsigned long long)want_r);
}

static void model_check_mirror(struct model *m, struct model_reader *rd)
{
	unsigned long i;

	for (i = 0; i < m->npte; i++) {
		struct model_hpte *got = &rd->mirror[i];
		u64 v = 0, r = 0, rc = 0;
		bool want = model_view(m, rd->flags, i, &v, &r);

		/* R/C the hardware set before the start index, never returned: may be missing. */
		if (i < rd->start && !test_bit(i, rd->returned))
			rc = HPTE_R_R | HPTE_R_C;
		if (got->valid != want ||
		    (want && (got->v != v || (got->r & ~rc) != (r & ~rc) || (got->r & ~r))))
			model_fail(m, "0 read; stream: HPTE %lu %s %llx %llx; guest %s %llx %llx",
				   i, got->valid ? "valid" : "invalid",
				   (unsigned long long)got->v, (unsigned long long)got->r,
				   want ? "valid" : "invalid", (unsigned long long)v,
				   (unsigned long long)r);
	}
}

void model_check_dest(struct model *m)
{
	unsigned long i;

	for (i = 0; i < m->npte; i++) {
		u64 v = 0, r = 0, want_v = 0, want_r = 0;
		bool got = sim_guest_view(m->dest, i, &v, &r);
		bool want = model_view(m, 0, i, &want_v, &want_r);

		if (got != want || (want && (v != want_v || r != want_r)))
			model_fail(m, "destination HPTE %lu %s %llx %llx, source %s %llx %llx",
				   i, got ? "valid" : "invalid", (unsigned long long)v,
				   (unsigned long long)r, want ? "valid" : "invalid",
				   (unsigned long long)want_v, (unsigned long long)want_r);
	}
}

/* Check the records of one read and apply them to the mirror. */
static void model_parse(struct model *m, struct model_reader *rd, const u8 *buf, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		struct kvm_get_htab_header hdr;
		unsigned long i, k;

		if (n - pos < HEADER_BYTES)
			model_fail(m, "read ends with %zu bytes of a header", n - pos);
		memcpy(&hdr, buf + pos, HEADER_BYTES);
		pos += HEADER_BYTES;
		model_trace("  record %u +%u +%u\n", hdr.index, hdr.n_valid, hdr.n_invalid);
		if (!hdr.n_valid && !hdr.n_invalid)
			model_fail(m, "empty record at HPTE %u", hdr.index);
		if ((u64)hdr.index + hdr.n_valid + hdr.n_invalid > m->npte)
			model_fail(m, "record %u+%u+%u past the table's %lu HPTEs", hdr.index,
				   hdr.n_valid, hdr.n_invalid, m->npte);
		if (n - pos < (size_t)hdr.n_valid * HPTE_BYTES)
			model_fail(m, "record at HPTE %u cut short", hdr.index);
		if (rd->first_pass && hdr.index != rd->cursor)
			model_fail(m, "first pass record at HPTE %u, expected %lu", hdr.index,
				   rd->cursor);

		for (k = 0; k < (unsigned long)hdr.n_valid + hdr.n_invalid; k++) {
			struct model_hpte *e = &rd->mirror[hdr.index + k];
			u64 v = 0, r = 0;

			i = hdr.index + k;
			if (k < hdr.n_valid) {
				memcpy(&v, buf + pos, 8);
				memcpy(&r, buf + pos + 8, 8);
				v = be64toh(v);
				r = be64toh(r);
				pos += HPTE_BYTES;
			}
			model_check_entry(m, rd, i, k < hdr.n_valid, v, r);
			e->valid = k < hdr.n_valid;
			e->v = v;
			e->r = r;
			__test_and_clear_bit(i, rd->dirty);
			__test_and_clear_bit(i, rd->may_resend);
			set_bit(i, rd->returned);
		}
		if (rd->first_pass) {
			rd->cursor = hdr.index + hdr.n_valid + hdr.n_invalid;
			if (rd->cursor == m->npte) {
				if (pos != n)
					model_fail(m, "read goes on past the first pass");
				rd->first_pass = false;
			}
		}
	}
}

ssize_t model_read(struct model *m, struct model_reader *rd, size_t count)
{
	unsigned long w;
	ssize_t n;
	u8 *buf = malloc(count ? count : 1);

	if (!buf)
		abort();
	memset(rd->during, 0, BITS_TO_LONGS(m->npte) * sizeof(long));
	memset(rd->during_may, 0, BITS_TO_LONGS(m->npte) * sizeof(long));
	rd->reading = true;
	n = sim_read(rd->fd, buf, count);
	model_trace("read reader %ld count %zu: %zd\n", (long)(rd - m->readers), count, n);
	rd->reading = false;
	rd->reads++;
	m->reads++;

	if (count < READ_MIN) {
		if (n != -EINVAL)
			model_fail(m, "read of %zu bytes returned %zd, expected -EINVAL", count, n);
		goto out;
	}
	if (n < 0 || (size_t)n > count)
		model_fail(m, "read of %zu bytes returned %zd", count, n);
	model_parse(m, rd, buf, n);
	rd->bytes += n;
	m->bytes += n;

	if (!n) {
		rd->zeros++;
		m->zeros++;
		if (rd->first_pass)
			model_fail(m, "read returned 0 in the first pass");
		for (w = 0; w < BITS_TO_LONGS(m->npte); w++)
			if (rd->dirty[w])
				model_fail(m, "read returned 0 with HPTE %lu changed",
					   w * BITS_PER_LONG + __builtin_ctzl(rd->dirty[w]));
		model_check_mirror(m, rd);
	}
	if (rd->dest_fd && n) {
		ssize_t done = sim_write(rd->dest_fd, buf, n);

		if (done != n)
			model_fail(m, "replaying %zd bytes into the destination returned %zd", n,
				   done);
	}
	if (rd->dest_fd && !n)
		model_check_dest(m);
	/* Changed while the read ran: after what the read returned, or before it. */
	for (w = 0; w < BITS_TO_LONGS(m->npte); w++) {
		rd->dirty[w] |= rd->during[w];
		rd->may_resend[w] |= rd->during_may[w];
	}
out:
	free(buf);
	return n;
}

void model_drain(struct model *m, struct model_reader *rd, size_t count)
{
	unsigned long reads = 0;

	if (count < READ_MIN)
		count = READ_MIN;
	while (model_read(m, rd, count)) {
		if (++reads > 2 * m->npte + 2)
			model_fail(m, "reader never returns 0");
	}
}

/* ---- Random sequences ---- */

static size_t model_random_count(struct choice *c)
{
	switch (choose(c, 8)) {
	case 0:
		return choose(c, READ_MIN);			/* too small: EINVAL */
	case 1 ... 3:
		return READ_MIN + choose(c, 300);
	case 4 ... 5:
		return 1024 + choose(c, 8192);
	case 6:
		return SZ_64K - 64 + choose(c, 128);		/* around a chunk */
	default:
		return 3 * SZ_64K + choose(c, SZ_64K);
	}
}

struct model_hook {
	struct model *m;
	struct choice *c;
	unsigned int ops_left;
};

/* The guest keeps running while its HPT is being copied out. */
static void model_hook_run_guest(void *arg)
{
	struct model_hook *h = arg;
	unsigned int k = 1 + choose(h->c, 3);

	for (; k && h->ops_left; k--, h->ops_left--)
		model_random_op(h->m, h->c);
}

void model_run(struct model *m, struct choice *c, unsigned long steps)
{
	struct model_reader *main_rd = model_open(m, 0, 0, true);
	unsigned long step;
	int k;

	for (step = 0; step < steps && !choice_exhausted(c); step++) {
		struct model_reader *rd = &m->readers[choose(c, MODEL_MAX_READERS)];
		struct model_hook hook = { m, c, 0 };

		switch (choose(c, 40)) {
		case 0 ... 23:
			model_random_op(m, c);
			break;
		case 24 ... 31:
			if (rd->fd)
				model_read(m, rd, model_random_count(c));
			break;
		case 32 ... 33:
			if (rd->fd) {
				hook.ops_left = 1 + choose(c, 16);
				shim_copy_to_user_hook.fn = model_hook_run_guest;
				shim_copy_to_user_hook.arg = &hook;
				model_read(m, rd, model_random_count(c));
				shim_copy_to_user_hook.fn = NULL;
			}
			break;
		case 34 ... 35:
			if (rd->fd)
				model_drain(m, rd, model_random_count(c));
			break;
		case 36 ... 37:
			if (!rd->fd)
				model_open(m, choose(c, 4) ? 0 : KVM_GET_HTAB_BOLTED_ONLY,
					   choose(c, 4) ? 0 : choose(c, m->npte), false);
			break;
		default:
			if (rd->fd && rd != main_rd)
				model_close(m, rd);
			break;
		}
	}
	for (k = 0; k < MODEL_MAX_READERS; k++)
		if (m->readers[k].fd)
			model_drain(m, &m->readers[k], SZ_64K);
}
