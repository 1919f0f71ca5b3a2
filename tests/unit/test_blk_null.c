/* SPDX-License-Identifier: MIT */
/*
 * The null disk (--disk null=on): no file, every request one IORING_OP_NOP
 * on the IOThread's restricted ring.  Requests are parsed and checked as
 * for a file, complete through the ring's CQ, leave read buffers as they
 * are (or zero them with read-zeroes=on), and a stop flushes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/blk_fx.h"
#include "../lib/pv_capture.h"

#define SIZE (64ull << 20)  /* the null disk: 64 MiB */
#define FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
		  (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_BLK_F_FLUSH) | \
		  (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES))

/*
 * A null disk, brought up: served by a ring and loop run from the test's
 * own thread, or by an IOThread (started).
 */
static struct blk_fx *nx_new(bool read_zeroes, bool iothread, uint16_t num)
{
	struct blk_fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	drv_init(&x->d, num);
	if (iothread)
		assert_int_equal(blk_fx_iothread(x), 0);
	assert_int_equal(blk_fx_open_null(x, SIZE, read_zeroes), 0);
	struct blk_params p = { .capacity = SIZE / 512, .blk_size = 512, .writeback = true,
				.num_queues = 1, .discard = x->file.can_punch,
				.write_zeroes = x->file.can_punch };
	assert_int_equal(blk_fx_start_uring(x, &p), 0);
	if (iothread)
		assert_int_equal(iothread_start(x->t), 0);
	blk_fx_up(x, FEATURES);
	return x;
}

static void nx_free(struct blk_fx *x)
{
	blk_fx_destroy(x);
	free(x);
}

/* Kick, and run the loop until the used ring reaches idx. */
static void nx_run_until(struct blk_fx *x, uint16_t idx)
{
	blk_fx_kick(x, 0);
	assert_int_equal(blk_fx_run_until_used(x, idx), idx);
}

static uint64_t dwz_post(struct drv *d, uint16_t slot, uint32_t type, uint64_t sector, uint32_t nsec)
{
	uint64_t seg = drv_alloc(d, DRV_BLK_DWZ_BYTES, 16);

	drv_blk_put_dwz(d, seg, sector, nsec, 0);
	/* The segment goes out as the data of a device-readable request. */
	return drv_blk_post(d, slot, type, 0, seg, DRV_BLK_DWZ_BYTES, false);
}

/*
 * Every request type completes OK, each as one NOP: the ring's counters
 * see one SQE and one CQE per request and no fsync; a read leaves its
 * buffer alone; a request past the end fails before the backend.
 */
static void test_null_requests(void **state)
{
	(void)state;
	struct blk_fx *x = nx_new(false, false, 16);
	struct drv *d = &x->d;
	uint64_t rbuf = drv_alloc(d, 8192, 4096), wbuf = drv_alloc(d, 4096, 4096), st[7];
	uint32_t id, len;

	assert_true(x->file.null && x->file.fd < 0);
	memset(drv_hva(d, rbuf), 0xaa, 8192);
	memset(drv_hva(d, wbuf), 0x55, 4096);
	st[0] = drv_blk_post(d, 0, VIRTIO_BLK_T_IN, 8, rbuf, 8192, true);
	st[1] = drv_blk_post(d, 1, VIRTIO_BLK_T_OUT, SIZE / 512 - 8, wbuf, 4096, false);
	st[2] = drv_blk_post(d, 2, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	st[3] = dwz_post(d, 3, VIRTIO_BLK_T_DISCARD, 0, 2048);
	st[4] = dwz_post(d, 4, VIRTIO_BLK_T_WRITE_ZEROES, 4096, 8);
	/* The last sector and one past it. */
	st[5] = drv_blk_post(d, 5, VIRTIO_BLK_T_IN, SIZE / 512 - 1, rbuf, 1024, true);
	st[6] = drv_blk_post(d, 6, VIRTIO_BLK_T_IN, SIZE / 512, rbuf, 512, true);
	nx_run_until(x, 7);
	for (int i = 0; i < 5; i++)
		assert_int_equal(*(uint8_t *)drv_hva(d, st[i]), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)drv_hva(d, st[5]), VIRTIO_BLK_S_IOERR);
	assert_int_equal(*(uint8_t *)drv_hva(d, st[6]), VIRTIO_BLK_S_IOERR);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(((uint8_t *)drv_hva(d, rbuf))[i], 0xaa);
	/* The read's used length counts its data and the status byte. */
	while (drv_get_used(d, &id, &len))
		if (id == 0)
			assert_int_equal(len, 8192 + 1);
	assert_int_equal(x->u.st.sqes, 5);
	assert_int_equal(x->u.st.cqes, 5);
	assert_int_equal(x->u.st.submits, 1);
	assert_int_equal(x->bu.st.fsyncs, 0);
	assert_int_equal(x->bu.st.errors, 0);
	assert_int_equal(x->u.pending, 0);
	assert_int_equal(x->b.q[0].st.bytes_read, 8192);
	assert_int_equal(x->b.q[0].st.bytes_written, 4096);
	assert_int_equal(x->b.q[0].st.err_range, 2);
	assert_int_equal(x->b.q[0].st.unsupported, 0);
	/* A ring restricted to the backend's opcodes (Linux 5.10) took the NOPs. */
	if (!x->u.restricted)
		print_message("note: this kernel cannot restrict io_uring rings\n");
	nx_free(x);
}

/* read-zeroes=on: a completed read has zeroed every byte of its buffers, no more. */
static void test_null_read_zeroes(void **state)
{
	(void)state;
	struct blk_fx *x = nx_new(true, false, 16);
	struct drv *d = &x->d;
	uint64_t buf = drv_alloc(d, 3 * 4096, 4096);
	uint8_t *p = drv_hva(d, buf);

	memset(p, 0xaa, 3 * 4096);
	/* Two segments (4 KiB and 1 KiB) with a canary page between them. */
	uint64_t hdr = drv_alloc(d, DRV_BLK_HDR_BYTES, 16), st = drv_alloc(d, 1, 1);
	uint64_t tab = drv_alloc(d, DRV_TABLE_BYTES(4), VRING_DESC_ALIGN_SIZE);
	drv_blk_put_hdr(d, hdr, VIRTIO_BLK_T_IN, 0);
	drv_idesc(d, tab, 0, hdr, DRV_BLK_HDR_BYTES, VRING_DESC_F_NEXT, 1);
	drv_idesc(d, tab, 1, buf, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	drv_idesc(d, tab, 2, buf + 8192, 1024, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	drv_idesc(d, tab, 3, st, 1, VRING_DESC_F_WRITE, 0);
	drv_desc(d, 0, tab, DRV_TABLE_BYTES(4), VRING_DESC_F_INDIRECT, 0);
	drv_publish(d, 0);
	nx_run_until(x, 1);
	assert_int_equal(*(uint8_t *)drv_hva(d, st), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 3 * 4096; i++) {
		bool zeroed = i < 4096 || (i >= 8192 && i < 8192 + 1024);
		assert_int_equal(p[i], zeroed ? 0 : 0xaa);
	}
	/* A write leaves the guest's data alone. */
	memset(p, 0x55, 4096);
	uint64_t st2 = drv_blk_post(d, 1, VIRTIO_BLK_T_OUT, 0, buf, 4096, false);
	nx_run_until(x, 2);
	assert_int_equal(*(uint8_t *)drv_hva(d, st2), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(p[i], 0x55);
	assert_int_equal(x->u.st.sqes, 2);
	nx_free(x);
}

/* A null disk only takes sizes the guest can address in 512-byte sectors. */
static void test_null_open_refused(void **state)
{
	struct blk_file f;

	(void)state;
	assert_int_equal(PV_FAILS(PV_INPUT, "--disk null: size 0 is not",
				  blk_file_open_null(&f, 0, false, false, 512)), -EINVAL);
	assert_int_equal(PV_FAILS(PV_INPUT, "--disk null: size 1000 is not",
				  blk_file_open_null(&f, 1000, false, false, 512)), -EINVAL);
	assert_int_equal(PV_FAILS(PV_INPUT, "logical block size 3000 is not a power of two",
				  blk_file_open_null(&f, 4096, false, false, 3000)), -EINVAL);
	assert_int_equal(blk_file_open_null(&f, 4096, true, false, 4096), 0);
	assert_true(f.ro && !f.can_punch && f.fd == -1);
	blk_file_close(&f);
}

/*
 * On a sandboxed IOThread: a burst of 32 reads and writes completes, the
 * interrupt comes, and the stop flushes nothing (there is no file to
 * fdatasync: a failed flush would be counted).
 */
static void test_null_iothread(void **state)
{
	(void)state;
	enum { N = 32 };
	struct blk_fx *x = nx_new(false, true, 64);
	struct drv *d = &x->d;
	uint64_t st[N];

	uint64_t buf = drv_alloc(d, 4096 * N, 4096);
	for (uint16_t i = 0; i < N; i++)
		st[i] = drv_blk_post(d, i, i % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 8ull * i,
				     buf + 4096ull * i, 4096, !(i % 2));
	nx_run_until(x, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(*(uint8_t *)drv_hva(d, st[i]), VIRTIO_BLK_S_OK);
	assert_true(blk_fx_irqs(x) >= 1);
	iothread_stop(x->t, 0);
	assert_int_equal(blk_file_flush(&x->file), 0);
	assert_false(x->t->stop_timed_out);
	assert_int_equal(x->t->uring.st.cqes, N);
	nx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_requests),
		cmocka_unit_test(test_null_read_zeroes),
		cmocka_unit_test(test_null_open_refused),
		cmocka_unit_test(test_null_iothread),
	};
	return cmocka_run_group_tests_name("blk_null", tests, NULL, NULL);
}
