/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk request parsing (virtio 1.2 5.2.6), pure: a popped chain and
 * the device's settings in, an answer or a backend operation out.  No
 * lock, no event loop, no backend: testable on its own.
 *
 * A request is a device-readable header (struct virtio_blk_outhdr: type,
 * reserved, sector), data (readable for OUT, DISCARD, WRITE_ZEROES;
 * writable for IN, GET_ID), and a device-writable status byte, the last
 * byte of the chain.  With VIRTIO_F_VERSION_1 the framing into descriptors
 * is arbitrary (2.7.4 "Message Framing"), so the header is gathered and the
 * data sliced out of the segments wherever they fall.
 *
 * The rule for bad requests: one whose status byte can be written is
 * answered (IOERR, or UNSUPP for what the device does not do); one without
 * a writable status byte cannot be answered, and the device must set
 * DEVICE_NEEDS_RESET.
 */
#ifndef POLLVM_DEVICES_BLK_PARSE_H
#define POLLVM_DEVICES_BLK_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_proto.h"
#include "virtq.h"

/* What a request is checked against: the disk and what was negotiated. */
struct blk_parse_ctx {
	uint64_t capacity;       /* 512-byte sectors */
	uint32_t blk_size;       /* logical block size: a power of two */
	bool ro;
	bool discard;            /* VIRTIO_BLK_F_DISCARD negotiated */
	bool write_zeroes;       /* VIRTIO_BLK_F_WRITE_ZEROES negotiated */
	const uint8_t *writeback; /* the effective cache mode: the config writeback byte */
	const char *serial;      /* VIRTIO_BLK_ID_BYTES, NUL-padded */
};

enum blk_parse_kind {
	BLK_PARSE_NO_STATUS,     /* unanswerable: the device needs a reset */
	BLK_PARSE_DONE,          /* answered here: status_val, used_len */
	BLK_PARSE_IO,            /* for the backend: io */
};

struct blk_parse_out {
	enum blk_parse_kind kind;
	uint8_t *status;         /* DONE, IO: the status byte in guest memory */
	uint8_t status_val;      /* DONE: the answer */
	uint32_t used_len;       /* bytes the device writes, status included, on success */
	uint32_t type;           /* the header's type, when there was one */
};

/*
 * Parse the popped chain e.  For BLK_PARSE_IO, io gets the operation (op,
 * offset, len, dsync, unmap; its other fields are left alone) and its data
 * segments, none empty: e's own segments when the data are whole segments
 * of it (the backend may then consume them in place), else sliced into iov
 * (room for VIRTQ_SEG_MAX).  A GET_ID is answered in place (the serial is
 * copied into its buffer).  The request and error counters of st move.
 */
void blk_parse(const struct blk_parse_ctx *c, struct virtq_elem *e, struct iovec *iov,
	       struct blk_io *io, struct blk_parse_out *out, struct blk_queue_stats *st);

#endif
