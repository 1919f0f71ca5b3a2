/* SPDX-License-Identifier: MIT */
#include "blk_parse.h"
#include "iov.h"

#include <endian.h>
#include <string.h>

static void parse_done(struct blk_parse_out *out, uint8_t status)
{
	out->kind = BLK_PARSE_DONE;
	out->status_val = status;
}

/* Data of len bytes at sector: aligned, non-empty, inside the disk, no wrap. */
static inline bool parse_range_ok(const struct blk_parse_ctx *c, uint64_t sector, uint64_t len,
				  struct blk_queue_stats *st)
{
	uint64_t cap = c->capacity;
	uint64_t mask = c->blk_size - 1;   /* a power of two: masks, not divisions */

	if (len == 0 || (len & mask)) {
		st->err_len++;
		return false;
	}
	/* Subtractions only: sector + len / 512 could wrap. */
	if (sector > cap || len / VIRTIO_BLK_SECTOR > cap - sector ||
	    ((sector * VIRTIO_BLK_SECTOR) & mask)) {
		st->err_range++;
		return false;
	}
	return true;
}

/*
 * What the config space advertises (5.2.4 size_max, seg_max) holds: no
 * segment over BLK_SIZE_MAX, no more data than BLK_SEG_MAX of them.
 */
static bool parse_limits_ok(const struct virtq_elem *e)
{
	for (unsigned i = 0; i < e->nr; i++)
		if (e->iov[i].iov_len > BLK_SIZE_MAX)
			return false;
	/* Both sums are of at most VIRTQ_SEG_MAX segments of at most 4 GiB: no wrap. */
	return e->out_bytes + e->in_bytes <= BLK_REQ_BYTES_MAX;
}

/*
 * The usual framing (Linux's driver builds every request so): the header
 * alone in the first segment, readable; the status byte alone in the last;
 * and between them the data, segments none of which is empty or over
 * size_max.  Then the limits hold (at most VIRTQ_SEG_MAX - 2 = BLK_SEG_MAX
 * data segments), the header is read in place, and the data segments are
 * the backend's as they are: nothing is gathered or sliced.
 */
static bool parse_framing_simple(const struct virtq_elem *e)
{
	/* e's last segment is writable (checked before): nr >= 1, and nr >= 2
	 * when nr_out >= 1. */
	const struct iovec *last = &e->iov[e->nr - 1];

	if (!e->nr_out || e->iov[0].iov_len != sizeof(struct virtio_blk_outhdr) || last->iov_len != 1)
		return false;
	for (const struct iovec *v = &e->iov[1]; v < last; v++) {
		/* Unsigned: an empty segment wraps to the maximum and fails too. */
		if (v->iov_len - 1 >= BLK_SIZE_MAX)
			return false;
	}
	return true;
}

/* The operation for the backend (fields the device sets; the rest is the backend's). */
static void parse_io(struct blk_io *io, enum blk_io_op op, uint64_t offset, uint64_t len,
		     struct iovec *iov, unsigned iovcnt, bool dsync)
{
	io->op = op;
	io->offset = offset;
	io->len = len;
	io->iov = iov;
	io->iovcnt = iovcnt;
	io->dsync = dsync;
	io->unmap = false;
}

/* DISCARD and WRITE_ZEROES: one struct virtio_blk_discard_write_zeroes. */
static void parse_dwz(const struct blk_parse_ctx *c, const struct virtq_elem *e,
		      uint64_t out_data, bool zeroes, struct blk_io *io, struct blk_parse_out *out,
		      struct blk_queue_stats *st)
{
	struct virtio_blk_discard_write_zeroes seg;

	if (zeroes)
		st->write_zeroes++;
	else
		st->discards++;
	if (c->ro) {
		st->err_ro++;
		parse_done(out, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (!(zeroes ? c->write_zeroes : c->discard)) {
		st->unsupported++;
		parse_done(out, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	/* max_discard_seg = max_write_zeroes_seg = 1 (config): one segment. */
	if (out_data != sizeof(seg)) {
		st->err_len++;
		parse_done(out, VIRTIO_BLK_S_IOERR);
		return;
	}
	iov_to_buf(e->iov, e->nr_out, sizeof(struct virtio_blk_outhdr), &seg, sizeof(seg));
	uint64_t sector = le64toh(seg.sector);
	uint32_t nsec = le32toh(seg.num_sectors), flags = le32toh(seg.flags);

	/* 5.2.6.2: DISCARD has no flags; WRITE_ZEROES only "unmap". */
	if (flags & ~(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0u)) {
		st->unsupported++;
		parse_done(out, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (nsec > BLK_MAX_DWZ_SECTORS) {
		st->err_len++;
		parse_done(out, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (!parse_range_ok(c, sector, (uint64_t)nsec * VIRTIO_BLK_SECTOR, st)) {
		parse_done(out, VIRTIO_BLK_S_IOERR);
		return;
	}
	out->kind = BLK_PARSE_IO;
	/* 5.2.6.2: in write-through mode what a completed request changed is
	 * stable, as for a write. */
	parse_io(io, zeroes ? BLK_IO_WRITE_ZEROES : BLK_IO_DISCARD, sector * VIRTIO_BLK_SECTOR,
		 (uint64_t)nsec * VIRTIO_BLK_SECTOR, NULL, 0, !*c->writeback);
	io->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
}

/*
 * IN reads into the writable data before the status byte, OUT writes the
 * readable data after the header.  With simple framing (parse_framing_simple)
 * and nothing else of the other direction, the data are e's segments
 * between header and status; otherwise they are sliced into iov.
 */
static void parse_rw(const struct blk_parse_ctx *c, struct virtq_elem *e, struct iovec *iov,
		     bool write, uint64_t sector, bool simple, struct blk_io *io,
		     struct blk_parse_out *out, struct blk_queue_stats *st)
{
	uint64_t len = write ? e->out_bytes - sizeof(struct virtio_blk_outhdr) : e->in_bytes - 1;
	struct iovec *data = iov;
	unsigned n;

	if (write) {
		st->writes++;
		if (c->ro) {
			st->err_ro++;
			parse_done(out, VIRTIO_BLK_S_IOERR);
			return;
		}
	} else {
		st->reads++;
	}
	if (!parse_range_ok(c, sector, len, st)) {
		parse_done(out, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (simple && (write ? e->nr_in : e->nr_out) == 1) {
		data = &e->iov[1];
		n = e->nr - 2u;
	} else if (write) {
		n = iov_slice(iov, e->iov, e->nr_out, sizeof(struct virtio_blk_outhdr), len);
	} else {
		n = iov_slice(iov, &e->iov[e->nr_out], e->nr_in, 0, len);
	}
	out->kind = BLK_PARSE_IO;
	/* 5.2.5: writeback == 0 means write-through. */
	parse_io(io, write ? BLK_IO_WRITE : BLK_IO_READ, sector * VIRTIO_BLK_SECTOR, len, data, n,
		 write && !*c->writeback);
	/* At most BLK_REQ_BYTES_MAX (limits checked): no truncation. */
	if (!write)
		out->used_len = (uint32_t)(len + 1);
}

/* The header at p (any alignment): type and sector. */
static void parse_header(const void *p, uint32_t *type, uint64_t *sector)
{
	struct virtio_blk_outhdr hdr;

	memcpy(&hdr, p, sizeof(hdr));
	*type = le32toh(hdr.type);
	*sector = le64toh(hdr.sector);
}

void blk_parse(const struct blk_parse_ctx *c, struct virtq_elem *e, struct iovec *iov,
	       struct blk_io *io, struct blk_parse_out *out, struct blk_queue_stats *st)
{
	const struct iovec *last = e->nr ? &e->iov[e->nr - 1] : NULL;
	uint64_t sector;
	bool simple;

	st->requests++;
	out->used_len = 1;
	out->type = 0;
	/* Without a writable status byte there is no way to answer. */
	if (!last || !e->last_writable || !last->iov_base || last->iov_len == 0) {
		st->err_no_status++;
		out->kind = BLK_PARSE_NO_STATUS;
		out->status = NULL;
		return;
	}
	out->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (e->err) {
		st->err_buf++;
		parse_done(out, VIRTIO_BLK_S_IOERR);
		return;
	}
	simple = parse_framing_simple(e);
	if (simple) {
		parse_header(e->iov[0].iov_base, &out->type, &sector);
	} else {
		struct virtio_blk_outhdr hdr;

		if (!parse_limits_ok(e)) {
			st->err_limit++;
			parse_done(out, VIRTIO_BLK_S_IOERR);
			return;
		}
		if (e->out_bytes < sizeof(struct virtio_blk_outhdr)) {
			st->err_header++;
			parse_done(out, VIRTIO_BLK_S_IOERR);
			return;
		}
		iov_to_buf(e->iov, e->nr_out, 0, &hdr, sizeof(hdr));
		parse_header(&hdr, &out->type, &sector);
	}
	uint64_t in_data = e->in_bytes - 1;            /* before the status byte */
	uint64_t out_data = e->out_bytes - sizeof(struct virtio_blk_outhdr);

	/* Reads and writes first: one test, not the jump table's. */
	if (out->type == VIRTIO_BLK_T_IN || out->type == VIRTIO_BLK_T_OUT) {
		parse_rw(c, e, iov, out->type == VIRTIO_BLK_T_OUT, sector, simple, io, out, st);
		return;
	}
	switch (out->type) {
	case VIRTIO_BLK_T_FLUSH:
		st->flushes++;
		out->kind = BLK_PARSE_IO;
		parse_io(io, BLK_IO_FLUSH, 0, 0, NULL, 0, false);
		return;
	case VIRTIO_BLK_T_GET_ID: {
		st->get_ids++;
		if (in_data == 0) {
			st->err_len++;
			parse_done(out, VIRTIO_BLK_S_IOERR);
			return;
		}
		uint64_t n = in_data < VIRTIO_BLK_ID_BYTES ? in_data : VIRTIO_BLK_ID_BYTES;
		iov_from_buf(&e->iov[e->nr_out], e->nr_in, c->serial, n);
		out->used_len = (uint32_t)n + 1;
		parse_done(out, VIRTIO_BLK_S_OK);
		return;
	}
	case VIRTIO_BLK_T_DISCARD:
		parse_dwz(c, e, out_data, false, io, out, st);
		return;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		parse_dwz(c, e, out_data, true, io, out, st);
		return;
	default:
		st->unsupported++;
		parse_done(out, VIRTIO_BLK_S_UNSUPP);
		return;
	}
}
