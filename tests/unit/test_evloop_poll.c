/* SPDX-License-Identifier: MIT */
/*
 * The event loop's polling with a fake clock, fake sources and a fake
 * contention signal: poll only when every source can be polled; the
 * window follows the policy; idle sources leave the poll set and come back
 * on an fd event; contention stops polling until it goes away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../vmm/evloop.h"

#define US 1000ull
#define MS 1000000ull

struct src {
	int fd;
	int pending;          /* work the source has */
	unsigned polls, poll_work, fd_work, begins, ends, end_work;
	bool suppressed;      /* between begin and end */
	struct evloop_handler h;
};

static bool src_poll(void *o)
{
	struct src *s = o;
	s->polls++;
	if (!s->pending)
		return false;
	s->pending--;
	s->poll_work++;
	return true;
}

static void src_fd(void *o)
{
	struct src *s = o;
	uint64_t v;
	if (read(s->fd, &v, 8) == 8 && s->pending) {
		s->pending--;
		s->fd_work++;
	}
}

static void src_begin(void *o) { struct src *s = o; s->begins++; s->suppressed = true; }

static bool src_end(void *o)
{
	struct src *s = o;
	s->ends++;
	s->suppressed = false;
	if (!s->pending)
		return false;
	s->pending--;
	s->end_work++;
	return true;
}

static void src_make(struct src *s, bool pollable)
{
	memset(s, 0, sizeof(*s));
	s->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->h = (struct evloop_handler){
		.fd = s->fd, .on_fd = src_fd, .opaque = s, .name = "fake",
		.on_poll = pollable ? src_poll : NULL,
		.on_poll_begin = pollable ? src_begin : NULL,
		.on_poll_end = pollable ? src_end : NULL,
	};
}

/* Work arrives with a notification, as a guest kick would. */
static void src_work(struct src *s)
{
	uint64_t one = 1;
	s->pending++;
	assert_int_equal(write(s->fd, &one, 8), 8);
}

/* The fake clock: every reading advances it by step. */
struct fclock { uint64_t t, step; };
static uint64_t fclock_read(void *o) { struct fclock *c = o; c->t += c->step; return c->t; }
struct fsig { uint64_t v; unsigned reads; };
static uint64_t fsig_read(void *o) { struct fsig *s = o; s->reads++; return s->v; }

struct fx {
	struct evloop l;
	struct fclock clk;
	struct fsig sig;
	struct src a, b, c;
};

static struct fx *fx_new(uint64_t max_ns, uint64_t idle_ns, bool contention)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct poll_params p = { .max_ns = max_ns, .idle_ns = idle_ns };

	assert_int_equal(evloop_init(&f->l), 0);
	f->clk = (struct fclock){ .t = 1000 * MS, .step = 1 * US };
	f->l.clock = fclock_read;
	f->l.clock_opaque = &f->clk;
	f->l.contention_read = fsig_read;
	f->l.contention_opaque = &f->sig;
	evloop_set_poll(&f->l, &p, contention);
	return f;
}

static void fx_free(struct fx *f)
{
	struct src *ss[] = { &f->a, &f->b, &f->c };
	for (unsigned i = 0; i < 3; i++) {
		if (ss[i]->h.loop)
			evloop_del(&f->l, &ss[i]->h);
		if (ss[i]->fd > 0)
			close(ss[i]->fd);
	}
	evloop_destroy(&f->l);
	free(f);
}

static void test_poll_only_when_all_pollable(void **state)
{
	(void)state;
	struct fx *f = fx_new(32 * US, 0, false);

	src_make(&f->a, true);
	src_make(&f->b, false);
	assert_int_equal(evloop_add(&f->l, &f->a.h), 0);
	assert_int_equal(evloop_add(&f->l, &f->b.h), 0);
	f->l.policy.poll_ns = 16 * US;
	/* b cannot be polled: a's work is found through its fd only. */
	src_work(&f->a);
	assert_int_equal(evloop_run_once(&f->l, 1), 1);
	assert_int_equal(f->l.st.polls, 0);
	assert_int_equal(f->a.fd_work, 1);
	assert_int_equal(f->a.begins, 0);
	/* Without b the loop polls, and finds a's work without the fd. */
	evloop_del(&f->l, &f->b.h);
	f->l.policy.poll_ns = 16 * US;
	f->a.pending++;
	assert_true(evloop_run_once(&f->l, 1) >= 1);
	assert_int_equal(f->a.poll_work, 1);
	assert_int_equal(f->a.begins, 1);          /* notifications suppressed */
	assert_true(f->a.suppressed);
	assert_int_equal(f->l.st.poll_hits, 1);
	/* Nothing more: the window runs out (16 us of fake time), then the
	 * re-check at poll end, then the (1 ms) wait. */
	assert_int_equal(evloop_run_once(&f->l, 1), 0);
	assert_int_equal(f->l.st.poll_misses, 1);
	assert_int_equal(f->a.ends, 1);
	assert_false(f->a.suppressed);
	assert_true(f->a.polls >= 16 && f->a.polls <= 18);
	/* Work that arrives just as polling stops is caught by the re-check. */
	f->l.policy.poll_ns = 4 * US;
	assert_int_equal(evloop_run_once(&f->l, 1), 0);  /* begin .. miss .. end */
	f->a.pending++;
	f->l.policy.poll_ns = 0;                          /* not polling: only its fd */
	assert_int_equal(evloop_run_once(&f->l, 1), 0);
	assert_int_equal(f->a.pending, 1);                /* nothing saw it: no fd write */
	f->l.policy.poll_ns = 4 * US;
	f->a.pending = 0;
	fx_free(f);
}

static void test_window_follows_policy(void **state)
{
	(void)state;
	struct fx *f = fx_new(32 * US, 0, false);

	src_make(&f->a, true);
	assert_int_equal(evloop_add(&f->l, &f->a.h), 0);
	/* poll_ns 0: blocks; a quick event (fake clock: a few us) grows it. */
	src_work(&f->a);
	assert_int_equal(evloop_run_once(&f->l, 1), 1);
	assert_int_equal(f->l.policy.poll_ns, POLL_START_NS);
	assert_int_equal(f->l.st.poll_grows, 1);
	/* A long quiet wait (1 ms real, and a 2 ms step of fake time) drops it to 0. */
	f->clk.step = 2 * MS;
	assert_int_equal(evloop_run_once(&f->l, 1), 0);
	assert_int_equal(f->l.policy.poll_ns, 0);
	assert_int_equal(f->l.st.poll_shrinks, 1);
	fx_free(f);
}

static void test_idle_removal_and_readd(void **state)
{
	(void)state;
	struct fx *f = fx_new(32 * US, 7000 * MS, false);
	unsigned b_polls;

	src_make(&f->a, true);
	src_make(&f->b, true);
	src_make(&f->c, true);
	assert_int_equal(evloop_add(&f->l, &f->a.h), 0);
	assert_int_equal(evloop_add(&f->l, &f->b.h), 0);
	assert_int_equal(evloop_add(&f->l, &f->c.h), 0);
	assert_int_equal(f->l.nr_poll, 5);   /* + the loop's own wake and timer sources */
	f->l.policy.poll_ns = 32 * US;
	f->clk.step = 100 * US;
	/* a busy, b and c idle: 7 s of fake time is 35000 clock reads. */
	for (int i = 0; i < 40000 && f->l.nr_poll > 1; i++) {
		f->a.pending++;
		assert_true(evloop_run_once(&f->l, 1) >= 1);
		if (f->clk.t < 1000 * MS + 6900 * MS)
			assert_int_equal(f->l.nr_poll, 5);
	}
	assert_int_equal(f->l.nr_poll, 1);
	assert_int_equal(f->l.poll_set[0], &f->a.h);
	assert_int_equal(f->b.h.poll_slot, -1);
	assert_int_equal(f->b.h.st.poll_removals, 1);
	assert_int_equal(f->b.ends, 1);                     /* notifications back on */
	assert_false(f->b.suppressed);
	assert_int_equal(f->l.st.poll_removals, 4);         /* b, c, wake, timer */
	/* Polling no longer touches the idle ones: the cost is a's alone. */
	b_polls = f->b.polls;
	for (int i = 0; i < 100; i++) {
		f->a.pending++;
		evloop_run_once(&f->l, 1);
	}
	assert_int_equal(f->b.polls, b_polls);
	/* An fd event on b (while a keeps the loop polling) brings it back. */
	src_work(&f->b);
	for (int i = 0; i < 10 && !f->b.fd_work; i++) {
		f->a.pending++;
		evloop_run_once(&f->l, 1);
	}
	assert_int_equal(f->b.fd_work, 1);
	assert_int_equal(f->b.h.st.poll_adds, 1);
	assert_true(f->b.h.poll_slot >= 0);
	assert_true(f->b.suppressed);                       /* polled again: kicks off */
	assert_true(f->l.st.fd_checks >= 1);
	f->b.pending++;
	f->a.pending++;
	evloop_run_once(&f->l, 1);
	assert_int_equal(f->b.poll_work, 1);
	fx_free(f);
}

static void test_contention_stops_polling(void **state)
{
	(void)state;
	struct fx *f = fx_new(32 * US, 0, true);
	uint64_t polls;

	src_make(&f->a, true);
	assert_int_equal(evloop_add(&f->l, &f->a.h), 0);
	f->l.policy.poll_ns = 32 * US;
	f->clk.step = 100 * US;
	/* No contention: polling goes on, sampled once per period. */
	for (int i = 0; i < 100; i++) {
		f->a.pending++;
		assert_true(evloop_run_once(&f->l, 1) >= 1);
	}
	assert_int_equal(f->l.st.contention_backoffs, 0);
	assert_true(f->l.st.contention_samples >= 5);
	assert_int_equal(f->a.poll_work, 100);
	/* Another task takes our CPU: switches we did not ask for. */
	f->sig.v += 10;
	for (int i = 0; i < 20 && !f->l.st.contention_backoffs; i++) {
		f->a.pending++;
		evloop_run_once(&f->l, 1);
	}
	assert_int_equal(f->l.st.contention_backoffs, 1);
	/* Backing off: no polling; the next iteration turns notifications
	 * back on before it sleeps, and work comes by fd. */
	polls = f->l.st.polls;
	for (int i = 0; i < 20; i++) {
		src_work(&f->a);
		evloop_run_once(&f->l, 1);
		assert_false(f->a.suppressed);
	}
	assert_int_equal(f->l.st.polls, polls);
	assert_true(f->a.fd_work + f->a.end_work >= 20);
	assert_true(f->a.fd_work >= 18);
	/* Contention gone; after the back-off (10 ms fake) polling resumes. */
	f->l.policy.poll_ns = 32 * US;
	f->clk.t += CONTENTION_BACKOFF_MIN_NS;
	for (int i = 0; i < 50; i++) {
		f->a.pending++;
		evloop_run_once(&f->l, 1);
	}
	assert_true(f->l.st.polls > polls);
	assert_int_equal(f->l.st.contention_backoffs, 1);
	fx_free(f);
}

/* ---- timers (interrupt coalescing's clock) ---- */

struct tcb { unsigned runs; struct evloop *l; struct evloop_timer *rearm; uint64_t rearm_at; };
static void tcb_fn(void *o)
{
	struct tcb *c = o;
	c->runs++;
	if (c->rearm) {
		evloop_timer_arm(c->l, c->rearm, c->rearm_at);
		c->rearm = NULL;
	}
}

static void test_timer_fake_clock_while_polling(void **state)
{
	(void)state;
	struct fx *f = fx_new(32 * US, 0, false);
	struct tcb c = { 0 };
	struct evloop_timer t = { .fn = tcb_fn, .opaque = &c }, u = { .fn = tcb_fn, .opaque = &c };

	src_make(&f->a, true);
	assert_int_equal(evloop_add(&f->l, &f->a.h), 0);
	f->l.policy.poll_ns = 32 * US;
	/* Due in 200 us of fake time: polling windows pass it by, then it runs, once. */
	assert_int_equal(evloop_timer_arm(&f->l, &t, f->clk.t + 200 * US), 0);
	f->a.pending = 1000;
	for (int i = 0; i < 50; i++)
		evloop_run_once(&f->l, 1);
	assert_true(f->clk.t < 1000 * MS + 200 * US);       /* 50 passes: ~100 us */
	assert_int_equal(c.runs, 0);
	for (int i = 0; i < 200 && !c.runs; i++)
		evloop_run_once(&f->l, 1);
	assert_int_equal(c.runs, 1);
	assert_true(f->clk.t >= 1000 * MS + 200 * US);
	assert_false(t.armed);
	assert_int_equal(f->l.st.timer_fires, 1);
	/* A cancelled timer never runs; one re-armed from its callback does. */
	assert_int_equal(evloop_timer_arm(&f->l, &t, f->clk.t + 10 * US), 0);
	evloop_timer_cancel(&f->l, &t);
	c.l = &f->l;
	c.rearm = &u;
	c.rearm_at = f->clk.t + 50 * US;
	assert_int_equal(evloop_timer_arm(&f->l, &t, f->clk.t + 20 * US), 0);
	evloop_timer_cancel(&f->l, &t);
	assert_int_equal(f->l.nr_timers, 0);
	assert_int_equal(evloop_timer_arm(&f->l, &t, f->clk.t + 20 * US), 0);
	for (int i = 0; i < 200 && c.runs < 3; i++)
		evloop_run_once(&f->l, 1);
	assert_int_equal(c.runs, 3);                          /* t, then u armed by t */
	assert_int_equal(f->l.nr_timers, 0);
	fx_free(f);
}

static void test_timer_wakes_blocked_loop(void **state)
{
	(void)state;
	struct evloop l;
	struct tcb c = { 0 };
	struct evloop_timer t = { .fn = tcb_fn, .opaque = &c };

	/* Real clock, polling off: the timerfd must end the (unbounded) wait. */
	assert_int_equal(evloop_init(&l), 0);
	assert_int_equal(evloop_timer_arm(&l, &t, evloop_now_ns(NULL) + 2 * MS), 0);
	while (!c.runs)
		assert_true(evloop_run_once(&l, -1) >= 0);
	assert_int_equal(c.runs, 1);
	assert_int_equal(l.timer_fd_deadline, 0);            /* nothing left armed */
	/* Cancelled: the wait runs to its own timeout. */
	assert_int_equal(evloop_timer_arm(&l, &t, evloop_now_ns(NULL) + 1 * MS), 0);
	evloop_timer_cancel(&l, &t);
	assert_int_equal(evloop_run_once(&l, 5), 0);
	assert_int_equal(c.runs, 1);
	evloop_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_only_when_all_pollable),
		cmocka_unit_test(test_window_follows_policy),
		cmocka_unit_test(test_idle_removal_and_readd),
		cmocka_unit_test(test_contention_stops_polling),
		cmocka_unit_test(test_timer_fake_clock_while_polling),
		cmocka_unit_test(test_timer_wakes_blocked_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
