/* SPDX-License-Identifier: MIT */
/*
 * Is another task waiting for the CPU our polling IOThread occupies?  A
 * userspace poller spins blindly where KVM's halt-polling stops as soon as
 * another task is runnable: this is how the IOThread notices.
 *
 * The signal: this thread's involuntary context switches (ru_nivcsw of
 * getrusage(RUSAGE_THREAD)).  A polling thread that never sleeps is only
 * switched out involuntarily, and only when the scheduler gives its CPU to
 * another runnable task; a thread that sleeps switches voluntarily, so the
 * count does not move with our own wake-ups the way run-queue delay
 * (/proc/thread-self/schedstat field 2) does: that one also counts the
 * idle-exit latency of every wake-up, noise that is large on a virtualized
 * host.  Cost of one sample: one getrusage() syscall, ~0.3-1 us (measured by
 * test_poll_contention; the schedstat read costs several times more), taken
 * at most once per sample period, and only after a period in which the loop
 * polled.
 *
 * The rule: after a period of polling, if the count grew by >= threshold,
 * polling stops for a back-off time (doubling while contention persists
 * right after each back-off, back to the minimum after a clean period).
 * Pure state machine: the caller passes the clock and the counter, so
 * tests drive it with a fake signal.
 */
#ifndef POLLVM_VMM_POLL_CONTENTION_H
#define POLLVM_VMM_POLL_CONTENTION_H

#include <stdbool.h>
#include <stdint.h>

#define CONTENTION_PERIOD_NS      2000000ull   /* 2 ms: a few scheduler slices */
#define CONTENTION_THRESHOLD      2            /* one kworker blip is not contention */
#define CONTENTION_BACKOFF_MIN_NS 10000000ull  /* 10 ms */
#define CONTENTION_BACKOFF_MAX_NS 200000000ull /* 200 ms: resume within 0.2 s of it ending */

struct poll_contention {
	uint64_t period_ns, threshold, backoff_min_ns, backoff_max_ns;
	bool armed;               /* a baseline is taken */
	bool polled;              /* the loop polled since the baseline */
	uint64_t last_ns, last_val;
	uint64_t backoff_ns;      /* next back-off length */
	uint64_t backoff_until;
	/* counters */
	uint64_t samples, backoffs, sample_ns;
};

void contention_init(struct poll_contention *c);
/* May the loop poll now? */
static inline bool contention_allows(const struct poll_contention *c, uint64_t now)
{
	return now >= c->backoff_until;
}
/* The loop polled (called once per poll window). */
static inline void contention_polled(struct poll_contention *c) { c->polled = true; }
/* Is a sample due at now?  (Cheap: no syscall.) */
bool contention_due(const struct poll_contention *c, uint64_t now);
/*
 * Feed the cumulative counter read at now.  Returns true when it starts a
 * back-off (polling must stop until contention_allows()).
 */
bool contention_feed(struct poll_contention *c, uint64_t now, uint64_t val);

/* The production signal: this thread's involuntary context switches. */
uint64_t contention_read_nivcsw(void *unused);
/* The alternative: this thread's run-queue delay in ns (schedstat field 2). */
uint64_t contention_read_rq_wait(int *fd);

#endif
