/* SPDX-License-Identifier: MIT */
/*
 * Serialising the writes of one disk whose guest block is smaller than the
 * host's direct-I/O block.
 *
 * A guest write that covers only part of a host block is a read-modify-
 * write (RMW): read the host block, patch the guest's bytes in, write the
 * whole block back.  Another write into the same host block between that
 * read and the write-back would be overwritten with stale bytes, so an RMW
 * is serialising: it starts only when no write overlapping its host blocks
 * is in flight, and no such write starts until it has finished.
 *
 * Writes that need no RMW stay lock-free while no RMW exists on the disk:
 * they count themselves in `fast` and go.  An RMW raises `serialising`
 * first and waits until `fast` drains; from then until the last RMW ends,
 * every write takes the lock and is tracked by its range.  The two counters
 * form a Dekker pair: a writer increments fast and then reads serialising,
 * an RMW increments serialising and then reads fast, both sequentially
 * consistent, so at least one of them sees the other.
 *
 * One tracker per disk, shared by every IOThread serving its queues (QEMU's
 * serialising requests are the model).  Reads are never tracked: an RMW
 * writes back, for the sectors it does not own, the bytes it read, so a
 * concurrent read sees them unchanged.
 */
#ifndef POLLVM_DEVICES_BLK_SERIAL_H
#define POLLVM_DEVICES_BLK_SERIAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* One write's place in the tracker (embedded in the backend's request). */
struct blk_serial_req {
	uint64_t start, end;         /* host bytes [start, end) */
	bool rmw;
	uint8_t state;               /* private */
	struct blk_serial_req *next, *run_next;
};

struct blk_serial {
	pthread_mutex_t lock;
	atomic_uint fast;            /* untracked writes in flight */
	atomic_uint serialising;     /* RMWs started or waiting */
	struct blk_serial_req *active;          /* tracked writes that started */
	struct blk_serial_req *wait_head, **wait_tail;  /* tracked writes waiting, in order */
	/* Start a write that waited; called from whichever thread ended the
	 * write it waited for, outside the lock. */
	void (*resume)(struct blk_serial_req *req);
	atomic_ullong waits;         /* writes that had to wait */
};

int blk_serial_init(struct blk_serial *s, void (*resume)(struct blk_serial_req *req));
void blk_serial_destroy(struct blk_serial *s);

/*
 * A write (WRITE, WRITE_ZEROES, DISCARD) of the host bytes [start, end)
 * begins; rmw: it is a read-modify-write.  true: it may run now; false: it
 * waits, and resume(req) starts it later.
 */
bool blk_serial_begin(struct blk_serial *s, struct blk_serial_req *req, uint64_t start,
		      uint64_t end, bool rmw);
/* The write that began (and ran) has ended: start what waited for it. */
void blk_serial_end(struct blk_serial *s, struct blk_serial_req *req);
/* Is req tracked (begun, not ended)? */
static inline bool blk_serial_tracked(const struct blk_serial_req *req) { return req->state != 0; }

#endif
