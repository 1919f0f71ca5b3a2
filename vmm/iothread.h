/* SPDX-License-Identifier: MIT */
/*
 * An IOThread: a named thread (iothread-ID) running one event loop and one
 * io_uring ring.  It owns the queues of the disks attached to it: their
 * ioeventfds, request parsing, submission and completion all happen here,
 * never on a vCPU thread.
 *
 * It polls (evloop.h, poll_policy.h) with the --iothread poll-* settings,
 * and runs pinned to one CPU with cpu=N.
 *
 * Life cycle: iothread_init(), attach devices (their queues to &t->loop,
 * their backends to &t->uring), iothread_start() before the vCPUs run,
 * iothread_stop() after they stopped: in-flight I/O completes (within a
 * deadline), the thread exits.  Flushing the disks is their teardown's.
 */
#ifndef POLLVM_VMM_IOTHREAD_H
#define POLLVM_VMM_IOTHREAD_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evloop.h"
#include "uring.h"

/* SQ entries per ring: 2 x QD256 of one queue; the CQ is twice that. */
#define IOTHREAD_RING_ENTRIES 512

struct iothread {
	char id[32];
	struct evloop loop;
	struct uring uring;       /* the ring of the loop: the backends submit through it */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	sem_t ready;              /* posted once the thread installed its filter */
	int sandbox_err;          /* sandbox_apply()'s result in the thread */
	bool pinned;              /* cpu=N */
	unsigned cpu;
	uint64_t cpu_ns;          /* CLOCK_THREAD_CPUTIME_ID when it exited */
	uint64_t stop_deadline;   /* CLOCK_MONOTONIC ns by which in-flight I/O must be done */
	/* What the stop left behind when the deadline passed. */
	bool stop_timed_out;
	unsigned left_requests, left_unsubmitted, left_in_kernel;
};

/*
 * c: id, polling and placement.  0, or -errno after one pv_err() line:
 * -ENOTSUP (PV_INPUT) only as uring_init() says, the host's io_uring
 * cannot serve; anything else is PV_INTERNAL.
 */
int iothread_init(struct iothread *t, const struct iothread_cfg *c);
/* The thread's CPU time so far (while it runs too: for SIGUSR1). */
uint64_t iothread_cpu_ns(const struct iothread *t);
int iothread_start(struct iothread *t);
/*
 * Finish in-flight I/O by deadline_ns (CLOCK_MONOTONIC; 0: no limit),
 * join.  When the deadline passes first the thread stops anyway and
 * stop_timed_out says what was left.  Safe if never started.
 */
void iothread_stop(struct iothread *t, uint64_t deadline_ns);
void iothread_destroy(struct iothread *t);

#endif
