/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk's contract (virtio 1.2 section 5.2): pollvm's limits,
 * the operation a device hands its backend (struct blk_io, blk_backend_ops)
 * and the per-queue counters.  Shared by the device (blk.c), its request
 * parser (blk_parse.c) and the backends.
 */
#ifndef POLLVM_DEVICES_BLK_PROTO_H
#define POLLVM_DEVICES_BLK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "virtq.h"
#include "../vmm/counters.h"

/*
 * The spec's side is <linux/virtio_blk.h>'s: feature bits (VIRTIO_BLK_F_*;
 * FLUSH and CONFIG_WCE sit under its !VIRTIO_BLK_NO_LEGACY, so that stays
 * undefined), request types (VIRTIO_BLK_T_*), status values
 * (VIRTIO_BLK_S_*), struct virtio_blk_outhdr (the request header),
 * struct virtio_blk_discard_write_zeroes and its
 * VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, struct virtio_blk_config and
 * VIRTIO_BLK_ID_BYTES (the GET_ID string).  All little-endian (VERSION_1).
 */

/* 5.2.6: a sector is always 512 bytes (no uapi name for it). */
#define VIRTIO_BLK_SECTOR 512

/*
 * The config space pollvm exposes: struct virtio_blk_config up to and
 * including the secure-erase fields (5.2.4), whatever newer headers add
 * after them.
 */
#define BLK_CONFIG_LEN                                                  \
	(offsetof(struct virtio_blk_config, secure_erase_sector_alignment) + \
	 sizeof(((struct virtio_blk_config *)0)->secure_erase_sector_alignment))

#define BLK_MAX_QUEUES 16
/* One discard / write-zeroes range per request (max_*_seg = 1): one fallocate. */
#define BLK_MAX_DWZ_SECTORS (1u << 22)  /* 2 GiB per request */
/* The largest segment (size_max) and data segments per request (seg_max)
 * advertised and enforced: a request beyond them fails with IOERR.  The
 * header and the status byte take one descriptor each (Linux adds 2). */
#define BLK_SIZE_MAX (1u << 22)
#define BLK_SEG_MAX  (VIRTQ_SEG_MAX - 2)
/* The most bytes a request within those limits carries, header and status
 * included: used lengths of 32 bits hold it. */
#define BLK_REQ_BYTES_MAX ((uint64_t)BLK_SEG_MAX * BLK_SIZE_MAX + sizeof(struct virtio_blk_outhdr) + 1)
_Static_assert(BLK_REQ_BYTES_MAX <= UINT32_MAX, "a request's used length fits in 32 bits");

enum blk_io_op { BLK_IO_READ, BLK_IO_WRITE, BLK_IO_FLUSH, BLK_IO_DISCARD, BLK_IO_WRITE_ZEROES };

/* Bytes of per-request state a backend may keep inside struct blk_io. */
#define BLK_IO_BACKEND_BYTES 256

struct blk_io {
	enum blk_io_op op;
	uint64_t offset, len;          /* bytes */
	struct iovec *iov;             /* READ/WRITE: guest buffers */
	unsigned iovcnt;
	bool dsync;                    /* write-through (writeback config 0) */
	bool unmap;                    /* WRITE_ZEROES may deallocate */
	/* res: 0 when the whole operation succeeded, else -errno. */
	void (*complete)(struct blk_io *io, int res);
	/* BLK_IO_BACKEND_BYTES (16-byte aligned) the backend may use from
	 * submit() to complete(); the caller provides them.  (Not inline: a
	 * request is described with a compound literal, which would zero
	 * them every time.) */
	void *backend;
};

struct blk_backend_ops {
	/* Queue io; 0, or -errno when it cannot be queued (io not completed). */
	int (*submit)(void *be, struct blk_io *io);
};

/*
 * Per-queue counters (docs/counters.md, vmm/counters.h); the device's
 * totals are their sums, and batch_max the largest (blk_stats_total).
 * Three groups: the struct keeps what every drain touches (traffic, then
 * polling) together, the --stats JSON lists them traffic, errors, polling.
 */
#define BLK_QUEUE_TRAFFIC_STATS(C, M) \
	C(kicks)                /* guest notifications (ioeventfd or bus), each one */ \
	C(batches)              /* drains that found at least one request */ \
	C(requests)             /* chains taken off the ring, valid or not */ \
	C(reads)                /* requests by type, counted before they are checked */ \
	C(writes) \
	C(flushes) \
	C(get_ids) \
	C(discards) \
	C(write_zeroes) \
	C(unsupported)          /* answered UNSUPP */ \
	C(bytes_read)           /* data moved by completed reads */ \
	C(bytes_written)        /* ... and writes */ \
	C(irqs)                 /* batches after which the driver wanted an interrupt */ \
	C(irqs_suppressed)      /* ... and did not */ \
	C(throttled)            /* ring had more than our slots (hostile) */

#define BLK_QUEUE_POLL_STATS(C, M) \
	C(poll_windows)         /* times kicks were suppressed for a polling stretch */ \
	C(poll_drains)          /* drains started by polling, not by a kick */ \
	C(kicks_late)           /* notifications drained when polling stopped (sent before it) */ \
	M(batch_max)            /* most requests taken in one drain */

/* By kind; a failed request counts under the first check it fails. */
#define BLK_QUEUE_ERR_STATS(C, M) \
	C(err_no_status)        /* no writable status byte: DEVICE_NEEDS_RESET */ \
	C(err_buf)              /* bad buffer address or order: IOERR */ \
	C(err_header)           /* header shorter than 16 bytes */ \
	C(err_len)              /* data length wrong for the op */ \
	C(err_range)            /* sector out of range, overflowing or misaligned */ \
	C(err_ro)               /* write to a read-only disk */ \
	C(err_io)               /* backend error */ \
	C(err_ring)             /* broken queue structure: DEVICE_NEEDS_RESET */ \
	C(err_limit)            /* a segment over size_max, or data over seg_max x size_max */

#define BLK_QUEUE_STATS(C, M) \
	BLK_QUEUE_TRAFFIC_STATS(C, M) BLK_QUEUE_POLL_STATS(C, M) BLK_QUEUE_ERR_STATS(C, M)

struct blk_queue_stats {
	COUNTER_FIELDS(BLK_QUEUE_STATS)
};

#endif
