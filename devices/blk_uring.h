/* SPDX-License-Identifier: MIT */
/*
 * The io_uring block backend.
 *
 *  - struct uring_ctx: one ring per IOThread.  SQEs prepared while the
 *    IOThread handles a batch of kicks are submitted by one deferred
 *    io_uring_submit() at the end of the batch; completions wake the loop
 *    through an eventfd registered with the ring (or, polling, through
 *    io_uring_cq_ready()).
 *  - struct blk_file: one backing file or block device per disk.  cache=none
 *    opens it O_DIRECT and honours STATX_DIOALIGN: the disk advertises the
 *    offset alignment as its logical block size and unaligned guest buffers
 *    are bounced.  Where the file system refuses O_DIRECT (tmpfs) it falls
 *    back to the page cache and says so.
 *
 * Reads and writes go straight between the file and guest memory
 * (readv/writev on the request's segments); short transfers are resubmitted
 * for the rest; FLUSH is IORING_OP_FSYNC with IORING_FSYNC_DATASYNC in
 * every cache mode; DISCARD and WRITE_ZEROES are IORING_OP_FALLOCATE,
 * followed in write-through mode (blk_io.dsync) by that fdatasync too.
 */
#ifndef POLLVM_DEVICES_BLK_URING_H
#define POLLVM_DEVICES_BLK_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "blk.h"
#include "../vmm/evloop.h"

struct uring_stats {
	uint64_t submits;       /* io_uring_submit() calls */
	uint64_t sqes, cqes;
	uint64_t short_io;      /* partial transfers resubmitted */
	uint64_t eagain;        /* -EAGAIN resubmitted */
	uint64_t bounces;       /* O_DIRECT requests copied through an aligned buffer */
	uint64_t errors;        /* completions with an error */
	uint64_t fsyncs;
	uint64_t sq_full;       /* had to submit early: SQ ring full */
};

struct blk_file;

struct uring_ctx {
	struct io_uring ring;
	bool ring_ok;
	int efd;
	unsigned queued;        /* SQEs prepared, not yet submitted */
	unsigned inflight;      /* SQEs not yet completed */
	bool has_fallocate;
	bool restricted;        /* IORING_REGISTER_RESTRICTIONS in force */
	struct evloop *loop;
	struct evloop_handler h;
	struct evloop_defer unplug;
	struct blk_file *files;
	struct uring_stats st;
};

/*
 * Create the ring and probe the kernel's ops.  On failure returns -errno
 * with a one-line reason in err (what is missing and since which Linux).
 */
int uring_ctx_init(struct uring_ctx *u, unsigned entries, char *err, size_t errlen);
int uring_ctx_attach(struct uring_ctx *u, struct evloop *loop);
void uring_ctx_destroy(struct uring_ctx *u);
/* Submit what is queued and complete everything in flight (blocking). */
void uring_ctx_drain(struct uring_ctx *u);
/* Reap ready completions; returns how many (the poll hook). */
unsigned uring_ctx_reap(struct uring_ctx *u);

enum blk_cache { BLK_CACHE_WRITEBACK, BLK_CACHE_NONE };

struct blk_file {
	int fd;
	const char *path;
	bool ro;
	bool direct;            /* opened O_DIRECT */
	bool direct_refused;    /* cache=none asked, file system said no */
	bool block_dev;
	uint64_t size;          /* bytes */
	uint32_t mem_align;     /* O_DIRECT buffer alignment (1 when buffered) */
	uint32_t off_align;     /* O_DIRECT offset/length alignment (512 when buffered) */
	bool can_punch;
	struct uring_ctx *u;
	struct blk_file *next;
};

/* Open and check a disk image; -errno with a one-line reason in err. */
int blk_file_open(struct blk_file *f, const char *path, bool ro, enum blk_cache cache,
		  char *err, size_t errlen);
/* Use this ring (the disk's IOThread's) for its I/O. */
void blk_file_bind(struct blk_file *f, struct uring_ctx *u);
void blk_file_close(struct blk_file *f);

/* opaque = struct blk_file * */
extern const struct blk_backend_ops blk_uring_ops;

#endif
