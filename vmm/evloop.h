/* SPDX-License-Identifier: MIT */
/*
 * The IOThread's event loop: epoll over event sources, each registered as
 * {fd, fd callback, optional poll callback}, plus "deferred calls" run at
 * the end of every iteration (QEMU's defer_call / block plug-unplug idea):
 * the io_uring submit and the irqfd writes are deferred so that a whole
 * batch costs one io_uring_submit() and at most one interrupt per device.
 *
 * Polling (issue 6) plugs in here: a source with an on_poll callback can be
 * checked without its fd.  The loop polls for up to poll_ns before it
 * blocks, and only when every source can be polled (seed 000: polling must
 * never delay a source that cannot be polled).  poll_ns is 0 (never poll)
 * until the adaptive policy sets it.
 *
 * One thread runs the loop; evloop_wake() may be called from any thread.
 */
#ifndef POLLVM_VMM_EVLOOP_H
#define POLLVM_VMM_EVLOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct evloop;

struct evloop_handler {
	int fd;
	/* fd is readable (level-triggered): consume it, do the work. */
	void (*on_fd)(void *opaque);
	/* Optional: look for work without the fd; true if any was done. */
	bool (*on_poll)(void *opaque);
	void *opaque;
	const char *name;
	/* private */
	struct evloop *loop;
	uint64_t fd_events, poll_hits;
};

struct evloop_defer {
	void (*fn)(void *opaque);
	void *opaque;
	/* private */
	bool queued;
	struct evloop_defer *next;
};

struct evloop_stats {
	uint64_t iterations;    /* evloop_run_once() calls */
	uint64_t waits;         /* epoll_wait() calls that may block */
	uint64_t wakeups;       /* epoll_wait() returned events */
	uint64_t events;        /* fd callbacks run */
	uint64_t polls, poll_hits;
	uint64_t deferred;      /* deferred calls run */
};

#define EVLOOP_MAX_HANDLERS 256

struct evloop {
	int epfd;
	int wake_fd;
	atomic_bool woken;
	struct evloop_handler wake_h;
	struct evloop_handler *handlers[EVLOOP_MAX_HANDLERS];
	unsigned nr_handlers, nr_pollable;
	struct evloop_defer *defer_head, **defer_tail;
	uint64_t poll_ns;       /* 0: block at once (issue 6 makes it adaptive) */
	struct evloop_stats st;
};

int evloop_init(struct evloop *l);
void evloop_destroy(struct evloop *l);

/* Register / unregister a source (-errno).  Handlers stay owned by the caller. */
int evloop_add(struct evloop *l, struct evloop_handler *h);
int evloop_del(struct evloop *l, struct evloop_handler *h);

/* Run d->fn at the end of this iteration; queuing twice runs it once. */
void evloop_defer(struct evloop *l, struct evloop_defer *d);

/*
 * One iteration: poll (if enabled and every source can), else wait up to
 * timeout_ms (-1: forever) for fds; run the callbacks, then the deferred
 * calls.  Returns the number of callbacks that did work, or -errno.
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

/* Make a blocked evloop_run_once() return (any thread). */
void evloop_wake(struct evloop *l);

#endif
