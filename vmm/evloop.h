/* SPDX-License-Identifier: MIT */
/*
 * The IOThread's event loop: epoll over event sources, each registered as
 * {fd, fd callback, optional poll callbacks}, plus "deferred calls" run at
 * the end of every iteration (QEMU's defer_call / block plug-unplug idea):
 * the io_uring submit and the irqfd writes are deferred so that a whole
 * batch costs one io_uring_submit() and at most one interrupt per device.
 *
 * Adaptive polling (modelled on QEMU's util/aio-posix.c):
 *  - A source with on_poll can be checked without its fd.  Sources that
 *    showed activity recently form the poll set; one idle for
 *    poll_params.idle_ns leaves it and waits on its fd only, and its next fd
 *    event puts it back, so a poll pass costs O(active sources),
 *    not O(disks).
 *  - Each iteration polls the poll set for up to poll_ns (poll_policy.h),
 *    but only when every registered source can be polled (polling
 *    must never delay a source that cannot), then blocks in epoll_wait; the
 *    time until the event (block_ns) feeds the policy.
 *  - While polling, on_poll_begin lets a source suppress its notifications
 *    (virtqueue: NO_NOTIFY / avail_event); before blocking, on_poll_end
 *    re-enables them and re-checks once (a buffer published in between
 *    is seen by the re-check or kicks).
 *  - Sources out of the poll set are still seen while the loop polls: their
 *    fds are checked with a non-blocking epoll_wait every
 *    EVLOOP_FD_CHECK_NS of continuous polling (the price of leaving the
 *    poll set is at most that much latency on the first event back).
 *  - Contention (poll_contention.h): when another task wants our CPU,
 *    polling stops for a back-off period.
 *
 * One thread runs the loop; evloop_wake() may be called from any thread.
 */
#ifndef POLLVM_VMM_EVLOOP_H
#define POLLVM_VMM_EVLOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "poll_contention.h"
#include "poll_policy.h"

struct evloop;

/* How a source was served (docs/counters.md, counters.h). */
#define EVLOOP_HANDLER_STATS(C, M) \
	C(fd_events)            /* on_fd calls */ \
	C(poll_hits)            /* on_poll found work */ \
	C(poll_begins)          /* notification-suppressed windows entered */ \
	C(poll_end_hits)        /* the re-check at poll end found work */ \
	C(poll_removals)        /* left the poll set (idle) */ \
	C(poll_adds)            /* came back on an fd event */

struct evloop_handler_stats {
	COUNTER_FIELDS(EVLOOP_HANDLER_STATS)
};

struct evloop_handler {
	int fd;
	/* fd is readable (level-triggered): consume it, do the work. */
	void (*on_fd)(void *opaque);
	/* Optional: look for work without the fd, do it; true if any was done.
	 * Work it cannot do yet (waiting on another source) is no work: a
	 * true return is progress, and the loop polls again at once instead of
	 * blocking.  Work left undone on purpose (a bounded batch) is found by
	 * the next call, or by on_poll_end's re-check. */
	bool (*on_poll)(void *opaque);
	/* Optional: polling starts: the source may stop notifying its fd. */
	void (*on_poll_begin)(void *opaque);
	/* Optional: polling stops: notify again, then re-check once and do
	 * what arrived meanwhile; true if any work was done. */
	bool (*on_poll_end)(void *opaque);
	void *opaque;
	const char *name;
	/* private */
	struct evloop *loop;
	int poll_slot;          /* index in loop->poll_set, -1: fd only */
	bool poll_begun;        /* on_poll_begin called, on_poll_end not yet */
	uint64_t idle_deadline; /* leaves the poll set at this time */
	struct evloop_handler_stats st;
};

struct evloop_defer {
	void (*fn)(void *opaque);
	void *opaque;
	/* private */
	bool queued;
	struct evloop_defer *next;
};

/*
 * A one-shot timer (interrupt coalescing): fn runs on the loop's thread once
 * the loop's clock reaches deadline, seen by polling or by a timerfd when
 * the loop blocks.  Owned by the caller; cancel before freeing it.
 */
struct evloop_timer {
	void (*fn)(void *opaque);
	void *opaque;
	/* private */
	uint64_t deadline;
	bool armed;
};

/*
 * Interrupt coalescing, set per IOThread (--iothread irq-coalesce-us=,
 * irq-max-batch=) and applied by the devices it serves: an interrupt that
 * is due may wait up to coalesce_ns for more completions to share it,
 * unless max_batch completions are already waiting (0: no cap) or nothing
 * else is in flight.  coalesce_ns 0: signal at the end of every batch.
 */
struct evloop_irq_policy {
	uint64_t coalesce_ns;
	unsigned max_batch;
};

/* The loop's counters (docs/counters.md, counters.h). */
#define EVLOOP_STATS(C, M) \
	C(iterations)           /* evloop_run_once() calls */ \
	C(waits)                /* epoll_wait() calls that may block ("blocks") */ \
	C(wakeups)              /* epoll_wait() returned events */ \
	C(events)               /* fd callbacks run */ \
	C(polls)                /* poll passes over the poll set */ \
	C(poll_hits)            /* poll windows that found work */ \
	C(deferred)             /* deferred calls run */ \
	C(poll_windows)         /* poll windows started */ \
	C(poll_misses)          /* windows that ran out of time */ \
	C(poll_starts)          /* entries into poll mode (notifications suppressed) */ \
	C(poll_stops)           /* exits from poll mode (re-enable and re-check) */ \
	C(poll_stop_hits)       /* the re-check found work */ \
	C(poll_grows)           /* poll_ns raised by the adaptive rule */ \
	C(poll_shrinks)         /* ... lowered */ \
	C(poll_removals)        /* handlers that left the poll set */ \
	C(poll_adds)            /* handlers that came back */ \
	C(fd_checks)            /* non-blocking epoll_wait while polling */ \
	C(polled_ns)            /* time spent in poll windows */ \
	C(contention_samples)   /* looks at the thread's involuntary context switches */ \
	C(contention_backoffs)  /* polling backed off: another task wanted the CPU */ \
	C(contention_sample_ns) /* time those looks took */ \
	C(timer_fires)          /* evloop_timer callbacks run */

struct evloop_stats {
	COUNTER_FIELDS(EVLOOP_STATS)
};

#define EVLOOP_MAX_HANDLERS 256
#define EVLOOP_MAX_TIMERS 64
/* While polling continuously, look at the fds of the sources outside the poll set this often. */
#define EVLOOP_FD_CHECK_NS 50000ull

struct evloop {
	int epfd;
	int wake_fd;
	atomic_bool woken;
	struct evloop_handler wake_h;
	struct evloop_handler *handlers[EVLOOP_MAX_HANDLERS];
	unsigned nr_handlers, nr_pollable;
	struct evloop_handler *poll_set[EVLOOP_MAX_HANDLERS];
	unsigned nr_poll;
	bool poll_started;      /* poll mode: on_poll_begin done for the poll set */
	struct evloop_defer *defer_head, **defer_tail;
	/* Armed timers, and the timerfd that wakes a blocked loop for the earliest. */
	struct evloop_timer *timers[EVLOOP_MAX_TIMERS];
	unsigned nr_timers;
	int timer_fd;
	uint64_t timer_fd_deadline;     /* what timer_fd is set to, 0: disarmed */
	struct evloop_handler timer_h;
	struct poll_policy policy;      /* policy.poll_ns: the current window */
	struct poll_contention cont;
	bool contention_aware;
	struct evloop_irq_policy irq;   /* for the devices on this loop */
	uint64_t last_fd_check;
	/* The clock and the contention signal: real ones by default, fakes in tests. */
	uint64_t (*clock)(void *opaque);
	uint64_t (*contention_read)(void *opaque);
	void *clock_opaque, *contention_opaque;
	struct evloop_stats st;
};

/* Polling off (poll-max-ns 0) until evloop_set_poll(). */
int evloop_init(struct evloop *l);
void evloop_destroy(struct evloop *l);
/* Polling parameters (before the loop runs); max_ns 0 turns polling off. */
void evloop_set_poll(struct evloop *l, const struct poll_params *p, bool contention_aware);

/* Register / unregister a source (-errno).  Handlers stay owned by the caller. */
int evloop_add(struct evloop *l, struct evloop_handler *h);
int evloop_del(struct evloop *l, struct evloop_handler *h);

/* Run d->fn at the end of this iteration; queuing twice runs it once. */
static inline void evloop_defer(struct evloop *l, struct evloop_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	*l->defer_tail = d;
	l->defer_tail = &d->next;
}

/*
 * Run t->fn at the loop clock's time deadline (ns; evloop_now_ns by
 * default) or soon after.  Arming an armed timer moves it; -ENOSPC when
 * EVLOOP_MAX_TIMERS are armed.  Loop thread only.
 */
int evloop_timer_arm(struct evloop *l, struct evloop_timer *t, uint64_t deadline);
void evloop_timer_cancel(struct evloop *l, struct evloop_timer *t);

/*
 * One iteration: poll (if enabled and every source can), else wait up to
 * timeout_ms (-1: forever) for fds; run the callbacks, then the deferred
 * calls.  Returns the number of callbacks that did work, or -errno.
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

/* Leave poll mode (notifications back on): before the loop stops for good. */
void evloop_poll_stop(struct evloop *l);

/* Make a blocked evloop_run_once() return (any thread). */
void evloop_wake(struct evloop *l);

/* CLOCK_MONOTONIC in ns (the default clock). */
uint64_t evloop_now_ns(void *unused);
/* The loop's clock (fake in tests): the time base of evloop_timer_arm. */
uint64_t evloop_time(struct evloop *l);

#endif
