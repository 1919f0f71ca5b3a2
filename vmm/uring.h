/* SPDX-License-Identifier: MIT */
/*
 * An io_uring ring as a service of one event loop (an IOThread's), the way
 * QEMU's AioContext owns its ring: users (the block backend) hand it
 * operations and get their completions back by callback, on the loop's
 * thread.
 *
 *  - Submission is batched: SQEs prepared while the loop handles a batch of
 *    events are submitted by one deferred io_uring_submit() at the end of
 *    the batch.  A submit the kernel takes only in part, or refuses for the
 *    moment (EAGAIN, EBUSY: short of memory, CQ overflow), leaves its SQEs
 *    in the ring: they go again after the next completions are reaped and
 *    on a short timer, so nothing waits for the next new operation.  An
 *    operation that finds the SQ ring full waits, in order, for room; its
 *    SQE is prepared (uring_op.prep) when there is one.
 *  - Completions wake the loop through an eventfd registered with the ring
 *    or, while the loop polls, through io_uring_cq_ready().
 *  - The ring is created disabled and restricted to the opcodes this
 *    service offers (uring_ops[] in uring.c) with no SQE flags, so a bug
 *    in a user cannot turn it into openat or connect.
 *  - Calls: work a user wants run on the loop's thread, at the end of the
 *    batch (uring_call_soon, same thread) or from any other thread
 *    (uring_call_from, lock-free, wakes the loop).
 *  - Bounce memory for the users: a fixed chunk pool mapped with the ring,
 *    before the thread's sandbox (chunk_pool.h).
 *
 * One thread runs a ring (the loop's); only uring_call_from() may be
 * called from others.
 */
#ifndef POLLVM_VMM_URING_H
#define POLLVM_VMM_URING_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "chunk_pool.h"
#include "counters.h"
#include "evloop.h"

/* Bounce memory per ring: at most 64 MiB, in 1 MiB chunks. */
#define URING_BOUNCE_CHUNK  (1u << 20)
#define URING_BOUNCE_CHUNKS 64
/* Stranded SQEs (a partial or refused submit) are retried this often. */
#define URING_RETRY_NS 1000000ull

/* One operation in flight: embedded in the user's request. */
struct uring_op {
	/* Fill sqe for this operation (called when an SQE is free). */
	void (*prep)(struct uring_op *op, struct io_uring_sqe *sqe);
	/* Its CQE arrived with result res (from uring_reap(): not to reap). */
	void (*done)(struct uring_op *op, int res);
	struct uring_op *next;  /* private: the SQ wait list */
};

/* Work to run on the ring's thread. */
struct uring_call {
	void (*fn)(struct uring_call *c);
	struct uring_call *next;  /* private */
};

/* The ring's counters (docs/counters.md, counters.h). */
#define URING_STATS(C, M) \
	C(submits)              /* io_uring_submit() calls */ \
	C(sqes)                 /* submission entries prepared */ \
	C(cqes)                 /* completions reaped */ \
	C(sq_full)              /* had to submit early: SQ ring full */ \
	C(sqe_waits)            /* operations that waited for room in the SQ ring */ \
	C(submit_retries)       /* submits repeated for SQEs the kernel had not taken */

struct uring_stats {
	COUNTER_FIELDS(URING_STATS)
};

struct uring {
	struct io_uring ring;
	bool ring_ok;
	bool restricted;         /* IORING_REGISTER_RESTRICTIONS in force */
	int efd;
	uint64_t ops_supported;  /* bit n: IORING_OP n works here */
	unsigned queued;         /* SQEs prepared, not yet taken by the kernel */
	unsigned inflight;       /* SQEs not yet completed */
	unsigned pending;        /* the users' work not finished (uring_pending_*) */
	struct evloop *loop;
	struct evloop_handler h;
	struct evloop_defer unplug;
	struct evloop_timer retry;
	struct uring_op *sqe_wait, **sqe_wait_tail;
	struct uring_call *soon, **soon_tail;
	_Atomic(struct uring_call *) from;   /* pushed by other threads, newest first */
	struct chunk_pool pool;
	/* io_uring_submit(), or a fake in tests (refusals, partial submits). */
	int (*submit)(struct io_uring *ring);
	struct uring_stats st;
};

/*
 * Create the ring (entries SQEs) and its bounce pool, probe the kernel's
 * ops and restrict the ring to them.  -errno after one pv_err() line;
 * -ENOTSUP (PV_INPUT, naming what is missing and since which Linux) when
 * the kernel's io_uring is missing, disabled or too old: the host's to fix.
 */
int uring_init(struct uring *r, unsigned entries);
int uring_attach(struct uring *r, struct evloop *loop);
void uring_destroy(struct uring *r);

/* Can this ring run IORING_OP_op? */
static inline bool uring_supports(const struct uring *r, unsigned op)
{
	return op < 64 && ((r->ops_supported >> op) & 1);
}

/* Queue op: its SQE now, or when the SQ ring has room (in order). */
void uring_issue(struct uring *r, struct uring_op *op);

/* Run c at the end of this batch, on the ring's thread (called from it). */
void uring_call_soon(struct uring *r, struct uring_call *c);
/* Run c on the ring's thread as soon as it gets to it (any thread). */
void uring_call_from(struct uring *r, struct uring_call *c);

/* Users count their unfinished work, so that a drain knows when it is done. */
static inline void uring_pending_inc(struct uring *r) { r->pending++; }
static inline void uring_pending_dec(struct uring *r) { r->pending--; }

/* Reap ready completions, calling their done(); returns how many. */
unsigned uring_reap(struct uring *r);

/*
 * Run the ring's loop (or, with none attached, wait on the ring) until
 * the users' work is finished or deadline_ns (CLOCK_MONOTONIC; 0: no
 * limit) passes: 0, or -ETIMEDOUT with work left.
 */
int uring_drain(struct uring *r, uint64_t deadline_ns);

#endif
