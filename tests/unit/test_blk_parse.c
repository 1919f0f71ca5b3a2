/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk request parser on its own: chains built by hand (no ring,
 * no device, no event loop), every outcome and the counter it moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <string.h>

#include "../../devices/blk_parse.h"

struct chain {
	struct virtq_elem e;
	struct virtio_blk_outhdr hdr;
	uint8_t data[8192];
	uint8_t status;
};

static const uint8_t wb_on = 1, wb_off = 0;
static const struct blk_parse_ctx ctx = {
	.capacity = 2048, .blk_size = 512, .discard = true, .write_zeroes = true,
	.writeback = &wb_on, .serial = "serial-0123456789abc",
};

static void seg(struct chain *c, void *p, uint64_t len, bool w)
{
	c->e.iov[c->e.nr++] = (struct iovec){ .iov_base = p, .iov_len = len };
	if (w) {
		c->e.nr_in++;
		c->e.in_bytes += len;
	} else {
		c->e.nr_out++;
		c->e.out_bytes += len;
	}
	c->e.last_writable = w;
}

/* header (R), data of len (R or W), status (W) */
static void build(struct chain *c, uint32_t type, uint64_t sector, uint64_t len, bool data_w)
{
	memset(c, 0, sizeof(*c));
	c->hdr = (struct virtio_blk_outhdr){ .type = htole32(type), .sector = htole64(sector) };
	seg(c, &c->hdr, sizeof(c->hdr), false);
	if (len)
		seg(c, c->data, len, data_w);
	seg(c, &c->status, 1, true);
}

static void test_read_write_flush(void **state)
{
	static struct chain c;
	struct iovec iov[VIRTQ_SEG_MAX];
	struct blk_parse_out o;
	struct blk_io io;
	struct blk_queue_stats st = { 0 };
	(void)state;

	build(&c, VIRTIO_BLK_T_IN, 8, 4096, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_int_equal(io.op, BLK_IO_READ);
	assert_int_equal(io.offset, 8 * 512);
	assert_int_equal(io.len, 4096);
	assert_int_equal(io.iovcnt, 1);
	assert_ptr_equal(io.iov[0].iov_base, c.data);
	assert_ptr_equal(o.status, &c.status);
	assert_int_equal(o.used_len, 4097);

	build(&c, VIRTIO_BLK_T_OUT, 2047, 512, false);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_int_equal(io.op, BLK_IO_WRITE);
	assert_false(io.dsync);
	struct blk_parse_ctx wt = ctx;
	wt.writeback = &wb_off;
	blk_parse(&wt, &c.e, iov, &io, &o, &st);
	assert_true(io.dsync);

	build(&c, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_int_equal(io.op, BLK_IO_FLUSH);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.writes, 2);
	assert_int_equal(st.flushes, 1);
}

static void test_answered_here(void **state)
{
	static struct chain c;
	struct iovec iov[VIRTQ_SEG_MAX];
	struct blk_parse_out o;
	struct blk_io io;
	struct blk_queue_stats st = { 0 };
	(void)state;

	/* GET_ID: the serial, at most 20 bytes, in the buffer. */
	build(&c, VIRTIO_BLK_T_GET_ID, 0, 32, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_DONE);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_OK);
	assert_int_equal(o.used_len, 21);
	assert_memory_equal(c.data, "serial-0123456789abc", 20);

	/* Past the end, not a whole block, read-only, unknown type. */
	build(&c, VIRTIO_BLK_T_IN, 2048, 512, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_IOERR);
	assert_int_equal(st.err_range, 1);
	build(&c, VIRTIO_BLK_T_IN, UINT64_MAX / 512, 512, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(st.err_range, 2);
	build(&c, VIRTIO_BLK_T_IN, 0, 100, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(st.err_len, 1);
	struct blk_parse_ctx ro = ctx;
	ro.ro = true;
	build(&c, VIRTIO_BLK_T_OUT, 0, 512, false);
	blk_parse(&ro, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_IOERR);
	assert_int_equal(st.err_ro, 1);
	build(&c, 77, 0, 0, false);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(st.unsupported, 1);

	/* 4096-byte logical blocks: 512-byte I/O is refused. */
	struct blk_parse_ctx big = ctx;
	big.blk_size = 4096;
	build(&c, VIRTIO_BLK_T_IN, 1, 4096, true);
	blk_parse(&big, &c.e, iov, &io, &o, &st);
	assert_int_equal(st.err_range, 3);
	build(&c, VIRTIO_BLK_T_IN, 8, 512, true);
	blk_parse(&big, &c.e, iov, &io, &o, &st);
	assert_int_equal(st.err_len, 2);
}

static void test_unanswerable_and_framing(void **state)
{
	static struct chain c;
	struct iovec iov[VIRTQ_SEG_MAX];
	struct blk_parse_out o;
	struct blk_io io;
	struct blk_queue_stats st = { 0 };
	(void)state;

	/* No writable last byte: nobody to answer. */
	build(&c, VIRTIO_BLK_T_IN, 0, 512, false);
	c.e.nr--;
	c.e.last_writable = false;
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_NO_STATUS);
	assert_int_equal(st.err_no_status, 1);

	/* A header split over two segments, the data and status in one. */
	memset(&c, 0, sizeof(c));
	c.hdr = (struct virtio_blk_outhdr){ .type = htole32(VIRTIO_BLK_T_IN), .sector = htole64(4) };
	seg(&c, &c.hdr, 5, false);
	seg(&c, (uint8_t *)&c.hdr + 5, sizeof(c.hdr) - 5, false);
	seg(&c, c.data, 1025, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_int_equal(io.offset, 4 * 512);
	assert_int_equal(io.len, 1024);
	assert_ptr_equal(o.status, c.data + 1024);

	/* The usual framing: the data are the chain's own segments. */
	build(&c, VIRTIO_BLK_T_OUT, 0, 1024, false);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_ptr_equal(io.iov, &c.e.iov[1]);
	assert_int_equal(io.iovcnt, 1);
	assert_int_equal(io.len, 1024);

	/* An empty data segment is not handed on: the data are sliced. */
	memset(&c, 0, sizeof(c));
	c.hdr = (struct virtio_blk_outhdr){ .type = htole32(VIRTIO_BLK_T_IN) };
	seg(&c, &c.hdr, sizeof(c.hdr), false);
	seg(&c, c.data, 512, true);
	seg(&c, NULL, 0, true);
	seg(&c, c.data + 512, 512, true);
	seg(&c, &c.status, 1, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_ptr_equal(io.iov, iov);
	assert_int_equal(io.iovcnt, 2);
	assert_ptr_equal(io.iov[1].iov_base, c.data + 512);
	assert_int_equal(io.len, 1024);
	assert_int_equal(o.used_len, 1025);

	/* A header 8 bytes short. */
	memset(&c, 0, sizeof(c));
	seg(&c, &c.hdr, sizeof(c.hdr) - 8, false);
	seg(&c, &c.status, 1, true);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_IOERR);
	assert_int_equal(st.err_header, 1);

	/* A segment over size_max. */
	build(&c, VIRTIO_BLK_T_IN, 0, 512, true);
	c.e.iov[1].iov_len = BLK_SIZE_MAX + 512ull;
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_IOERR);
	assert_int_equal(st.err_limit, 1);
}

static void test_discard_write_zeroes(void **state)
{
	static struct chain c;
	struct iovec iov[VIRTQ_SEG_MAX];
	struct blk_parse_out o;
	struct blk_io io;
	struct blk_queue_stats st = { 0 };
	(void)state;

	struct virtio_blk_discard_write_zeroes dwz = {
		.sector = htole64(16), .num_sectors = htole32(8),
		.flags = htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
	};

	build(&c, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(dwz), false);
	memcpy(c.data, &dwz, sizeof(dwz));
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_int_equal(io.op, BLK_IO_WRITE_ZEROES);
	assert_int_equal(io.offset, 16 * 512);
	assert_int_equal(io.len, 8 * 512);
	assert_true(io.unmap);
	/* DISCARD takes no flags; without the feature: UNSUPP. */
	c.hdr.type = htole32(VIRTIO_BLK_T_DISCARD);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_UNSUPP);
	struct blk_parse_ctx nod = ctx;
	nod.discard = false;
	dwz.flags = 0;
	memcpy(c.data, &dwz, sizeof(dwz));
	blk_parse(&nod, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.status_val, VIRTIO_BLK_S_UNSUPP);
	blk_parse(&ctx, &c.e, iov, &io, &o, &st);
	assert_int_equal(o.kind, BLK_PARSE_IO);
	assert_int_equal(io.op, BLK_IO_DISCARD);
	assert_int_equal(st.discards, 3);
	assert_int_equal(st.write_zeroes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write_flush),
		cmocka_unit_test(test_answered_here),
		cmocka_unit_test(test_unanswerable_and_framing),
		cmocka_unit_test(test_discard_write_zeroes),
	};
	return cmocka_run_group_tests_name("blk_parse", tests, NULL, NULL);
}
