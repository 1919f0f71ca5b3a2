/* SPDX-License-Identifier: MIT */
/*
 * The kick re-enable race, with two real threads and no KVM: a "driver" thread
 * publishes requests on a split ring and decides whether to kick the way
 * Linux's virtqueue_kick_prepare_split() does (avail.idx store, full
 * barrier, then avail_event or VRING_USED_F_NO_NOTIFY), while the device
 * (blk on an IOThread-style event loop, 64 us poll-max-ns) keeps
 * entering and leaving poll mode.  A request published in the instant the
 * device re-enables kicks must be seen by its re-check or get a kick: one
 * that is neither hangs the driver, and the test fails.  Then a driver
 * that re-posts GET_ID as fast as the device answers, polled and kicked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "../lib/blk_fx.h"

#define NUM 16
#define ITERS 10000

/* The disk on the fake backend, which completes at the end of the loop
 * iteration of its submit, as io_uring would. */
struct fx {
	struct blk_fx x;
	struct evloop_defer complete;
	atomic_bool stop;
	pthread_t dev;
	uint64_t kicks_sent, kicks_skipped, lost;
};

static void be_complete(void *arg)
{
	struct fx *f = arg;
	fake_be_complete_all(&f->x.be, 0);
}

static void be_on_submit(void *arg, struct blk_io *io)
{
	struct fx *f = arg;
	(void)io;
	evloop_defer(&f->x.loop, &f->complete);
}

static void *device_thread(void *arg)
{
	struct fx *f = arg;

	while (!atomic_load(&f->stop))
		evloop_run_once(&f->x.loop, 100);
	evloop_poll_stop(&f->x.loop);
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;
	while (now_ns() < end)
		;
}

/* The device on its own thread; interrupts off (the driver polls the used ring). */
static struct fx *fx_start(bool event_idx, const struct poll_params *pp)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct blk_params p = { .capacity = 2048, .blk_size = 512, .writeback = true, .num_queues = 1 };
	uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH) |
			(event_idx ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0);

	drv_init(&f->x.d, NUM);
	assert_int_equal(blk_fx_start_fake(&f->x, &p), 0);
	evloop_set_poll(&f->x.loop, pp, false);
	f->complete = (struct evloop_defer){ .fn = be_complete, .opaque = f };
	f->x.be.on_submit = be_on_submit;
	f->x.be.on_submit_arg = f;
	blk_fx_up(&f->x, feat);
	drv_set_avail_flags(&f->x.d, VRING_AVAIL_F_NO_INTERRUPT);
	drv_set_used_event(&f->x.d, 0x8000);
	assert_int_equal(pthread_create(&f->dev, NULL, device_thread, f), 0);
	return f;
}

static void fx_stop(struct fx *f)
{
	atomic_store(&f->stop, true);
	evloop_wake(&f->x.loop);
	pthread_join(f->dev, NULL);
}

static void fx_free(struct fx *f)
{
	blk_fx_destroy(&f->x);
	free(f);
}

/* Entries from old on published: kick if the device asked, as
 * virtqueue_kick_prepare_split() decides. */
static void fx_kick_prepare(struct fx *f, bool event_idx, uint16_t old)
{
	if (drv_kick_needed(&f->x.d, old, event_idx)) {
		blk_fx_kick(&f->x, 0);
		f->kicks_sent++;
	} else {
		f->kicks_skipped++;
	}
}

static void run_race(bool event_idx)
{
	/* Windows from 4 to 64 us: gaps shorter than the window are polled,
	 * longer ones end it (a miss), and a sleep longer than 64 us drops it
	 * to 0 (then the next quick event grows it again). */
	struct poll_params pp = { .max_ns = 64000, .grow = 2, .shrink = 0, .idle_ns = 0 };
	struct fx *f = fx_start(event_idx, &pp);
	uint32_t rng = 12345;

	/* One FLUSH request in descriptors 0 (header) and 1 (status), reused. */
	struct drv_blk_rq flush = drv_blk_alloc(&f->x.d, VIRTIO_BLK_T_FLUSH, 0, 0);
	drv_blk_put_direct(&f->x.d, &flush, 0, false);
	for (unsigned i = 0; i < ITERS; i++) {
		/* Vary the gap so that publishes land in every phase of the
		 * device's loop: mid-window, at the window's end, asleep. */
		rng = rng * 1103515245u + 12345u;
		unsigned r = (rng >> 16) & 63;
		spin_ns(r < 40 ? r * 250 : (r - 39) * 8000);

		uint16_t old = f->x.d.avail_idx, new_idx = (uint16_t)(old + 1);
		drv_avail(&f->x.d)->ring[old & (NUM - 1)] = 0;   /* head 0 */
		/* virtio_wmb() then the avail.idx store (release). */
		drv_set_avail_idx(&f->x.d, new_idx);
		fx_kick_prepare(f, event_idx, old);
		/* Wait for the completion; 2 s is forever here. */
		uint64_t deadline = now_ns() + 2000000000ull;
		while (drv_used_idx(&f->x.d) != new_idx) {
			if (now_ns() > deadline) {
				f->lost++;
				break;
			}
		}
		if (f->lost)
			break;
		f->x.d.last_used = new_idx;
	}
	fx_stop(f);

	printf("race event_idx=%d: %u requests, kicks sent %llu, skipped %llu, poll starts %llu, "
	       "stops %llu (re-check found work %llu), kicks drained late %llu, lost %llu\n",
	       event_idx, ITERS, (unsigned long long)f->kicks_sent, (unsigned long long)f->kicks_skipped,
	       (unsigned long long)f->x.loop.st.poll_starts, (unsigned long long)f->x.loop.st.poll_stops,
	       (unsigned long long)f->x.loop.st.poll_stop_hits, (unsigned long long)f->x.b.q[0].st.kicks_late,
	       (unsigned long long)f->lost);
	printf("  poll windows %llu hits %llu misses %llu; queue poll_drains %llu poll_windows %llu kicks %llu\n",
	       (unsigned long long)f->x.loop.st.poll_windows, (unsigned long long)f->x.loop.st.poll_hits,
	       (unsigned long long)f->x.loop.st.poll_misses, (unsigned long long)f->x.b.q[0].st.poll_drains,
	       (unsigned long long)f->x.b.q[0].st.poll_windows, (unsigned long long)f->x.b.q[0].st.kicks);
	assert_int_equal(f->lost, 0);
	assert_int_equal(f->x.b.q[0].st.requests, ITERS);
	/* The race window was exercised: every poll stop re-enabled kicks
	 * with the driver active.  (How many kicks were skipped depends on
	 * how busy the machine is: printed, not asserted.) */
	assert_true(f->x.loop.st.poll_stops > ITERS / 20);
	fx_free(f);
}

/*
 * A guest that re-posts GET_ID (answered at once, no backend) as fast as
 * the device answers: the driver keeps NUM outstanding and kicks as Linux
 * would, for more than 65536 requests (the indices wrap).  Every request
 * is answered, and no drain takes more than a queue size: the IOThread
 * goes back to its loop, the device lock free, between them, and finds the
 * rest by polling or by waking itself (the driver's kicks are off then).
 */
#define FLOOD 70000u

static void run_get_id_flood(bool event_idx, bool polled)
{
	struct poll_params pp = { .max_ns = polled ? 64000 : 0, .grow = 2 };
	struct fx *f = fx_start(event_idx, &pp);
	uint32_t posted = 0, answered = 0;

	/* Header, then the ID and status byte spread over the other NUM - 1
	 * descriptors: a request that costs the device a whole chain's walk,
	 * so that the driver refills while the device drains. */
	uint64_t hdr = drv_alloc(&f->x.d, DRV_BLK_HDR_BYTES, 16);
	uint64_t buf = drv_alloc(&f->x.d, 2 * (NUM - 1), 1);
	drv_blk_put_hdr(&f->x.d, hdr, VIRTIO_BLK_T_GET_ID, 0);
	drv_desc(&f->x.d, 0, hdr, DRV_BLK_HDR_BYTES, VRING_DESC_F_NEXT, 1);
	for (uint16_t i = 1; i < NUM; i++)
		drv_desc(&f->x.d, i, buf + 2u * (i - 1), 2,
			 VRING_DESC_F_WRITE | (i + 1 < NUM ? VRING_DESC_F_NEXT : 0), (uint16_t)(i + 1));
	while (answered < FLOOD) {
		uint16_t old = f->x.d.avail_idx;
		while (posted < FLOOD && posted - answered < NUM) {
			drv_publish(&f->x.d, 0);
			posted++;
		}
		if (f->x.d.avail_idx != old)
			fx_kick_prepare(f, event_idx, old);
		uint64_t deadline = now_ns() + 2000000000ull;
		while (drv_used_idx(&f->x.d) == (uint16_t)answered) {
			if (now_ns() > deadline) {
				f->lost++;
				break;
			}
		}
		if (f->lost)
			break;
		answered += (uint16_t)(drv_used_idx(&f->x.d) - (uint16_t)answered);
	}
	fx_stop(f);

	const struct blk_queue_stats *st = &f->x.b.q[0].st;
	printf("get_id flood event_idx=%d polled=%d: %u requests in %llu drains (largest %llu), "
	       "kicks sent %llu, skipped %llu, guest kicks seen %llu, lost %llu\n",
	       event_idx, polled, FLOOD, (unsigned long long)st->batches, (unsigned long long)st->batch_max,
	       (unsigned long long)f->kicks_sent, (unsigned long long)f->kicks_skipped,
	       (unsigned long long)(st->kicks + st->kicks_late), (unsigned long long)f->lost);
	assert_int_equal(f->lost, 0);
	assert_int_equal(st->requests, FLOOD);
	assert_int_equal(st->get_ids, FLOOD);
	assert_true(st->batch_max <= NUM);
	assert_true(st->batches >= FLOOD / NUM);
	assert_int_equal(st->err_ring, 0);
	fx_free(f);
}

static void test_race_flags(void **state) { (void)state; run_race(false); }
static void test_race_event_idx(void **state) { (void)state; run_race(true); }
static void test_get_id_flood_kicked(void **state) { (void)state; run_get_id_flood(true, false); }
static void test_get_id_flood_polled(void **state) { (void)state; run_get_id_flood(false, true); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_race_flags),
		cmocka_unit_test(test_race_event_idx),
		cmocka_unit_test(test_get_id_flood_kicked),
		cmocka_unit_test(test_get_id_flood_polled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
