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
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "vq_driver.h"

#define NUM 16
#define NQ 3

struct fake_be {
	struct blk_io *pending[NUM];
	unsigned n;
};

static int fake_submit(void *be, struct blk_io *io)
{
	struct fake_be *f = be;
	f->pending[f->n++] = io;
	return 0;
}

static const struct blk_backend_ops fake_ops = { .submit = fake_submit };

struct fx {
	struct drv d, dq[NQ];
	struct blk b;
	struct fake_be be[NQ];
	struct evloop loop[2];
	int irqfd, kick[NQ];
};

/* Queues 0 and 2 on loop 0, queue 1 on loop 1 (round-robin over two). */
static const unsigned loop_of[NQ] = { 0, 1, 0 };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct blk_params p = { .capacity = 2048, .blk_size = 512, .writeback = true, .num_queues = NQ };
	struct drv *qs[NQ];

	drv_init(&f->d, NUM);
	for (unsigned q = 0; q < NQ; q++) {
		drv_init_queue(&f->dq[q], &f->d);
		qs[q] = &f->dq[q];
		f->kick[q] = eventfd(0, EFD_NONBLOCK);
	}
	f->irqfd = eventfd(0, EFD_NONBLOCK);
	if (evloop_init(&f->loop[0]) || evloop_init(&f->loop[1]))
		return -1;
	if (blk_init(&f->b, "vda", &p, &f->d.mem, f->irqfd, f->kick, &fake_ops, NULL))
		return -1;
	for (unsigned q = 0; q < NQ; q++)
		if (blk_attach_queue(&f->b, q, &f->loop[loop_of[q]], &f->be[q]))
			return -1;
	drv_bring_up_queues(qs, NQ, &f->b.t, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_MQ));
	/* DRIVER_OK looked at every ring once (a self-kick per queue). */
	evloop_run_once(&f->loop[0], 0);
	evloop_run_once(&f->loop[1], 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	blk_destroy(&f->b);
	evloop_destroy(&f->loop[0]);
	evloop_destroy(&f->loop[1]);
	close(f->irqfd);
	for (unsigned q = 0; q < NQ; q++)
		close(f->kick[q]);
	drv_free(&f->d);
	free(f);
	return 0;
}

static uint64_t irqs(struct fx *f)
{
	return drv_eventfd_take(f->irqfd);
}

/* A one-sector read on queue q (descriptors 3 per request from head). */
static void read_req(struct fx *f, unsigned q, uint16_t head)
{
	struct drv *d = &f->dq[q];
	uint64_t hdr = drv_alloc(&f->d, 16, 16), data = drv_alloc(&f->d, 512, 512);
	uint64_t status = drv_alloc(&f->d, 1, 1);
	uint8_t *h = drv_hva(&f->d, hdr);
	uint64_t one = 1;

	memset(h, 0, 16);   /* VIRTIO_BLK_T_IN, sector 0 */
	drv_desc(d, head, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
	drv_desc(d, (uint16_t)(head + 1), data, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
		 (uint16_t)(head + 2));
	drv_desc(d, (uint16_t)(head + 2), status, 1, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(d, head);
	assert_int_equal(write(f->kick[q], &one, 8), 8);
}

static void complete_all(struct fake_be *be)
{
	for (unsigned i = 0; i < be->n; i++)
		be->pending[i]->complete(be->pending[i], 0);
	be->n = 0;
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
	assert_int_equal(f->b.q[0].st.requests + f->b.q[1].st.requests + f->b.q[2].st.requests, 3);
	assert_int_equal(irqs(f), 0);
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
	complete_all(&f->be[0]);
	complete_all(&f->be[2]);
	evloop_run_once(&f->loop[0], 0);
	assert_int_equal(irqs(f), 1);
	assert_int_equal(drv_get_used(&f->dq[0], &id, &len), 1);
	assert_int_equal(drv_get_used(&f->dq[2], &id, &len), 1);
	assert_int_equal(drv_get_used(&f->dq[1], &id, &len), 0);
	/* Queue 1's completion is loop 1's: its own write, loop 0 not involved. */
	complete_all(&f->be[1]);
	evloop_run_once(&f->loop[1], 0);
	assert_int_equal(irqs(f), 1);
	assert_int_equal(drv_get_used(&f->dq[1], &id, &len), 1);
	assert_int_equal(f->b.irq_writes, 2);
	assert_int_equal(f->b.q[0].st.irqs + f->b.q[1].st.irqs + f->b.q[2].st.irqs, 3);
}

static void test_attach_refusals(void **state)
{
	struct fx *f = *state;

	/* Already attached; no such queue; no loop. */
	assert_int_equal(blk_attach_queue(&f->b, 0, &f->loop[1], &f->be[0]), -EINVAL);
	assert_int_equal(blk_attach_queue(&f->b, NQ, &f->loop[1], &f->be[0]), -EINVAL);
	blk_detach(&f->b);
	assert_int_equal(blk_attach_queue(&f->b, 0, NULL, &f->be[0]), -EINVAL);
	/* Detached, a queue may go to another loop. */
	assert_int_equal(blk_attach_queue(&f->b, 0, &f->loop[1], &f->be[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queues_reach_their_loop_and_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_irq_per_loop_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
