/* SPDX-License-Identifier: MIT */
/*
 * One disk's queues spread over several IOThreads (blk_attach_queue): each
 * queue's requests reach the backend handle it was given, on the loop it was
 * given, and completions are signalled once per device per batch of each
 * loop: queues sharing a loop share one irqfd write, queues on different
 * loops do not wait for each other.  No KVM, fake backends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "../lib/blk_fx.h"

#define NUM 16
#define NQ 3

/* The disk (queue 0's rings in x.d unused), each queue on its own rings and fake backend. */
struct fx {
	struct blk_fx x;
	struct drv dq[NQ];
	struct fake_be be[NQ];
	struct evloop loop[2];
};

/* Queues 0 and 2 on loop 0, queue 1 on loop 1 (round-robin over two). */
static const unsigned loop_of[NQ] = { 0, 1, 0 };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct blk_params p = { .capacity = 2048, .blk_size = 512, .writeback = true, .num_queues = NQ };
	struct drv *qs[NQ];

	drv_init(&f->x.d, NUM);
	for (unsigned q = 0; q < NQ; q++) {
		drv_init_queue(&f->dq[q], &f->x.d);
		qs[q] = &f->dq[q];
	}
	if (evloop_init(&f->loop[0]) || evloop_init(&f->loop[1]))
		return -1;
	if (blk_fx_create(&f->x, &p, &fake_be_ops, NULL))
		return -1;
	for (unsigned q = 0; q < NQ; q++)
		if (blk_attach_queue(&f->x.b, q, &f->loop[loop_of[q]], &f->be[q]))
			return -1;
	drv_bring_up_queues(qs, NQ, &f->x.b.t, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_MQ));
	/* DRIVER_OK looked at every ring once (a self-kick per queue). */
	evloop_run_once(&f->loop[0], 0);
	evloop_run_once(&f->loop[1], 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	blk_fx_destroy(&f->x);
	evloop_destroy(&f->loop[0]);
	evloop_destroy(&f->loop[1]);
	free(f);
	return 0;
}

/* A one-sector read of sector 0 on queue q (3 descriptors from head), kicked. */
static void read_req(struct fx *f, unsigned q, uint16_t head)
{
	struct drv_blk_rq r = drv_blk_alloc(&f->x.d, VIRTIO_BLK_T_IN, 0, 512);

	drv_blk_publish(&f->dq[q], &r, head, true);
	blk_fx_kick(&f->x, q);
}

static void test_queues_reach_their_loop_and_backend(void **state)
{
	struct fx *f = *state;

	for (unsigned q = 0; q < NQ; q++)
		read_req(f, q, 0);
	/* Loop 1 serves queue 1 only. */
	evloop_run_once(&f->loop[1], 0);
	assert_int_equal(f->be[1].n, 1);
	assert_int_equal(f->be[0].n + f->be[2].n, 0);
	/* Loop 0 serves queues 0 and 2, each into its own backend handle. */
	evloop_run_once(&f->loop[0], 0);
	assert_int_equal(f->be[0].n, 1);
	assert_int_equal(f->be[2].n, 1);
	assert_int_equal(f->x.b.q[0].st.requests + f->x.b.q[1].st.requests + f->x.b.q[2].st.requests, 3);
	assert_int_equal(blk_fx_irqs(&f->x), 0);
}

static void test_one_irq_per_loop_batch(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	for (unsigned q = 0; q < NQ; q++)
		read_req(f, q, 0);
	evloop_run_once(&f->loop[0], 0);
	evloop_run_once(&f->loop[1], 0);
	/* Queues 0 and 2 complete in one batch of loop 0: one irqfd write. */
	fake_be_complete_all(&f->be[0], 0);
	fake_be_complete_all(&f->be[2], 0);
	evloop_run_once(&f->loop[0], 0);
	assert_int_equal(blk_fx_irqs(&f->x), 1);
	assert_int_equal(drv_get_used(&f->dq[0], &id, &len), 1);
	assert_int_equal(drv_get_used(&f->dq[2], &id, &len), 1);
	assert_int_equal(drv_get_used(&f->dq[1], &id, &len), 0);
	/* Queue 1's completion is loop 1's: its own write, loop 0 not involved. */
	fake_be_complete_all(&f->be[1], 0);
	evloop_run_once(&f->loop[1], 0);
	assert_int_equal(blk_fx_irqs(&f->x), 1);
	assert_int_equal(drv_get_used(&f->dq[1], &id, &len), 1);
	assert_int_equal(f->x.b.irq.writes, 2);
	assert_int_equal(f->x.b.q[0].st.irqs + f->x.b.q[1].st.irqs + f->x.b.q[2].st.irqs, 3);
}

/* The device's totals: each count summed over the queues, batch_max the largest of them. */
static void test_stats_total(void **state)
{
	struct fx *f = *state;
	struct blk_queue_stats s;

	read_req(f, 0, 0);
	read_req(f, 0, 3);
	read_req(f, 1, 0);
	evloop_run_once(&f->loop[0], 0);
	evloop_run_once(&f->loop[1], 0);
	assert_int_equal(f->x.b.q[0].st.batch_max, 2);
	assert_int_equal(f->x.b.q[1].st.batch_max, 1);
	blk_stats_total(&f->x.b, &s);
	assert_int_equal(s.requests, 3);
	assert_int_equal(s.reads, 3);
	assert_int_equal(s.batches, 2);
	assert_int_equal(s.kicks, 3);
	assert_int_equal(s.batch_max, 2);
}

static void test_attach_refusals(void **state)
{
	struct fx *f = *state;

	/* Already attached; no such queue; no loop. */
	assert_int_equal(blk_attach_queue(&f->x.b, 0, &f->loop[1], &f->be[0]), -EINVAL);
	assert_int_equal(blk_attach_queue(&f->x.b, NQ, &f->loop[1], &f->be[0]), -EINVAL);
	blk_detach(&f->x.b);
	assert_int_equal(blk_attach_queue(&f->x.b, 0, NULL, &f->be[0]), -EINVAL);
	/* Detached, a queue may go to another loop. */
	assert_int_equal(blk_attach_queue(&f->x.b, 0, &f->loop[1], &f->be[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queues_reach_their_loop_and_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_irq_per_loop_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
