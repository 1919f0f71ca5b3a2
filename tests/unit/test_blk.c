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
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../devices/blk_uring.h"
#include "../../vmm/iothread.h"
#include "vq_driver.h"

#define NUM 16
#define CAP 2048 /* sectors: 1 MiB */

/* ---- fake backend -------------------------------------------------------- */

struct fake_be {
	struct blk_io *pending[VIRTQ_NUM_MAX];
	unsigned n, submitted;
	struct blk_io last;
	int fail_submit;
	/* Runs inside the device's drain, after each submit: a guest acting
	 * on another vCPU at that very moment. */
	void (*on_submit)(void *arg);
	void *on_submit_arg;
};

static int fake_submit(void *be, struct blk_io *io)
{
	struct fake_be *f = be;
	if (f->fail_submit)
		return -EIO;
	f->pending[f->n++] = io;
	f->last = *io;
	f->submitted++;
	if (f->on_submit)
		f->on_submit(f->on_submit_arg);
	return 0;
}

static const struct blk_backend_ops fake_ops = { .submit = fake_submit };

/* ---- fixture --------------------------------------------------------------- */

struct fx {
	struct drv d;
	struct blk b;
	struct fake_be be;
	struct evloop loop;
	int irqfd, kick;
	uint16_t next_desc;
	/* io_uring variant */
	struct uring u;
	struct blk_uring bu;
	struct blk_file file;
	char path[64];
};

#define FEAT_ALL ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_RING_EVENT_IDX) | \
		  (1ULL << VIRTIO_F_RING_INDIRECT_DESC) | (1ULL << VIRTIO_BLK_F_FLUSH) | \
		  (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | \
		  (1ULL << VIRTIO_BLK_F_CONFIG_WCE))

static uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v;
	virtio_mmio_bus_ops.read(&f->b.t, off, &v, 4);
	return v;
}

static void wr(struct fx *f, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(&f->b.t, off, &v, 4);
}

static void bring_up(struct fx *f, uint64_t feat)
{
	drv_bring_up(&f->d, &f->b.t, feat);
}

static int fx_make(void **state, bool ro, bool event_idx)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct blk_params p = {
		.capacity = CAP, .blk_size = 512, .ro = ro, .discard = true, .write_zeroes = true,
		.writeback = true, .num_queues = 1, .serial = "pollvm-serial-0123456789",
	};

	drv_init(&f->d, NUM);
	f->irqfd = eventfd(0, EFD_NONBLOCK);
	f->kick = eventfd(0, EFD_NONBLOCK);
	if (evloop_init(&f->loop))
		return -1;
	if (blk_init(&f->b, "vda", &p, &f->d.mem, f->irqfd, &f->kick, &fake_ops, &f->be))
		return -1;
	if (blk_attach(&f->b, &f->loop))
		return -1;
	bring_up(f, event_idx ? FEAT_ALL : FEAT_ALL & ~(1ULL << VIRTIO_F_RING_EVENT_IDX));
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
	struct fx *f = *state;
	blk_destroy(&f->b);
	evloop_destroy(&f->loop);
	close(f->irqfd);
	close(f->kick);
	drv_free(&f->d);
	free(f);
	return 0;
}

/* Reset the device, then bring it up again with feat on fresh rings. */
static void fx_reup(struct fx *f, uint64_t feat)
{
	wr(f, VIRTIO_MMIO_STATUS, 0);
	drv_free(&f->d);
	drv_init(&f->d, NUM);
	f->next_desc = 0;
	bring_up(f, feat);
	evloop_run_once(&f->loop, 0);
}

static uint64_t irqs(struct fx *f)
{
	return drv_eventfd_take(f->irqfd);
}

static void kick_and_run(struct fx *f)
{
	uint64_t one = 1;
	assert_int_equal(write(f->kick, &one, 8), 8);
	evloop_run_once(&f->loop, 0);
}

static void complete_all(struct fx *f, int res)
{
	unsigned n = f->be.n;
	f->be.n = 0;
	for (unsigned i = 0; i < n; i++)
		f->be.pending[i]->complete(f->be.pending[i], res);
	evloop_run_once(&f->loop, 0); /* deferred interrupt */
}

struct rq {
	uint16_t head;
	uint64_t hdr, data, status;
};

static void put_hdr(struct fx *f, uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint8_t *h = drv_hva(&f->d, gpa);
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
}

/* hdr (R) [+ data (R or W), filled with fill if >= 0] + status (W), in fresh descriptors. */
static struct rq mkreq_fill(struct fx *f, uint32_t type, uint64_t sector, uint32_t len, bool data_w,
			    int fill)
{
	struct rq r;
	uint16_t i = f->next_desc;

	r.head = i;
	r.hdr = drv_alloc(&f->d, 16, 16);
	r.data = len ? drv_alloc(&f->d, len, 512) : 0;
	r.status = drv_alloc(&f->d, 1, 1);
	put_hdr(f, r.hdr, type, sector);
	if (len && fill >= 0)
		memset(drv_hva(&f->d, r.data), fill, len);
	*(uint8_t *)drv_hva(&f->d, r.status) = 0xee;
	drv_desc(&f->d, i, r.hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % NUM));
	if (len) {
		i = (i + 1) % NUM;
		drv_desc(&f->d, i, r.data, len, VIRTQ_DESC_F_NEXT | (data_w ? VIRTQ_DESC_F_WRITE : 0),
			 (uint16_t)((i + 1) % NUM));
	}
	i = (i + 1) % NUM;
	drv_desc(&f->d, i, r.status, 1, VIRTQ_DESC_F_WRITE, 0);
	f->next_desc = (i + 1) % NUM;
	drv_publish(&f->d, r.head);
	return r;
}

static struct rq mkreq(struct fx *f, uint32_t type, uint64_t sector, uint32_t len, bool data_w)
{
	return mkreq_fill(f, type, sector, len, data_w, -1);
}

static uint8_t status_of(struct fx *f, struct rq *r)
{
	return *(uint8_t *)drv_hva(&f->d, r->status);
}

static void expect_used(struct fx *f, struct rq *r, uint32_t len)
{
	uint32_t id, l;
	assert_int_equal(drv_get_used(&f->d, &id, &l), 1);
	assert_int_equal(id, r->head);
	assert_int_equal(l, len);
}

/* ---- requests with the fake backend ------------------------------------------ */

static void test_config(void **state)
{
	struct fx *f = *state;
	uint64_t cap;
	uint32_t w;

	virtio_mmio_bus_ops.read(&f->b.t, VIRTIO_MMIO_CONFIG, &cap, 8);
	assert_int_equal(cap, CAP);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 12), VIRTQ_SEG_MAX - 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 20), 512);
	w = 0;
	virtio_mmio_bus_ops.read(&f->b.t, VIRTIO_MMIO_CONFIG + 34, &w, 2);
	assert_int_equal(w, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 40), 1);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(lo & (1u << VIRTIO_BLK_F_FLUSH));
	assert_true(lo & (1u << VIRTIO_BLK_F_SEG_MAX));
	assert_true(lo & (1u << VIRTIO_BLK_F_MQ));
	assert_true(lo & (1u << VIRTIO_F_RING_EVENT_IDX));
	assert_false(lo & (1u << VIRTIO_BLK_F_RO));
	/* CONFIG_WCE: the writeback byte is writable. */
	uint8_t b = 0;
	virtio_mmio_bus_ops.write(&f->b.t, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_WRITEBACK, &b, 1);
	b = 0xff;
	virtio_mmio_bus_ops.read(&f->b.t, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_WRITEBACK, &b, 1);
	assert_int_equal(b, 0);
	/* ... and then writes are write-through. */
	struct rq r = mkreq(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	kick_and_run(f);
	assert_true(f->be.last.dsync);
	(void)r;
}

static void test_read_ok(void **state)
{
	struct fx *f = *state;
	struct rq r = mkreq(f, VIRTIO_BLK_T_IN, 8, 4096, true);

	kick_and_run(f);
	assert_int_equal(f->be.submitted, 1);
	assert_int_equal(f->be.last.op, BLK_IO_READ);
	assert_int_equal(f->be.last.offset, 8 * 512);
	assert_int_equal(f->be.last.len, 4096);
	assert_int_equal(f->be.last.iovcnt, 1);
	assert_ptr_equal(f->be.last.iov[0].iov_base, drv_hva(&f->d, r.data));
	assert_false(f->be.last.dsync);
	assert_int_equal(drv_used_idx(&f->d), 0);      /* not before completion */
	complete_all(f, 0);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_OK);
	expect_used(f, &r, 4097);
	assert_int_equal(irqs(f), 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	assert_int_equal(f->b.q[0].st.reads, 1);
	assert_int_equal(f->b.q[0].st.bytes_read, 4096);
	assert_int_equal(f->b.q[0].st.kicks, 1);
	assert_int_equal(f->b.inflight, 0);
}

static void test_write_ok(void **state)
{
	struct fx *f = *state;
	struct rq r = mkreq(f, VIRTIO_BLK_T_OUT, CAP - 1, 512, false);

	kick_and_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_WRITE);
	assert_int_equal(f->be.last.offset, (CAP - 1) * 512);
	assert_int_equal(f->be.last.len, 512);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_OK);
	expect_used(f, &r, 1);
	assert_int_equal(f->b.q[0].st.bytes_written, 512);
}

static void test_write_ro(void **state)
{
	struct fx *f = *state;
	struct rq r = mkreq(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	struct rq z = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);

	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(rd(f, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	kick_and_run(f);
	assert_int_equal(f->be.submitted, 0);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &z), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_ro, 2);
	expect_used(f, &r, 1);
	expect_used(f, &z, 1);
	/* Reads still work. */
	struct rq rd_ = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &rd_), VIRTIO_BLK_S_OK);
}

static void test_sector_bounds(void **state)
{
	struct fx *f = *state;
	struct rq a = mkreq(f, VIRTIO_BLK_T_IN, CAP, 512, true);           /* at the end */
	struct rq b = mkreq(f, VIRTIO_BLK_T_IN, CAP - 1, 1024, true);      /* straddles */
	struct rq c = mkreq(f, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false);  /* overflow */
	struct rq d = mkreq(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, false);

	kick_and_run(f);
	assert_int_equal(f->be.submitted, 0);
	assert_int_equal(status_of(f, &a), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &b), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &c), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &d), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_range, 4);
	assert_int_equal(drv_used_idx(&f->d), 4);
}

static void test_bad_length(void **state)
{
	struct fx *f = *state;
	struct rq a = mkreq(f, VIRTIO_BLK_T_IN, 0, 100, true);   /* not whole sectors */
	struct rq b = mkreq(f, VIRTIO_BLK_T_IN, 0, 0, true);     /* no data */
	struct rq c = mkreq(f, VIRTIO_BLK_T_OUT, 0, 0, false);

	kick_and_run(f);
	assert_int_equal(f->be.submitted, 0);
	assert_int_equal(status_of(f, &a), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &b), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &c), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_len, 3);
}

static void test_unknown_type(void **state)
{
	struct fx *f = *state;
	struct rq a = mkreq(f, 0x1234, 0, 512, true);
	struct rq b = mkreq(f, 14 /* SECURE_ERASE, not offered */, 0, 16, false);

	kick_and_run(f);
	assert_int_equal(status_of(f, &a), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(status_of(f, &b), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(f->b.q[0].st.unsupported, 2);
	expect_used(f, &a, 1);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	struct rq r = mkreq(f, VIRTIO_BLK_T_GET_ID, 0, 512, true);
	struct rq s = mkreq(f, VIRTIO_BLK_T_GET_ID, 0, 0, true);

	kick_and_run(f);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_OK);
	assert_memory_equal(drv_hva(&f->d, r.data), "pollvm-serial-012345", 20);
	expect_used(f, &r, 21);
	assert_int_equal(status_of(f, &s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->be.submitted, 0);
}

/* Fuzz finding: an empty writable segment (NULL base) before GET_ID's buffer. */
static void test_get_id_empty_segment(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, 21, 1);
	put_hdr(f, h, VIRTIO_BLK_T_GET_ID, 0);
	drv_desc(&f->d, 0, h, 16, VIRTQ_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, 0xfffffffffff00000ULL, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	drv_desc(&f->d, 2, d, 21, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	kick_and_run(f);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, d + 20), VIRTIO_BLK_S_OK);
	assert_memory_equal(drv_hva(&f->d, d), "pollvm-serial-012345", 20);
}

static void test_flush(void **state)
{
	struct fx *f = *state;
	struct rq r = mkreq(f, VIRTIO_BLK_T_FLUSH, 0, 0, false);

	kick_and_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_FLUSH);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_OK);
	assert_int_equal(f->b.q[0].st.flushes, 1);
}

static void test_backend_error(void **state)
{
	struct fx *f = *state;
	struct rq r = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, -EIO);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_IOERR);
	expect_used(f, &r, 1);
	assert_int_equal(f->b.q[0].st.err_io, 1);
	/* A backend that cannot take it at all. */
	f->be.fail_submit = 1;
	struct rq s = mkreq(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	kick_and_run(f);
	assert_int_equal(status_of(f, &s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_io, 2);
	assert_int_equal(f->b.inflight, 0);
}

static void test_short_header(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 8, 8), s = drv_alloc(&f->d, 1, 1);
	drv_desc(&f->d, 0, h, 8, VIRTQ_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, s, 1, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	kick_and_run(f);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_header, 1);
}

/* 2.7.4: framing is free; a header split over two descriptors still parses. */
static void test_split_header(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, 1025, 512);
	put_hdr(f, h, VIRTIO_BLK_T_IN, 4);
	drv_desc(&f->d, 0, h, 5, VIRTQ_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, h + 5, 11, VIRTQ_DESC_F_NEXT, 2);
	drv_desc(&f->d, 2, d, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	/* data and status in one descriptor: the last byte is the status */
	drv_desc(&f->d, 3, d + 512, 513, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	kick_and_run(f);
	assert_int_equal(f->be.last.offset, 4 * 512);
	assert_int_equal(f->be.last.len, 1024);
	assert_int_equal(f->be.last.iovcnt, 2);
	assert_int_equal(f->be.last.iov[1].iov_len, 512);
	complete_all(f, 0);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, d + 1024), VIRTIO_BLK_S_OK);
}

static void test_no_status_needs_reset(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16);
	put_hdr(f, h, VIRTIO_BLK_T_IN, 0);
	drv_desc(&f->d, 0, h, 16, 0, 0);    /* no writable byte at all */
	drv_publish(&f->d, 0);
	irqs(f);
	kick_and_run(f);
	assert_int_equal(f->b.q[0].st.err_no_status, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			 VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(irqs(f), 1);
	assert_int_equal(drv_used_idx(&f->d), 0);
	assert_int_equal(f->b.inflight, 0);
	/* Nothing more is processed until reset. */
	mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	assert_int_equal(f->be.submitted, 0);
	/* Reset and bring-up make it work again. */
	fx_reup(f, FEAT_ALL);
	struct rq r = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_OK);
}

static void test_status_readonly_byte(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), w = drv_alloc(&f->d, 512, 512);
	put_hdr(f, h, VIRTIO_BLK_T_IN, 0);
	/* Writable data, then a READABLE last byte: order error, no status. */
	drv_desc(&f->d, 0, h, 16, VIRTQ_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, w, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	drv_desc(&f->d, 2, h, 1, 0, 0);
	drv_publish(&f->d, 0);
	kick_and_run(f);
	assert_int_equal(f->b.q[0].st.err_no_status, 1);
	assert_false(virtio_mmio_live(&f->b.t));
}

static void test_bad_buffer_ioerr(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 16), s = drv_alloc(&f->d, 1, 1);
	put_hdr(f, h, VIRTIO_BLK_T_IN, 0);
	drv_desc(&f->d, 0, h, 16, VIRTQ_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, 0xd0001000ULL, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2); /* MMIO */
	drv_desc(&f->d, 2, s, 1, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	kick_and_run(f);
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->b.q[0].st.err_buf, 1);
	assert_int_equal(f->be.submitted, 0);
	assert_true(virtio_mmio_live(&f->b.t));
}

static void test_broken_ring_needs_reset(void **state)
{
	struct fx *f = *state;
	drv_publish(&f->d, NUM + 3);
	irqs(f);
	kick_and_run(f);
	assert_int_equal(f->b.q[0].st.err_ring, 1);
	assert_int_equal(f->b.vqs[0].st.err_head, 1);
	assert_false(virtio_mmio_live(&f->b.t));
	assert_int_equal(irqs(f), 1);
}

static void write_dwz(struct fx *f, struct rq *r, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint8_t *p = drv_hva(&f->d, r->data);
	memcpy(p, &sector, 8);
	memcpy(p + 8, &n, 4);
	memcpy(p + 12, &flags, 4);
}

static void test_discard_write_zeroes(void **state)
{
	struct fx *f = *state;
	/* Build the requests, then fill their payloads before the kick. */
	struct rq a = mkreq(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	write_dwz(f, &a, 8, 16, 0);
	kick_and_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_DISCARD);
	assert_int_equal(f->be.last.offset, 8 * 512);
	assert_int_equal(f->be.last.len, 16 * 512);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &a), VIRTIO_BLK_S_OK);

	struct rq b = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &b, 0, 1, VIRTIO_BLK_WZ_UNMAP);
	kick_and_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_WRITE_ZEROES);
	assert_true(f->be.last.unmap);
	complete_all(f, -EOPNOTSUPP);
	assert_int_equal(status_of(f, &b), VIRTIO_BLK_S_UNSUPP);

	struct rq c = mkreq(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	write_dwz(f, &c, 0, 1, 1);                         /* discard has no flags */
	struct rq d = mkreq(f, VIRTIO_BLK_T_DISCARD, 0, 32, false);  /* two segments */
	write_dwz(f, &d, 0, 1, 0);
	struct rq e = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &e, CAP - 1, 2, 0);                   /* past the end */
	struct rq g = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &g, 0, 0xffffffff, 0);                /* too many sectors */
	unsigned before = f->be.submitted;
	kick_and_run(f);
	assert_int_equal(f->be.submitted, before);
	assert_int_equal(status_of(f, &c), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(status_of(f, &d), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &e), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(f, &g), VIRTIO_BLK_S_IOERR);
}

/* ---- cache mode from the negotiated features (5.2.5, 5.2.6.2) ------------------ */

static uint8_t wb_get(struct fx *f)
{
	uint8_t v = 0xee;
	virtio_mmio_bus_ops.read(&f->b.t, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_WRITEBACK, &v, 1);
	return v;
}

static void wb_set(struct fx *f, uint8_t v)
{
	virtio_mmio_bus_ops.write(&f->b.t, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_WRITEBACK, &v, 1);
}

/* A write, a WRITE_ZEROES and a DISCARD: each reaches the backend with dsync == sync. */
static void expect_sync(struct fx *f, bool sync)
{
	struct rq w = mkreq(f, VIRTIO_BLK_T_OUT, 0, 512, false);
	kick_and_run(f);
	assert_int_equal(f->be.last.op, BLK_IO_WRITE);
	assert_int_equal(f->be.last.dsync, sync);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &w), VIRTIO_BLK_S_OK);

	struct rq z = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &z, 0, 8, 0);
	struct rq d = mkreq(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	write_dwz(f, &d, 8, 8, 0);
	kick_and_run(f);
	assert_int_equal(f->be.n, 2);
	assert_int_equal(f->be.pending[0]->op, BLK_IO_WRITE_ZEROES);
	assert_int_equal(f->be.pending[0]->dsync, sync);
	assert_int_equal(f->be.pending[1]->op, BLK_IO_DISCARD);
	assert_int_equal(f->be.pending[1]->dsync, sync);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &z), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(f, &d), VIRTIO_BLK_S_OK);
}

/*
 * Every combination of FLUSH and CONFIG_WCE negotiated, and of the
 * writeback byte the driver writes where CONFIG_WCE lets it: writes and
 * their relatives are write-through exactly when the effective mode is.
 */
static void cache_modes(struct fx *f, bool initial_wb)
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
	struct fx *f = *state;
	uint64_t feat = FEAT_ALL;

	/* Set the mode to write-through, then reset. */
	wb_set(f, 0);
	assert_int_equal(wb_get(f), 0);
	wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(wb_get(f), 1);

	/* Features proposed, FEATURES_OK not yet: the write is refused. */
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	uint64_t bad = f->b.t.st.bad_writes;
	wb_set(f, 0);
	assert_int_equal(f->b.t.st.bad_writes, bad + 1);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(wb_get(f), 1);
	/* After FEATURES_OK it is (5.2.5: read or set once negotiated). */
	wb_set(f, 0);
	assert_int_equal(f->b.t.st.bad_writes, bad + 1);
	assert_int_equal(wb_get(f), 0);

	/* A refused FEATURES_OK (feature not offered) changes nothing. */
	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(1u << VIRTIO_BLK_F_GEOMETRY));
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)((1ULL << VIRTIO_F_VERSION_1) >> 32));
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(wb_get(f), 1);
}

/* Several completions in one batch: one irqfd write. */
static void test_one_irq_per_batch(void **state)
{
	struct fx *f = *state;
	struct rq r[4];
	for (int i = 0; i < 4; i++)
		r[i] = mkreq(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512, true);
	kick_and_run(f);
	assert_int_equal(f->be.submitted, 4);
	assert_int_equal(f->b.q[0].st.batches, 1);
	irqs(f);
	complete_all(f, 0);
	assert_int_equal(irqs(f), 1);
	assert_int_equal(f->b.irq_writes, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(status_of(f, &r[i]), VIRTIO_BLK_S_OK);
}

/* Complete pending request i alone (one batch), then the deferred calls. */
static void complete_one(struct fx *f, unsigned i)
{
	f->be.pending[i]->complete(f->be.pending[i], 0);
	evloop_run_once(&f->loop, 0);
}

/* irq-coalesce-us: a due interrupt waits while more completions can come. */
static void test_irq_coalesce(void **state)
{
	struct fx *f = *state;
	struct rq r[5];

	f->loop.irq = (struct evloop_irq_policy){ .coalesce_ns = 20000000ull /* 20 ms */ };
	for (int i = 0; i < 3; i++)
		r[i] = mkreq(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512, true);
	kick_and_run(f);
	assert_int_equal(f->be.n, 3);
	irqs(f);
	/* Two still in flight: the interrupt waits (timer armed). */
	complete_one(f, 0);
	assert_int_equal(irqs(f), 0);
	assert_int_equal(f->b.irq_delayed, 1);
	assert_true(f->b.q[0].irq_timer.armed);
	/* The last in flight completes: nothing more can come, send it now. */
	complete_one(f, 1);
	assert_int_equal(irqs(f), 0);
	complete_one(f, 2);
	assert_int_equal(irqs(f), 1);
	assert_false(f->b.q[0].irq_timer.armed);
	assert_int_equal(f->b.irq_timer_fires, 0);
	for (int i = 0; i < 3; i++)
		expect_used(f, &r[i], 513);

	/* One completes, one stays in flight: the timer sends it. */
	f->be.n = 0;
	r[3] = mkreq(f, VIRTIO_BLK_T_IN, 3, 512, true);
	r[4] = mkreq(f, VIRTIO_BLK_T_IN, 4, 512, true);
	kick_and_run(f);
	assert_int_equal(f->be.n, 2);
	complete_one(f, 0);
	assert_int_equal(irqs(f), 0);
	while (!f->b.irq_timer_fires)
		assert_true(evloop_run_once(&f->loop, -1) >= 0);
	assert_int_equal(irqs(f), 1);
	assert_int_equal(f->b.irq_writes, 2);
	expect_used(f, &r[3], 513);
	complete_one(f, 1);
	assert_int_equal(irqs(f), 1);
}

/* irq-max-batch: enough completions waiting go out without the timer. */
static void test_irq_coalesce_max_batch(void **state)
{
	struct fx *f = *state;

	f->loop.irq = (struct evloop_irq_policy){ .coalesce_ns = 1000000000ull, .max_batch = 2 };
	for (int i = 0; i < 4; i++)
		mkreq(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512, true);
	kick_and_run(f);
	irqs(f);
	complete_one(f, 0);
	assert_int_equal(irqs(f), 0);   /* 1 waiting, 3 in flight */
	complete_one(f, 1);
	assert_int_equal(irqs(f), 1);   /* 2 waiting: the cap */
	assert_int_equal(f->b.irq_timer_fires, 0);
	assert_false(f->b.q[0].irq_timer.armed);
}

static void test_irq_suppressed_evidx(void **state)
{
	struct fx *f = *state;
	/* used_event = 5: no interrupt until the 6th completion. */
	drv_set_used_event(&f->d, 5);
	struct rq a = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, 0);
	assert_int_equal(irqs(f), 1);   /* first ever: always */
	struct rq b = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, 0);
	assert_int_equal(irqs(f), 0);
	assert_int_equal(f->b.q[0].st.irqs_suppressed, 1);
	/* Kicks were re-enabled through avail_event after the drain. */
	assert_int_equal(drv_avail_event(&f->d), 2);
	(void)a;
	(void)b;
}

static void test_irq_suppressed_flag(void **state)
{
	struct fx *f = *state;
	drv_set_avail_flags(&f->d, VIRTQ_AVAIL_F_NO_INTERRUPT);
	struct rq a = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, 0);
	assert_int_equal(irqs(f), 0);
	assert_int_equal(status_of(f, &a), VIRTIO_BLK_S_OK);
	expect_used(f, &a, 513);
}

/* A QueueNotify that reaches the bus (no ioeventfd) works too. */
static void test_bus_notify(void **state)
{
	struct fx *f = *state;
	mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	evloop_run_once(&f->loop, 0);
	assert_int_equal(f->be.submitted, 1);
	assert_int_equal(f->b.t.st.bus_notifies, 1);
}

static void *reset_thread(void *arg)
{
	struct fx *f = arg;
	wr(f, VIRTIO_MMIO_STATUS, 0);   /* blocks until nothing is in flight */
	return NULL;
}

/* Reset waits for in-flight I/O and drops its completion. */
static void test_reset_inflight(void **state)
{
	struct fx *f = *state;
	pthread_t t;
	struct rq r = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	assert_int_equal(f->b.inflight, 1);
	pthread_create(&t, NULL, reset_thread, f);
	/* Wait until the reset has started (status already 0). */
	while (atomic_load(&f->b.t.status) != 0)
		usleep(1000);
	usleep(20000);
	assert_int_equal(f->b.t.st.resets, 1);
	complete_all(f, 0);
	pthread_join(t, NULL);
	assert_int_equal(f->b.inflight, 0);
	assert_int_equal(status_of(f, &r), 0xee);   /* untouched */
	assert_int_equal(drv_used_idx(&f->d), 0);
	assert_false(f->b.vqs[0].ready);
}

/* A request reused over and over: FLUSH in descriptors head (header) and head + 1 (status). */
static void flush_chain(struct fx *f, uint16_t head)
{
	uint64_t s = drv_alloc(&f->d, 1, 1), h = drv_alloc(&f->d, 16, 16);
	put_hdr(f, h, VIRTIO_BLK_T_FLUSH, 0);
	drv_desc(&f->d, head, h, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
	drv_desc(&f->d, (uint16_t)(head + 1), s, 1, VIRTQ_DESC_F_WRITE, 0);
}

/* GET_ID in descriptors head (header) and head + 1 (the 20-byte ID, then the status byte). */
static void get_id_chain(struct fx *f, uint16_t head)
{
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, VIRTIO_BLK_ID_BYTES + 1, 1);
	put_hdr(f, h, VIRTIO_BLK_T_GET_ID, 0);
	drv_desc(&f->d, head, h, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
	drv_desc(&f->d, (uint16_t)(head + 1), d, VIRTIO_BLK_ID_BYTES + 1, VIRTQ_DESC_F_WRITE, 0);
}

/*
 * Take every request slot with FLUSHes the backend holds: head 0 published
 * over and over, NUM at a time (never more than NUM unconsumed: that would
 * break the ring), as a hostile guest can.  Returns how many were published.
 */
static unsigned fill_slots(struct fx *f)
{
	unsigned total = 0;

	flush_chain(f, 0);
	for (int round = 0; round < VIRTQ_NUM_MAX / NUM; round++) {
		for (int i = 0; i < NUM; i++)
			drv_publish(&f->d, 0);
		kick_and_run(f);
		total += NUM;
	}
	assert_int_equal(f->be.n, VIRTQ_NUM_MAX);
	return total;
}

/* A hostile guest with more entries in flight than slots: throttled, not lost. */
static void test_throttle(void **state)
{
	struct fx *f = *state;
	unsigned total = fill_slots(f);

	for (int i = 0; i < NUM; i++)
		drv_publish(&f->d, 0);
	kick_and_run(f);
	total += NUM;
	assert_int_equal(f->be.submitted, VIRTQ_NUM_MAX);
	assert_true(f->b.q[0].st.throttled >= 1);
	while (f->be.n) {
		complete_all(f, 0);
		evloop_run_once(&f->loop, 0);
	}
	assert_int_equal(f->be.submitted, total);
	assert_int_equal(drv_used_idx(&f->d), (uint16_t)total);
}

static void set_polling(struct fx *f)
{
	struct poll_params pp = { .max_ns = 64000 };

	evloop_set_poll(&f->loop, &pp, false);
	f->loop.policy.poll_ns = pp.max_ns;
}

/* One pass of the loop, allowed to poll (a wait ends the window: open it again). */
static int run_polled(struct fx *f, int timeout_ms)
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
	struct fx *f = *state;
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
	f->be.n--;
	f->be.pending[f->be.n]->complete(f->be.pending[f->be.n], 0);
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
		complete_all(f, 0);
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
	struct fx *f;
	unsigned rounds;
};

static void refill_publish(struct fx *f)
{
	for (int i = 0; i < NUM - 1; i++)
		drv_publish(&f->d, 0);   /* GET_ID */
	drv_publish(&f->d, 2);           /* FLUSH: held by the backend */
}

static void refill_on_submit(void *arg)
{
	struct refill *r = arg;

	if (r->rounds < REFILL_ROUNDS) {
		r->rounds++;
		refill_publish(r->f);
	}
}

static void drain_bounded(struct fx *f, bool polled)
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
	kick_and_run(f);
	/* Back from the first pass with the guest's refill still in the ring. */
	assert_int_equal(bq->st.requests, NUM);
	assert_int_equal(r.rounds, 1);
	assert_int_equal((uint16_t)(f->d.avail_idx - f->b.vqs[0].last_avail_idx), NUM);
	/* Behind the driver: it need not kick. */
	assert_int_equal(drv_used_flags(&f->d), VIRTQ_USED_F_NO_NOTIFY);
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
	complete_all(f, 0);
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
	struct fx *f = *state;
	const unsigned rounds = 2 * 65536 / NUM + 64;
	uint16_t used = 0;
	unsigned sent = 0, wrap_batches = 0;

	get_id_chain(f, 0);
	for (int i = 0; i < 7; i++)
		drv_publish(&f->d, 0);
	kick_and_run(f);
	assert_int_equal(irqs(f), 1);   /* the first check always notifies */
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
		kick_and_run(f);
		if ((uint16_t)(used + NUM) < used)
			wrap_batches++;
		used = (uint16_t)(used + NUM);
		assert_int_equal(drv_used_idx(&f->d), used);
		assert_int_equal(irqs(f), want ? 1 : 0);
		sent += want;
	}
	assert_int_equal(wrap_batches, 2);
	assert_int_equal(f->b.q[0].st.irqs, sent + 1);
	assert_int_equal(f->b.q[0].st.irqs_suppressed, rounds - sent);
}

/* Another vCPU's register writes while a reset waits for in-flight I/O. */
struct vcpu_b {
	struct fx *f;
	uint64_t desc;
};

static void *vcpu_b_thread(void *arg)
{
	struct vcpu_b *v = arg;
	struct fx *f = v->f;

	/* The driver's set-up, as if it had seen the reset complete: this
	 * first access waits until it has. */
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
				  VIRTIO_STATUS_DRIVER_OK);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)v->desc);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)v->desc + 0x1000);
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)v->desc + 0x2000);
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	return NULL;
}

static void test_reset_other_vcpu_waits(void **state)
{
	struct fx *f = *state;
	struct vcpu_b v = { .f = f, .desc = drv_alloc(&f->d, 0x3000, 4096) };
	pthread_t a, b;
	struct rq r = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	uint64_t bad = f->b.t.st.bad_writes;

	kick_and_run(f);
	assert_int_equal(f->b.inflight, 1);
	assert_int_equal(pthread_create(&a, NULL, reset_thread, f), 0);
	/* The reset started under the lock; once we get the lock, it waits. */
	while (__atomic_load_n(&f->b.t.st.resets, __ATOMIC_RELAXED) == 0)
		usleep(100);
	pthread_mutex_lock(&f->b.t.lock);
	assert_true(f->b.t.resetting);
	pthread_mutex_unlock(&f->b.t.lock);
	/* A request the old rings still hold: nobody may take it now. */
	struct rq s = mkreq(f, VIRTIO_BLK_T_IN, 8, 512, true);
	assert_int_equal(pthread_create(&b, NULL, vcpu_b_thread, &v), 0);
	for (int i = 0; i < 100000 && !__atomic_load_n(&f->b.t.st.reset_waits, __ATOMIC_RELAXED); i++)
		usleep(100);
	/* B waits; the IOThread runs on and finds the device not live.  (The
	 * checks come after the threads are joined: a failed assert must not
	 * leave them blocked.) */
	uint64_t waits_mid = f->b.t.st.reset_waits, bad_mid = f->b.t.st.bad_writes;
	kick_and_run(f);
	unsigned submitted_mid = f->be.submitted;
	complete_all(f, 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(waits_mid, 1);
	assert_int_equal(bad_mid, bad);
	assert_int_equal(submitted_mid, 1);

	/* The reset finished before B's writes, which then met a reset device:
	 * no features negotiated, so no FEATURES_OK, no DRIVER_OK, and no
	 * queue set-up (bad writes: DRIVER_OK, QueueNum, six addresses, ready). */
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DRIVER);
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
	kick_and_run(f);
	assert_int_equal(f->be.submitted, 1);
	assert_int_equal(f->b.inflight, 0);
	assert_int_equal(status_of(f, &r), 0xee);
	assert_int_equal(status_of(f, &s), 0xee);
	assert_int_equal(drv_used_idx(&f->d), 0);
	/* And a proper reset and set-up bring it back. */
	wr(f, VIRTIO_MMIO_STATUS, 0);
	drv_free(&f->d);
	drv_init(&f->d, NUM);
	f->next_desc = 0;
	bring_up(f, FEAT_ALL);
	evloop_run_once(&f->loop, 0);
	struct rq t = mkreq(f, VIRTIO_BLK_T_IN, 0, 512, true);
	kick_and_run(f);
	complete_all(f, 0);
	assert_int_equal(status_of(f, &t), VIRTIO_BLK_S_OK);
}

/* ---- io_uring backend on real files ---------------------------------------------- */

static int fx_uring(void **state, const char *dir, enum blk_cache cache)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/pollvm-test-XXXXXX", dir);
	fd = mkstemp(f->path);
	if (fd < 0 || ftruncate(fd, CAP * 512) < 0)
		return -1;
	close(fd);
	if (blk_file_open(&f->file, f->path, false, cache, 512, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (uring_init(&f->u, 64, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	drv_init(&f->d, NUM);
	f->irqfd = eventfd(0, EFD_NONBLOCK);
	f->kick = eventfd(0, EFD_NONBLOCK);
	evloop_init(&f->loop);
	uring_attach(&f->u, &f->loop);
	blk_uring_bind(&f->bu, &f->file, &f->u);
	struct blk_params p = {
		.capacity = f->file.size / 512, .blk_size = f->file.direct ? f->file.off_align : 512,
		.discard = f->file.can_punch, .write_zeroes = f->file.can_punch, .writeback = true,
		.num_queues = 1, .serial = "x",
	};
	if (blk_init(&f->b, "vda", &p, &f->d.mem, f->irqfd, &f->kick, &blk_uring_ops, &f->bu))
		return -1;
	blk_attach(&f->b, &f->loop);
	bring_up(f, FEAT_ALL);
	evloop_run_once(&f->loop, 0);
	*state = f;
	return 0;
}

static int setup_uring_ext4(void **state) { return fx_uring(state, "/var/tmp", BLK_CACHE_NONE); }
static int setup_uring_tmpfs(void **state) { return fx_uring(state, "/dev/shm", BLK_CACHE_NONE); }
static int setup_uring_wb(void **state) { return fx_uring(state, "/var/tmp", BLK_CACHE_WRITEBACK); }

static int teardown_uring(void **state)
{
	struct fx *f = *state;
	uring_drain(&f->u, 0);
	blk_destroy(&f->b);
	uring_destroy(&f->u);
	blk_file_close(&f->file);
	evloop_destroy(&f->loop);
	unlink(f->path);
	close(f->irqfd);
	close(f->kick);
	drv_free(&f->d);
	free(f);
	return 0;
}

/* Run the loop until n used entries arrived (or give up). */
static void run_until_used(struct fx *f, uint16_t n)
{
	for (int i = 0; i < 2000 && drv_used_idx(&f->d) != n; i++)
		evloop_run_once(&f->loop, 10);
	assert_int_equal(drv_used_idx(&f->d), n);
}

static void uring_rw_flush_discard(struct fx *f, uint32_t blk)
{
	uint16_t used = 0;

	/* write 8 KiB of pattern at sector 16 */
	struct rq w = mkreq(f, VIRTIO_BLK_T_OUT, 16, 8192, false);
	uint8_t *wd = drv_hva(&f->d, w.data);
	for (int i = 0; i < 8192; i++)
		wd[i] = (uint8_t)(i * 7 + 3);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &w), VIRTIO_BLK_S_OK);

	/* the file holds it */
	uint8_t buf[8192];
	int fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, buf, 8192, 16 * 512), 8192);
	assert_memory_equal(buf, wd, 8192);

	/* read it back through the device */
	struct rq r = mkreq(f, VIRTIO_BLK_T_IN, 16, 8192, true);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &r), VIRTIO_BLK_S_OK);
	assert_memory_equal(drv_hva(&f->d, r.data), wd, 8192);

	/* flush: one fsync */
	struct rq fl = mkreq(f, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &fl), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.fsyncs, 1);

	/* discard the first 4 KiB of it, write-zeroes the next block */
	if (f->file.can_punch) {
		struct rq d = mkreq(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
		write_dwz(f, &d, 16, 4096 / 512, 0);
		struct rq z = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
		write_dwz(f, &z, 16 + 8, blk / 512, 0);
		kick_and_run(f);
		used += 2;
		run_until_used(f, used);
		assert_int_equal(status_of(f, &d), VIRTIO_BLK_S_OK);
		assert_int_equal(status_of(f, &z), VIRTIO_BLK_S_OK);
		uint8_t zero[8192] = { 0 };
		assert_int_equal(pread(fd, buf, 8192, 16 * 512), 8192);
		assert_memory_equal(buf, zero, 4096 + blk);
		assert_memory_equal(buf + 4096 + blk, wd + 4096 + blk, 8192 - 4096 - blk);
	}
	close(fd);
	assert_int_equal(f->u.inflight, 0);
	assert_int_equal(f->b.q[0].st.err_io, 0);
}

/*
 * Write-through (writeback byte 0): WRITE_ZEROES and DISCARD complete only
 * after an fdatasync of their fallocate (one IORING_OP_FSYNC each); in
 * writeback mode they do not sync.  Where the file system has no
 * ZERO_RANGE (tmpfs) WRITE_ZEROES punches a hole instead, one SQE more.
 */
static void uring_dwz_sync(struct fx *f, uint32_t blk)
{
	uint16_t used = drv_used_idx(&f->d);
	uint8_t buf[2 * 65536], zero[65536] = { 0 };
	uint64_t fs, sqes;
	int fd = open(f->path, O_RDWR);

	assert_true(fd >= 0 && blk <= sizeof(zero));
	bool zero_range = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, blk) == 0;
	assert_true(zero_range || errno == EOPNOTSUPP);

	wb_set(f, 0);
	struct rq w = mkreq_fill(f, VIRTIO_BLK_T_OUT, 0, 2 * blk, false, 0x5a);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &w), VIRTIO_BLK_S_OK);

	/* WRITE_ZEROES of the first block: fallocate (maybe twice), fdatasync. */
	fs = f->bu.st.fsyncs;
	sqes = f->u.st.sqes;
	struct rq z = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &z, 0, blk / 512, 0);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &z), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.fsyncs, fs + 1);
	assert_int_equal(f->u.st.sqes, sqes + (zero_range ? 2 : 3));
	assert_int_equal(pread(fd, buf, 2 * blk, 0), 2 * blk);
	assert_memory_equal(buf, zero, blk);
	assert_int_equal(buf[blk], 0x5a);
	assert_int_equal(buf[2 * blk - 1], 0x5a);

	/* WRITE_ZEROES with UNMAP of the second, and a DISCARD: synced too. */
	struct rq u = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &u, blk / 512, blk / 512, VIRTIO_BLK_WZ_UNMAP);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &u), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(fd, buf, blk, blk), blk);
	assert_memory_equal(buf, zero, blk);
	struct rq d = mkreq(f, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	write_dwz(f, &d, 4 * blk / 512, blk / 512, 0);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &d), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.fsyncs, fs + 3);

	/* Writeback mode: no sync of their own (FLUSH does that). */
	wb_set(f, 1);
	sqes = f->u.st.sqes;
	struct rq z2 = mkreq(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	write_dwz(f, &z2, 0, blk / 512, 0);
	kick_and_run(f);
	run_until_used(f, ++used);
	assert_int_equal(status_of(f, &z2), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.fsyncs, fs + 3);
	assert_int_equal(f->u.st.sqes, sqes + (zero_range ? 1 : 2));
	assert_int_equal(f->bu.st.errors, 0);
	assert_int_equal(f->b.q[0].st.err_io + f->b.q[0].st.unsupported, 0);
	close(fd);
}

static void test_uring_dwz_sync(void **state)
{
	struct fx *f = *state;
	uring_dwz_sync(f, f->file.direct ? f->file.off_align : 512);
}

static void test_uring_ext4_direct(void **state)
{
	struct fx *f = *state;
	assert_true(f->file.direct);
	uring_rw_flush_discard(f, f->file.off_align);

	/* A guest buffer O_DIRECT cannot take (512-aligned? make it odd): bounced. */
	uint64_t h = drv_alloc(&f->d, 16, 16), d = drv_alloc(&f->d, 4096 + 64, 4096) + 3,
		 s = drv_alloc(&f->d, 1, 1);
	put_hdr(f, h, VIRTIO_BLK_T_IN, 16 + 8);
	uint16_t i = f->next_desc;
	drv_desc(&f->d, i, h, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % NUM));
	drv_desc(&f->d, (uint16_t)((i + 1) % NUM), d, f->file.off_align,
		 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)((i + 2) % NUM));
	drv_desc(&f->d, (uint16_t)((i + 2) % NUM), s, 1, VIRTQ_DESC_F_WRITE, 0);
	f->next_desc = (uint16_t)((i + 3) % NUM);
	drv_publish(&f->d, i);
	uint16_t used = drv_used_idx(&f->d);
	kick_and_run(f);
	run_until_used(f, (uint16_t)(used + 1));
	assert_int_equal(*(uint8_t *)drv_hva(&f->d, s), VIRTIO_BLK_S_OK);
	assert_int_equal(f->bu.st.bounces, 1);
}

static void test_uring_tmpfs_fallback(void **state)
{
	struct fx *f = *state;
	/* tmpfs refused O_DIRECT before Linux 6.6: then the page cache is used
	 * instead, and FLUSH still fsyncs.  Newer tmpfs takes O_DIRECT. */
	assert_true(f->file.direct != f->file.direct_refused);
	assert_true(f->file.can_punch);
	uring_rw_flush_discard(f, f->file.direct ? f->file.off_align : 512);
}

static void test_uring_writeback(void **state)
{
	struct fx *f = *state;
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
	struct iothread *t = calloc(1, sizeof(*t));
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int fd;

	struct iothread_cfg tc;
	iothread_cfg_default(&tc, "io0");
	assert_int_equal(iothread_init(t, &tc, err, sizeof(err)), 0);
	snprintf(f->path, sizeof(f->path), "/var/tmp/pollvm-test-XXXXXX");
	fd = mkstemp(f->path);
	assert_int_equal(ftruncate(fd, CAP * 512), 0);
	close(fd);
	assert_int_equal(blk_file_open(&f->file, f->path, false, BLK_CACHE_WRITEBACK, 512, err, sizeof(err)), 0);
	blk_uring_bind(&f->bu, &f->file, &t->uring);
	drv_init(&f->d, NUM);
	f->irqfd = eventfd(0, EFD_NONBLOCK);
	f->kick = eventfd(0, EFD_NONBLOCK);
	struct blk_params p = { .capacity = CAP, .blk_size = 512, .writeback = true, .num_queues = 1 };
	assert_int_equal(blk_init(&f->b, "vda", &p, &f->d.mem, f->irqfd, &f->kick, &blk_uring_ops, &f->bu), 0);
	assert_int_equal(blk_attach(&f->b, &t->loop), 0);
	assert_int_equal(iothread_start(t), 0);
	/* Driver set-up happens on "the vCPU" (this thread) while the IOThread runs. */
	bring_up(f, FEAT_ALL);

	/* Five requests: 15 of the 16 descriptors, none reused while in flight. */
	struct rq w[5];
	for (int i = 0; i < 5; i++)
		w[i] = mkreq_fill(f, VIRTIO_BLK_T_OUT, (uint64_t)i * 8, 4096, false, 'a' + i);
	uint64_t one = 1;
	assert_int_equal(write(f->kick, &one, 8), 8);
	for (int i = 0; i < 5000 && drv_used_idx(&f->d) != 5; i++)
		usleep(1000);
	assert_int_equal(drv_used_idx(&f->d), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(status_of(f, &w[i]), VIRTIO_BLK_S_OK);
	uint64_t v = 0;
	assert_int_equal(read(f->irqfd, &v, 8), 8);
	assert_true(v >= 1 && v <= 5);
	/* Leave one in flight-ish and stop: the thread drains and flushes. */
	mkreq(f, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	assert_int_equal(write(f->kick, &one, 8), 8);
	iothread_stop(t, 0);
	assert_int_equal(t->uring.inflight, 0);
	/* The disk's teardown flushes it. */
	assert_int_equal(blk_file_flush(&f->file), 0);
	assert_true(t->cpu_ns > 0);
	assert_true(t->loop.st.wakeups >= 1);

	uint8_t buf[4096];
	fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, buf, 4096, 4 * 8 * 512), 4096);
	assert_int_equal(buf[0], 'e');
	assert_int_equal(buf[4095], 'e');
	close(fd);

	blk_destroy(&f->b);
	iothread_destroy(t);
	blk_file_close(&f->file);
	unlink(f->path);
	close(f->irqfd);
	close(f->kick);
	drv_free(&f->d);
	free(f);
	free(t);
}

static void test_file_open_errors(void **state)
{
	(void)state;
	struct blk_file bf;
	char err[256], path[] = "/var/tmp/pollvm-test-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(blk_file_open(&bf, path, false, BLK_CACHE_WRITEBACK, 512, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "multiple of 512"));
	assert_int_equal(ftruncate(fd, 1000), 0);
	assert_int_equal(blk_file_open(&bf, path, false, BLK_CACHE_WRITEBACK, 512, err, sizeof(err)), -EINVAL);
	close(fd);
	unlink(path);
	assert_int_equal(blk_file_open(&bf, "/nonexistent/x", false, BLK_CACHE_WRITEBACK, 512, err, sizeof(err)),
			 -ENOENT);
	assert_int_equal(blk_file_open(&bf, "/dev/null", false, BLK_CACHE_WRITEBACK, 512, err, sizeof(err)),
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
		cmocka_unit_test_setup_teardown(test_uring_ext4_direct, setup_uring_ext4, teardown_uring),
		cmocka_unit_test_setup_teardown(test_uring_tmpfs_fallback, setup_uring_tmpfs, teardown_uring),
		cmocka_unit_test_setup_teardown(test_uring_writeback, setup_uring_wb, teardown_uring),
		cmocka_unit_test_setup_teardown(test_uring_dwz_sync, setup_uring_ext4, teardown_uring),
		cmocka_unit_test_setup_teardown(test_uring_dwz_sync, setup_uring_tmpfs, teardown_uring),
		cmocka_unit_test(test_iothread),
		cmocka_unit_test(test_file_open_errors),
	};
	return cmocka_run_group_tests_name("blk", tests, NULL, NULL);
}
