/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 section 5.2) over the virtio-mmio transport.
 *
 * Requests are parsed on the IOThread that owns the disk's queues and
 * handed to a backend through a narrow ops table (blk_backend_ops): the
 * io_uring backend in production, a fake in unit tests.  The backend
 * completes each blk_io later, from the same IOThread, never from inside
 * submit().
 */
#ifndef POLLVM_DEVICES_BLK_H
#define POLLVM_DEVICES_BLK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_parse.h"
#include "irq_batch.h"
#include "virtio_mmio.h"
#include "virtq.h"
#include "../vmm/evloop.h"
#include "../vmm/lat_hist.h"

struct blk;

struct blk_req {
	struct blk_io io;
	struct blk_queue *bq;
	/* What blk_parse made of it: the status byte, the used length on success. */
	struct blk_parse_out parsed;
	struct blk_req *next_free;
	_Alignas(16) unsigned char backend[BLK_IO_BACKEND_BYTES];  /* io.backend */
	/* TSC stamps: popped, handed to the backend (0: never), backend done */
	uint64_t t_avail, t_submit, t_done;
	struct virtq_elem elem;
	struct iovec iov[VIRTQ_SEG_MAX];
};

/*
 * Where a request's time goes, per queue: popped from the avail ring ->
 * handed to the backend (parsing; for a bounced request also the wait for
 * the end of the batch) -> the backend completed it (io_uring, and chunks
 * and RMW for bounced ones) -> its used entry published.  Requests the
 * device answers itself (errors, GET_ID) count in total only.
 *
 * The stages in that order, one histogram each: the struct's fields and
 * the --stats "latency" keys.
 */
#define BLK_LAT_STAGES(X) X(to_backend) X(in_backend) X(to_used) X(total)

#define BLK_LAT_FIELD(stage) struct lat_hist stage;
struct blk_queue_lat {
	BLK_LAT_STAGES(BLK_LAT_FIELD)
};

struct blk_queue {
	struct blk *blk;
	struct virtq *vq;            /* &blk->vqs[index] */
	unsigned index;
	int kick_fd;                 /* the ioeventfd; the bus path writes it too */
	struct evloop_handler h;
	struct blk_req *reqs;        /* VIRTQ_NUM_MAX slots */
	struct blk_req *free;
	unsigned inflight;
	unsigned pushed;             /* used entries added since the last irq check */
	bool throttled;
	bool polling;                /* the IOThread polls us: kicks suppressed */
	struct evloop *loop;         /* the IOThread serving this queue (NULL: detached) */
	void *be;                    /* the backend handle its requests go to */
	/* Completions are signalled once per device per batch of each loop:
	 * the first queue of the device on this loop owns the deferred call. */
	struct blk_queue *irq_owner;
	struct evloop_defer irq_defer;
	struct irq_batch irq;        /* the owner's: batching and coalescing */
	_Atomic unsigned self_kicks; /* kick_fd writes of our own (activation), not the guest's */
	struct blk_queue_stats st;
	struct blk_queue_lat lat;
};

struct blk_params {
	uint64_t capacity;           /* in 512-byte sectors */
	uint32_t blk_size;           /* logical block size, bytes: 512..64K, power of 2 */
	uint32_t phys_size;          /* physical block size hint: blk_size..64K, power of 2 (0: blk_size) */
	bool ro;
	bool discard, write_zeroes;  /* the backend can do them */
	bool writeback;              /* initial cache mode (config byte) */
	unsigned num_queues;         /* 1..BLK_MAX_QUEUES */
	const char *serial;          /* GET_ID string, at most 20 bytes used */
};

struct blk {
	struct virtio_mmio t;
	struct virtq vqs[BLK_MAX_QUEUES];
	struct blk_queue q[BLK_MAX_QUEUES];
	unsigned nr_queues;
	struct blk_params p;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;  /* little-endian; the first BLK_CONFIG_LEN bytes exposed */
	struct blk_parse_ctx pctx;   /* what requests are checked against */
	const struct blk_backend_ops *be_ops;
	void *be;                    /* default backend handle (blk_attach) */
	unsigned inflight;           /* all queues; reset waits for 0 */
	struct irq_batch_stats irq;  /* interrupts of all its queues' batchers */
};

/*
 * Set up the device: irqfd as for virtio_mmio_init(); kick_fds[i] is the
 * eventfd of queue i (nonblocking; registered as ioeventfd by the VMM).
 */
int blk_init(struct blk *b, const char *name, const struct blk_params *p,
	     const struct guest_mem *mem, int irqfd, const int *kick_fds,
	     const struct blk_backend_ops *be_ops, void *be);
void blk_destroy(struct blk *b);

/* Hand every queue to one IOThread's loop (before it starts), backend b->be. */
int blk_attach(struct blk *b, struct evloop *loop);
/*
 * Hand queue q to a loop, its requests to backend handle be: one disk's
 * queues may be spread over several IOThreads (QEMU's iothread-vq-mapping),
 * each with its own backend ring.  Before any of the loops starts.
 */
int blk_attach_queue(struct blk *b, unsigned q, struct evloop *loop, void *be);
void blk_detach(struct blk *b);

/* The device's counters: each per-queue count summed, each mark (batch_max) the largest. */
void blk_stats_total(const struct blk *b, struct blk_queue_stats *sum);

#endif
