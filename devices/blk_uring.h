/* SPDX-License-Identifier: MIT */
/*
 * The io_uring block backend.
 *
 *  - struct uring_ctx: one ring per IOThread.  SQEs prepared while the
 *    IOThread handles a batch of kicks are submitted by one deferred
 *    io_uring_submit() at the end of the batch; completions wake the loop
 *    through an eventfd registered with the ring (or, polling, through
 *    io_uring_cq_ready()).  A submit the kernel takes only in part, or
 *    refuses for the moment (EAGAIN, EBUSY), leaves its SQEs in the ring:
 *    they are submitted again after the next completions are reaped and on
 *    a short timer, so no request waits for the guest's next one.  A
 *    request that finds the SQ ring full waits, in order, for room.
 *  - struct blk_file: one backing file or block device per disk.  cache=none
 *    opens it O_DIRECT and honours STATX_DIOALIGN.  The guest's logical
 *    block size is the disk's own setting, not the host's: a request that
 *    is not aligned for O_DIRECT (buffer, offset or length) goes through
 *    aligned bounce memory, and a write that covers part of a host block
 *    becomes a read-modify-write, serialised against overlapping writes
 *    (blk_serial.h).  Where the file system refuses O_DIRECT (tmpfs) it
 *    falls back to the page cache and says so.
 *  - Bounce memory comes from a fixed pool per ring (chunk_pool.h), mapped
 *    before the IOThread is sandboxed: URING_BOUNCE_CHUNKS chunks of
 *    URING_BOUNCE_CHUNK bytes.  A bounced request holds one chunk at a time
 *    and moves through its data a chunk at a time; one that finds the pool
 *    empty waits, in order, for a chunk.  Whatever the guest posts, the
 *    data path allocates nothing.  A bounced request starts at the end of
 *    the IOThread's batch, not inside submit(): no copy is ever made
 *    under the device lock.
 *
 * Aligned reads and writes go straight between the file and guest memory
 * (readv/writev on the request's segments); short transfers are resubmitted
 * for the rest; FLUSH is IORING_OP_FSYNC with IORING_FSYNC_DATASYNC in
 * every cache mode; DISCARD and WRITE_ZEROES are IORING_OP_FALLOCATE.
 *
 * The null disk (--disk null=on) has no file: every request is one
 * IORING_OP_NOP on the same ring, so submission, completion polling and
 * interrupts cost what they cost for a file, and only the data transfer is
 * missing.  Its reads leave the guest's buffers as they are, or zero them
 * at completion with read-zeroes=on.
 */
#ifndef POLLVM_DEVICES_BLK_URING_H
#define POLLVM_DEVICES_BLK_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "blk.h"
#include "blk_serial.h"
#include "../vmm/chunk_pool.h"
#include "../vmm/evloop.h"

/* Bounce memory per ring: at most 64 MiB, in 1 MiB chunks. */
#define URING_BOUNCE_CHUNK  (1u << 20)
#define URING_BOUNCE_CHUNKS 64
/* Stranded SQEs (a partial or refused submit) are retried this often. */
#define URING_RETRY_NS 1000000ull

struct uring_stats {
	uint64_t submits;       /* io_uring_submit() calls */
	uint64_t sqes, cqes;
	uint64_t short_io;      /* partial transfers resubmitted */
	uint64_t eagain;        /* -EAGAIN resubmitted */
	uint64_t bounces;       /* O_DIRECT requests copied through aligned bounce memory */
	uint64_t rmw;           /* writes that read part of a host block first */
	uint64_t bounce_waits;  /* requests that waited for a bounce chunk */
	uint64_t serial_waits;  /* writes that waited for an overlapping RMW */
	uint64_t sqe_waits;     /* requests that waited for room in the SQ ring */
	uint64_t submit_retries;/* submits repeated for SQEs the kernel had not taken */
	uint64_t errors;        /* completions with an error */
	uint64_t fsyncs;
	uint64_t sq_full;       /* had to submit early: SQ ring full */
};

struct blk_file;

struct uring_ctx {
	struct io_uring ring;
	bool ring_ok;
	int efd;
	unsigned queued;        /* SQEs prepared, not yet taken by the kernel */
	unsigned inflight;      /* SQEs not yet completed */
	unsigned pending;       /* requests accepted, not yet completed */
	bool has_fallocate;
	bool restricted;        /* IORING_REGISTER_RESTRICTIONS in force */
	struct evloop *loop;
	struct evloop_handler h;
	struct evloop_defer unplug;
	struct evloop_timer retry;      /* stranded SQEs or waiters: try again */
	struct chunk_pool pool;
	struct blk_io *pool_wait, **pool_wait_tail;  /* waiting for a chunk */
	struct blk_io *sqe_wait, **sqe_wait_tail;    /* waiting for an SQE */
	struct blk_io *start, **start_tail;          /* bounced, to start at the batch's end */
	/* Writes another thread let go (blk_serial_end): pushed there, run here. */
	_Atomic(struct blk_io *) resumed;
	struct blk_file *files;
	/* io_uring_submit(), or a fake in tests (refusals, partial submits). */
	int (*submit)(struct io_uring *ring);
	struct uring_stats st;
};

/*
 * Create the ring and probe the kernel's ops.  On failure returns -errno
 * with a one-line reason in err: -ENOTSUP when the host kernel gives no
 * io_uring (not built in, disabled by sysctl) or lacks an op pollvm needs
 * (what is missing and since which Linux); anything else is a failure of
 * a call that should have worked.
 */
int uring_ctx_init(struct uring_ctx *u, unsigned entries, char *err, size_t errlen);
int uring_ctx_attach(struct uring_ctx *u, struct evloop *loop);
void uring_ctx_destroy(struct uring_ctx *u);
/*
 * Complete every request accepted so far, by running the ring's event loop
 * (or, with none attached, by waiting on the ring), until deadline_ns
 * (CLOCK_MONOTONIC; 0: no limit).  0, or -ETIMEDOUT with requests left.
 */
int uring_ctx_drain(struct uring_ctx *u, uint64_t deadline_ns);
/* Reap ready completions; returns how many (the poll hook). */
unsigned uring_ctx_reap(struct uring_ctx *u);

enum blk_cache { BLK_CACHE_WRITEBACK, BLK_CACHE_NONE };

struct blk_file {
	int fd;
	const char *path;
	bool ro;
	bool direct;            /* opened O_DIRECT */
	bool direct_refused;    /* cache=none asked, file system said no */
	bool direct_unaligned_size; /* cache=none asked, size not a multiple of the alignment */
	bool block_dev;
	uint64_t size;          /* bytes */
	uint32_t mem_align;     /* O_DIRECT buffer alignment (1 when buffered) */
	uint32_t off_align;     /* O_DIRECT offset/length alignment (512 when buffered) */
	uint32_t lbs;           /* the guest's logical block size */
	/* Writes are serialised (RMW possible: O_DIRECT, lbs < off_align).
	 * Points at the disk's own tracker, shared by its views on other rings. */
	struct blk_serial *ser;
	struct blk_serial ser_store;
	bool can_punch;
	bool null;              /* no file (fd -1): every request is an IORING_OP_NOP */
	bool read_zeroes;       /* null: a completed read zeroes the guest's buffers */
	struct uring_ctx *u;
	struct blk_file *next;
};

/*
 * Open and check a disk image the guest sees with logical blocks of lbs
 * bytes; -errno with a one-line reason in err.
 */
int blk_file_open(struct blk_file *f, const char *path, bool ro, enum blk_cache cache,
		  uint32_t lbs, char *err, size_t errlen);
/*
 * A null disk of size bytes (a non-zero multiple of 512), with logical
 * blocks of lbs bytes; -EINVAL with a one-line reason in err.
 */
int blk_file_open_null(struct blk_file *f, uint64_t size, bool ro, bool read_zeroes, uint32_t lbs,
		       char *err, size_t errlen);
/*
 * After an O_DIRECT open: take the file's direct-I/O alignment (known: as
 * STATX_DIOALIGN gave it; else 4096 is assumed), or fall back to the page
 * cache where direct I/O cannot serve the file.  Writes are serialised
 * when the guest's blocks are smaller than the host's.  -errno with err.
 */
int blk_file_dio_setup(struct blk_file *f, bool known, uint32_t mem_align, uint32_t off_align,
		       char *err, size_t errlen);
/* Use this ring (the disk's IOThread's) for its I/O. */
void blk_file_bind(struct blk_file *f, struct uring_ctx *u);
void blk_file_close(struct blk_file *f);

/* opaque = struct blk_file * */
extern const struct blk_backend_ops blk_uring_ops;

#endif
