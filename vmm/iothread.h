/* SPDX-License-Identifier: MIT */
/*
 * An IOThread: a named thread (iothread-ID) running one event loop and one
 * io_uring ring.  It owns the queues of the disks attached to it: their
 * ioeventfds, request parsing, submission and completion all happen here,
 * never on a vCPU thread.
 *
 * Life cycle: iothread_init(), attach disks (blk_attach on &t->loop,
 * blk_file_bind on &t->uring), iothread_start() before the vCPUs run,
 * iothread_stop() after they stopped: in-flight I/O completes, every
 * writable file is fdatasync'ed, the thread exits.
 */
#ifndef POLLVM_VMM_IOTHREAD_H
#define POLLVM_VMM_IOTHREAD_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"
#include "../devices/blk_uring.h"

/* SQ entries per ring: 2 x QD256 of one queue; the CQ is twice that. */
#define IOTHREAD_RING_ENTRIES 512

struct iothread {
	char id[32];
	struct evloop loop;
	struct uring_ctx uring;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	sem_t ready;              /* posted once the thread installed its filter */
	int sandbox_err;          /* sandbox_apply()'s result in the thread */
	uint64_t cpu_ns;          /* CLOCK_THREAD_CPUTIME_ID when it exited */
	uint64_t flush_errors;    /* fdatasync failures at stop */
};

/* -errno with a one-line reason in err. */
int iothread_init(struct iothread *t, const char *id, char *err, size_t errlen);
int iothread_start(struct iothread *t);
/* Drain in-flight I/O, flush the files, join.  Safe if never started. */
void iothread_stop(struct iothread *t);
void iothread_destroy(struct iothread *t);

#endif
