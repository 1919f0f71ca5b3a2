/* SPDX-License-Identifier: MIT */
/*
 * The io_uring block backend: a disk's image file served through the ring
 * of each IOThread that runs its queues (vmm/uring.h).
 *
 *  - struct blk_file: one backing file or block device per disk.
 *    cache=none opens it O_DIRECT and honours STATX_DIOALIGN.  The guest's
 *    logical block size is the disk's own setting, not the host's: a
 *    request that is not aligned for O_DIRECT (buffer, offset or length)
 *    goes through aligned bounce memory, and a write that covers part of
 *    a host block becomes a read-modify-write, serialised against
 *    overlapping writes (blk_serial.h).  Where the file system refuses
 *    O_DIRECT (tmpfs) it falls back to the page cache and says so.
 *  - struct blk_uring: the file on one ring (one per IOThread serving the
 *    disk), the handle blk_uring_ops works on, with its counters.
 *  - Bounce memory comes from the ring's fixed pool, mapped before the
 *    IOThread is sandboxed.  A bounced request holds one chunk at a time
 *    and moves through its data a chunk at a time; one that finds the pool
 *    empty waits, in order, for a chunk.  Whatever the guest posts, the
 *    data path allocates nothing.  A bounced request starts at the end of
 *    the IOThread's batch, not inside submit(): no copy is ever made under
 *    the device lock.
 *
 * Aligned reads and writes go straight between the file and guest memory
 * (readv/writev on the request's segments); short transfers are resubmitted
 * for the rest; FLUSH is IORING_OP_FSYNC with IORING_FSYNC_DATASYNC in
 * every cache mode; DISCARD and WRITE_ZEROES are IORING_OP_FALLOCATE,
 * followed in write-through mode (blk_io.dsync) by that fdatasync too.
 *
 * The null disk (--disk null=on) has no file: every request is one
 * IORING_OP_NOP on the same ring, so submission, completion polling and
 * interrupts cost what they cost for a file, and only the data transfer is
 * missing.  Its reads leave the guest's buffers as they are, or zero them
 * at completion with read-zeroes=on.
 */
#ifndef POLLVM_DEVICES_BLK_URING_H
#define POLLVM_DEVICES_BLK_URING_H

#include <stdbool.h>
#include <stdint.h>

#include "blk.h"
#include "blk_serial.h"
#include "../vmm/counters.h"
#include "../vmm/uring.h"

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
	/* Writes are serialised (RMW possible: O_DIRECT, lbs < off_align):
	 * &ser_store, shared by the file's rings; else NULL. */
	struct blk_serial *ser;
	struct blk_serial ser_store;
	bool can_punch;
	bool null;              /* no file (fd -1): every request is an IORING_OP_NOP */
	bool read_zeroes;       /* null: a completed read zeroes the guest's buffers */
};

/* Per file and ring; the --stats JSON sums them per ring (docs/counters.md, vmm/counters.h). */
#define BLK_URING_STATS(C, M) \
	C(short_io)             /* partial transfers resubmitted */ \
	C(eagain)               /* -EAGAIN resubmitted */ \
	C(bounces)              /* O_DIRECT requests copied through aligned bounce memory */ \
	C(errors)               /* completions with an error */ \
	C(fsyncs)               /* fdatasyncs issued */ \
	C(rmw)                  /* host blocks read first for a write covering them in part */ \
	C(bounce_waits)         /* requests that waited for a bounce chunk */ \
	C(serial_waits)         /* writes that waited for an overlapping RMW */

struct blk_uring_stats {
	COUNTER_FIELDS(BLK_URING_STATS)
};

/* A file on one ring: the opaque handle of blk_uring_ops. */
struct blk_uring {
	struct blk_file *file;
	struct uring *ring;
	struct blk_uring_stats st;
};

/*
 * Open and check the --disk image the guest sees with logical blocks of
 * lbs bytes: 0, or -errno after one pv_err() line naming path (PV_INPUT
 * for what the user can fix: the file, its size, its access).
 */
int blk_file_open(struct blk_file *f, const char *path, bool ro, enum blk_cache cache,
		  uint32_t lbs);
/*
 * A null disk of size bytes (a non-zero multiple of 512), with logical
 * blocks of lbs bytes: 0, or -EINVAL after one pv_err(PV_INPUT) line.
 */
int blk_file_open_null(struct blk_file *f, uint64_t size, bool ro, bool read_zeroes, uint32_t lbs);
/*
 * After an O_DIRECT open: take the file's direct-I/O alignment (known: as
 * STATX_DIOALIGN gave it; else 4096 is assumed), or fall back to the page
 * cache where direct I/O cannot serve the file.  Writes are serialised
 * when the guest's blocks are smaller than the host's.  0, or -errno
 * after one pv_err() line.
 */
int blk_file_dio_setup(struct blk_file *f, bool known, uint32_t mem_align, uint32_t off_align);
/* What the guest wrote reaches stable storage (fdatasync): at teardown. */
int blk_file_flush(struct blk_file *f);
void blk_file_close(struct blk_file *f);

/* Serve f's requests through ring r (the IOThread's that runs its queues). */
void blk_uring_bind(struct blk_uring *b, struct blk_file *f, struct uring *r);
/* Can the backend on r do DISCARD and WRITE_ZEROES (IORING_OP_FALLOCATE)? */
bool blk_uring_can_fallocate(const struct uring *r);

/* opaque = struct blk_uring * */
extern const struct blk_backend_ops blk_uring_ops;

#endif
