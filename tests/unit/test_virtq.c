/* SPDX-License-Identifier: MIT */
/* Split virtqueue: pop/push, EVENT_IDX, indirect chains, every malformed case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "../../devices/virtq.h"
#include "../lib/vq_driver.h"

#define NUM 16

struct fx {
	struct drv d;
	struct virtq q;
};

static int fx_setup_opts(void **state, bool event_idx, bool indirect)
{
	struct fx *f = calloc(1, sizeof(*f));
	drv_init(&f->d, NUM);
	if (drv_virtq_start(&f->d, &f->q, event_idx, indirect))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state) { return fx_setup_opts(state, false, true); }
static int setup_evidx(void **state) { return fx_setup_opts(state, true, true); }
static int setup_noind(void **state) { return fx_setup_opts(state, false, false); }

static int teardown(void **state)
{
	struct fx *f = *state;
	drv_free(&f->d);
	free(f);
	return 0;
}

static struct virtq_elem elem;

static void test_pop_empty(void **state)
{
	struct fx *f = *state;

	assert_int_equal(virtq_pop(&f->q, &elem), 0);
	assert_false(virtq_has_avail(&f->q));
}

static void test_pop_push_chain(void **state)
{
	struct fx *f = *state;
	uint64_t h = drv_alloc(&f->d, 16, 8), b = drv_alloc(&f->d, 4096, 4096), s = drv_alloc(&f->d, 1, 1);

	drv_desc(&f->d, 5, h, 16, VRING_DESC_F_NEXT, 9);
	drv_desc(&f->d, 9, b, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	drv_desc(&f->d, 2, s, 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 5);
	assert_true(virtq_has_avail(&f->q));
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.head, 5);
	assert_int_equal(elem.nr, 3);
	assert_int_equal(elem.nr_out, 1);
	assert_int_equal(elem.nr_in, 2);
	assert_int_equal(elem.err, 0);
	assert_true(elem.last_writable);
	assert_int_equal(elem.out_bytes, 16);
	assert_int_equal(elem.in_bytes, 4097);
	assert_ptr_equal(elem.iov[0].iov_base, drv_hva(&f->d, h));
	assert_ptr_equal(elem.iov[1].iov_base, drv_hva(&f->d, b));
	assert_int_equal(elem.iov[1].iov_len, 4096);
	assert_ptr_equal(elem.iov[2].iov_base, drv_hva(&f->d, s));
	assert_int_equal(virtq_pop(&f->q, &elem), 0);

	virtq_push(&f->q, 5, 4097);
	uint32_t id, len;
	assert_int_equal(drv_get_used(&f->d, &id, &len), 1);
	assert_int_equal(id, 5);
	assert_int_equal(len, 4097);
	assert_int_equal(drv_used_idx(&f->d), 1);
	assert_int_equal(f->q.st.popped, 1);
	assert_int_equal(f->q.st.pushed, 1);
}

static void test_zero_length_desc(void **state)
{
	struct fx *f = *state;

	/* A zero-length buffer carries no address to check. */
	drv_desc(&f->d, 0, 0xdeadbeef000ULL, 0, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.err, 0);
	assert_int_equal(elem.nr, 1);
	assert_null(elem.iov[0].iov_base);
}

/* No EVENT_IDX: VRING_AVAIL_F_NO_INTERRUPT decides. */
static void test_notify_flags(void **state)
{
	struct fx *f = *state;

	drv_desc(&f->d, 0, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, 0, 1);
	assert_true(virtq_should_notify(&f->q));
	drv_set_avail_flags(&f->d, VRING_AVAIL_F_NO_INTERRUPT);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, 0, 1);
	assert_false(virtq_should_notify(&f->q));
	assert_int_equal(f->q.st.notify_suppressed, 1);
}

/* Queue state started near the 16-bit wrap, as after 65530 requests. */
static void fx_set_indices(struct fx *f, uint16_t idx)
{
	f->q.last_avail_idx = f->q.shadow_avail_idx = idx;
	f->q.used_idx = idx;
	drv_set_avail_idx(&f->d, idx);
	f->d.last_used = idx;
	drv_used(&f->d)->idx = htole16(idx);
}

static void test_event_idx_wrap(void **state)
{
	struct fx *f = *state;
	uint64_t s = drv_alloc(&f->d, 1, 1);

	fx_set_indices(f, 65533);
	for (uint16_t i = 0; i < 6; i++)
		drv_desc(&f->d, i, s, 1, VRING_DESC_F_WRITE, 0);
	/* Driver wants an interrupt once used idx passes 65535 (entry 65535 used). */
	drv_set_used_event(&f->d, 65535);
	for (uint16_t i = 0; i < 6; i++)
		drv_publish(&f->d, i);
	assert_int_equal(f->d.avail_idx, 3); /* wrapped */

	/* First check ever always notifies (no signalled_used yet). */
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, elem.head, 1);              /* used 65534 */
	assert_true(virtq_should_notify(&f->q));
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, elem.head, 1);              /* used 65535: entry 65534 done */
	assert_false(virtq_should_notify(&f->q));     /* event 65535 not yet crossed */
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, elem.head, 1);              /* used 0: entry 65535 done */
	assert_true(virtq_should_notify(&f->q));      /* crossed, across the wrap */
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, elem.head, 1);              /* used 1 */
	assert_false(virtq_should_notify(&f->q));     /* event stays behind */
	drv_set_used_event(&f->d, 1);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	virtq_push(&f->q, 4, 1);
	virtq_push(&f->q, 5, 1);                      /* used 3: entries 1,2 done */
	assert_true(virtq_should_notify(&f->q));      /* batch covering event 1 */
	assert_int_equal(virtq_pop(&f->q, &elem), 0);
	assert_int_equal(drv_used_idx(&f->d), 3);
	uint32_t id, len;
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(drv_get_used(&f->d, &id, &len), 1);
	assert_int_equal(drv_get_used(&f->d, &id, &len), 0);
	assert_int_equal(f->q.st.notify_suppressed, 2);
}

/*
 * A queue whose driver never asks for interrupts through used_event: with
 * EVENT_IDX, Linux's virtqueues without a callback (virtio-blk poll
 * queues) never write it, so it stays 0 (2.7.10: the driver "MAY" leave
 * it), and the device notifies exactly when the used index passes 0: at
 * the first completion, then once per 2^16.  More would be interrupts the
 * driver cannot use; fewer would break the rule.  Batches of 1..NUM.
 */
static void test_event_idx_used_event_zero(void **state)
{
	struct fx *f = *state;
	uint64_t s = drv_alloc(&f->d, 1, 1), done = 0, notified = 0;
	const uint64_t total = 3 * 65536 + 100;
	uint32_t id, len;

	for (uint16_t i = 0; i < NUM; i++)
		drv_desc(&f->d, i, s, 1, VRING_DESC_F_WRITE, 0);
	for (unsigned round = 0; done < total; round++) {
		uint64_t n = 1 + (round * 7) % NUM, old = done;
		if (n > total - done)
			n = total - done;
		for (uint16_t i = 0; i < n; i++)
			drv_publish(&f->d, i);
		for (uint16_t i = 0; i < n; i++) {
			assert_int_equal(virtq_pop(&f->q, &elem), 1);
			virtq_push(&f->q, elem.head, 1);
		}
		done += n;
		/* Due iff the batch took used.idx to 1 mod 2^16 or across it. */
		bool due = (old + 65535) / 65536 != (done + 65535) / 65536;
		bool got = virtq_should_notify(&f->q);
		assert_int_equal(got, due);
		notified += got;
		while (drv_get_used(&f->d, &id, &len))
			;
	}
	assert_int_equal(notified, 1 + (total - 1) / 65536);
	assert_true(notified <= 1 + total / 65536);
	assert_int_equal(f->q.st.notify_suppressed, f->q.st.notify_checks - notified);
}

static void test_set_notification_evidx(void **state)
{
	struct fx *f = *state;

	fx_set_indices(f, 65534);
	/* Enabling publishes avail_event = last_avail_idx: "kick me for the next one". */
	assert_false(virtq_set_notification(&f->q, true));
	assert_int_equal(drv_avail_event(&f->d), 65534);
	assert_int_equal(drv_used_flags(&f->d), 0);
	/* Disabling puts avail_event one behind: no kick for the next batch either. */
	virtq_set_notification(&f->q, false);
	assert_int_equal(drv_avail_event(&f->d), 65533);
	drv_desc(&f->d, 0, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	drv_publish(&f->d, 0);
	/* Re-enabling sees what arrived meanwhile (the seed-002 race). */
	assert_true(virtq_set_notification(&f->q, true));
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_false(virtq_set_notification(&f->q, true));
	assert_int_equal(drv_avail_event(&f->d), 0); /* wrapped to 0 */
}

static void test_set_notification_flags(void **state)
{
	struct fx *f = *state;

	virtq_set_notification(&f->q, false);
	assert_int_equal(drv_used_flags(&f->d), VRING_USED_F_NO_NOTIFY);
	assert_false(virtq_set_notification(&f->q, true));
	assert_int_equal(drv_used_flags(&f->d), 0);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t t = drv_alloc(&f->d, DRV_TABLE_BYTES(3), VRING_DESC_ALIGN_SIZE);
	uint64_t h = drv_alloc(&f->d, 16, 8), b = drv_alloc(&f->d, 512, 512), s = drv_alloc(&f->d, 1, 1);

	drv_idesc(&f->d, t, 0, h, 16, VRING_DESC_F_NEXT, 2);
	drv_idesc(&f->d, t, 2, b, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	drv_idesc(&f->d, t, 1, s, 1, VRING_DESC_F_WRITE, 0);
	/* The WRITE flag on the table descriptor itself is ignored (2.7.5.3.2). */
	drv_desc(&f->d, 7, t, DRV_TABLE_BYTES(3), VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 7);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.head, 7);
	assert_int_equal(elem.nr, 3);
	assert_int_equal(elem.nr_out, 1);
	assert_int_equal(elem.nr_in, 2);
	assert_ptr_equal(elem.iov[1].iov_base, drv_hva(&f->d, b));
	assert_ptr_equal(elem.iov[2].iov_base, drv_hva(&f->d, s));
}

/* 2.7.5.3: direct descriptors, then one indirect one, are allowed. */
static void test_direct_then_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t t = drv_alloc(&f->d, DRV_TABLE_BYTES(1), VRING_DESC_ALIGN_SIZE);
	uint64_t h = drv_alloc(&f->d, 16, 8), s = drv_alloc(&f->d, 1, 1);

	drv_idesc(&f->d, t, 0, s, 1, VRING_DESC_F_WRITE, 0);
	drv_desc(&f->d, 0, h, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, t, DRV_TABLE_BYTES(1), VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.nr, 2);
	assert_int_equal(elem.nr_out, 1);
	assert_int_equal(elem.nr_in, 1);
}

/* --- structure errors: the queue breaks, stays broken, is counted --- */

static void expect_broken(struct fx *f, const uint64_t *counter)
{
	assert_int_equal(virtq_pop(&f->q, &elem), -EIO);
	assert_true(f->q.broken);
	assert_int_equal(*counter, 1);
	assert_int_equal(virtq_pop(&f->q, &elem), -EIO);
	assert_int_equal(*counter, 1);
	assert_int_equal(f->q.st.popped, 0);
}

static void test_bad_head(void **state)
{
	struct fx *f = *state;
	drv_publish(&f->d, NUM);
	expect_broken(f, &f->q.st.err_head);
}

static void test_bad_next(void **state)
{
	struct fx *f = *state;
	drv_desc(&f->d, 0, drv_alloc(&f->d, 16, 8), 16, VRING_DESC_F_NEXT, NUM);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_next);
}

static void test_loop(void **state)
{
	struct fx *f = *state;
	uint64_t b = drv_alloc(&f->d, 16, 8);
	drv_desc(&f->d, 0, b, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, b, 16, VRING_DESC_F_NEXT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_chain_len);
}

static void test_self_loop(void **state)
{
	struct fx *f = *state;
	drv_desc(&f->d, 3, drv_alloc(&f->d, 16, 8), 16, VRING_DESC_F_NEXT, 3);
	drv_publish(&f->d, 3);
	expect_broken(f, &f->q.st.err_chain_len);
}

/* A chain using all NUM descriptors is fine; it cannot be longer without a loop. */
static void test_chain_exactly_num(void **state)
{
	struct fx *f = *state;
	uint64_t b = drv_alloc(&f->d, 16, 8);
	for (uint16_t i = 0; i < NUM; i++)
		drv_desc(&f->d, i, b, 16, i + 1 < NUM ? VRING_DESC_F_NEXT : VRING_DESC_F_WRITE, i + 1);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.nr, NUM);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	uint64_t t = drv_alloc(&f->d, DRV_TABLE_BYTES(2), VRING_DESC_ALIGN_SIZE);
	uint64_t b = drv_alloc(&f->d, 16, 8);
	drv_idesc(&f->d, t, 0, b, 16, VRING_DESC_F_NEXT, 1);
	drv_idesc(&f->d, t, 1, b, 16, VRING_DESC_F_NEXT, 0);
	drv_desc(&f->d, 0, t, DRV_TABLE_BYTES(2), VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_chain_len);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = *state;
	uint64_t t = drv_alloc(&f->d, DRV_TABLE_BYTES(2), VRING_DESC_ALIGN_SIZE);
	uint64_t b = drv_alloc(&f->d, 16, 8);
	drv_idesc(&f->d, t, 0, b, 16, VRING_DESC_F_NEXT, 2); /* table has 2 entries */
	drv_desc(&f->d, 0, t, DRV_TABLE_BYTES(2), VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_next);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	uint64_t t = drv_alloc(&f->d, DRV_TABLE_BYTES(1), VRING_DESC_ALIGN_SIZE);
	drv_idesc(&f->d, t, 0, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	drv_desc(&f->d, 0, t, DRV_TABLE_BYTES(1), VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_indirect);
}

static void indirect_len_case(uint32_t len)
{
	struct fx *f;
	assert_int_equal(setup((void **)&f), 0);
	uint64_t t = drv_alloc(&f->d, 4096, 16);
	drv_desc(&f->d, 0, t, len, VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_indirect);
	teardown((void **)&f);
}

static void test_indirect_bad_len(void **state)
{
	(void)state;
	indirect_len_case(0);
	indirect_len_case(DRV_TABLE_BYTES(3) / 2);             /* not whole descriptors */
	indirect_len_case(DRV_TABLE_BYTES(VIRTQ_SEG_MAX + 1)); /* too long */
	indirect_len_case(0xfffffff0u);                        /* huge */
}

static void test_indirect_outside_ram(void **state)
{
	struct fx *f = *state;
	/* Two descriptors, the last one past the end of RAM. */
	drv_desc(&f->d, 0, DRV_RAM_GPA + DRV_RAM_SIZE - DRV_TABLE_BYTES(1), DRV_TABLE_BYTES(2),
		 VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_indirect);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	uint64_t t = drv_alloc(&f->d, DRV_TABLE_BYTES(1), VRING_DESC_ALIGN_SIZE);
	drv_idesc(&f->d, t, 0, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	drv_desc(&f->d, 0, t, DRV_TABLE_BYTES(1), VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	drv_desc(&f->d, 1, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_indirect);
}

static void test_indirect_nested(void **state)
{
	struct fx *f = *state;
	uint64_t t1 = drv_alloc(&f->d, DRV_TABLE_BYTES(1), VRING_DESC_ALIGN_SIZE);
	uint64_t t2 = drv_alloc(&f->d, DRV_TABLE_BYTES(1), VRING_DESC_ALIGN_SIZE);
	drv_idesc(&f->d, t2, 0, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	drv_idesc(&f->d, t1, 0, t2, DRV_TABLE_BYTES(1), VRING_DESC_F_INDIRECT, 0);
	drv_desc(&f->d, 0, t1, DRV_TABLE_BYTES(1), VRING_DESC_F_INDIRECT, 0);
	drv_publish(&f->d, 0);
	expect_broken(f, &f->q.st.err_indirect_nested);
}

static void test_avail_idx_jump(void **state)
{
	struct fx *f = *state;
	drv_set_avail_idx(&f->d, NUM + 1);
	expect_broken(f, &f->q.st.err_avail_idx);
}

static void test_avail_idx_backwards(void **state)
{
	struct fx *f = *state;
	drv_set_avail_idx(&f->d, 0xffff); /* one behind 0: a jump of 65535 */
	expect_broken(f, &f->q.st.err_avail_idx);
}

static void test_avail_idx_exactly_num(void **state)
{
	struct fx *f = *state;
	drv_desc(&f->d, 0, drv_alloc(&f->d, 1, 1), 1, VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < NUM; i++)
		drv_publish(&f->d, 0);
	for (int i = 0; i < NUM; i++)
		assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(virtq_pop(&f->q, &elem), 0);
}

/* --- per-buffer errors: the chain is popped, the request fails --- */

static void buf_addr_case(uint64_t addr, uint32_t len)
{
	struct fx *f;
	assert_int_equal(setup((void **)&f), 0);
	uint64_t s = drv_alloc(&f->d, 1, 1);
	drv_desc(&f->d, 0, addr, len, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	drv_desc(&f->d, 1, s, 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.err, VIRTQ_EBUF_ADDR);
	assert_null(elem.iov[0].iov_base);
	assert_non_null(elem.iov[1].iov_base);
	assert_false(f->q.broken);
	assert_int_equal(f->q.st.err_buf_addr, 1);
	teardown((void **)&f);
}

static void test_buf_outside_ram(void **state)
{
	(void)state;
	buf_addr_case(0, 512);                                  /* below RAM */
	buf_addr_case(DRV_RAM_GPA + DRV_RAM_SIZE, 512);         /* above RAM */
	buf_addr_case(DRV_RAM_GPA + DRV_RAM_SIZE - 256, 512);   /* straddles the end */
	buf_addr_case(DRV_RAM_GPA - 256, 512);                  /* straddles the start */
	buf_addr_case(0xd0001000ULL, 4);                        /* a virtio-mmio window */
	buf_addr_case(UINT64_MAX - 100, 4096);                  /* wraps at 2^64 */
	buf_addr_case(DRV_RAM_GPA, 0xffffffffu);                /* huge */
}

static void test_write_before_read(void **state)
{
	struct fx *f = *state;
	uint64_t b = drv_alloc(&f->d, 16, 8);
	drv_desc(&f->d, 0, b, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	drv_desc(&f->d, 1, b, 16, VRING_DESC_F_NEXT, 2);
	drv_desc(&f->d, 2, b, 1, VRING_DESC_F_WRITE, 0);
	drv_publish(&f->d, 0);
	assert_int_equal(virtq_pop(&f->q, &elem), 1);
	assert_int_equal(elem.err, VIRTQ_EBUF_ORDER);
	assert_int_equal(f->q.st.err_buf_order, 1);
	assert_false(f->q.broken);
}

/* --- ring set-up --- */

static void start_case(uint16_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct drv d;
	struct virtq q;

	drv_init(&d, 16);
	d.num = num;
	d.desc = desc ? desc : d.desc;
	d.avail = avail ? avail : d.avail;
	d.used = used ? used : d.used;
	assert_int_equal(drv_virtq_start(&d, &q, true, true), -EINVAL);
	assert_int_equal(q.st.err_ring_addr, 1);
	assert_false(q.ready);
	assert_int_equal(virtq_pop(&q, &elem), -EIO);
	drv_free(&d);
}

static void test_start_refused(void **state)
{
	(void)state;
	start_case(0, 0, 0, 0);
	start_case(12, 0, 0, 0);                               /* not a power of 2 */
	start_case(VIRTQ_NUM_MAX * 2, 0, 0, 0);                /* above QueueNumMax */
	start_case(16, DRV_RAM_GPA + 8, 0, 0);                 /* desc misaligned */
	start_case(16, 0, DRV_RAM_GPA + 0x2001, 0);            /* avail misaligned */
	start_case(16, 0, 0, DRV_RAM_GPA + 0x3002);            /* used misaligned */
	start_case(16, 0x1000, 0, 0);                          /* desc below RAM */
	start_case(16, 0, 0, DRV_RAM_GPA + DRV_RAM_SIZE - 8);  /* used runs off the end */
	start_case(16, UINT64_MAX - 15, 0, 0);                 /* wraps */
}

static void test_reset_keeps_stats(void **state)
{
	struct fx *f = *state;
	drv_publish(&f->d, NUM);
	assert_int_equal(virtq_pop(&f->q, &elem), -EIO);
	virtq_reset(&f->q);
	assert_false(f->q.broken);
	assert_false(f->q.ready);
	assert_int_equal(f->q.st.err_head, 1);
	assert_int_equal(virtq_pop(&f->q, &elem), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pop_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pop_push_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_desc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_wrap, setup_evidx, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_used_event_zero, setup_evidx, teardown),
		cmocka_unit_test_setup_teardown(test_set_notification_evidx, setup_evidx, teardown),
		cmocka_unit_test_setup_teardown(test_set_notification_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_then_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_exactly_num, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_next_out_of_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_not_negotiated, setup_noind, teardown),
		cmocka_unit_test(test_indirect_bad_len),
		cmocka_unit_test_setup_teardown(test_indirect_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_with_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_exactly_num, setup, teardown),
		cmocka_unit_test(test_buf_outside_ram),
		cmocka_unit_test_setup_teardown(test_write_before_read, setup, teardown),
		cmocka_unit_test(test_start_refused),
		cmocka_unit_test_setup_teardown(test_reset_keeps_stats, setup, teardown),
	};
	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
