/* SPDX-License-Identifier: MIT */
/*
 * bench-device: pollvm's virtio-blk device path measured without KVM, next
 * to io_uring used directly on the same file (scripts/bench-device runs it).
 *
 * --system device: the real device (virtio-mmio registers, split virtqueue,
 * virtio-blk, IOThreads with their poll policy, the io_uring backend),
 * driven by this thread acting as the guest's driver on a region registered
 * as guest RAM.  It brings the device up through virtio_mmio_bus_ops as a
 * guest's MMIO accesses would, publishes requests in the avail ring, and
 * kicks by writing the queue's eventfd exactly where KVM's ioeventfd would:
 * only when the device asks for kicks (VRING_USED_F_NO_NOTIFY, or
 * avail_event with EVENT_IDX).  Completions are seen by polling the used
 * ring (--completion poll: interrupts suppressed as a polling driver does)
 * or by blocking on the irqfd's eventfd, then reading and acknowledging
 * InterruptStatus as Linux's virtio-mmio interrupt handler does
 * (--completion irq).
 *
 * --system uring: the limit.  One thread, one ring, the same file opened
 * the same way (blk_file_open: O_DIRECT for cache=none, or the page cache
 * where the device falls back to it), the same ops (READV/WRITEV of one
 * segment) at the same depth: CQ busy-polled for --completion poll,
 * io_uring_wait_cqe() for --completion irq.  For the null disk, a loop of
 * IORING_OP_NOP.
 *
 * Latency: device, from the TSC read before a request's avail entry is
 * published to the TSC read after the used index that holds it was seen;
 * io_uring, from before io_uring_submit() to after its CQE was seen.
 *
 * Output: one line of key=value (see bench_report()).  With --requests N
 * and --batch-wait, exactly N requests in batches of qd, each batch
 * published at once and waited for: what callgrind counts (scripts/check-insn).
 *
 * The device's line also carries its IOThreads' event-loop counters over
 * the measured window (struct evloop_stats): blocking waits, poll windows
 * and how they ended, contention back-offs, time spent polling.
 *
 * --neighbour: a CPU-bound thread (a dependent multiply-add chain, no
 * memory traffic, no system calls) pinned on the first IOThread's CPU
 * runs through the device's run; the line adds its iterations per second
 * over the measured window.  --system neighbour: that thread alone on
 * that CPU for the same warm-up and window, no device: its solo rate,
 * while this thread does on the driver's CPU what the driver would (spin
 * for --completion poll, sleep for irq).
 *
 * --idle: the device polls through a warm-up of requests, then the driver
 * publishes nothing; after the IOThread's poll-idle interval
 * (--poll-idle-ms) the IOThreads' CPU time is measured for --secs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../../devices/blk.h"
#include "../../devices/blk_uring.h"
#include "../../vmm/iothread.h"
#include "../../vmm/sandbox.h"
#include "../lib/vq_driver.h"

#define BENCH_MAX_QUEUES 2
#define BENCH_QUEUE_NUM 256        /* the driver's Queue Size (VIRTQ_NUM_MAX) */
#define BENCH_MAX_QD 256
/* Latency histogram: buckets of 1/2^HIST_SUB of a power of two. */
#define HIST_SUB 6
#define HIST_BUCKETS (64 << HIST_SUB)

enum bench_system { SYS_DEVICE, SYS_URING, SYS_NEIGHBOUR };
enum bench_completion { COMP_POLL, COMP_IRQ };

struct bench_opts {
	enum bench_system system;
	const char *file;            /* NULL: the null disk */
	uint64_t null_size;
	bool read_zeroes;
	enum blk_cache cache;
	enum blk_io_op op;
	bool random;
	uint32_t bs;
	unsigned qd;                 /* in flight in all, over every queue */
	double secs, warmup;
	uint64_t requests;           /* 0: run for secs */
	bool batch_wait;
	enum bench_completion completion;
	bool event_idx;
	uint64_t poll_max_ns;
	bool poll_contention;
	int64_t poll_idle_ms;        /* -1: the IOThread's default */
	bool neighbour;              /* a CPU-bound thread on the IOThread's CPU */
	bool idle;                   /* measure the idle IOThread, not I/O */
	unsigned queues;
	int cpu_driver;              /* -1: not pinned */
	int cpu_iothread[BENCH_MAX_QUEUES];
	bool sandbox;
};

struct hist {
	uint64_t n;
	double sum;
	uint64_t b[HIST_BUCKETS];
};

/* ---- time ------------------------------------------------------------------ */

static double tsc_per_ns;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* TSC ticks per ns over 20 ms (constant_tsc assumed, as blkbench does). */
static void tsc_calibrate(void)
{
	uint64_t m0 = mono_ns(), t0 = __rdtsc(), m1;

	do
		m1 = mono_ns();
	while (m1 - m0 < 20000000ull);
	tsc_per_ns = (double)(__rdtsc() - t0) / (double)(m1 - m0);
}

/* Sleep until CLOCK_MONOTONIC reaches deadline (ns). */
static void sleep_until(uint64_t deadline)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000ull),
			       .tv_nsec = (long)(deadline % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void hist_add(struct hist *h, uint64_t v)
{
	unsigned msb = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
	unsigned idx;

	if (msb < HIST_SUB)
		idx = (unsigned)v;
	else
		idx = ((msb - HIST_SUB + 1) << HIST_SUB) + (unsigned)((v >> (msb - HIST_SUB)) & ((1u << HIST_SUB) - 1));
	h->b[idx]++;
	h->n++;
	h->sum += (double)v;
}

/* The value at quantile q (its bucket's midpoint), in ticks. */
static double hist_quantile(const struct hist *h, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)h->n), seen = 0;

	if (!h->n)
		return 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want && h->b[i]) {
			unsigned hi = i >> HIST_SUB, lo = i & ((1u << HIST_SUB) - 1);
			if (hi == 0)
				return lo;
			double base = ldexp(1.0, (int)(hi + HIST_SUB - 1));
			double step = base / (1u << HIST_SUB);
			return base + step * (lo + 0.5);
		}
	}
	return 0;
}

/* ---- the workload ----------------------------------------------------------- */

struct workload {
	const struct bench_opts *o;
	uint64_t blocks;             /* bs-sized blocks in the disk */
	uint64_t seq_next;
	uint64_t rng;
};

static uint64_t wl_offset(struct workload *w)
{
	if (!w->o->random) {
		uint64_t b = w->seq_next++;
		if (w->seq_next == w->blocks)
			w->seq_next = 0;
		return b * w->o->bs;
	}
	/* xorshift64*: cheap, and the same sequence every run. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return ((w->rng * 2685821657736338717ull) >> 11) % w->blocks * w->o->bs;
}

/* ---- the neighbour ------------------------------------------------------------- */

/* Iterations between two publications of the neighbour's count (~1 us). */
#define NEIGHBOUR_CHUNK 1024

/*
 * A CPU-bound task sharing the IOThread's CPU: a chain of dependent
 * multiply-adds (Knuth's MMIX LCG), no memory traffic and no system calls,
 * so its iterations per second are the CPU time the scheduler gave it.
 */
struct neighbour {
	pthread_t thread;
	bool started;
	atomic_bool stop;
	/* Relaxed throughout: a counter read for its value, ordering nothing. */
	_Atomic uint64_t iters;
	uint64_t sink;               /* the chain's end: the loop is not dead code */
};

static void *neighbour_main(void *arg)
{
	struct neighbour *n = arg;
	uint64_t x = 1, done = 0;

	pthread_setname_np(pthread_self(), "bench-neighbour");
	while (!atomic_load_explicit(&n->stop, memory_order_relaxed)) {
		for (unsigned i = 0; i < NEIGHBOUR_CHUNK; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			/* One multiply-add per iteration, as written: the compiler
			 * may not fold or vectorise the chain. */
			__asm__ volatile("" : "+r"(x));
		}
		done += NEIGHBOUR_CHUNK;
		atomic_store_explicit(&n->iters, done, memory_order_relaxed);
	}
	n->sink = x;
	return NULL;
}

/* Start the neighbour pinned to cpu; -errno. */
static int neighbour_start(struct neighbour *n, unsigned cpu)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int r;

	memset(n, 0, sizeof(*n));
	r = pthread_attr_init(&attr);
	if (r)
		return -r;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	r = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	if (!r)
		r = pthread_create(&n->thread, &attr, neighbour_main, n);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	n->started = true;
	return 0;
}

static uint64_t neighbour_iters(struct neighbour *n)
{
	return atomic_load_explicit(&n->iters, memory_order_relaxed);
}

static void neighbour_stop(struct neighbour *n)
{
	if (!n->started)
		return;
	atomic_store_explicit(&n->stop, true, memory_order_relaxed);
	pthread_join(n->thread, NULL);
	n->started = false;
}

/* ---- results ---------------------------------------------------------------- */

/* The event-loop counters a device run reports (struct evloop_stats), summed over its IOThreads. */
#define LOOP_COUNTS(X) X(waits) X(poll_windows) X(poll_hits) X(poll_misses) X(contention_backoffs) X(polled_ns)

struct loop_counts {
#define LOOP_FIELD(name) uint64_t name;
	LOOP_COUNTS(LOOP_FIELD)
#undef LOOP_FIELD
};

struct result {
	uint64_t ios, errors;
	uint64_t t0_tsc, t1_tsc;          /* the measured window */
	uint64_t t0_ns, t1_ns;
	uint64_t cpu_ns;                  /* IOThreads (device) or the thread (uring) */
	uint64_t driver_cpu_ns;
	uint64_t kicks, irq_writes, irq_waits, batches;
	struct hist lat;
	bool measuring;
	/* Device runs only. */
	bool has_loop;
	struct loop_counts loop;          /* over the window */
	bool has_neighbour;
	uint64_t neighbour_iters;         /* over the window */
};

static void result_begin(struct result *r, uint64_t cpu_ns)
{
	memset(&r->lat, 0, sizeof(r->lat));
	r->ios = r->errors = r->kicks = r->irq_writes = r->irq_waits = r->batches = 0;
	r->t0_ns = mono_ns();
	r->t0_tsc = __rdtsc();
	r->cpu_ns = cpu_ns;
	r->driver_cpu_ns = thread_cpu_ns();
	r->measuring = true;
}

static void result_end(struct result *r, uint64_t cpu_ns)
{
	r->t1_tsc = __rdtsc();
	r->t1_ns = mono_ns();
	r->cpu_ns = cpu_ns - r->cpu_ns;
	r->driver_cpu_ns = thread_cpu_ns() - r->driver_cpu_ns;
	r->measuring = false;
	/* The TSC rate over the whole window: latencies are converted with it. */
	if (r->t1_ns > r->t0_ns + 50000000ull)
		tsc_per_ns = (double)(r->t1_tsc - r->t0_tsc) / (double)(r->t1_ns - r->t0_ns);
}

/*
 * The device's IOThreads over the window: their CPU time and the time
 * they spent in poll windows as % of one core, summed over the IOThreads.
 */
static double window_pct(const struct result *r, uint64_t ns)
{
	return r->t1_ns > r->t0_ns ? 100.0 * (double)ns / (double)(r->t1_ns - r->t0_ns) : 0.0;
}

static void bench_report(const struct bench_opts *o, const struct result *r)
{
	double secs = (double)(r->t1_ns - r->t0_ns) / 1e9, n = r->ios ? (double)r->ios : 1;
	const struct loop_counts *l = &r->loop;

	printf("bench-device: system=%s ios=%llu errors=%llu secs=%.3f iops=%.0f p50_us=%.2f p99_us=%.2f "
	       "p999_us=%.2f mean_us=%.2f cpu_ns_per_io=%.0f driver_cpu_ns_per_io=%.0f kicks_per_io=%.4f irqs_per_io=%.4f "
	       "irq_waits_per_io=%.4f ios_per_batch=%.2f",
	       o->system == SYS_DEVICE ? "pollvm-device" : "io_uring", (unsigned long long)r->ios,
	       (unsigned long long)r->errors, secs, (double)r->ios / secs,
	       hist_quantile(&r->lat, 0.50) / tsc_per_ns / 1000.0,
	       hist_quantile(&r->lat, 0.99) / tsc_per_ns / 1000.0,
	       hist_quantile(&r->lat, 0.999) / tsc_per_ns / 1000.0,
	       r->lat.n ? r->lat.sum / (double)r->lat.n / tsc_per_ns / 1000.0 : 0.0, (double)r->cpu_ns / n,
	       (double)r->driver_cpu_ns / n, (double)r->kicks / n, (double)r->irq_writes / n,
	       (double)r->irq_waits / n, r->batches ? (double)r->ios / (double)r->batches : 0.0);
	if (r->has_loop)
		printf(" loop_waits_per_io=%.4f poll_windows_per_io=%.4f poll_hits_per_io=%.4f "
		       "poll_misses_per_io=%.4f contention_backoffs=%llu polled_pct=%.2f iothread_cpu_pct=%.2f",
		       (double)l->waits / n, (double)l->poll_windows / n, (double)l->poll_hits / n,
		       (double)l->poll_misses / n, (unsigned long long)l->contention_backoffs,
		       window_pct(r, l->polled_ns), window_pct(r, r->cpu_ns));
	if (r->has_neighbour)
		printf(" neighbour_ips=%.0f", (double)r->neighbour_iters / secs);
	printf("\n");
}

/* --idle: counts over the window, not per I/O (there is none). */
static void bench_report_idle(const struct result *r, uint64_t idle_ms)
{
	const struct loop_counts *l = &r->loop;

	printf("bench-device: system=pollvm-device idle_ms=%llu secs=%.3f iothread_cpu_pct=%.3f loop_waits=%llu "
	       "poll_windows=%llu poll_hits=%llu poll_misses=%llu contention_backoffs=%llu polled_pct=%.3f\n",
	       (unsigned long long)idle_ms, (double)(r->t1_ns - r->t0_ns) / 1e9, window_pct(r, r->cpu_ns),
	       (unsigned long long)l->waits, (unsigned long long)l->poll_windows,
	       (unsigned long long)l->poll_hits, (unsigned long long)l->poll_misses,
	       (unsigned long long)l->contention_backoffs, window_pct(r, l->polled_ns));
}

/* Time-based runs: warm up, then measure until the deadline.  False: stop issuing. */
struct clockwork {
	uint64_t warm_end, end;           /* CLOCK_MONOTONIC deadlines */
	uint64_t issued;                  /* requests issued (--requests) */
	uint64_t secs_ns;                 /* the window's length */
	bool measured;                    /* the window has begun */
};

/* ---- the device -------------------------------------------------------------- */

struct dslot {
	uint64_t hdr, st, tab, buf;
	uint64_t t_pub;
};

struct dqueue {
	struct drv d;
	int kick_fd;
	unsigned qd, inflight;
	struct dslot slot[BENCH_MAX_QD];
	uint16_t free[BENCH_MAX_QD];
	unsigned nfree;
};

struct dev_bench {
	const struct bench_opts *o;
	struct iothread t[BENCH_MAX_QUEUES];
	unsigned nr_t;
	struct blk_file f;
	struct blk_uring on[BENCH_MAX_QUEUES];  /* the file on each IOThread's ring */
	bool f_open;
	struct blk b;
	bool blk_ready;
	struct dqueue q[BENCH_MAX_QUEUES];
	struct drv *ram;                  /* queue 0's driver owns RAM and its allocator */
	int irqfd;
	int kick_fds[BENCH_MAX_QUEUES];
	struct workload w;
	struct result r;
	struct neighbour *nb;             /* --neighbour, else NULL */
	/* When measuring began: */
	uint64_t irq0;                    /* the device's irqfd writes */
	struct loop_counts loop0;
	uint64_t nb0;
};

static uint64_t dev_iothread_cpu(const struct dev_bench *x)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < x->nr_t; i++)
		s += iothread_cpu_ns(&x->t[i]);
	return s;
}

/*
 * The IOThreads' counters, read while they run: each an aligned word the
 * IOThread alone writes, loaded once (relaxed: no ordering with anything
 * else is needed); a sum may be an iteration stale.
 */
static void dev_loop_counts(const struct dev_bench *x, struct loop_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < x->nr_t; i++) {
		const struct evloop_stats *s = &x->t[i].loop.st;
#define LOOP_ADD(name) c->name += __atomic_load_n(&s->name, __ATOMIC_RELAXED);
		LOOP_COUNTS(LOOP_ADD)
#undef LOOP_ADD
	}
}

/* The measured window began (after result_begin): the counters it is measured from. */
static void dev_window_begin(struct dev_bench *x)
{
	x->irq0 = __atomic_load_n(&x->b.irq.writes, __ATOMIC_RELAXED);
	dev_loop_counts(x, &x->loop0);
	if (x->nb)
		x->nb0 = neighbour_iters(x->nb);
}

/* The window ended (after result_end): what the counters did in it. */
static void dev_window_end(struct dev_bench *x)
{
	struct loop_counts now;

	x->r.irq_writes = __atomic_load_n(&x->b.irq.writes, __ATOMIC_RELAXED) - x->irq0;
	dev_loop_counts(x, &now);
#define LOOP_SUB(name) x->r.loop.name = now.name - x->loop0.name;
	LOOP_COUNTS(LOOP_SUB)
#undef LOOP_SUB
	x->r.has_loop = true;
	if (x->nb) {
		x->r.neighbour_iters = neighbour_iters(x->nb) - x->nb0;
		x->r.has_neighbour = true;
	}
}

/* 0, or -errno after one line on stderr (the device's pv_err(), or this bench's). */
static int dev_setup(struct dev_bench *x, const struct bench_opts *o)
{
	int r;

	memset(x, 0, sizeof(*x));
	x->o = o;
	x->irqfd = -1;
	for (unsigned i = 0; i < BENCH_MAX_QUEUES; i++)
		x->kick_fds[i] = -1;
	sandbox_enabled = o->sandbox;
	if (o->file)
		r = blk_file_open(&x->f, o->file, false, o->cache, 512);
	else
		r = blk_file_open_null(&x->f, o->null_size, false, o->read_zeroes, 512);
	if (r)
		return r;
	x->f_open = true;
	for (unsigned i = 0; i < o->queues; i++) {
		struct iothread_cfg c;
		char id[16];
		snprintf(id, sizeof(id), "bench%u", i);
		iothread_cfg_default(&c, id);
		c.poll.max_ns = o->poll_max_ns;
		c.poll_contention = o->poll_contention;
		if (o->poll_idle_ms >= 0)
			c.poll.idle_ns = (uint64_t)o->poll_idle_ms * 1000000ull;
		if (o->cpu_iothread[i] >= 0) {
			c.pinned = true;
			c.cpu = (unsigned)o->cpu_iothread[i];
		}
		r = iothread_init(&x->t[i], &c);
		if (r)
			return r;
		x->nr_t++;
	}
	x->irqfd = eventfd(0, EFD_CLOEXEC);   /* the driver blocks on it */
	if (x->irqfd < 0)
		goto fail_errno;
	for (unsigned i = 0; i < o->queues; i++) {
		x->kick_fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (x->kick_fds[i] < 0)
			goto fail_errno;
	}
	for (unsigned i = 0; i < o->queues; i++)
		blk_uring_bind(&x->on[i], &x->f, &x->t[i].uring);

	/* Guest RAM: rings and request headers, then the data buffers. */
	uint64_t ram = (2ull << 20) + (uint64_t)o->qd * ((o->bs + 4095ull) & ~4095ull);
	struct drv *d0 = &x->q[0].d;
	drv_init_ram(d0, BENCH_QUEUE_NUM, ram);
	for (unsigned i = 1; i < o->queues; i++)
		drv_init_queue(&x->q[i].d, d0);
	x->ram = d0;

	struct blk_params p = {
		.capacity = x->f.size / VIRTIO_BLK_SECTOR, .blk_size = 512, .ro = false,
		.discard = x->f.can_punch, .write_zeroes = x->f.can_punch, .writeback = true,
		.num_queues = o->queues, .serial = "bench-device",
	};
	r = blk_init(&x->b, "vda", &p, &d0->mem, x->irqfd, x->kick_fds, &blk_uring_ops, &x->on[0]);
	if (r) {
		fprintf(stderr, "bench-device: blk_init: %s\n", strerror(-r));
		return r;
	}
	x->blk_ready = true;
	for (unsigned i = 0; i < o->queues; i++) {
		r = blk_attach_queue(&x->b, i, &x->t[i].loop, &x->on[i]);
		if (r) {
			fprintf(stderr, "bench-device: blk_attach_queue: %s\n", strerror(-r));
			return r;
		}
	}
	for (unsigned i = 0; i < x->nr_t; i++) {
		r = iothread_start(&x->t[i]);
		if (r) {
			fprintf(stderr, "bench-device: iothread_start: %s\n", strerror(-r));
			return r;
		}
	}

	/* Each queue's share of the depth, its slots and its buffers. */
	for (unsigned i = 0; i < o->queues; i++) {
		struct dqueue *q = &x->q[i];
		q->kick_fd = x->kick_fds[i];
		q->qd = o->qd / o->queues + (i < o->qd % o->queues);
		for (unsigned s = 0; s < q->qd; s++) {
			q->slot[s].hdr = drv_alloc(d0, DRV_BLK_HDR_BYTES, 16);
			q->slot[s].st = drv_alloc(d0, 1, 1);
			q->slot[s].tab = drv_alloc(d0, DRV_TABLE_BYTES(3), VRING_DESC_ALIGN_SIZE);
		}
		for (unsigned s = 0; s < q->qd; s++)
			q->slot[s].buf = drv_alloc(d0, o->bs, 4096);
		for (unsigned s = q->qd; s-- > 0;)
			q->free[q->nfree++] = (uint16_t)s;
	}
	struct drv *qs[BENCH_MAX_QUEUES];
	for (unsigned i = 0; i < o->queues; i++)
		qs[i] = &x->q[i].d;
	uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
			(1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_MQ) |
			(o->event_idx ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0);
	drv_bring_up_queues(qs, o->queues, &x->b.t, feat);
	if (!virtio_mmio_live(&x->b.t)) {
		fprintf(stderr, "bench-device: the device did not take DRIVER_OK\n");
		return -EIO;
	}
	/* DRIVER_OK kicked every queue once (blk_activate): let each IOThread
	 * take that kick before the first request, so that the first batch
	 * does not ride on it (the same work in every run). */
	for (unsigned i = 0; i < o->queues; i++) {
		for (int k = 0; k < 5000 && !__atomic_load_n(&x->b.q[i].h.st.fd_events, __ATOMIC_RELAXED); k++)
			usleep(1000);
	}
	x->w = (struct workload){ .o = o, .blocks = x->f.size / o->bs, .rng = 0x9e3779b97f4a7c15ull };
	return 0;
fail_errno:
	r = -errno;
	fprintf(stderr, "bench-device: eventfd: %s\n", strerror(errno));
	return r;
}

static void dev_teardown(struct dev_bench *x)
{
	for (unsigned i = 0; i < x->nr_t; i++)
		iothread_stop(&x->t[i], 0);
	if (x->blk_ready)
		blk_destroy(&x->b);
	for (unsigned i = 0; i < x->nr_t; i++)
		iothread_destroy(&x->t[i]);
	if (x->f_open)
		blk_file_close(&x->f);
	if (x->ram)
		drv_free(x->ram);
	for (unsigned i = 0; i < BENCH_MAX_QUEUES; i++)
		if (x->kick_fds[i] >= 0)
			close(x->kick_fds[i]);
	if (x->irqfd >= 0)
		close(x->irqfd);
}

/*
 * Interrupts: wanted once `after` more completions are in the used ring
 * (irq completion: used_event, or avail.flags clear without EVENT_IDX), or
 * not at all (polling driver: VRING_AVAIL_F_NO_INTERRUPT, or used_event
 * half the index space away from where the device writes).
 */
static void dev_irq_want(struct dqueue *q, bool want, bool event_idx, uint16_t after)
{
	struct drv *d = &q->d;

	if (event_idx)
		__atomic_store_n(drv_used_event_p(d),
				 htole16((uint16_t)(want ? d->last_used + after : d->last_used + 0x8000)),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&drv_avail(d)->flags, htole16(want ? 0 : VRING_AVAIL_F_NO_INTERRUPT),
				 __ATOMIC_RELAXED);
}

/* Publish up to n new requests on q, then kick if the device asks for it. */
static void dev_issue(struct dev_bench *x, struct dqueue *q, unsigned n)
{
	const struct bench_opts *o = x->o;
	struct drv *d = &q->d;
	uint16_t old = d->avail_idx;
	uint32_t type = o->op == BLK_IO_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;

	if (!n)
		return;
	for (unsigned i = 0; i < n && q->nfree; i++) {
		uint16_t s = q->free[--q->nfree];
		struct dslot *sl = &q->slot[s];
		drv_blk_put_req(d, s, sl->tab, sl->hdr, sl->st, type, wl_offset(&x->w) / VIRTIO_BLK_SECTOR,
			    sl->buf, o->bs, o->op == BLK_IO_READ);
		sl->t_pub = __rdtsc();
		drv_publish(d, s);
		q->inflight++;
	}
	if (drv_kick_needed(d, old, o->event_idx)) {
		uint64_t one = 1;
		if (write(q->kick_fd, &one, sizeof(one)) == sizeof(one) && x->r.measuring)
			x->r.kicks++;
	}
}

/* Take what q's used ring holds; returns how many. */
static unsigned dev_reap(struct dev_bench *x, struct dqueue *q)
{
	struct drv *d = &q->d;
	uint32_t id, len;
	unsigned n = 0;
	uint64_t seen;

	if (drv_used_idx(d) == d->last_used)
		return 0;
	seen = __rdtsc();
	while (drv_get_used(d, &id, &len)) {
		struct dslot *sl;
		if (id >= q->qd)
			abort();   /* the device returned a head we never gave it */
		sl = &q->slot[id];
		if (x->r.measuring) {
			hist_add(&x->r.lat, seen - sl->t_pub);
			x->r.ios++;
			if (*(uint8_t *)drv_hva(d, sl->st) != VIRTIO_BLK_S_OK)
				x->r.errors++;
		}
		q->free[q->nfree++] = (uint16_t)id;
		q->inflight--;
		n++;
	}
	return n;
}

/* The irqfd fired: Linux's vm_interrupt() reads InterruptStatus and acknowledges it. */
static void dev_irq_wait(struct dev_bench *x)
{
	uint64_t v;
	uint32_t isr;

	if (read(x->irqfd, &v, sizeof(v)) != sizeof(v))
		return;
	if (x->r.measuring)
		x->r.irq_waits++;
	isr = drv_mmio_rd(&x->b.t, VIRTIO_MMIO_INTERRUPT_STATUS);
	if (isr)
		drv_mmio_wr(&x->b.t, VIRTIO_MMIO_INTERRUPT_ACK, isr);
}

/*
 * May n more requests be issued now?  Starts the measured window at the
 * end of the warm-up and ends it at the deadline; cpu() reads the CPU time
 * the window accounts (called only then: a thread's CPU clock is a system
 * call).
 */
static bool clock_issue_ok(struct clockwork *c, const struct bench_opts *o, struct result *r,
			   uint64_t (*cpu)(void *), void *arg, unsigned n)
{
	if (o->requests)
		return c->issued + n <= o->requests;
	uint64_t now = mono_ns();
	if (!r->measuring && !c->measured && now >= c->warm_end) {
		/* The window is secs long from here, however late the warm-up's
		 * last completion came (a stalled thread on a busy machine). */
		c->end = now + c->secs_ns;
		c->measured = true;
		result_begin(r, cpu(arg));
		return true;
	}
	if (r->measuring && now >= c->end) {
		result_end(r, cpu(arg));
		return false;
	}
	return now < c->end;
}

static uint64_t dev_cpu(void *arg)
{
	return dev_iothread_cpu(arg);
}

static uint64_t no_cpu(void *arg)
{
	(void)arg;
	return 0;
}

static int dev_run(struct dev_bench *x)
{
	const struct bench_opts *o = x->o;
	struct clockwork c = { 0 };
	bool issuing = true;
	unsigned inflight_all = 0;

	for (unsigned i = 0; i < o->queues; i++)
		dev_irq_want(&x->q[i], o->completion == COMP_IRQ, o->event_idx, 0);
	if (o->requests) {
		result_begin(&x->r, dev_iothread_cpu(x));
		dev_window_begin(x);
	} else {
		c.secs_ns = (uint64_t)(o->secs * 1e9);
		c.warm_end = mono_ns() + (uint64_t)(o->warmup * 1e9);
		c.end = c.warm_end + c.secs_ns;
	}
	for (;;) {
		unsigned got = 0;
		/* Refill: every free slot (batch-wait: only once all are back). */
		for (unsigned i = 0; i < o->queues && issuing; i++) {
			struct dqueue *q = &x->q[i];
			unsigned n = q->nfree;
			if (o->batch_wait && q->inflight)
				n = 0;
			if (!n)
				continue;
			bool was = x->r.measuring;
			if (!clock_issue_ok(&c, o, &x->r, dev_cpu, x, n))
				issuing = false;
			if (!was && x->r.measuring)
				dev_window_begin(x);
			if (was && !x->r.measuring)
				dev_window_end(x);
			if (!issuing)
				break;
			c.issued += n;
			/* Waiting for whole batches: one interrupt when the batch's last
			 * request completes, whenever the driver looks (deterministic). */
			if (o->completion == COMP_IRQ && o->batch_wait)
				dev_irq_want(q, true, o->event_idx, (uint16_t)(n - 1));
			dev_issue(x, q, n);
			if (x->r.measuring)
				x->r.batches++;
		}
		inflight_all = 0;
		for (unsigned i = 0; i < o->queues; i++)
			inflight_all += x->q[i].inflight;
		if (!issuing && !inflight_all)
			break;
		if (o->requests && !inflight_all && c.issued >= o->requests)
			break;
		/* Completions. */
		for (unsigned i = 0; i < o->queues; i++)
			got += dev_reap(x, &x->q[i]);
		if (got || o->completion == COMP_POLL)
			continue;
		/* Sleep until the interrupt: asked for at the next completion
		 * (Linux's virtqueue_enable_cb), then the re-check after the
		 * fence covers one the device pushed before it saw used_event. */
		if (!o->batch_wait)
			for (unsigned i = 0; i < o->queues; i++)
				dev_irq_want(&x->q[i], true, o->event_idx, 0);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		bool more = false;
		for (unsigned i = 0; i < o->queues; i++)
			more |= drv_used_idx(&x->q[i].d) != x->q[i].d.last_used;
		if (!more)
			dev_irq_wait(x);
	}
	if (o->requests) {
		result_end(&x->r, dev_iothread_cpu(x));
		dev_window_end(x);
	}
	return 0;
}

/* The IOThread's idle interval: --poll-idle-ms, or its default. */
static uint64_t dev_idle_ms(const struct bench_opts *o)
{
	return o->poll_idle_ms >= 0 ? (uint64_t)o->poll_idle_ms : POLL_DEFAULT_IDLE_MS;
}

/*
 * --idle: requests for the warm-up (the IOThreads poll, the queues are in
 * their poll sets; completions seen on the used ring, interrupts off),
 * then none: once the idle interval has passed since the last completion,
 * the window measures what the IOThreads cost doing nothing.
 */
static void dev_idle(struct dev_bench *x)
{
	const struct bench_opts *o = x->o;
	uint64_t busy_end = mono_ns() + (uint64_t)(o->warmup * 1e9);

	for (unsigned i = 0; i < o->queues; i++)
		dev_irq_want(&x->q[i], false, o->event_idx, 0);
	for (;;) {
		bool issuing = mono_ns() < busy_end;
		unsigned inflight = 0;
		for (unsigned i = 0; i < o->queues; i++) {
			struct dqueue *q = &x->q[i];
			if (issuing)
				dev_issue(x, q, q->nfree);
			dev_reap(x, q);
			inflight += q->inflight;
		}
		if (!issuing && !inflight)
			break;
	}
	sleep_until(mono_ns() + dev_idle_ms(o) * 1000000ull);
	result_begin(&x->r, dev_iothread_cpu(x));
	dev_window_begin(x);
	sleep_until(x->r.t0_ns + (uint64_t)(o->secs * 1e9));
	result_end(&x->r, dev_iothread_cpu(x));
	dev_window_end(x);
}

static int bench_device(const struct bench_opts *o)
{
	struct dev_bench *x = calloc(1, sizeof(*x));
	struct neighbour nb;
	int r;

	if (!x)
		return -ENOMEM;
	r = dev_setup(x, o);
	if (!r && o->neighbour) {
		r = neighbour_start(&nb, (unsigned)o->cpu_iothread[0]);
		if (r)
			fprintf(stderr, "bench-device: neighbour thread: %s\n", strerror(-r));
		else
			x->nb = &nb;
	}
	if (r) {
		dev_teardown(x);
		free(x);
		return r;
	}
	if (o->idle)
		dev_idle(x);
	else
		dev_run(x);
	if (x->nb)
		neighbour_stop(x->nb);
	dev_teardown(x);
	if (o->idle)
		bench_report_idle(&x->r, dev_idle_ms(o));
	else
		bench_report(o, &x->r);
	r = x->r.errors ? -EIO : 0;
	free(x);
	return r;
}

/* ---- the neighbour alone ---------------------------------------------------------- */

/*
 * Wait until deadline as the driver of --completion would: a polling
 * driver keeps its CPU busy, an interrupt-driven one sleeps.
 */
static void driver_wait_until(const struct bench_opts *o, uint64_t deadline)
{
	if (o->completion == COMP_IRQ)
		sleep_until(deadline);
	else
		while (mono_ns() < deadline)
			;
}

/*
 * Its solo rate: the same CPU, warm-up and window as a device run's, no
 * device; this thread stands in for the driver on its CPU (the scheduler
 * shares a CPU between task groups, so how busy the group's other CPU is
 * changes what the neighbour gets when the machine is loaded).
 */
static int bench_neighbour(const struct bench_opts *o)
{
	struct neighbour nb;
	uint64_t t0, t1, n0, n1;
	int r = neighbour_start(&nb, (unsigned)o->cpu_iothread[0]);

	if (r) {
		fprintf(stderr, "bench-device: neighbour thread: %s\n", strerror(-r));
		return r;
	}
	driver_wait_until(o, mono_ns() + (uint64_t)(o->warmup * 1e9));
	t0 = mono_ns();
	n0 = neighbour_iters(&nb);
	driver_wait_until(o, t0 + (uint64_t)(o->secs * 1e9));
	t1 = mono_ns();
	n1 = neighbour_iters(&nb);
	neighbour_stop(&nb);
	printf("bench-device: system=neighbour secs=%.3f neighbour_ips=%.0f\n", (double)(t1 - t0) / 1e9,
	       (double)(n1 - n0) / ((double)(t1 - t0) / 1e9));
	return 0;
}

/* ---- io_uring directly -------------------------------------------------------- */

struct uslot {
	struct iovec iov;
	uint64_t t_sub;
};

static int bench_uring(const struct bench_opts *o)
{
	struct blk_file f;
	struct io_uring ring;
	struct uslot *sl = calloc(o->qd, sizeof(*sl));
	uint8_t *bufs = NULL;
	struct workload w;
	struct result *r = calloc(1, sizeof(*r));
	struct clockwork c = { 0 };
	unsigned inflight = 0, pending = 0;
	bool issuing = true;
	int ret;

	if (!sl || !r)
		return -ENOMEM;
	if (o->file)
		ret = blk_file_open(&f, o->file, false, o->cache, 512);
	else
		ret = blk_file_open_null(&f, o->null_size, false, o->read_zeroes, 512);
	if (ret)
		return ret;
	ret = io_uring_queue_init(o->qd < 8 ? 8 : o->qd, &ring, 0);
	if (ret) {
		fprintf(stderr, "bench-device: io_uring_queue_init: %s\n", strerror(-ret));
		return ret;
	}
	bufs = aligned_alloc(4096, (size_t)o->qd * ((o->bs + 4095) & ~4095u));
	if (!bufs)
		return -ENOMEM;
	memset(bufs, 0, (size_t)o->qd * ((o->bs + 4095) & ~4095u));
	w = (struct workload){ .o = o, .blocks = f.size / o->bs, .rng = 0x9e3779b97f4a7c15ull };
	for (unsigned i = 0; i < o->qd; i++)
		sl[i].iov = (struct iovec){ .iov_base = bufs + (size_t)i * ((o->bs + 4095) & ~4095u),
					    .iov_len = o->bs };
	if (o->requests) {
		result_begin(r, 0);
	} else {
		c.secs_ns = (uint64_t)(o->secs * 1e9);
		c.warm_end = mono_ns() + (uint64_t)(o->warmup * 1e9);
		c.end = c.warm_end + c.secs_ns;
	}
	/* free slots: a stack */
	uint16_t *freel = calloc(o->qd, sizeof(*freel));
	unsigned nfree = 0;
	for (unsigned i = o->qd; i-- > 0;)
		freel[nfree++] = (uint16_t)i;
	for (;;) {
		unsigned n = nfree;
		if (o->batch_wait && inflight)
			n = 0;
		if (n && issuing) {
			if (!clock_issue_ok(&c, o, r, no_cpu, NULL, n)) {
				issuing = false;
			} else {
				c.issued += n;
				for (unsigned i = 0; i < n; i++) {
					uint16_t s = freel[--nfree];
					struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
					if (!f.null && o->op == BLK_IO_READ)
						io_uring_prep_readv(sqe, f.fd, &sl[s].iov, 1, wl_offset(&w));
					else if (!f.null)
						io_uring_prep_writev(sqe, f.fd, &sl[s].iov, 1, wl_offset(&w));
					else
						io_uring_prep_nop(sqe);
					io_uring_sqe_set_data64(sqe, s);
					pending++;
				}
				uint64_t t = __rdtsc();
				for (unsigned i = 0; i < n; i++)
					sl[freel[nfree + i]].t_sub = t;
				ret = io_uring_submit(&ring);
				if (ret < 0) {
					fprintf(stderr, "bench-device: io_uring_submit: %s\n", strerror(-ret));
					return ret;
				}
				inflight += pending;
				pending = 0;
				if (r->measuring)
					r->batches++;
			}
		}
		if (!issuing && !inflight)
			break;
		if (o->requests && !inflight && c.issued >= o->requests)
			break;
		struct io_uring_cqe *cqe;
		if (o->completion == COMP_IRQ && !io_uring_cq_ready(&ring)) {
			ret = io_uring_wait_cqe(&ring, &cqe);
			if (ret < 0 && ret != -EINTR) {
				fprintf(stderr, "bench-device: io_uring_wait_cqe: %s\n", strerror(-ret));
				return ret;
			}
			if (r->measuring)
				r->irq_waits++;
		}
		if (!io_uring_cq_ready(&ring))
			continue;
		uint64_t seen = __rdtsc();
		unsigned head, got = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint16_t s = (uint16_t)io_uring_cqe_get_data64(cqe);
			if (r->measuring) {
				hist_add(&r->lat, seen - sl[s].t_sub);
				r->ios++;
				if (cqe->res < 0 || (!f.null && (uint32_t)cqe->res != o->bs))
					r->errors++;
			}
			freel[nfree++] = s;
			got++;
		}
		io_uring_cq_advance(&ring, got);
		inflight -= got;
	}
	if (o->requests)
		result_end(r, 0);
	r->cpu_ns = r->driver_cpu_ns;   /* one thread does everything */
	bench_report(o, r);
	ret = r->errors ? -EIO : 0;
	io_uring_queue_exit(&ring);
	blk_file_close(&f);
	free(bufs);
	free(freel);
	free(sl);
	free(r);
	return ret;
}

/* ---- options ------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-device --system device|uring|neighbour (--file PATH [--cache none|writeback] | --null SIZE\n"
		"                    [--read-zeroes]) --rw randread|randwrite|read|write --bs BYTES --qd N\n"
		"                    [--secs S] [--warmup S] [--requests N] [--batch-wait]\n"
		"                    [--completion poll|irq] [--event-idx on|off] [--poll-max-ns N]\n"
		"                    [--poll-contention on|off] [--poll-idle-ms N] [--neighbour] [--idle]\n"
		"                    [--queues 1|2] [--cpu-driver N] [--cpu-iothread N[,N]] [--sandbox on|off]\n");
}

static int onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_opts(struct bench_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "system", 1, NULL, 's' }, { "file", 1, NULL, 'f' }, { "null", 1, NULL, 'n' },
		{ "read-zeroes", 0, NULL, 'z' }, { "cache", 1, NULL, 'c' }, { "rw", 1, NULL, 'w' },
		{ "bs", 1, NULL, 'b' }, { "qd", 1, NULL, 'q' }, { "secs", 1, NULL, 't' },
		{ "warmup", 1, NULL, 'W' }, { "requests", 1, NULL, 'N' }, { "batch-wait", 0, NULL, 'B' },
		{ "completion", 1, NULL, 'C' }, { "event-idx", 1, NULL, 'E' },
		{ "poll-max-ns", 1, NULL, 'P' }, { "queues", 1, NULL, 'Q' },
		{ "cpu-driver", 1, NULL, 'D' }, { "cpu-iothread", 1, NULL, 'I' },
		{ "sandbox", 1, NULL, 'S' }, { "poll-contention", 1, NULL, 'K' },
		{ "poll-idle-ms", 1, NULL, 'L' }, { "neighbour", 0, NULL, 'G' }, { "idle", 0, NULL, 'J' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct bench_opts){
		.system = SYS_DEVICE, .cache = BLK_CACHE_NONE, .op = BLK_IO_READ, .random = true,
		.bs = 4096, .qd = 1, .secs = 2, .warmup = 0.3, .completion = COMP_POLL,
		.event_idx = true, .poll_max_ns = 32768, .poll_contention = false, .poll_idle_ms = -1,
		.queues = 1, .cpu_driver = -1,
		.cpu_iothread = { -1, -1 }, .sandbox = true,
	};
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!strcmp(optarg, "device"))
				o->system = SYS_DEVICE;
			else if (!strcmp(optarg, "uring"))
				o->system = SYS_URING;
			else if (!strcmp(optarg, "neighbour"))
				o->system = SYS_NEIGHBOUR;
			else
				return -1;
			break;
		case 'f': o->file = optarg; break;
		case 'n': o->null_size = strtoull(optarg, NULL, 0); break;
		case 'z': o->read_zeroes = true; break;
		case 'c':
			if (!strcmp(optarg, "none"))
				o->cache = BLK_CACHE_NONE;
			else if (!strcmp(optarg, "writeback"))
				o->cache = BLK_CACHE_WRITEBACK;
			else
				return -1;
			break;
		case 'w':
			o->random = !strncmp(optarg, "rand", 4);
			if (!strcmp(optarg + (o->random ? 4 : 0), "read"))
				o->op = BLK_IO_READ;
			else if (!strcmp(optarg + (o->random ? 4 : 0), "write"))
				o->op = BLK_IO_WRITE;
			else
				return -1;
			break;
		case 'b': o->bs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': o->qd = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': o->secs = strtod(optarg, NULL); break;
		case 'W': o->warmup = strtod(optarg, NULL); break;
		case 'N': o->requests = strtoull(optarg, NULL, 0); break;
		case 'B': o->batch_wait = true; break;
		case 'C':
			if (!strcmp(optarg, "poll"))
				o->completion = COMP_POLL;
			else if (!strcmp(optarg, "irq"))
				o->completion = COMP_IRQ;
			else
				return -1;
			break;
		case 'E':
			if (onoff(optarg, &o->event_idx))
				return -1;
			break;
		case 'P': o->poll_max_ns = strtoull(optarg, NULL, 0); break;
		case 'Q': o->queues = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'D': o->cpu_driver = atoi(optarg); break;
		case 'I': {
			char *comma = strchr(optarg, ',');
			o->cpu_iothread[0] = atoi(optarg);
			o->cpu_iothread[1] = comma ? atoi(comma + 1) : o->cpu_iothread[0];
			break;
		}
		case 'S':
			if (onoff(optarg, &o->sandbox))
				return -1;
			break;
		case 'K':
			if (onoff(optarg, &o->poll_contention))
				return -1;
			break;
		case 'L': o->poll_idle_ms = strtoll(optarg, NULL, 0); break;
		case 'G': o->neighbour = true; break;
		case 'J': o->idle = true; break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || (!o->file == !o->null_size) || o->bs == 0 || o->bs % 512 ||
	    o->bs > BLK_SIZE_MAX || o->qd == 0 || o->qd > BENCH_MAX_QD || o->queues == 0 ||
	    o->queues > BENCH_MAX_QUEUES || o->qd < o->queues || o->secs <= 0 || o->warmup < 0 ||
	    (o->batch_wait != !!o->requests) || (o->requests && o->requests % o->qd) ||
	    (o->null_size && o->null_size % 512))
		return -1;
	/* The neighbour shares the (first) IOThread's CPU: it must be named. */
	if ((o->neighbour || o->system == SYS_NEIGHBOUR) && o->cpu_iothread[0] < 0)
		return -1;
	if ((o->neighbour || o->idle) && (o->system != SYS_DEVICE || o->requests || o->neighbour == o->idle))
		return -1;
	if (o->poll_idle_ms < 0 && o->poll_idle_ms != -1)
		return -1;
	if (o->system == SYS_URING && o->queues != 1)
		o->queues = 1;   /* the limit is one thread on one ring at the same total depth */
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o;

	if (parse_opts(&o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	if (o.cpu_driver >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(o.cpu_driver, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "bench-device: pinning to CPU %d: %s\n", o.cpu_driver, strerror(errno));
			return 1;
		}
	}
	tsc_calibrate();
	int r;
	switch (o.system) {
	case SYS_DEVICE: r = bench_device(&o); break;
	case SYS_URING: r = bench_uring(&o); break;
	default: r = bench_neighbour(&o); break;
	}
	return r ? 1 : 0;
}
