/* SPDX-License-Identifier: MIT */
/*
 * The disks' and IOThreads' counters: their lines of the exit summary and
 * their part of the --stats JSON (docs/counters.md).  The JSON has every
 * counter of each set, from its list (counters.h); the summary lines pick
 * the few that tell what a run did.
 */
#include "disks.h"
#include "lat_hist.h"
#include "stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define U(x) ((unsigned long long)(x))

/* The block backends' counters of the disks served on ring r, summed. */
static void blk_uring_stats_on(const struct vm_disks *ds, const struct uring *r,
			       struct blk_uring_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < ds->nr; i++)
		for (unsigned k = 0; k < ds->d[i].nr_on; k++)
			if (ds->d[i].on[k].ring == r)
				COUNTERS_ACCUMULATE(BLK_URING_STATS, sum, &ds->d[i].on[k].st);
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

/* Every request error of s, whatever its kind. */
static uint64_t blk_errors(const struct blk_queue_stats *s)
{
	uint64_t n = 0;

#define ERR_ADD(name) n += s->name;
	BLK_QUEUE_ERR_STATS(ERR_ADD, ERR_ADD)
#undef ERR_ADD
	return n;
}

void disks_stats_print(const struct vm_disks *ds, FILE *f)
{
	double hz = tsc_rate_hz();

	for (unsigned i = 0; i < ds->nr; i++) {
		const struct vm_disk *d = &ds->d[i];
		struct blk_queue_stats s;
		blk_stats_total(&d->blk, &s);
		fprintf(f, "pollvm: stats %s: requests=%llu reads=%llu writes=%llu flushes=%llu "
			"kicks=%llu batches=%llu irqs=%llu irqs_suppressed=%llu errors=%llu "
			"poll_windows=%llu poll_drains=%llu kicks_late=%llu batch_max=%llu\n",
			d->name, U(s.requests), U(s.reads), U(s.writes), U(s.flushes), U(s.kicks),
			U(s.batches), U(d->blk.irq.writes), U(s.irqs_suppressed), U(blk_errors(&s)),
			U(s.poll_windows), U(s.poll_drains), U(s.kicks_late), U(s.batch_max));
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

/* The JSON lists a queue's counters traffic, errors, polling: all of them. */
_Static_assert(sizeof(struct blk_queue_stats) ==
	       sizeof(uint64_t) * (COUNTERS_NR(BLK_QUEUE_TRAFFIC_STATS) + COUNTERS_NR(BLK_QUEUE_ERR_STATS) +
				   COUNTERS_NR(BLK_QUEUE_POLL_STATS)), "a queue counter the JSON leaves out");

/* Its handler's counters, its requests', its virtqueue's. */
static void json_queue(FILE *f, const struct blk_queue *bq, const struct virtq_stats *vs)
{
	const char *sep = "";

	STATS_COUNTERS(EVLOOP_HANDLER_STATS, f, &sep, true, &bq->h.st);
	STATS_COUNTERS(BLK_QUEUE_TRAFFIC_STATS, f, &sep, true, &bq->st);
	STATS_COUNTERS(BLK_QUEUE_ERR_STATS, f, &sep, true, &bq->st);
	STATS_COUNTERS(BLK_QUEUE_POLL_STATS, f, &sep, true, &bq->st);
	STATS_COUNTERS(VIRTQ_STATS, f, &sep, true, vs);
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
			d->ioeventfd_kind ? d->ioeventfd_kind : "", (unsigned long long)d->blk.irq.writes,
			(unsigned long long)d->blk.irq.delayed, (unsigned long long)d->blk.irq.timer_fires,
			d->file.direct ? "true" : "false");
		STATS_COUNTERS(VIRTIO_MMIO_STATS, f, &sep, true, &d->blk.t.st);
		fprintf(f, ", \"isr\": %u},\n     \"queues\": [", (unsigned)atomic_load(&d->blk.t.isr));
		for (unsigned q = 0; q < d->blk.nr_queues; q++) {
			fprintf(f, "%s\n      {\"index\": %u, \"iothread\": \"%s\", ", q ? "," : "", q,
				d->tq[q] ? d->tq[q]->id : "");
			json_queue(f, &d->blk.q[q], &d->blk.vqs[q].st);
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
		STATS_COUNTERS(EVLOOP_STATS, f, &sep, true, &t->loop.st);
		fprintf(f, "}, \"io_uring_handler\": {");
		sep = "";
		STATS_COUNTERS(EVLOOP_HANDLER_STATS, f, &sep, true, &t->uring.h.st);
		fprintf(f, "}, \"io_uring\": {");
		sep = "";
		/* The ring's, and its block backends' (summed over the disks on it): one object. */
		struct blk_uring_stats bu;
		blk_uring_stats_on(ds, &t->uring, &bu);
		STATS_COUNTERS(URING_STATS, f, &sep, true, &t->uring.st);
		STATS_COUNTERS(BLK_URING_STATS, f, &sep, true, &bu);
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ]");
}
