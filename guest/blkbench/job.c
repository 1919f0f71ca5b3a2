/* SPDX-License-Identifier: MIT */
/*
 * The benchmark loop, all at CPL3: keep qd requests in flight on each
 * queue, publish a batch with one avail.idx store, kick only when the
 * device asks, complete by polling the used ring (or by sleeping in
 * SYS_WAIT_IRQ until the device interrupts), time every request with
 * RDTSC.
 *
 * Phases: with verify=on and prefill=on, a sequential write pass lays the
 * pattern over the region first (PH_PREFILL); then the timed job
 * (PH_MAIN, the only one measured); then, if the job wrote, a read-back
 * pass checks the whole region (PH_READBACK).
 */
#include "job.h"
#include "arch.h"
#include "blkbench.h"
#include "lib.h"
#include "stats.h"
#include "sys.h"
#include "verify.h"

#define PREFILL_CHUNK (64u << 10)   /* prefill/read-back request size, when memory allows */
#define WATCHDOG_SECS 30            /* no completion for this long: the device is stuck */
#define WATCHDOG_TICK 250000000u    /* LAPIC timer count: ~0.25 s at KVM's 1 GHz APIC bus */
#define MAX_REPORTS   5             /* error lines printed before going quiet */

/* What the device reads and writes besides the data: one per request slot. */
struct slot_dma {
	struct virtio_blk_outhdr hdr;   /* device-readable */
	struct vring_desc ind[3];       /* the chain, when it goes indirect (2.7.5.3) */
	uint8_t status;                 /* device-writable */
} __attribute__((aligned(16)));

struct slot {
	struct slot_dma *dma;
	struct vring_desc *data;        /* the data buffer's descriptor */
	uint8_t *buf;
	uint64_t sector, t_submit;
	uint32_t len;
	uint16_t head;
	bool write;
};

struct qstate {
	struct vq *vq;
	struct slot *slots;
	unsigned nbatch;
	uint16_t batch[BB_MAX_QD];      /* slots filled since the last publish */
};

enum phase { PH_PREFILL, PH_MAIN, PH_READBACK };

static struct engine {
	const struct bb_opts *o;
	struct blkdev *b;
	struct qstate qs[BB_MAX_QUEUES];
	bool indirect;
	uint32_t chunk;                 /* PH_PREFILL / PH_READBACK request size */
	uint64_t region, nblocks, tps;  /* bytes, bs-blocks, TSC ticks per second */
	uint64_t rng;
	/* the running phase */
	enum phase ph;
	bool stopping;
	uint64_t cursor, submitted, inflight, t_start, t_end, t_last, irq_seen;
	/* Sleeps that only the watchdog tick ended although completions were
	 * waiting: no interrupt came for them.  isr_set: the device had raised
	 * one (InterruptStatus set), so it was lost on the way in; else the
	 * device judged none was due (a used_event race). */
	uint64_t tick_rescues, tick_rescues_isr_set, tick_rescues_isr_late;
	/* results */
	struct hist h;
	uint64_t done, bytes, io_errors, bad_sectors, bad_ios, verified;
} E;

/* xorshift64* (Vigna 2014): fast, and plenty for picking offsets. */
static uint64_t rnd(void)
{
	E.rng ^= E.rng >> 12;
	E.rng ^= E.rng << 25;
	E.rng ^= E.rng >> 27;
	return E.rng * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) by multiply-high (Lemire): no division in the loop. */
static uint64_t rand_below(uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rnd() * n) >> 64);
}

/* The next request of the running phase; false when the phase submits no more. */
static bool gen(bool *write, uint64_t *sector, uint32_t *len)
{
	const struct bb_opts *o = E.o;

	if (E.ph == PH_MAIN) {
		uint64_t blk;

		if (E.stopping || (o->ios && E.submitted >= o->ios))
			return false;
		if (bb_rw_random(o->rw)) {
			blk = rand_below(E.nblocks);
		} else {
			blk = E.cursor++;
			if (E.cursor == E.nblocks)
				E.cursor = 0;
		}
		if (o->rw == RW_RANDRW)
			*write = rand_below(100) >= o->rwmixread;
		else
			*write = bb_rw_writes(o->rw);
		*sector = blk * (o->bs / SECTOR);
		*len = o->bs;
	} else {
		if (E.cursor >= E.region)
			return false;
		*len = E.region - E.cursor < E.chunk ? (uint32_t)(E.region - E.cursor) : E.chunk;
		*sector = E.cursor / SECTOR;
		*write = E.ph == PH_PREFILL;
		E.cursor += *len;
	}
	E.submitted++;
	return true;
}

/* Fill slot s with a request and queue its head (published later, in a batch). */
static void fill(struct qstate *qs, unsigned s, bool write, uint64_t sector, uint32_t len)
{
	struct slot *sl = &qs->slots[s];

	sl->write = write;
	sl->sector = sector;
	sl->len = len;
	sl->dma->hdr.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	sl->dma->hdr.sector = sector;
	sl->dma->status = 0xff;         /* no device writes this: catches a status left unwritten */
	sl->data->len = len;
	sl->data->flags = VRING_DESC_F_NEXT | (write ? 0 : VRING_DESC_F_WRITE);
	if (write && E.o->verify)
		pattern_fill(sl->buf, sector, len, E.o->seed);
	vq_add(qs->vq, sl->head);
	qs->batch[qs->nbatch++] = (uint16_t)s;
	E.inflight++;
}

/* Stamp the batch and make it visible (vq_publish kicks if the device asks). */
static void publish(struct qstate *qs)
{
	uint64_t t;

	if (!qs->nbatch)
		return;
	t = rdtsc();
	for (unsigned i = 0; i < qs->nbatch; i++)
		qs->slots[qs->batch[i]].t_submit = t;
	qs->nbatch = 0;
	vq_publish(qs->vq);
}

static unsigned slot_of(struct qstate *qs, uint32_t id)
{
	unsigned s = E.indirect ? id : id / 3;

	if ((!E.indirect && id % 3) || s >= E.o->qd)
		die(EXIT_IO, "queue %u: the device returned descriptor id %u, which is no request head",
		    qs->vq->index, id);
	return s;
}

static void complete(struct qstate *qs, unsigned s, uint64_t t)
{
	struct slot *sl = &qs->slots[s];
	uint8_t status = READ_ONCE(sl->dma->status);

	if (status != VIRTIO_BLK_S_OK) {
		if (++E.io_errors <= MAX_REPORTS)
			uprintf("blkbench: I/O error: %s sector %lu len %u: status %u\n",
				sl->write ? "write" : "read", sl->sector, sl->len, status);
	} else if (!sl->write && E.o->verify) {
		struct verify_err ve;
		uint32_t bad = pattern_check(sl->buf, sl->sector, sl->len, E.o->seed, &ve);

		E.verified += sl->len / SECTOR;
		if (bad) {
			E.bad_sectors += bad;
			if (++E.bad_ios <= MAX_REPORTS)
				uprintf("blkbench: verify: read of sector %lu len %u: %u bad sector(s), first %lu word %u: want %#lx got %#lx\n",
					sl->sector, sl->len, bad, ve.sector, ve.word, ve.want, ve.got);
		}
	}
	if (E.ph == PH_MAIN) {
		hist_add(&E.h, t - sl->t_submit);
		E.done++;
		E.bytes += sl->len;
	}
	E.inflight--;
}

static bool any_used(void)
{
	for (unsigned i = 0; i < E.b->nq; i++)
		if (vq_has_used(E.qs[i].vq))
			return true;
	return false;
}

/*
 * The watchdog fired: what this side sees of each ring, for comparison
 * with the VMM's (pollvm --stats "ring").  Unseen used entries with no
 * interrupt taken mean a lost interrupt; requests the device never took
 * mean a lost kick.
 */
static void stall_report(void)
{
	struct irq_stats is;

	sys_irq_stats(&is);
	for (unsigned q = 0; q < E.b->nq; q++) {
		struct vq *vq = E.qs[q].vq;
		uprintf("blkbench: stall: queue %u: published=%u last_used=%u used.idx=%u "
			"used_event=%u avail_event=%u used.flags=%#x kicks=%lu\n", q, vq->published,
			vq->last_used, READ_ONCE(vq->used->idx), READ_ONCE(*vq->used_event),
			READ_ONCE(*vq->avail_event), READ_ONCE(vq->used->flags), vq->kicks);
	}
	uprintf("blkbench: stall: irqs=%lu isr_zero=%lu ticks=%lu waits=%lu halts=%lu\n",
		is.irqs, is.isr_zero, is.ticks, is.waits, is.halts);
}

static void run_phase(enum phase ph)
{
	const struct bb_opts *o = E.o;
	bool irq = o->completion == COMPLETION_IRQ;
	uint64_t t0, last_progress;
	bool write;
	uint64_t sector;
	uint32_t len;

	E.ph = ph;
	E.stopping = false;
	E.cursor = E.submitted = 0;
	t0 = rdtsc();
	E.t_end = ph == PH_MAIN && o->secs ? t0 + o->secs * E.tps : UINT64_MAX;
	E.t_start = E.t_last = last_progress = t0;

	for (unsigned q = 0; q < E.b->nq; q++) {
		for (unsigned s = 0; s < o->qd && gen(&write, &sector, &len); s++)
			fill(&E.qs[q], s, write, sector, len);
		publish(&E.qs[q]);
	}

	while (E.inflight) {
		uint64_t t = 0;
		unsigned progress = 0;

		for (unsigned q = 0; q < E.b->nq; q++) {
			struct qstate *qs = &E.qs[q];
			unsigned got = 0;
			uint32_t id, ulen;

			while (vq_get_used(qs->vq, &id, &ulen)) {
				unsigned s = slot_of(qs, id);

				if (!t)
					t = rdtsc();   /* one clock read per sweep: all seen "now" */
				complete(qs, s, t);
				got++;
				if (gen(&write, &sector, &len))
					fill(qs, s, write, sector, len);
			}
			if (!got)
				continue;
			progress += got;
			publish(qs);
			if (irq)
				vq_irq_mode_rearm(qs->vq);
			else
				vq_poll_mode_rearm(qs->vq);
		}
		if (progress) {
			E.t_last = last_progress = t;
			if (t >= E.t_end)
				E.stopping = true;
			continue;
		}
		t = rdtsc();
		if (t >= E.t_end)
			E.stopping = true;
		if (t - last_progress > WATCHDOG_SECS * E.tps) {
			stall_report();
			die(EXIT_IO, "no completion for %u s with %lu request(s) in flight",
			    WATCHDOG_SECS, E.inflight);
		}
		if (!irq) {
			cpu_relax();
			continue;
		}
		/* used_event stores (rearm) before the used.idx loads: pairs with
		 * the device's full barrier between storing used.idx and loading
		 * used_event (pollvm virtq_should_notify, QEMU virtio_should_notify).
		 * Then sleep only if nothing slipped in. */
		virt_mb();
		if (!any_used()) {
			uint64_t irqs = sys_wait_irq(E.irq_seen);
			if (irqs == E.irq_seen && any_used()) {
				volatile uint8_t *isr = E.b->v.regs + VIRTIO_MMIO_INTERRUPT_STATUS;
				E.tick_rescues++;
				if (mmio_read32(isr) & 1) {
					E.tick_rescues_isr_set++;
				} else {
					/* Not raised yet: about to be (the device signals at the
					 * end of its batch), or never?  Look for a while. */
					for (int k = 0; k < 200; k++)
						if (mmio_read32(isr) & 1) {
							E.tick_rescues_isr_late++;
							break;
						}
				}
			}
			E.irq_seen = irqs;
		}
	}
}

static uint64_t kicks_total(void)
{
	uint64_t k = 0;
	for (unsigned i = 0; i < E.b->nq; i++)
		k += E.b->q[i].kicks;
	return k;
}

/* Slots, their DMA parts and data buffers; descriptors chained once, for good. */
static void setup_slots(void)
{
	const struct bb_opts *o = E.o;
	uint32_t bufsize = E.chunk > o->bs ? E.chunk : o->bs;

	for (unsigned q = 0; q < E.b->nq; q++) {
		struct qstate *qs = &E.qs[q];
		struct vq *vq = &E.b->q[q];
		struct slot_dma *dma = dma_alloc(sizeof(*dma) * o->qd, 64);

		qs->vq = vq;
		qs->slots = dma_alloc(sizeof(struct slot) * o->qd, 64);
		if (!dma || !qs->slots)
			die(EXIT_SETUP, "out of guest memory for request slots");
		for (unsigned s = 0; s < o->qd; s++) {
			struct slot *sl = &qs->slots[s];
			struct vring_desc *d;

			sl->dma = &dma[s];
			/* Page-aligned, so O_DIRECT backends need no bounce, unless
			 * buf_offset= moves it on to test exactly that. */
			sl->buf = dma_alloc_raw((uint64_t)bufsize + o->buf_offset, 4096);
			if (sl->buf)
				sl->buf += o->buf_offset;
			if (!sl->buf)
				die(EXIT_SETUP, "out of guest memory for %u x %u-byte buffers",
				    o->qd * E.b->nq, bufsize);
			if (E.indirect) {
				sl->head = (uint16_t)s;
				vq->desc[s] = (struct vring_desc){ (uint64_t)sl->dma->ind, sizeof(sl->dma->ind),
								   VRING_DESC_F_INDIRECT, 0 };
				d = sl->dma->ind;
				d[0].next = 1;
				d[1].next = 2;
			} else {
				sl->head = (uint16_t)(3 * s);
				d = &vq->desc[3 * s];
				d[0].next = (uint16_t)(3 * s + 1);
				d[1].next = (uint16_t)(3 * s + 2);
			}
			/* header (readable), data (flags per request), status (writable) */
			d[0].addr = (uint64_t)&sl->dma->hdr;
			d[0].len = sizeof(sl->dma->hdr);
			d[0].flags = VRING_DESC_F_NEXT;
			d[1].addr = (uint64_t)sl->buf;
			d[2].addr = (uint64_t)&sl->dma->status;
			d[2].len = 1;
			d[2].flags = VRING_DESC_F_WRITE;
			sl->data = &d[1];
		}
		/* Interrupt policy from the start (virtio.h vq_*_rearm). */
		if (o->completion == COMPLETION_POLL) {
			if (vq->event_idx)
				vq_poll_mode_rearm(vq);
			else
				vq->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
		}
	}
}

unsigned job_run(const struct bb_opts *o, struct blkdev *b)
{
	struct irq_stats is0, is1;
	uint64_t kicks0, elapsed_ns, main_ticks;
	uint64_t disk = b->sectors * SECTOR;
	const char *verdict;
	char p50[24], p90[24], p99[24], p999[24], mx[24], mn[24], avg[24], secs[24], mbps[24],
		kpi[24], ipi[24];

	E.o = o;
	E.b = b;
	E.tps = o->tsc_khz * 1000;
	E.rng = o->seed ^ 0x9e3779b97f4a7c15ull;
	if (!E.rng)
		E.rng = 1;
	hist_reset(&E.h);

	if (bb_rw_writes(o->rw) && b->ro)
		die(EXIT_SETUP, "rw=%s on a read-only device", bb_rw_name(o->rw));
	if (b->size_max && o->bs > b->size_max)
		die(EXIT_SETUP, "bs=%u is above the device's size_max %u", o->bs, b->size_max);
	E.region = o->size ? o->size : disk;
	if (E.region > disk)
		die(EXIT_CMDLINE, "size=%lu is more than the disk (%lu bytes)", o->size, disk);
	E.region -= E.region % o->bs;
	E.nblocks = E.region / o->bs;
	if (!E.nblocks)
		die(EXIT_SETUP, "the disk (%lu bytes) is smaller than bs=%u", disk, o->bs);

	/* Three descriptors per request (header, data, status) fit qd in the
	 * ring only while 3 * qd <= num; beyond that one indirect descriptor each. */
	for (unsigned q = 0; q < b->nq; q++)
		if (3 * o->qd > b->q[q].num)
			E.indirect = true;
	if (E.indirect && !vdev_has(&b->v, VIRTIO_F_INDIRECT_DESC))
		die(EXIT_SETUP, "qd=%u needs %u descriptors per queue but the queue has %u and no INDIRECT_DESC",
		    o->qd, 3 * o->qd, b->q[0].num);
	if (E.indirect && o->qd > b->q[0].num)
		die(EXIT_SETUP, "qd=%u is more than the queue size %u", o->qd, b->q[0].num);

	E.chunk = o->bs;
	if (o->verify) {
		uint32_t c = PREFILL_CHUNK - PREFILL_CHUNK % o->bs;
		if (c > o->bs && (!b->size_max || c <= b->size_max) &&
		    (uint64_t)c * o->qd * b->nq < dma_free_bytes() / 2)
			E.chunk = c;
	}
	setup_slots();

	uprintf("blkbench: job rw=%s bs=%u qd=%u queues=%u %s%lu completion=%s region=%lu verify=%s%s indirect=%s buf_offset=%u\n",
		bb_rw_name(o->rw), o->bs, o->qd, b->nq, o->secs ? "secs=" : "ios=",
		o->secs ? (unsigned long)o->secs : (unsigned long)o->ios,
		o->completion == COMPLETION_IRQ ? "irq" : "poll", E.region, o->verify ? "on" : "off",
		o->verify ? (o->prefill ? " prefill=on" : " prefill=off") : "",
		E.indirect ? "on" : "off", o->buf_offset);

	/* Sleeping for interrupts, the watchdog still needs a clock reading now
	 * and then: a periodic tick ends each sleep (a few per second). */
	if (o->completion == COMPLETION_IRQ)
		sys_tick(WATCHDOG_TICK);
	sys_irq_stats(&is0);
	E.irq_seen = is0.irqs;
	if (o->verify && o->prefill) {
		uprintf("blkbench: prefill: writing the pattern over %lu bytes\n", E.region);
		run_phase(PH_PREFILL);
	}

	sys_irq_stats(&is0);
	E.irq_seen = is0.irqs;
	kicks0 = kicks_total();
	run_phase(PH_MAIN);
	sys_irq_stats(&is1);
	kicks0 = kicks_total() - kicks0;
	main_ticks = E.t_last - E.t_start;   /* first submission to last completion */

	if (o->verify && o->prefill && bb_rw_writes(o->rw) && !E.io_errors) {
		uprintf("blkbench: read-back: checking %lu bytes\n", E.region);
		run_phase(PH_READBACK);
	}
	if (o->completion == COMPLETION_IRQ)
		sys_tick(0);

	elapsed_ns = ticks_to_ns(main_ticks, o->tsc_khz);
	if (!elapsed_ns)
		elapsed_ns = 1;
	verdict = !o->verify ? "off" : E.bad_sectors || E.io_errors ? "fail" : "pass";
	uprintf("blkbench: rw=%s bs=%u qd=%u queues=%u completion=%s ios=%lu secs=%s iops=%lu mbps=%s "
		"lat_us p50=%s p90=%s p99=%s p999=%s max=%s min=%s avg=%s "
		"kicks_per_io=%s irqs_per_io=%s errors=%lu verify=%s\n",
		bb_rw_name(o->rw), o->bs, o->qd, b->nq, o->completion == COMPLETION_IRQ ? "irq" : "poll",
		E.done, fmt_ratio(secs, sizeof(secs), elapsed_ns, 1000000000),
		(unsigned long)(E.done * 1000000000ull / elapsed_ns),
		fmt_ratio(mbps, sizeof(mbps), E.bytes * 1000, elapsed_ns),
		fmt_us(p50, sizeof(p50), ticks_to_ns(hist_pct(&E.h, 5000), o->tsc_khz)),
		fmt_us(p90, sizeof(p90), ticks_to_ns(hist_pct(&E.h, 9000), o->tsc_khz)),
		fmt_us(p99, sizeof(p99), ticks_to_ns(hist_pct(&E.h, 9900), o->tsc_khz)),
		fmt_us(p999, sizeof(p999), ticks_to_ns(hist_pct(&E.h, 9990), o->tsc_khz)),
		fmt_us(mx, sizeof(mx), ticks_to_ns(E.h.max, o->tsc_khz)),
		fmt_us(mn, sizeof(mn), ticks_to_ns(E.h.min, o->tsc_khz)),
		fmt_us(avg, sizeof(avg), ticks_to_ns(E.h.count ? E.h.sum / E.h.count : 0, o->tsc_khz)),
		fmt_ratio(kpi, sizeof(kpi), kicks0, E.done),
		fmt_ratio(ipi, sizeof(ipi), is1.irqs - is0.irqs, E.done), E.io_errors, verdict);
	if (o->verify)
		uprintf("blkbench: verify: %lu sectors checked, %lu bad in %lu request(s)\n",
			E.verified, E.bad_sectors, E.bad_ios);
	sys_irq_stats(&is1);
	uprintf("blkbench: cpl0: irqs=%lu irqs_in_user=%lu isr_zero=%lu isr_config=%lu spurious=%lu "
		"waits=%lu halts=%lu calls_via_ud=%lu ticks=%lu tick_rescues=%lu (isr_set %lu, late %lu) at_hlt=%lu\n",
		is1.irqs, is1.irqs_in_user, is1.isr_zero, is1.isr_config, is1.spurious, is1.waits,
		is1.halts, is1.ud_syscalls, is1.ticks, E.tick_rescues, E.tick_rescues_isr_set,
		E.tick_rescues_isr_late, is1.irqs_at_hlt);
	return E.io_errors || E.bad_sectors ? EXIT_IO : EXIT_OK;
}

void idle_run(const struct bb_opts *o)
{
	uint64_t t0 = rdtsc(), ticks = (uint64_t)o->idle_secs * o->tsc_khz * 1000;

	uprintf("blkbench: idle: %u s, device untouched\n", o->idle_secs);
	while (rdtsc() - t0 < ticks)
		cpu_relax();
	uprintf("blkbench: idle: done\n");
}
