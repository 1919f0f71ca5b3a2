/* SPDX-License-Identifier: MIT */
#include "disks.h"
#include "log.h"
#include "vm.h"
#include "../firmware/layout.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * IOAPIC pins for virtio-mmio devices: the ISA lines no platform device
 * uses (0 timer, 1 keyboard, 2 cascade, 3/4 serial, 8 RTC), then 16-23.
 * The MP table declares every pin edge-triggered, active high (ISA bus
 * default), which is what an irqfd without a resample fd delivers.
 */
static const unsigned disk_gsis[] = { 5, 6, 7, 9, 10, 11, 12, 13, 14, 15,
				      16, 17, 18, 19, 20, 21, 22, 23 };

_Static_assert(CONFIG_MAX_DISKS <= sizeof(disk_gsis) / sizeof(disk_gsis[0]), "IRQ per disk");
_Static_assert(CONFIG_MAX_DISKS <= VIRTIO_MMIO_MAX, "MMIO slot per disk");

int disks_open(struct vm_disks *ds, const struct config *cfg)
{
	memset(ds, 0, sizeof(*ds));
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		struct vm_disk *d = &ds->d[i];
		const struct disk_cfg *c = &cfg->disks[i];
		int r;

		d->cfg = c;
		d->irqfd = -1;
		for (unsigned q = 0; q < BLK_MAX_QUEUES; q++)
			d->kick_fds[q] = -1;
		snprintf(d->name, sizeof(d->name), "vd%c", 'a' + i);
		d->base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE;
		d->gsi = disk_gsis[i];
		if (c->null)
			r = blk_file_open_null(&d->file, c->size, c->ro, c->read_zeroes,
					       c->logical_block_size);
		else
			r = blk_file_open(&d->file, c->path, c->ro,
					  c->cache == DISK_CACHE_NONE ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK,
					  c->logical_block_size);
		if (r)
			return r;
		d->file_open = true;
		ds->nr++;
		if (d->file.direct_refused)
			pv_info("%s: %s refuses O_DIRECT: cache=none falls back to the page cache",
				d->name, c->path);
		if (d->file.direct_unaligned_size)
			pv_info("%s: the size of %s is not a multiple of its direct-I/O alignment (%u): "
				"cache=none falls back to the page cache", d->name, c->path, d->file.off_align);
		if (d->file.direct && c->logical_block_size < d->file.off_align)
			pv_info("%s: logical block size %u is smaller than the direct-I/O alignment %u of %s: "
				"writes not aligned to %u bytes cost a read-modify-write",
				d->name, c->logical_block_size, d->file.off_align, c->path, d->file.off_align);
		if (c->serial) {
			snprintf(d->serial, sizeof(d->serial), "%s", c->serial);
		} else if (c->null) {
			snprintf(d->serial, sizeof(d->serial), "pvnull-vd%c", 'a' + i);
		} else {
			/* Derived from the file's identity: stable across runs, 20 bytes. */
			struct stat st;
			fstat(d->file.fd, &st);
			snprintf(d->serial, sizeof(d->serial), "pv%06llx%012llx",
				 (unsigned long long)st.st_dev & 0xffffff,
				 (unsigned long long)st.st_ino & 0xffffffffffffULL);
		}
	}
	return 0;
}

int disks_cmdline(const struct vm_disks *ds, struct cmdline *c)
{
	for (unsigned i = 0; i < ds->nr; i++) {
		/* Linux virtio_mmio.c vm_cmdline_set(): <size>@<base>:<irq> */
		if (cmdline_appendf(c, "virtio_mmio.device=%llu@0x%llx:%u",
				    (unsigned long long)VIRTIO_MMIO_SIZE,
				    (unsigned long long)ds->d[i].base, ds->d[i].gsi))
			return -E2BIG;
	}
	return 0;
}

static struct iothread *disks_iothread_for(struct vm_disks *ds, const struct config *cfg,
					   const char *id)
{
	/* ds->t[0 .. nr_iothreads-1] are the named ones, the last the default. */
	for (unsigned i = 0; id && i < cfg->nr_iothreads; i++)
		if (!strcmp(cfg->iothreads[i].id, id))
			return &ds->t[i];
	return &ds->t[cfg->nr_iothreads];
}

/* physical-block-size=, else the host's direct-I/O alignment; never below the logical size. */
static uint32_t disk_phys_size(const struct vm_disk *d)
{
	uint32_t p = d->cfg->physical_block_size;

	if (!p)
		p = d->file.direct ? d->file.off_align : d->cfg->logical_block_size;
	return p < d->cfg->logical_block_size ? d->cfg->logical_block_size : p;
}

/*
 * Kicks: one eventfd per queue, registered on QueueNotify.  With a single
 * queue a zero-length ioeventfd without datamatch matches any write to
 * the register, which is what lets VMX handle it on the fast-MMIO path
 * (no instruction decode); with several queues each needs its datamatch.
 */
static int disk_wire_kicks(struct vm_disk *d, struct vm *vm, unsigned nq)
{
	bool any_len = ioctl(vm->kvm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;

	for (unsigned q = 0; q < nq; q++) {
		struct kvm_ioeventfd io = {
			.addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.fd = d->kick_fds[q],
		};
		if (nq == 1 && any_len) {
			io.len = 0;
			d->ioeventfd_kind = "any-length";
		} else {
			io.len = 4;
			io.datamatch = q;
			io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
			d->ioeventfd_kind = "datamatch";
		}
		if (ioctl(vm->kvm.vm_fd, KVM_IOEVENTFD, &io) < 0) {
			int r = -errno;
			pv_err(PV_INTERNAL, "%s: KVM_IOEVENTFD on queue %u: %s", d->name, q, strerror(errno));
			return r;
		}
	}
	return 0;
}

int disks_create(struct vm_disks *ds, struct vm *vm)
{
	const struct config *cfg = vm->cfg;
	int r;

	if (ds->nr == 0)
		return 0;
	/* The named IOThreads, then the default one (only started if used). */
	for (unsigned i = 0; i <= cfg->nr_iothreads; i++) {
		struct iothread_cfg dflt;
		iothread_cfg_default(&dflt, "default");
		r = iothread_init(&ds->t[i], i < cfg->nr_iothreads ? &cfg->iothreads[i] : &dflt);
		if (r)
			return r;
		ds->nr_t++;
	}

	for (unsigned i = 0; i < ds->nr; i++) {
		struct vm_disk *d = &ds->d[i];
		unsigned nq = d->cfg->num_queues;

		/* Queue q on the (q mod n)-th IOThread the disk names. */
		for (unsigned q = 0; q < nq; q++)
			d->tq[q] = disks_iothread_for(ds, cfg, d->cfg->nr_iothread_ids ?
						      d->cfg->iothread_ids[q % d->cfg->nr_iothread_ids] : NULL);
		d->t = d->tq[0];
		d->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->irqfd < 0) {
			r = -errno;
			pv_err(PV_INTERNAL, "%s: eventfd for its interrupt: %s", d->name, strerror(errno));
			return r;
		}
		for (unsigned q = 0; q < nq; q++) {
			d->kick_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (d->kick_fds[q] < 0) {
				r = -errno;
				pv_err(PV_INTERNAL, "%s: eventfd for queue %u's kicks: %s", d->name, q,
				       strerror(errno));
				return r;
			}
		}
		d->nr_on = d->cfg->nr_iothread_ids > 1 ? d->cfg->nr_iothread_ids : 1;
		if (d->nr_on > nq)
			d->nr_on = nq;
		for (unsigned k = 0; k < d->nr_on; k++)
			blk_uring_bind(&d->on[k], &d->file, &d->tq[k]->uring);
		struct blk_params p = {
			.capacity = d->file.size / VIRTIO_BLK_SECTOR,
			/* The guest's geometry is the disk's setting wherever the
			 * image lives; only the physical hint follows the host. */
			.blk_size = d->cfg->logical_block_size,
			.phys_size = disk_phys_size(d),
			.ro = d->cfg->ro,
			.discard = d->file.can_punch && !d->cfg->ro,
			.write_zeroes = d->file.can_punch && !d->cfg->ro,
			.writeback = true,
			.num_queues = nq,
			.serial = d->serial,
		};
		r = blk_init(&d->blk, d->name, &p, &vm->mem, d->irqfd, d->kick_fds,
			     &blk_uring_ops, &d->on[0]);
		if (r) {
			pv_err(PV_INTERNAL, "%s: cannot create the virtio-blk device: %s", d->name, strerror(-r));
			return r;
		}
		d->blk_ready = true;
		for (unsigned q = 0; q < nq; q++) {
			r = blk_attach_queue(&d->blk, q, &d->tq[q]->loop, &d->on[q % d->nr_on]);
			if (r) {
				pv_err(PV_INTERNAL, "%s: queue %u on IOThread %s: %s", d->name, q,
				       d->tq[q]->id, strerror(-r));
				return r;
			}
		}
		r = bus_register(&vm->mmio, d->base, VIRTIO_MMIO_SIZE, &virtio_mmio_bus_ops,
				 &d->blk.t, d->name);
		if (r) {
			pv_err(PV_INTERNAL, "internal error: registering %s's MMIO range: %s", d->name,
			       strerror(-r));
			return r;
		}
		r = disk_wire_kicks(d, vm, nq);
		if (r)
			return r;
		struct kvm_irqfd irqfd = { .fd = (uint32_t)d->irqfd, .gsi = d->gsi };
		if (ioctl(vm->kvm.vm_fd, KVM_IRQFD, &irqfd) < 0) {
			r = -errno;
			pv_err(PV_INTERNAL, "%s: KVM_IRQFD on GSI %u: %s", d->name, d->gsi, strerror(errno));
			return r;
		}
	}
	return 0;
}

static bool disks_iothread_used(const struct vm_disks *ds, const struct iothread *t)
{
	for (unsigned i = 0; i < ds->nr; i++)
		for (unsigned q = 0; q < ds->d[i].blk.nr_queues; q++)
			if (ds->d[i].tq[q] == t)
				return true;
	return false;
}

int disks_start(struct vm_disks *ds)
{
	for (unsigned i = 0; i < ds->nr_t; i++) {
		if (!disks_iothread_used(ds, &ds->t[i]) && i == ds->nr_t - 1)
			continue; /* the default IOThread serves nobody */
		int r = iothread_start(&ds->t[i]);
		if (r) {
			pv_err(PV_INTERNAL, "cannot start IOThread %s: %s%s", ds->t[i].id, strerror(-r),
			       r == -EPERM || r == -EINVAL ? " (installing its seccomp filter; --sandbox off to debug)" : "");
			return r;
		}
	}
	return 0;
}

int disks_stop(struct vm_disks *ds, uint64_t deadline_ns, double bound_s)
{
	int r = 0;

	for (unsigned i = 0; i < ds->nr_t; i++) {
		struct iothread *t = &ds->t[i];
		iothread_stop(t, deadline_ns);
		if (t->stop_timed_out) {
			pv_warn("stop: IOThread %s: %u requests not completed after %g s (%u SQEs not "
				"taken by the kernel, %u in the kernel); its disks were not flushed",
				t->id, t->left_requests, bound_s, t->left_unsubmitted, t->left_in_kernel);
			r = -ETIMEDOUT;
		}
	}
	/* What the guest wrote without a FLUSH reaches the disk too: each
	 * disk's teardown, once its IOThreads are done with it. */
	for (unsigned i = 0; i < ds->nr; i++) {
		struct vm_disk *d = &ds->d[i];
		bool done = true;
		for (unsigned k = 0; k < d->nr_on; k++)
			done &= !d->tq[k]->stop_timed_out;
		if (!done)
			continue;
		int e = blk_file_flush(&d->file);
		if (e)
			pv_warn("%s: flushing %s at exit: %s", d->name, d->cfg->path, strerror(-e));
	}
	return r;
}

void disks_destroy(struct vm_disks *ds)
{
	for (unsigned i = 0; i < CONFIG_MAX_DISKS; i++) {
		struct vm_disk *d = &ds->d[i];
		if (d->blk_ready)
			blk_destroy(&d->blk);
		if (d->file_open)
			blk_file_close(&d->file);
		for (unsigned q = 0; q < BLK_MAX_QUEUES; q++)
			if (d->kick_fds[q] > 0)
				close(d->kick_fds[q]);
		if (d->irqfd > 0)
			close(d->irqfd);
		d->blk_ready = d->file_open = false;
	}
	for (unsigned i = 0; i < ds->nr_t; i++)
		iothread_destroy(&ds->t[i]);
	ds->nr_t = 0;
}

/* Print "name=value" for each per-queue counter; one table keeps stderr and JSON in step. */
#define BLK_QUEUE_COUNTERS(X) \
	X(kicks) X(batches) X(requests) X(reads) X(writes) X(flushes) X(get_ids) \
	X(discards) X(write_zeroes) X(unsupported) X(bytes_read) X(bytes_written) \
	X(irqs) X(irqs_suppressed) X(throttled) X(err_no_status) X(err_buf) \
	X(err_header) X(err_len) X(err_range) X(err_ro) X(err_io) X(err_ring) X(err_limit) \
	X(poll_windows) X(poll_drains) X(kicks_late) X(batch_max)

/* The queue's event-loop handler: how it was served (polled or woken). */
#define HANDLER_COUNTERS(X) \
	X(fd_events) X(poll_hits) X(poll_begins) X(poll_end_hits) X(poll_removals) X(poll_adds)

#define VIRTQ_COUNTERS(X) \
	X(popped) X(pushed) X(notify_checks) X(notify_suppressed) X(err_ring_addr) \
	X(err_avail_idx) X(err_head) X(err_next) X(err_chain_len) X(err_indirect) \
	X(err_indirect_nested) X(err_buf_addr) X(err_buf_order)

#define MMIO_COUNTERS(X) \
	X(reg_reads) X(reg_writes) X(bad_access) X(bad_writes) X(bus_notifies) \
	X(isr_reads) X(acks) X(resets) X(features_refused) X(needs_reset) X(reset_waits)

/* The ring's, and its block backends' (summed over the disks on it): one "io_uring" object. */
#define URING_COUNTERS(X) \
	X(submits) X(sqes) X(cqes) X(sq_full) X(sqe_waits) X(submit_retries)
#define BLK_URING_COUNTERS(X) \
	X(short_io) X(eagain) X(bounces) X(errors) X(fsyncs) X(rmw) X(bounce_waits) X(serial_waits)

#define LOOP_COUNTERS(X) \
	X(iterations) X(waits) X(wakeups) X(events) X(polls) X(poll_hits) X(deferred) \
	X(poll_windows) X(poll_misses) X(poll_starts) X(poll_stops) X(poll_stop_hits) \
	X(poll_grows) X(poll_shrinks) X(poll_removals) X(poll_adds) X(fd_checks) X(polled_ns) \
	X(contention_samples) X(contention_backoffs) X(contention_sample_ns) X(timer_fires)

#define U(x) ((unsigned long long)(x))

/* The block backends' counters of the disks served on ring r, summed. */
static void blk_uring_stats_on(const struct vm_disks *ds, const struct uring *r,
			       struct blk_uring_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < ds->nr; i++)
		for (unsigned k = 0; k < ds->d[i].nr_on; k++) {
			const struct blk_uring_stats *s = &ds->d[i].on[k].st;
			if (ds->d[i].on[k].ring != r)
				continue;
#define SUM(name) sum->name += s->name;
			BLK_URING_COUNTERS(SUM)
#undef SUM
		}
}

/* Both sides' ring indices under the device lock (a vCPU's reset may be unmapping the rings). */
static unsigned ring_snapshot(const struct blk *b, unsigned q, struct virtq_ring_state *r)
{
	unsigned inflight;

	pthread_mutex_lock((pthread_mutex_t *)&b->t.lock);
	virtq_snapshot(&b->vqs[q], r);
	inflight = b->q[q].inflight;
	pthread_mutex_unlock((pthread_mutex_t *)&b->t.lock);
	return inflight;
}

/*
 * One line per started queue: after a hang (a test's time limit, SIGUSR1)
 * it tells a missed kick (avail ahead of last_avail with notify on) from a
 * lost completion (inflight stuck) from a missed interrupt (used ahead of
 * what the driver asked to hear about, isr set).
 */
static void ring_print(FILE *f, const struct vm_disk *d, unsigned q)
{
	struct virtq_ring_state r;
	unsigned inflight = ring_snapshot(&d->blk, q, &r);

	if (!r.ready)
		return;
	fprintf(f, "pollvm: stats %s q%u ring: avail_idx=%u last_avail=%u used_idx=%u inflight=%u "
		"signalled_used=%u used_event=%u avail_event=%u avail_flags=%u used_flags=%u "
		"notify=%s isr=%u\n", d->name, q, r.avail_idx, r.last_avail_idx, r.used_idx, inflight,
		r.signalled_used, r.used_event, r.avail_event, r.avail_flags, r.used_flags,
		r.notify_enabled ? "on" : "off", (unsigned)atomic_load(&d->blk.t.isr));
}

/* The histograms of a queue, by stage (struct blk_queue_lat). */
#define BLK_LAT_STAGES(X) X(to_backend) X(in_backend) X(to_used) X(total)

/* A quantile's upper bound in microseconds. */
static double lat_us(const struct lat_hist *h, double q, double hz)
{
	return (double)lat_hist_quantile(h, q) * 1e6 / hz;
}

/* One line per queue that served requests: p50 and p99 of each stage. */
static void lat_print(FILE *f, const struct vm_disk *d, unsigned q, double hz)
{
	const struct blk_queue_lat *l = &d->blk.q[q].lat;

	if (!lat_hist_count(&l->total))
		return;
	fprintf(f, "pollvm: stats %s q%u latency (us, p50/p99 at most):", d->name, q);
#define LAT_PRINT(stage) fprintf(f, " " #stage "=%.1f/%.1f", lat_us(&l->stage, 0.5, hz), \
				 lat_us(&l->stage, 0.99, hz));
	BLK_LAT_STAGES(LAT_PRINT)
#undef LAT_PRINT
	fprintf(f, "\n");
}

/* x / n as "0.123", "-" when n is 0. */
static const char *per_io(char *buf, size_t len, uint64_t x, uint64_t n)
{
	if (!n)
		return "-";
	snprintf(buf, len, "%.3f", (double)x / (double)n);
	return buf;
}

/*
 * One line per queue that served a request, with what each of its
 * requests cost the guest: kicks and interrupts per I/O.  A queue the
 * driver polls (a Linux poll queue: no callback, used_event left at 0)
 * shows ~0 interrupts per I/O here, an interrupt-driven one up to 1.
 */
static void queue_print(FILE *f, const struct vm_disk *d, unsigned q)
{
	const struct blk_queue_stats *s = &d->blk.q[q].st;
	char k[32], i[32];

	if (!s->requests)
		return;
	fprintf(f, "pollvm: stats %s q%u: requests=%llu kicks=%llu irqs=%llu irqs_suppressed=%llu "
		"kicks/io=%s irqs/io=%s poll_drains=%llu\n", d->name, q, U(s->requests), U(s->kicks),
		U(s->irqs), U(s->irqs_suppressed), per_io(k, sizeof(k), s->kicks, s->requests),
		per_io(i, sizeof(i), s->irqs, s->requests), U(s->poll_drains));
}

void disks_stats_print(const struct vm_disks *ds, FILE *f)
{
	double hz = tsc_rate_hz();

	for (unsigned i = 0; i < ds->nr; i++) {
		const struct vm_disk *d = &ds->d[i];
		struct blk_queue_stats s;
		blk_stats_total(&d->blk, &s);
		uint64_t batch_max = 0;
		for (unsigned q = 0; q < d->blk.nr_queues; q++)
			if (d->blk.q[q].st.batch_max > batch_max)
				batch_max = d->blk.q[q].st.batch_max;
		fprintf(f, "pollvm: stats %s: requests=%llu reads=%llu writes=%llu flushes=%llu "
			"kicks=%llu batches=%llu irqs=%llu irqs_suppressed=%llu errors=%llu "
			"poll_windows=%llu poll_drains=%llu kicks_late=%llu batch_max=%llu\n",
			d->name, U(s.requests), U(s.reads), U(s.writes), U(s.flushes), U(s.kicks),
			U(s.batches), U(d->blk.irq_writes), U(s.irqs_suppressed),
			U(s.err_no_status + s.err_buf + s.err_header + s.err_len + s.err_range + s.err_ro +
			  s.err_io + s.err_ring + s.err_limit),
			U(s.poll_windows), U(s.poll_drains), U(s.kicks_late), U(batch_max));
		for (unsigned q = 0; q < d->blk.nr_queues; q++) {
			queue_print(f, d, q);
			ring_print(f, d, q);
			lat_print(f, d, q, hz);
		}
	}
	for (unsigned i = 0; i < ds->nr_t; i++) {
		const struct iothread *t = &ds->t[i];
		if (!t->started && !t->loop.st.iterations)
			continue;
		const struct evloop_stats *l = &t->loop.st;
		fprintf(f, "pollvm: stats iothread-%s: wakeups=%llu events=%llu io_uring_submits=%llu "
			"cqes=%llu cpu_ms=%.1f\n", t->id, U(l->wakeups), U(l->events),
			U(t->uring.st.submits), U(t->uring.st.cqes), (double)iothread_cpu_ns(t) / 1e6);
		fprintf(f, "pollvm: stats iothread-%s poll: poll_ns=%llu max_ns=%llu blocks=%llu "
			"windows=%llu hits=%llu misses=%llu passes=%llu grows=%llu shrinks=%llu "
			"starts=%llu stops=%llu stop_hits=%llu removals=%llu adds=%llu "
			"contention_backoffs=%llu polled_ms=%.1f\n", t->id,
			U(t->loop.policy.poll_ns), U(t->loop.policy.p.max_ns), U(l->waits),
			U(l->poll_windows), U(l->poll_hits), U(l->poll_misses), U(l->polls),
			U(l->poll_grows), U(l->poll_shrinks), U(l->poll_starts), U(l->poll_stops),
			U(l->poll_stop_hits), U(l->poll_removals), U(l->poll_adds),
			U(l->contention_backoffs), (double)l->polled_ns / 1e6);
	}
}

#define JSON_U64(name) fprintf(f, "%s\"" #name "\": %llu", sep, (unsigned long long)s->name), sep = ", ";

static void json_hist(FILE *f, const char *name, const struct lat_hist *h)
{
	unsigned last = 0;

	for (unsigned k = 0; k < LAT_HIST_BUCKETS; k++)
		if (__atomic_load_n(&h->n[k], __ATOMIC_RELAXED))
			last = k + 1;
	fprintf(f, ", \"%s\": [", name);
	for (unsigned k = 0; k < last; k++)
		fprintf(f, "%s%llu", k ? ", " : "", U(__atomic_load_n(&h->n[k], __ATOMIC_RELAXED)));
	fprintf(f, "]");
}

static void json_queue(FILE *f, const struct blk_queue_stats *bs, const struct virtq_stats *vs,
		       const struct evloop_handler_stats *hs)
{
	const char *sep = "";
	{
		const struct evloop_handler_stats *s = hs;
		HANDLER_COUNTERS(JSON_U64)
	}
	{
		const struct blk_queue_stats *s = bs;
		BLK_QUEUE_COUNTERS(JSON_U64)
	}
	{
		const struct virtq_stats *s = vs;
		VIRTQ_COUNTERS(JSON_U64)
	}
}

/*
 * "latency": per stage, the log2 histogram (bucket k: [2^k, 2^(k+1)) TSC
 * cycles, up to the last non-empty one) and the TSC rate to read it with.
 */
static void json_lat(FILE *f, const struct blk_queue_lat *l, double hz)
{
	fprintf(f, ",\n       \"latency\": {\"tsc_hz\": %.0f", hz);
#define LAT_JSON(stage) json_hist(f, #stage, &l->stage);
	BLK_LAT_STAGES(LAT_JSON)
#undef LAT_JSON
	fprintf(f, "}");
}

/* Where both sides stand (virtq_snapshot): what a stalled queue is waiting for. */
static void json_ring(FILE *f, const struct blk *b, unsigned q)
{
	struct virtq_ring_state r;
	unsigned inflight = ring_snapshot(b, q, &r);

	fprintf(f, ",\n       \"ring\": {\"ready\": %s, \"inflight\": %u, \"avail_idx\": %u, "
		"\"last_avail_idx\": %u, \"used_idx\": %u, \"used_idx_ring\": %u, "
		"\"signalled_used\": %u, \"used_event\": %u, \"avail_event\": %u, "
		"\"avail_flags\": %u, \"used_flags\": %u, \"notify_enabled\": %s}",
		r.ready ? "true" : "false", inflight, r.avail_idx, r.last_avail_idx, r.used_idx,
		r.used_idx_ring, r.signalled_used, r.used_event, r.avail_event, r.avail_flags,
		r.used_flags, r.notify_enabled ? "true" : "false");
}

void disks_stats_json(const struct vm_disks *ds, FILE *f)
{
	double hz = tsc_rate_hz();

	fprintf(f, "  \"disks\": [");
	for (unsigned i = 0; i < ds->nr; i++) {
		const struct vm_disk *d = &ds->d[i];
		const char *sep = "";
		fprintf(f, "%s\n    {\"name\": \"%s\", \"gsi\": %u, \"base\": %llu, \"iothread\": \"%s\", "
			"\"ioeventfd\": \"%s\", \"irq_writes\": %llu, \"irq_delayed\": %llu, "
			"\"irq_timer_fires\": %llu, \"o_direct\": %s,\n     \"transport\": {",
			i ? "," : "", d->name, d->gsi, (unsigned long long)d->base,
			d->cfg->iothread ? d->cfg->iothread : d->t ? d->t->id : "",
			d->ioeventfd_kind ? d->ioeventfd_kind : "", (unsigned long long)d->blk.irq_writes,
			(unsigned long long)d->blk.irq_delayed, (unsigned long long)d->blk.irq_timer_fires,
			d->file.direct ? "true" : "false");
		{
			const struct virtio_mmio_stats *s = &d->blk.t.st;
			MMIO_COUNTERS(JSON_U64)
		}
		fprintf(f, ", \"isr\": %u},\n     \"queues\": [", (unsigned)atomic_load(&d->blk.t.isr));
		for (unsigned q = 0; q < d->blk.nr_queues; q++) {
			fprintf(f, "%s\n      {\"index\": %u, \"iothread\": \"%s\", ", q ? "," : "", q,
				d->tq[q] ? d->tq[q]->id : "");
			json_queue(f, &d->blk.q[q].st, &d->blk.vqs[q].st, &d->blk.q[q].h.st);
			json_ring(f, &d->blk, q);
			json_lat(f, &d->blk.q[q].lat, hz);
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ],\n  \"iothreads\": [");
	for (unsigned i = 0, n = 0; i < ds->nr_t; i++) {
		const struct iothread *t = &ds->t[i];
		const char *sep = "";
		if (!t->started && !t->loop.st.iterations)
			continue;
		fprintf(f, "%s\n    {\"id\": \"%s\", \"cpu_ns\": %llu, \"cpu\": %d, \"poll\": {"
			"\"max_ns\": %llu, \"grow\": %llu, \"shrink\": %llu, \"idle_ms\": %llu, "
			"\"contention_aware\": %s, \"poll_ns\": %llu}, \"irq\": {\"coalesce_us\": %llu, "
			"\"max_batch\": %u}, \"loop\": {", n++ ? "," : "",
			t->id, U(iothread_cpu_ns(t)), t->pinned ? (int)t->cpu : -1,
			U(t->loop.policy.p.max_ns), U(t->loop.policy.p.grow), U(t->loop.policy.p.shrink),
			U(t->loop.policy.p.idle_ns / 1000000), t->loop.contention_aware ? "true" : "false",
			U(t->loop.policy.poll_ns), U(t->loop.irq.coalesce_ns / 1000), t->loop.irq.max_batch);
		{
			const struct evloop_stats *s = &t->loop.st;
			LOOP_COUNTERS(JSON_U64)
		}
		fprintf(f, "}, \"io_uring_handler\": {");
		sep = "";
		{
			const struct evloop_handler_stats *s = &t->uring.h.st;
			HANDLER_COUNTERS(JSON_U64)
		}
		fprintf(f, "}, \"io_uring\": {");
		sep = "";
		{
			const struct uring_stats *s = &t->uring.st;
			URING_COUNTERS(JSON_U64)
		}
		{
			struct blk_uring_stats sum;
			const struct blk_uring_stats *s = &sum;
			blk_uring_stats_on(ds, &t->uring, &sum);
			BLK_URING_COUNTERS(JSON_U64)
		}
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ]");
}
