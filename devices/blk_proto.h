/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk's contract (virtio 1.2 section 5.2): the spec's constants,
 * the operation a device hands its backend (struct blk_io, blk_backend_ops)
 * and the per-queue counters.  Shared by the device (blk.c), its request
 * parser (blk_parse.c) and the backends.
 */
#ifndef POLLVM_DEVICES_BLK_PROTO_H
#define POLLVM_DEVICES_BLK_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtq.h"

#define VIRTIO_ID_BLOCK 2  /* 5 "Device Types" */

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_GEOMETRY     4
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte values (5.2.6). */
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* 5.2.6: struct virtio_blk_discard_write_zeroes flags. */
#define VIRTIO_BLK_WZ_UNMAP 1u

#define VIRTIO_BLK_SECTOR     512     /* 5.2.6: sector is always 512 bytes */
#define VIRTIO_BLK_ID_BYTES   20      /* 5.2.6: GET_ID string length */
#define VIRTIO_BLK_HDR_BYTES  16      /* type, reserved, sector */
#define VIRTIO_BLK_DWZ_BYTES  16      /* one discard/write-zeroes segment */
/* Config space up to and including the secure-erase fields (5.2.4). */
#define VIRTIO_BLK_CONFIG_LEN 72
#define VIRTIO_BLK_CFG_WRITEBACK 32   /* offset of the writeback byte */

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
#define BLK_REQ_BYTES_MAX ((uint64_t)BLK_SEG_MAX * BLK_SIZE_MAX + VIRTIO_BLK_HDR_BYTES + 1)
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

/* Per-queue counters (docs/counters.md); device totals are their sums. */
struct blk_queue_stats {
	uint64_t kicks;               /* guest notifications (ioeventfd or bus), each one */
	uint64_t batches;             /* drains that found at least one request */
	uint64_t requests;
	uint64_t reads, writes, flushes, get_ids, discards, write_zeroes, unsupported;
	uint64_t bytes_read, bytes_written;
	uint64_t irqs, irqs_suppressed;
	uint64_t throttled;           /* ring had more than our slots (hostile) */
	/* polling */
	uint64_t poll_windows;        /* times kicks were suppressed for a polling stretch */
	uint64_t poll_drains;         /* drains started by polling, not by a kick */
	uint64_t kicks_late;          /* notifications drained when polling stopped (sent before it) */
	uint64_t batch_max;           /* most requests taken in one drain (not a sum) */
	/* errors by kind */
	uint64_t err_no_status;       /* no writable status byte: DEVICE_NEEDS_RESET */
	uint64_t err_buf;             /* bad buffer address or order: IOERR */
	uint64_t err_header;          /* header shorter than 16 bytes */
	uint64_t err_len;             /* data length wrong for the op */
	uint64_t err_range;           /* sector out of range, overflowing or misaligned */
	uint64_t err_ro;              /* write to a read-only disk */
	uint64_t err_io;              /* backend error */
	uint64_t err_ring;            /* broken queue structure: DEVICE_NEEDS_RESET */
	uint64_t err_limit;           /* a segment over size_max, or data over seg_max x size_max */
};

#endif
