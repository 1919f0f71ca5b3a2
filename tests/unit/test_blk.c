/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk: request parsing and status codes with a fake backend, driven
 * through the real transport and event loop; then the io_uring backend
 * against temp files (ext4 O_DIRECT under /var/tmp, tmpfs under /dev/shm).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/blk_fx.h"
#include "../lib/pv_capture.h"

#define NUM 16
#define CAP 2048 /* sectors: 1 MiB */

#define FEAT_ALL ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
		  (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_BLK_F_FLUSH) | \
		  (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | \
		  (1ULL << VIRTIO_BLK_F_CONFIG_WCE))

/* The disk on the fake backend f->be, brought up. */
static int fx_make(void **state, bool ro, bool event_idx)
{
	struct blk_fx *f = calloc(1, sizeof(*f));
	struct blk_params p = {
		.capacity = CAP, .blk_size = 512, .ro = ro, .discard = true, .write_zeroes = true,
		.writeback = true, .num_queues = 1, .serial = "pollvm-serial-0123456789",
	};

	drv_init(&f->d, NUM);
	if (blk_fx_start_fake(f, &p))
		return -1;
	blk_fx_up(f, event_idx ? FEAT_ALL : FEAT_ALL & ~(1ULL << VIRTIO_RING_F_EVENT_IDX));
	/* DRIVER_OK kicked the queue once: consume that, count from zero. */
	evloop_run_once(&f->loop, 0);
	memset(&f->b.q[0].st, 0, sizeof(f->b.q[0].st));
	*state = f;
	return 0;
}

static int setup(void **state) { return fx_make(state, false, false); }
static int setup_ro(void **state) { return fx_make(state, true, false); }
static int setup_evidx(void **state) { return fx_make(state, false, true); }

static int teardown(void **state)
{
	struct blk_fx *f = *state;
	blk_fx_destroy(f);
	free(f);
	return 0;
}

/* Reset the device, then bring it up again with feat on fresh rings. */
static void fx_reup(struct blk_fx *f, uint64_t feat)
{
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, 0);
	drv_free(&f->d);
	drv_init(&f->d, NUM);
	f->next_desc = 0;
	blk_fx_up(f, feat);
	evloop_run_once(&f->loop, 0);
}

static void expect_used(struct blk_fx *f, struct drv_blk_rq *r, uint32_t len)
{
	uint32_t id, l;
	assert_int_equal(drv_get_used(&f->d, &id, &l), 1);
	assert_int_equal(id, r->head);
	assert_int_equal(l, len);
}

/* A one-sector read goes through and completes OK: the device serves the queue. */
static void expect_read_ok(struct blk_fx *f)
{
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);

	blk_fx_kick_run(f);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
}

/* The config space's writeback byte (5.2.4; the uapi struct calls it wce). */
static uint8_t wb_get(struct blk_fx *f)
{
	uint8_t v = 0xee;
	virtio_mmio_bus_ops.read(&f->b.t, DRV_BLK_CFG(wce), &v, 1);
	return v;
}

static void wb_set(struct blk_fx *f, uint8_t v)
{
	virtio_mmio_bus_ops.write(&f->b.t, DRV_BLK_CFG(wce), &v, 1);
}

/* ---- requests with the fake backend ------------------------------------------ */

static void test_config(void **state)
{
	struct blk_fx *f = *state;
	uint64_t cap;
	uint16_t w = 0;

	virtio_mmio_bus_ops.read(&f->b.t, DRV_BLK_CFG(capacity), &cap, 8);
	assert_int_equal(le64toh(cap), CAP);
	assert_int_equal(drv_mmio_rd(&f->b.t, DRV_BLK_CFG(seg_max)), VIRTQ_SEG_MAX - 2);
	assert_int_equal(drv_mmio_rd(&f->b.t, DRV_BLK_CFG(blk_size)), 512);
	virtio_mmio_bus_ops.read(&f->b.t, DRV_BLK_CFG(num_queues), &w, 2);
	assert_int_equal(le16toh(w), 1);
	assert_int_equal(drv_mmio_rd(&f->b.t, DRV_BLK_CFG(max_discard_seg)), 1);
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = drv_mmio_rd(&f->b.t, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(lo & (1u << VIRTIO_BLK_F_FLUSH));
	assert_true(lo & (1u << VIRTIO_BLK_F_SEG_MAX));
	assert_true(lo & (1u << VIRTIO_BLK_F_MQ));
	assert_true(lo & (1u << VIRTIO_RING_F_EVENT_IDX));
	assert_false(lo & (1u << VIRTIO_BLK_F_RO));
	/* CONFIG_WCE: the writeback byte is writable. */
	wb_set(f, 0);
	assert_int_equal(wb_get(f), 0);
	/* ... and then writes are write-through. */
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	blk_fx_kick_run(f);
	assert_true(f->be.last.dsync);
	(void)r;
}

static void test_read_ok(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_IN, 8, 4096, true);

	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 1);
	assert_int_equal(f->be.last.op, BLK_IO_READ);
	assert_int_equal(f->be.last.offset, 8 * 512);
	assert_int_equal(f->be.last.len, 4096);
	assert_int_equal(f->be.last.iovcnt, 1);
	assert_ptr_equal(f->be.last.iov[0].iov_base, drv_hva(&f->d, r.data));
	assert_false(f->be.last.dsync);
	assert_int_equal(drv_used_idx(&f->d), 0);      /* not before completion */
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	expect_used(f, &r, 4097);
	assert_int_equal(blk_fx_irqs(f), 1);
	assert_int_equal(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	assert_int_equal(f->b.q[0].st.reads, 1);
	assert_int_equal(f->b.q[0].st.bytes_read, 4096);
	assert_int_equal(f->b.q[0].st.kicks, 1);
	assert_int_equal(f->b.inflight, 0);
}

static void test_write_ok(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_OUT, CAP - 1, 512, false);

	blk_fx_kick_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_WRITE);
	assert_int_equal(f->be.last.offset, (CAP - 1) * 512);
	assert_int_equal(f->be.last.len, 512);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	expect_used(f, &r, 1);
	assert_int_equal(f->b.q[0].st.bytes_written, 512);
}

static void test_write_ro(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	struct drv_blk_rq z = blk_fx_post(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);

	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &z), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_ro, 2);
	expect_used(f, &r, 1);
	expect_used(f, &z, 1);
	/* Reads still work. */
	expect_read_ok(f);
}

static void test_sector_bounds(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq a = blk_fx_post(f, VIRTIO_BLK_T_IN, CAP, 512, true);           /* at the end */
	struct drv_blk_rq b = blk_fx_post(f, VIRTIO_BLK_T_IN, CAP - 1, 1024, true);      /* straddles */
	struct drv_blk_rq c = blk_fx_post(f, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false);  /* overflow */
	struct drv_blk_rq d = blk_fx_post(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, false);

	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 0);
	assert_int_equal(drv_blk_status(&f->d, &a), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &b), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &c), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &d), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_range, 4);
	assert_int_equal(drv_used_idx(&f->d), 4);
}

static void test_bad_length(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq a = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 100, true);   /* not whole sectors */
	struct drv_blk_rq b = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 0, true);     /* no data */
	struct drv_blk_rq c = blk_fx_post(f, VIRTIO_BLK_T_OUT, 0, 0, false);

	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 0);
	assert_int_equal(drv_blk_status(&f->d, &a), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &b), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &c), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_len, 3);
}

static void test_unknown_type(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq a = blk_fx_post(f, 0x1234, 0, 512, true);
	struct drv_blk_rq b = blk_fx_post(f, 14 /* SECURE_ERASE, not offered */, 0, 16, false);

	blk_fx_kick_run(f);
	assert_int_equal(drv_blk_status(&f->d, &a), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(drv_blk_status(&f->d, &b), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(f->b.q[0].st.unsupported, 2);
	expect_used(f, &a, 1);
}

static void test_get_id(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_GET_ID, 0, 512, true);
	struct drv_blk_rq s = blk_fx_post(f, VIRTIO_BLK_T_GET_ID, 0, 0, true);

	blk_fx_kick_run(f);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	assert_memory_equal(drv_hva(&f->d, r.data), "pollvm-serial-012345", 20);
	expect_used(f, &r, 21);
	assert_int_equal(drv_blk_status(&f->d, &s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->be.submitted, 0);
}

/* Fuzz finding: an empty writable segment (NULL base) before GET_ID's buffer. */
static void test_get_id_empty_segment(void **state)
{
	struct blk_fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, 21, 1);
	drv_blk_put_hdr(&f->d, h, VIRTIO_BLK_T_GET_ID, 0);
	drv_desc(&f->d, 0, h, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, 0xfffffffffff00000ULL, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	drv_desc(&f->d, 2, d, 21, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, d + 20), VIRTIO_BLK_S_OK);
	assert_memory_equal(drv_hva(&f->d, d), "pollvm-serial-012345", 20);
}

static void test_flush(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_FLUSH, 0, 0, false);

	blk_fx_kick_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_FLUSH);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	assert_int_equal(f->b.q[0].st.flushes, 1);
}

static void test_backend_error(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	blk_fx_kick_run(f);
	blk_fx_complete_all(f, -EIO);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_IOERR);
	expect_used(f, &r, 1);
	assert_int_equal(f->b.q[0].st.err_io, 1);
	/* A backend that cannot take it at all. */
	f->be.fail_submit = 1;
	struct drv_blk_rq s = blk_fx_post(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	blk_fx_kick_run(f);
	assert_int_equal(drv_blk_status(&f->d, &s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_io, 2);
	assert_int_equal(f->b.inflight, 0);
}

static void test_short_header(void **state)
{
	struct blk_fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 8, 8), s = drv_alloc(&f->d, 1, 1);
	drv_desc(&f->d, 0, h, 8, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, s, 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_header, 1);
}

/* 2.7.4: framing is free; a header split over two descriptors still parses. */
static void test_split_header(void **state)
{
	struct blk_fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, 1025, 512);
	drv_blk_put_hdr(&f->d, h, VIRTIO_BLK_T_IN, 4);
	drv_desc(&f->d, 0, h, 5, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, h + 5, 11, VRING_DESC_F_NEXT, 2);
	drv_desc(&f->d, 2, d, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	/* data and status in one descriptor: the last byte is the status */
	drv_desc(&f->d, 3, d + 512, 513, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.last.offset, 4 * 512);
	assert_int_equal(f->be.last.len, 1024);
	assert_int_equal(f->be.last.iovcnt, 2);
	assert_int_equal(f->be.last.iov[1].iov_len, 512);
	blk_fx_complete_all(f, 0);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, d + 1024), VIRTIO_BLK_S_OK);
}

static void test_no_status_needs_reset(void **state)
{
	struct blk_fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16);
	drv_blk_put_hdr(&f->d, h, VIRTIO_BLK_T_IN, 0);
	drv_desc(&f->d, 0, h, 16, 0, 0);    /* no writable byte at all */
	drv_publish(&f->d, 0);
	blk_fx_irqs(f);
	blk_fx_kick_run(f);
	assert_int_equal(f->b.q[0].st.err_no_status, 1);
	assert_int_equal(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
			 VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(blk_fx_irqs(f), 1);
	assert_int_equal(drv_used_idx(&f->d), 0);
	assert_int_equal(f->b.inflight, 0);
	/* Nothing more is processed until reset. */
	blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 0);
	/* Reset and bring-up make it work again. */
	fx_reup(f, FEAT_ALL);
	expect_read_ok(f);
}

static void test_status_readonly_byte(void **state)
{
	struct blk_fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), w = drv_alloc(&f->d, 512, 512);
	drv_blk_put_hdr(&f->d, h, VIRTIO_BLK_T_IN, 0);
	/* Writable data, then a READABLE last byte: order error, no status. */
	drv_desc(&f->d, 0, h, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, w, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	drv_desc(&f->d, 2, h, 1, 0, 0);
	drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	assert_int_equal(f->b.q[0].st.err_no_status, 1);
	assert_false(virtio_mmio_live(&f->b.t));
}

static void test_bad_buffer_ioerr(void **state)
{
	struct blk_fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), s = drv_alloc(&f->d, 1, 1);
	drv_blk_put_hdr(&f->d, h, VIRTIO_BLK_T_IN, 0);
	drv_desc(&f->d, 0, h, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, 0xd0001000ULL, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2); /* MMIO */
	drv_desc(&f->d, 2, s, 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_buf, 1);
	assert_int_equal(f->be.submitted, 0);
	assert_true(virtio_mmio_live(&f->b.t));
}

static void test_broken_ring_needs_reset(void **state)
{
	struct blk_fx *f = *state;
	drv_publish(&f->d, NUM + 3);
	blk_fx_irqs(f);
	blk_fx_kick_run(f);
	assert_int_equal(f->b.q[0].st.err_ring, 1);
	assert_int_equal(f->b.vqs[0].st.err_head, 1);
	assert_false(virtio_mmio_live(&f->b.t));
	assert_int_equal(blk_fx_irqs(f), 1);
}

static void test_discard_write_zeroes(void **state)
{
	struct blk_fx *f = *state;
	/* Build the requests, then fill their payloads before the kick. */
	struct drv_blk_rq a = blk_fx_post(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	drv_blk_put_dwz(&f->d, a.data, 8, 16, 0);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_DISCARD);
	assert_int_equal(f->be.last.offset, 8 * 512);
	assert_int_equal(f->be.last.len, 16 * 512);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &a), VIRTIO_BLK_S_OK);

	struct drv_blk_rq b = blk_fx_post(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	drv_blk_put_dwz(&f->d, b.data, 0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_WRITE_ZEROES);
	assert_true(f->be.last.unmap);
	blk_fx_complete_all(f, -EOPNOTSUPP);
	assert_int_equal(drv_blk_status(&f->d, &b), VIRTIO_BLK_S_UNSUPP);

	struct drv_blk_rq c = blk_fx_post(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	drv_blk_put_dwz(&f->d, c.data, 0, 1, 1);                         /* discard has no flags */
	struct drv_blk_rq d = blk_fx_post(f, VIRTIO_BLK_T_DISCARD, 0, 32, false);  /* two segments */
	drv_blk_put_dwz(&f->d, d.data, 0, 1, 0);
	struct drv_blk_rq e = blk_fx_post(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	drv_blk_put_dwz(&f->d, e.data, CAP - 1, 2, 0);                   /* past the end */
	struct drv_blk_rq g = blk_fx_post(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	drv_blk_put_dwz(&f->d, g.data, 0, 0xffffffff, 0);                /* too many sectors */
	unsigned before = f->be.submitted;
	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, before);
	assert_int_equal(drv_blk_status(&f->d, &c), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(drv_blk_status(&f->d, &d), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &e), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_blk_status(&f->d, &g), VIRTIO_BLK_S_IOERR);
}

/* ---- cache mode from the negotiated features (5.2.5, 5.2.6.2) ------------------ */

/* A write, a WRITE_ZEROES and a DISCARD: each reaches the backend with dsync == sync. */
static void expect_sync(struct blk_fx *f, bool sync)
{
	struct drv_blk_rq w = blk_fx_post(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_WRITE);
	assert_int_equal(f->be.last.dsync, sync);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &w), VIRTIO_BLK_S_OK);

	struct drv_blk_rq z = blk_fx_post(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	drv_blk_put_dwz(&f->d, z.data, 0, 8, 0);
	struct drv_blk_rq d = blk_fx_post(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	drv_blk_put_dwz(&f->d, d.data, 8, 8, 0);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.n, 2);
	assert_int_equal(f->be.pending[0]->op, BLK_IO_WRITE_ZEROES);
	assert_int_equal(f->be.pending[0]->dsync, sync);
	assert_int_equal(f->be.pending[1]->op, BLK_IO_DISCARD);
	assert_int_equal(f->be.pending[1]->dsync, sync);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_blk_status(&f->d, &z), VIRTIO_BLK_S_OK);
	assert_int_equal(drv_blk_status(&f->d, &d), VIRTIO_BLK_S_OK);
}

/*
 * Every combination of FLUSH and CONFIG_WCE negotiated, and of the
 * writeback byte the driver writes where CONFIG_WCE lets it: writes and
 * their relatives are write-through exactly when the effective mode is.
 */
static void cache_modes(struct blk_fx *f, bool initial_wb)
{
	const uint64_t base = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_DISCARD) |
			      (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);

	f->b.p.writeback = initial_wb;
	for (int flush = 0; flush < 2; flush++) {
		for (int wce = 0; wce < 2; wce++) {
			uint64_t feat = base | ((uint64_t)flush << VIRTIO_BLK_F_FLUSH) |
					((uint64_t)wce << VIRTIO_BLK_F_CONFIG_WCE);
			/* Without FLUSH the driver has no way to make a cached
			 * write stable: write-through. */
			uint8_t mode = flush && initial_wb;

			fx_reup(f, feat);
			assert_true(virtio_mmio_live(&f->b.t));
			assert_int_equal(wb_get(f), mode);
			expect_sync(f, !mode);
			if (!wce) {
				/* Not negotiated: the byte is read-only. */
				uint64_t bad = f->b.t.st.bad_writes;
				wb_set(f, !mode);
				assert_int_equal(f->b.t.st.bad_writes, bad + 1);
				assert_int_equal(wb_get(f), mode);
				expect_sync(f, !mode);
				continue;
			}
			for (uint8_t v = 0; v < 2; v++) {
				wb_set(f, v);
				assert_int_equal(wb_get(f), v);
				expect_sync(f, !v);
			}
		}
	}
}

static void test_cache_modes(void **state)
{
	cache_modes(*state, true);
}

/* A disk whose initial mode is write-through stays so until the driver says otherwise. */
static void test_cache_modes_initial_wt(void **state)
{
	cache_modes(*state, false);
}

/* Before FEATURES_OK the byte is not the driver's; reset restores the initial mode. */
static void test_cache_mode_lifecycle(void **state)
{
	struct blk_fx *f = *state;
	uint64_t feat = FEAT_ALL;

	/* Set the mode to write-through, then reset. */
	wb_set(f, 0);
	assert_int_equal(wb_get(f), 0);
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(wb_get(f), 1);

	/* Features proposed, FEATURES_OK not yet: the write is refused. */
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD);
	drv_mmio_set_features(&f->b.t, feat);
	uint64_t bad = f->b.t.st.bad_writes;
	wb_set(f, 0);
	assert_int_equal(f->b.t.st.bad_writes, bad + 1);
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, DRV_STATUS_ADF);
	assert_true(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(wb_get(f), 1);
	/* After FEATURES_OK it is (5.2.5: read or set once negotiated). */
	wb_set(f, 0);
	assert_int_equal(f->b.t.st.bad_writes, bad + 1);
	assert_int_equal(wb_get(f), 0);

	/* A refused FEATURES_OK (feature not offered) changes nothing. */
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, 0);
	drv_mmio_negotiate(&f->b.t, (1ULL << VIRTIO_BLK_F_GEOMETRY) | (1ULL << VIRTIO_F_VERSION_1));
	assert_false(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(wb_get(f), 1);
}

/* Several completions in one batch: one irqfd write. */
static void test_one_irq_per_batch(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r[4];
	for (int i = 0; i < 4; i++)
		r[i] = blk_fx_post(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512, true);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 4);
	assert_int_equal(f->b.q[0].st.batches, 1);
	blk_fx_irqs(f);
	blk_fx_complete_all(f, 0);
	assert_int_equal(blk_fx_irqs(f), 1);
	assert_int_equal(f->b.irq.writes, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(drv_blk_status(&f->d, &r[i]), VIRTIO_BLK_S_OK);
}

/* Complete the oldest request held alone (one batch), then the deferred calls. */
static void complete_oldest(struct blk_fx *f)
{
	fake_be_complete(&f->be, 0, 0);
	evloop_run_once(&f->loop, 0);
}

/* irq-coalesce-us: a due interrupt waits while more completions can come. */
static void test_irq_coalesce(void **state)
{
	struct blk_fx *f = *state;
	struct drv_blk_rq r[5];

	f->loop.irq = (struct evloop_irq_policy){ .coalesce_ns = 20000000ull /* 20 ms */ };
	for (int i = 0; i < 3; i++)
		r[i] = blk_fx_post(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512, true);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.n, 3);
	blk_fx_irqs(f);
	/* Two still in flight: the interrupt waits (timer armed). */
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 0);
	assert_int_equal(f->b.irq.delayed, 1);
	assert_true(f->b.q[0].irq.timer.armed);
	/* The last in flight completes: nothing more can come, send it now. */
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 0);
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 1);
	assert_false(f->b.q[0].irq.timer.armed);
	assert_int_equal(f->b.irq.timer_fires, 0);
	for (int i = 0; i < 3; i++)
		expect_used(f, &r[i], 513);

	/* One completes, one stays in flight: the timer sends it. */
	assert_int_equal(f->be.n, 0);
	r[3] = blk_fx_post(f, VIRTIO_BLK_T_IN, 3, 512, true);
	r[4] = blk_fx_post(f, VIRTIO_BLK_T_IN, 4, 512, true);
	blk_fx_kick_run(f);
	assert_int_equal(f->be.n, 2);
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 0);
	while (!f->b.irq.timer_fires)
		assert_true(evloop_run_once(&f->loop, -1) >= 0);
	assert_int_equal(blk_fx_irqs(f), 1);
	assert_int_equal(f->b.irq.writes, 2);
	expect_used(f, &r[3], 513);
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 1);
}

/* irq-max-batch: enough completions waiting go out without the timer. */
static void test_irq_coalesce_max_batch(void **state)
{
	struct blk_fx *f = *state;

	f->loop.irq = (struct evloop_irq_policy){ .coalesce_ns = 1000000000ull, .max_batch = 2 };
	for (int i = 0; i < 4; i++)
		blk_fx_post(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512, true);
	blk_fx_kick_run(f);
	blk_fx_irqs(f);
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 0);   /* 1 waiting, 3 in flight */
	complete_oldest(f);
	assert_int_equal(blk_fx_irqs(f), 1);   /* 2 waiting: the cap */
	assert_int_equal(f->b.irq.timer_fires, 0);
	assert_false(f->b.q[0].irq.timer.armed);
}

static void test_irq_suppressed_evidx(void **state)
{
	struct blk_fx *f = *state;
	/* used_event = 5: no interrupt until the 6th completion. */
	drv_set_used_event(&f->d, 5);
	struct drv_blk_rq a = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	blk_fx_kick_run(f);
	blk_fx_complete_all(f, 0);
	assert_int_equal(blk_fx_irqs(f), 1);   /* first ever: always */
	struct drv_blk_rq b = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	blk_fx_kick_run(f);
	blk_fx_complete_all(f, 0);
	assert_int_equal(blk_fx_irqs(f), 0);
	assert_int_equal(f->b.q[0].st.irqs_suppressed, 1);
	/* Kicks were re-enabled through avail_event after the drain. */
	assert_int_equal(drv_avail_event(&f->d), 2);
	(void)a;
	(void)b;
}

static void test_irq_suppressed_flag(void **state)
{
	struct blk_fx *f = *state;
	drv_set_avail_flags(&f->d, VRING_AVAIL_F_NO_INTERRUPT);
	struct drv_blk_rq a = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	blk_fx_kick_run(f);
	blk_fx_complete_all(f, 0);
	assert_int_equal(blk_fx_irqs(f), 0);
	assert_int_equal(drv_blk_status(&f->d, &a), VIRTIO_BLK_S_OK);
	expect_used(f, &a, 513);
}

/* A QueueNotify that reaches the bus (no ioeventfd) works too. */
static void test_bus_notify(void **state)
{
	struct blk_fx *f = *state;
	blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	evloop_run_once(&f->loop, 0);
	assert_int_equal(f->be.submitted, 1);
	assert_int_equal(f->b.t.st.bus_notifies, 1);
}

static void *reset_thread(void *arg)
{
	struct blk_fx *f = arg;
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, 0);   /* blocks until nothing is in flight */
	return NULL;
}

/* Reset waits for in-flight I/O and drops its completion. */
static void test_reset_inflight(void **state)
{
	struct blk_fx *f = *state;
	pthread_t t;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	blk_fx_kick_run(f);
	assert_int_equal(f->b.inflight, 1);
	pthread_create(&t, NULL, reset_thread, f);
	/* Wait until the reset has started (status already 0). */
	while (atomic_load(&f->b.t.status) != 0)
		usleep(1000);
	usleep(20000);
	assert_int_equal(f->b.t.st.resets, 1);
	blk_fx_complete_all(f, 0);
	pthread_join(t, NULL);
	assert_int_equal(f->b.inflight, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), DRV_BLK_S_UNSET);   /* untouched */
	assert_int_equal(drv_used_idx(&f->d), 0);
	assert_false(f->b.vqs[0].ready);
}

/* A request reused over and over: FLUSH in descriptors head (header) and head + 1 (status). */
static void flush_chain(struct blk_fx *f, uint16_t head)
{
	struct drv_blk_rq r = drv_blk_alloc(&f->d, VIRTIO_BLK_T_FLUSH, 0, 0);
	drv_blk_put_direct(&f->d, &r, head, false);
}

/* GET_ID in descriptors head (header) and head + 1 (the 20-byte ID, then the status byte). */
static void get_id_chain(struct blk_fx *f, uint16_t head)
{
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, VIRTIO_BLK_ID_BYTES + 1, 1);
	drv_blk_put_hdr(&f->d, h, VIRTIO_BLK_T_GET_ID, 0);
	drv_desc(&f->d, head, h, 16, VRING_DESC_F_NEXT, (uint16_t)(head + 1));
	drv_desc(&f->d, (uint16_t)(head + 1), d, VIRTIO_BLK_ID_BYTES + 1, VRING_DESC_F_WRITE, 0);
}

/*
 * Take every request slot with FLUSHes the backend holds: head 0 published
 * over and over, NUM at a time (never more than NUM unconsumed: that would
 * break the ring), as a hostile guest can.  Returns how many were published.
 */
static unsigned fill_slots(struct blk_fx *f)
{
	unsigned total = 0;

	flush_chain(f, 0);
	for (int round = 0; round < VIRTQ_NUM_MAX / NUM; round++) {
		for (int i = 0; i < NUM; i++)
			drv_publish(&f->d, 0);
		blk_fx_kick_run(f);
		total += NUM;
	}
	assert_int_equal(f->be.n, VIRTQ_NUM_MAX);
	return total;
}

/* A hostile guest with more entries in flight than slots: throttled, not lost. */
static void test_throttle(void **state)
{
	struct blk_fx *f = *state;
	unsigned total = fill_slots(f);

	for (int i = 0; i < NUM; i++)
		drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	total += NUM;
	assert_int_equal(f->be.submitted, VIRTQ_NUM_MAX);
	assert_true(f->b.q[0].st.throttled >= 1);
	while (f->be.n) {
		blk_fx_complete_all(f, 0);
		evloop_run_once(&f->loop, 0);
	}
	assert_int_equal(f->be.submitted, total);
	assert_int_equal(drv_used_idx(&f->d), (uint16_t)total);
}

static void set_polling(struct blk_fx *f)
{
	struct poll_params pp = { .max_ns = 64000 };

	evloop_set_poll(&f->loop, &pp, false);
	f->loop.policy.poll_ns = pp.max_ns;
}

/* One pass of the loop, allowed to poll (a wait ends the window: open it again). */
static int run_polled(struct blk_fx *f, int timeout_ms)
{
	f->loop.policy.poll_ns = 64000;
	return evloop_run_once(&f->loop, timeout_ms);
}

/*
 * Every slot busy and more in the ring: polling must not take the full
 * ring for work it cannot do.  The loop polls its window, finds nothing it
 * can do, and blocks; a completion frees a slot and the next pass takes the
 * request that waited.
 */
static void test_throttle_blocks_polling(void **state)
{
	struct blk_fx *f = *state;
	unsigned total = fill_slots(f);
	struct virtq *vq = &f->b.vqs[0];

	for (int i = 0; i < 3; i++)
		drv_publish(&f->d, 0);
	total += 3;
	assert_true(f->b.q[0].throttled);
	set_polling(f);
	for (int i = 0; i < 3; i++) {
		uint64_t waits = f->loop.st.waits, misses = f->loop.st.poll_misses;
		assert_int_equal(run_polled(f, 5), 0);
		assert_int_equal(f->loop.st.poll_misses, misses + 1);
		assert_int_equal(f->loop.st.waits, waits + 1);
	}
	assert_int_equal(f->loop.st.poll_hits, 0);
	assert_int_equal(f->b.q[0].st.poll_drains, 0);
	assert_int_equal(f->be.submitted, VIRTQ_NUM_MAX);
	assert_int_equal((uint16_t)(f->d.avail_idx - vq->last_avail_idx), 3);

	/* One completes: the next pass (polled) takes one waiting request. */
	fake_be_complete(&f->be, f->be.n - 1, 0);
	assert_true(run_polled(f, 5) >= 1);
	assert_int_equal(f->b.q[0].st.poll_drains, 1);
	assert_int_equal(f->be.submitted, VIRTQ_NUM_MAX + 1);
	assert_int_equal(drv_used_idx(&f->d), 1);
	assert_int_equal((uint16_t)(f->d.avail_idx - vq->last_avail_idx), 2);
	assert_true(f->b.q[0].throttled);

	/* Throttled again: blocking again. */
	uint64_t waits = f->loop.st.waits;
	assert_int_equal(run_polled(f, 5), 0);
	assert_int_equal(f->loop.st.waits, waits + 1);

	/* Everything completes, nothing is stranded. */
	for (int i = 0; i < 10 && drv_used_idx(&f->d) != (uint16_t)total; i++) {
		blk_fx_complete_all(f, 0);
		run_polled(f, 5);
	}
	assert_int_equal(f->be.submitted, total);
	assert_int_equal(drv_used_idx(&f->d), (uint16_t)total);
	assert_int_equal(f->b.inflight, 0);
}

/*
 * A guest that refills the ring while the device drains it (here, from
 * inside the drain: each FLUSH's submit publishes the next NUM requests,
 * GET_IDs that complete at once): one pass takes at most NUM, returns to
 * the loop (the device lock free for register accesses and other queues)
 * and the next pass takes the rest, polled or woken by a kick of its own.
 */
#define REFILL_ROUNDS 8

struct refill {
	struct blk_fx *f;
	unsigned rounds;
};

static void refill_publish(struct blk_fx *f)
{
	for (int i = 0; i < NUM - 1; i++)
		drv_publish(&f->d, 0);   /* GET_ID */
	drv_publish(&f->d, 2);           /* FLUSH: held by the backend */
}

static void refill_on_submit(void *arg, struct blk_io *io)
{
	(void)io;
	struct refill *r = arg;

	if (r->rounds < REFILL_ROUNDS) {
		r->rounds++;
		refill_publish(r->f);
	}
}

static void drain_bounded(struct blk_fx *f, bool polled)
{
	struct refill r = { .f = f };
	const unsigned total = NUM * (REFILL_ROUNDS + 1);
	struct blk_queue *bq = &f->b.q[0];
	unsigned passes = 1;

	get_id_chain(f, 0);
	flush_chain(f, 2);
	f->be.on_submit = refill_on_submit;
	f->be.on_submit_arg = &r;
	refill_publish(f);
	blk_fx_kick_run(f);
	/* Back from the first pass with the guest's refill still in the ring. */
	assert_int_equal(bq->st.requests, NUM);
	assert_int_equal(r.rounds, 1);
	assert_int_equal((uint16_t)(f->d.avail_idx - f->b.vqs[0].last_avail_idx), NUM);
	/* Behind the driver: it need not kick. */
	assert_int_equal(drv_used_flags(&f->d), VRING_USED_F_NO_NOTIFY);
	if (polled)
		set_polling(f);
	for (int i = 0; i < 4 * REFILL_ROUNDS && bq->st.requests < total; i++) {
		uint64_t before = bq->st.requests;
		if (polled)
			run_polled(f, 1);
		else
			evloop_run_once(&f->loop, 0);
		assert_true(bq->st.requests - before <= NUM);
		passes++;
	}
	assert_int_equal(bq->st.requests, total);
	assert_int_equal(bq->st.get_ids, total - REFILL_ROUNDS - 1);
	assert_int_equal(bq->st.batch_max, NUM);
	assert_true(passes >= REFILL_ROUNDS + 1);
	/* The ring is empty: one more pass, not polled, turns kicks back on. */
	evloop_run_once(&f->loop, 0);
	assert_int_equal(drv_used_flags(&f->d), 0);
	/* Our own wake-ups are not guest kicks. */
	assert_int_equal(bq->st.kicks + bq->st.kicks_late, 1);
	blk_fx_complete_all(f, 0);
	assert_int_equal(drv_used_idx(&f->d), (uint16_t)total);
	assert_int_equal(f->b.inflight, 0);
	for (uint16_t i = 0; i < total; i++) {
		uint32_t id, len;
		assert_int_equal(drv_get_used(&f->d, &id, &len), 1);
		assert_int_equal(len, id == 0 ? VIRTIO_BLK_ID_BYTES + 1 : 1);
	}
}

static void test_drain_bounded_kicked(void **state) { drain_bounded(*state, false); }
static void test_drain_bounded_polled(void **state) { drain_bounded(*state, true); }

/*
 * EVENT_IDX over several 16-bit wraps of the used index: batches of NUM
 * completions (plus one short batch first, so that batches straddle the
 * wrap), the driver's used_event inside, past or behind each batch.  An
 * interrupt comes exactly when the batch covers used_event (2.7.10).
 */
static void test_irq_event_idx_wraps(void **state)
{
	struct blk_fx *f = *state;
	const unsigned rounds = 2 * 65536 / NUM + 64;
	uint16_t used = 0;
	unsigned sent = 0, wrap_batches = 0;

	get_id_chain(f, 0);
	for (int i = 0; i < 7; i++)
		drv_publish(&f->d, 0);
	blk_fx_kick_run(f);
	assert_int_equal(blk_fx_irqs(f), 1);   /* the first check always notifies */
	used = 7;
	for (unsigned r = 0; r < rounds; r++) {
		uint16_t ev;
		bool want;
		unsigned k = r / 4;
		switch (r % 4) {
		case 0: ev = (uint16_t)(used + k % NUM); want = true; break;      /* inside */
		case 1: ev = (uint16_t)(used + NUM + k % 7); want = false; break; /* past */
		case 2: ev = (uint16_t)(used - 1 - k % 5); want = false; break;   /* behind */
		default: ev = (uint16_t)(used + NUM - 1); want = true; break;     /* the last one */
		}
		drv_set_used_event(&f->d, ev);
		for (int i = 0; i < NUM; i++)
			drv_publish(&f->d, 0);
		blk_fx_kick_run(f);
		if ((uint16_t)(used + NUM) < used)
			wrap_batches++;
		used = (uint16_t)(used + NUM);
		assert_int_equal(drv_used_idx(&f->d), used);
		assert_int_equal(blk_fx_irqs(f), want ? 1 : 0);
		sent += want;
	}
	assert_int_equal(wrap_batches, 2);
	assert_int_equal(f->b.q[0].st.irqs, sent + 1);
	assert_int_equal(f->b.q[0].st.irqs_suppressed, rounds - sent);
}

/* Another vCPU's register writes while a reset waits for in-flight I/O. */
struct vcpu_b {
	struct blk_fx *f;
	uint64_t desc;
};

static void *vcpu_b_thread(void *arg)
{
	struct vcpu_b *v = arg;
	struct blk_fx *f = v->f;
	const struct drv rings = { .num = 8, .desc = v->desc, .avail = v->desc + 0x1000,
				   .used = v->desc + 0x2000 };

	/* The driver's set-up, as if it had seen the reset complete: this
	 * first access waits until it has. */
	drv_mmio_wr(&f->b.t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
						 VIRTIO_CONFIG_S_DRIVER_OK);
	drv_mmio_setup_queue(&f->b.t, 0, &rings);
	return NULL;
}

static void test_reset_other_vcpu_waits(void **state)
{
	struct blk_fx *f = *state;
	struct vcpu_b v = { .f = f, .desc = drv_alloc(&f->d, 0x3000, 4096) };
	pthread_t a, b;
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_IN, 0, 512, true);
	uint64_t bad = f->b.t.st.bad_writes;

	blk_fx_kick_run(f);
	assert_int_equal(f->b.inflight, 1);
	assert_int_equal(pthread_create(&a, NULL, reset_thread, f), 0);
	/* The reset started under the lock; once we get the lock, it waits. */
	while (__atomic_load_n(&f->b.t.st.resets, __ATOMIC_RELAXED) == 0)
		usleep(100);
	pthread_mutex_lock(&f->b.t.lock);
	assert_true(f->b.t.resetting);
	pthread_mutex_unlock(&f->b.t.lock);
	/* A request the old rings still hold: nobody may take it now. */
	struct drv_blk_rq s = blk_fx_post(f, VIRTIO_BLK_T_IN, 8, 512, true);
	assert_int_equal(pthread_create(&b, NULL, vcpu_b_thread, &v), 0);
	for (int i = 0; i < 100000 && !__atomic_load_n(&f->b.t.st.reset_waits, __ATOMIC_RELAXED); i++)
		usleep(100);
	/* B waits; the IOThread runs on and finds the device not live.  (The
	 * checks come after the threads are joined: a failed assert must not
	 * leave them blocked.) */
	uint64_t waits_mid = f->b.t.st.reset_waits, bad_mid = f->b.t.st.bad_writes;
	blk_fx_kick_run(f);
	unsigned submitted_mid = f->be.submitted;
	blk_fx_complete_all(f, 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(waits_mid, 1);
	assert_int_equal(bad_mid, bad);
	assert_int_equal(submitted_mid, 1);

	/* The reset finished before B's writes, which then met a reset device:
	 * no features negotiated, so no FEATURES_OK, no DRIVER_OK, and no
	 * queue set-up (bad writes: DRIVER_OK, QueueNum, six addresses, ready). */
	assert_int_equal(drv_mmio_rd(&f->b.t, VIRTIO_MMIO_STATUS), VIRTIO_CONFIG_S_DRIVER);
	assert_false(virtio_mmio_live(&f->b.t));
	assert_false(f->b.t.resetting);
	assert_int_equal(f->b.t.st.features_refused, 1);
	assert_int_equal(f->b.t.st.bad_writes, bad + 9);
	assert_false(f->b.vqs[0].ready);
	assert_int_equal(f->b.vqs[0].num, VIRTQ_NUM_MAX);
	assert_int_equal(f->b.vqs[0].desc_gpa, 0);
	assert_int_equal(f->b.vqs[0].avail_gpa, 0);
	assert_int_equal(f->b.vqs[0].used_gpa, 0);
	/* Nothing of the old rings was touched after the reset began. */
	blk_fx_kick_run(f);
	assert_int_equal(f->be.submitted, 1);
	assert_int_equal(f->b.inflight, 0);
	assert_int_equal(drv_blk_status(&f->d, &r), DRV_BLK_S_UNSET);
	assert_int_equal(drv_blk_status(&f->d, &s), DRV_BLK_S_UNSET);
	assert_int_equal(drv_used_idx(&f->d), 0);
	/* And a proper reset and set-up bring it back. */
	fx_reup(f, FEAT_ALL);
	expect_read_ok(f);
}

/* ---- io_uring backend on real files ---------------------------------------------- */

/* The disk on the io_uring backend, on a temporary image in dir, brought up. */
static int fx_uring(void **state, const char *dir, enum blk_cache cache)
{
	struct blk_fx *f = calloc(1, sizeof(*f));

	drv_init(&f->d, NUM);
	if (blk_fx_temp(f, dir, CAP * 512, NULL) || blk_fx_open(f, cache))
		goto fail;
	struct blk_params p = {
		.capacity = f->file.size / 512, .blk_size = f->file.direct ? f->file.off_align : 512,
		.discard = f->file.can_punch, .write_zeroes = f->file.can_punch, .writeback = true,
		.num_queues = 1, .serial = "x",
	};
	if (blk_fx_start_uring(f, &p))
		goto fail;
	blk_fx_up(f, FEAT_ALL);
	evloop_run_once(&f->loop, 0);
	*state = f;
	return 0;
fail:
	blk_fx_destroy(f);
	free(f);
	return -1;
}

static int setup_uring_ext4(void **state) { return fx_uring(state, "/var/tmp", BLK_CACHE_NONE); }
static int setup_uring_tmpfs(void **state) { return fx_uring(state, "/dev/shm", BLK_CACHE_NONE); }
static int setup_uring_wb(void **state) { return fx_uring(state, "/var/tmp", BLK_CACHE_WRITEBACK); }

/* Run the loop until n used entries arrived (or give up). */
static void run_until_used(struct blk_fx *f, uint16_t n)
{
	assert_int_equal(blk_fx_run_until_used(f, n), n);
}

static void uring_rw_flush_discard(struct blk_fx *f, uint32_t blk)
{
	uint16_t used = 0;

	/* write 8 KiB of pattern at sector 16 */
	struct drv_blk_rq w = blk_fx_post(f, VIRTIO_BLK_T_OUT, 16, 8192, false);
	uint8_t *wd = drv_hva(&f->d, w.data);
	for (int i = 0; i < 8192; i++)
		wd[i] = (uint8_t)(i * 7 + 3);
	blk_fx_kick_run(f);
	run_until_used(f, ++used);
	assert_int_equal(drv_blk_status(&f->d, &w), VIRTIO_BLK_S_OK);

	/* the file holds it */
	uint8_t buf[8192];
	int fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, buf, 8192, 16 * 512), 8192);
	assert_memory_equal(buf, wd, 8192);

	/* read it back through the device */
	struct drv_blk_rq r = blk_fx_post(f, VIRTIO_BLK_T_IN, 16, 8192, true);
	blk_fx_kick_run(f);
	run_until_used(f, ++used);
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	assert_memory_equal(drv_hva(&f->d, r.data), wd, 8192);

	/* flush: one fsync */
	struct drv_blk_rq fl = blk_fx_post(f, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	blk_fx_kick_run(f);
	run_until_used(f, ++used);
	assert_int_equal(drv_blk_status(&f->d, &fl), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.fsyncs, 1);

	/* discard the first 4 KiB of it, write-zeroes the next block */
	if (f->file.can_punch) {
		struct drv_blk_rq d = blk_fx_post(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
		drv_blk_put_dwz(&f->d, d.data, 16, 4096 / 512, 0);
		struct drv_blk_rq z = blk_fx_post(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
		drv_blk_put_dwz(&f->d, z.data, 16 + 8, blk / 512, 0);
		blk_fx_kick_run(f);
		used += 2;
		run_until_used(f, used);
		assert_int_equal(drv_blk_status(&f->d, &d), VIRTIO_BLK_S_OK);
		assert_int_equal(drv_blk_status(&f->d, &z), VIRTIO_BLK_S_OK);
		uint8_t zero[8192] = { 0 };
		assert_int_equal(pread(fd, buf, 8192, 16 * 512), 8192);
		assert_memory_equal(buf, zero, 4096 + blk);
		assert_memory_equal(buf + 4096 + blk, wd + 4096 + blk, 8192 - 4096 - blk);
	}
	close(fd);
	assert_int_equal(f->u.inflight, 0);
	assert_int_equal(f->b.q[0].st.err_io, 0);
}

/* A DISCARD or WRITE_ZEROES of n sectors from sector, run until it completed OK. */
static void uring_dwz_ok(struct blk_fx *f, uint32_t type, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint16_t used = drv_used_idx(&f->d);
	struct drv_blk_rq r = blk_fx_post(f, type, 0, 16, false);

	drv_blk_put_dwz(&f->d, r.data, sector, n, flags);
	blk_fx_kick_run(f);
	run_until_used(f, (uint16_t)(used + 1));
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
}

/*
 * Write-through (writeback byte 0): WRITE_ZEROES and DISCARD complete only
 * after an fdatasync of their fallocate (one IORING_OP_FSYNC each); in
 * writeback mode they do not sync.  Where the file system has no
 * ZERO_RANGE (tmpfs) WRITE_ZEROES punches a hole instead, one SQE more.
 */
static void uring_dwz_sync(struct blk_fx *f, uint32_t blk)
{
	uint16_t used = drv_used_idx(&f->d);
	uint8_t buf[2 * 65536], zero[65536] = { 0 };
	uint64_t fs, sqes;
	int fd = open(f->path, O_RDWR);

	assert_true(fd >= 0 && blk <= sizeof(zero));
	bool zero_range = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, blk) == 0;
	assert_true(zero_range || errno == EOPNOTSUPP);

	wb_set(f, 0);
	struct drv_blk_rq w = blk_fx_post_fill(f, VIRTIO_BLK_T_OUT, 0, 2 * blk, false, 0x5a);
	blk_fx_kick_run(f);
	run_until_used(f, ++used);
	assert_int_equal(drv_blk_status(&f->d, &w), VIRTIO_BLK_S_OK);

	/* WRITE_ZEROES of the first block: fallocate (maybe twice), fdatasync. */
	fs = f->bu.st.fsyncs;
	sqes = f->u.st.sqes;
	uring_dwz_ok(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, blk / 512, 0);
	assert_int_equal(f->bu.st.fsyncs, fs + 1);
	assert_int_equal(f->u.st.sqes, sqes + (zero_range ? 2 : 3));
	assert_int_equal(pread(fd, buf, 2 * blk, 0), 2 * blk);
	assert_memory_equal(buf, zero, blk);
	assert_int_equal(buf[blk], 0x5a);
	assert_int_equal(buf[2 * blk - 1], 0x5a);

	/* WRITE_ZEROES with UNMAP of the second, and a DISCARD: synced too. */
	uring_dwz_ok(f, VIRTIO_BLK_T_WRITE_ZEROES, blk / 512, blk / 512,
		     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	assert_int_equal(pread(fd, buf, blk, blk), blk);
	assert_memory_equal(buf, zero, blk);
	uring_dwz_ok(f, VIRTIO_BLK_T_DISCARD, 4 * blk / 512, blk / 512, 0);
	assert_int_equal(f->bu.st.fsyncs, fs + 3);

	/* Writeback mode: no sync of their own (FLUSH does that). */
	wb_set(f, 1);
	sqes = f->u.st.sqes;
	uring_dwz_ok(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, blk / 512, 0);
	assert_int_equal(f->bu.st.fsyncs, fs + 3);
	assert_int_equal(f->u.st.sqes, sqes + (zero_range ? 1 : 2));
	assert_int_equal(f->bu.st.errors, 0);
	assert_int_equal(f->b.q[0].st.err_io + f->b.q[0].st.unsupported, 0);
	close(fd);
}

static void test_uring_dwz_sync(void **state)
{
	struct blk_fx *f = *state;
	uring_dwz_sync(f, f->file.direct ? f->file.off_align : 512);
}

static void test_uring_ext4_direct(void **state)
{
	struct blk_fx *f = *state;
	assert_true(f->file.direct);
	uring_rw_flush_discard(f, f->file.off_align);

	/* A guest buffer O_DIRECT cannot take (512-aligned? make it odd): bounced. */
	struct drv_blk_rq r = {
		.hdr = drv_alloc(&f->d, 16, 16), .data = drv_alloc(&f->d, 4096 + 64, 4096) + 3,
		.status = drv_alloc(&f->d, 1, 1), .len = f->file.off_align,
	};
	drv_blk_put_hdr(&f->d, r.hdr, VIRTIO_BLK_T_IN, 16 + 8);
	f->next_desc = drv_blk_publish(&f->d, &r, f->next_desc, true);
	uint16_t used = drv_used_idx(&f->d);
	blk_fx_kick_run(f);
	run_until_used(f, (uint16_t)(used + 1));
	assert_int_equal(drv_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.bounces, 1);
}

static void test_uring_tmpfs_fallback(void **state)
{
	struct blk_fx *f = *state;
	/* tmpfs refused O_DIRECT before Linux 6.6: then the page cache is used
	 * instead, and FLUSH still fsyncs.  Newer tmpfs takes O_DIRECT. */
	assert_true(f->file.direct != f->file.direct_refused);
	assert_true(f->file.can_punch);
	uring_rw_flush_discard(f, f->file.direct ? f->file.off_align : 512);
}

static void test_uring_writeback(void **state)
{
	struct blk_fx *f = *state;
	assert_false(f->file.direct);
	assert_false(f->file.direct_refused);
	assert_int_equal(f->file.off_align, 512);
	uring_rw_flush_discard(f, 512);
	assert_int_equal(f->bu.st.bounces, 0);
	assert_int_equal(f->u.st.submits >= 1, 1);
}

/* The real thing: an IOThread serving a disk from its own thread. */
static void test_iothread(void **state)
{
	(void)state;
	struct blk_fx *f = calloc(1, sizeof(*f));
	struct blk_params p = { .capacity = CAP, .blk_size = 512, .writeback = true, .num_queues = 1 };
	int fd;

	drv_init(&f->d, NUM);
	assert_int_equal(blk_fx_iothread(f), 0);
	assert_int_equal(blk_fx_temp(f, "/var/tmp", CAP * 512, NULL), 0);
	assert_int_equal(blk_fx_open(f, BLK_CACHE_WRITEBACK), 0);
	assert_int_equal(blk_fx_start_uring(f, &p), 0);
	assert_int_equal(iothread_start(f->t), 0);
	/* Driver set-up happens on "the vCPU" (this thread) while the IOThread runs. */
	blk_fx_up(f, FEAT_ALL);

	/* Five requests: 15 of the 16 descriptors, none reused while in flight. */
	struct drv_blk_rq w[5];
	for (int i = 0; i < 5; i++)
		w[i] = blk_fx_post_fill(f, VIRTIO_BLK_T_OUT, (uint64_t)i * 8, 4096, false, 'a' + i);
	blk_fx_kick(f, 0);
	run_until_used(f, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(drv_blk_status(&f->d, &w[i]), VIRTIO_BLK_S_OK);
	uint64_t v = 0;
	assert_int_equal(read(f->irqfd, &v, 8), 8);
	assert_true(v >= 1 && v <= 5);
	/* Leave one in flight-ish and stop: the thread drains and flushes. */
	blk_fx_post(f, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	blk_fx_kick(f, 0);
	iothread_stop(f->t, 0);
	assert_int_equal(f->t->uring.inflight, 0);
	/* The disk's teardown flushes it. */
	assert_int_equal(blk_file_flush(&f->file), 0);
	assert_true(f->t->cpu_ns > 0);
	assert_true(f->t->loop.st.wakeups >= 1);

	uint8_t buf[4096];
	fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, buf, 4096, 4 * 8 * 512), 4096);
	assert_int_equal(buf[0], 'e');
	assert_int_equal(buf[4095], 'e');
	close(fd);

	blk_fx_destroy(f);
	free(f);
}

static void test_file_open_errors(void **state)
{
	(void)state;
	struct blk_file bf;
	char path[] = "/var/tmp/pollvm-test-XXXXXX";
	int fd = mkstemp(path);

	/* Each the user's to fix: one line naming the --disk file. */
	assert_true(fd >= 0);
	assert_int_equal(PV_FAILS(PV_INPUT, "size 0 is not a non-zero multiple of 512",
				  blk_file_open(&bf, path, false, BLK_CACHE_WRITEBACK, 512)), -EINVAL);
	assert_int_equal(ftruncate(fd, 1000), 0);
	assert_int_equal(PV_FAILS(PV_INPUT, "size 1000 is not",
				  blk_file_open(&bf, path, false, BLK_CACHE_WRITEBACK, 512)), -EINVAL);
	close(fd);
	unlink(path);
	assert_int_equal(PV_FAILS(PV_INPUT, "--disk /nonexistent/x: No such file",
				  blk_file_open(&bf, "/nonexistent/x", false, BLK_CACHE_WRITEBACK, 512)),
			 -ENOENT);
	assert_int_equal(PV_FAILS(PV_INPUT, "--disk /dev/null: not a regular file or block device",
				  blk_file_open(&bf, "/dev/null", false, BLK_CACHE_WRITEBACK, 512)),
			 -EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_read_ok),
		T(test_write_ok),
		cmocka_unit_test_setup_teardown(test_write_ro, setup_ro, teardown),
		T(test_sector_bounds),
		T(test_bad_length),
		T(test_unknown_type),
		T(test_get_id),
		T(test_get_id_empty_segment),
		T(test_flush),
		T(test_backend_error),
		T(test_short_header),
		T(test_split_header),
		T(test_no_status_needs_reset),
		T(test_status_readonly_byte),
		T(test_bad_buffer_ioerr),
		T(test_broken_ring_needs_reset),
		T(test_discard_write_zeroes),
		T(test_cache_modes),
		T(test_cache_modes_initial_wt),
		T(test_cache_mode_lifecycle),
		T(test_one_irq_per_batch),
		cmocka_unit_test_setup_teardown(test_irq_suppressed_evidx, setup_evidx, teardown),
		cmocka_unit_test_setup_teardown(test_irq_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_coalesce_max_batch, setup, teardown),
		T(test_irq_suppressed_flag),
		T(test_bus_notify),
		T(test_reset_inflight),
		T(test_throttle),
		T(test_throttle_blocks_polling),
		T(test_drain_bounded_kicked),
		T(test_drain_bounded_polled),
		cmocka_unit_test_setup_teardown(test_irq_event_idx_wraps, setup_evidx, teardown),
		T(test_reset_other_vcpu_waits),
		cmocka_unit_test_setup_teardown(test_uring_ext4_direct, setup_uring_ext4, teardown),
		cmocka_unit_test_setup_teardown(test_uring_tmpfs_fallback, setup_uring_tmpfs, teardown),
		cmocka_unit_test_setup_teardown(test_uring_writeback, setup_uring_wb, teardown),
		cmocka_unit_test_setup_teardown(test_uring_dwz_sync, setup_uring_ext4, teardown),
		cmocka_unit_test_setup_teardown(test_uring_dwz_sync, setup_uring_tmpfs, teardown),
		cmocka_unit_test(test_iothread),
		cmocka_unit_test(test_file_open_errors),
	};
	return cmocka_run_group_tests_name("blk", tests, NULL, NULL);
}
