/* SPDX-License-Identifier: MIT */
/*
 * The adaptive poll-time rule (QEMU's adjust_polling_time) and the
 * contention back-off, step by step with a fake clock and a
 * fake contention signal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/poll_contention.h"
#include "../../vmm/poll_policy.h"

static struct poll_policy mk(uint64_t max, uint64_t grow, uint64_t shrink)
{
	struct poll_params p = { .max_ns = max, .grow = grow, .shrink = shrink };
	struct poll_policy pp;
	poll_policy_init(&pp, &p);
	return pp;
}

/* Each step: block_ns fed -> poll_ns expected, and what happened. */
struct step { uint64_t block_ns, poll_ns; int adj; };

static void run(struct poll_policy *pp, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int adj = poll_policy_adjust(pp, s[i].block_ns);
		if (pp->poll_ns != s[i].poll_ns || adj != s[i].adj)
			fail_msg("step %zu: block %llu -> poll_ns %llu adj %d, expected %llu adj %d", i,
				 (unsigned long long)s[i].block_ns, (unsigned long long)pp->poll_ns, adj,
				 (unsigned long long)s[i].poll_ns, s[i].adj);
	}
}

static void test_defaults_are_qemus(void **state)
{
	struct poll_params p;
	(void)state;
	poll_params_default(&p);
	assert_int_equal(p.max_ns, 32768);
	assert_int_equal(p.grow, 0);
	assert_int_equal(p.shrink, 0);
	assert_int_equal(p.idle_ns, 7000000000ull);
}

static void test_grow_from_start_double_cap(void **state)
{
	(void)state;
	struct poll_policy pp = mk(32768, 0, 0);
	const struct step s[] = {
		{ 10000, 4000, POLL_GREW },     /* from 0: the start value */
		{ 10000, 8000, POLL_GREW },     /* poll-grow 0: x2 */
		{ 10000, 16000, POLL_GREW },    /* still < block: grows even past block_ns */
		{ 10000, 16000, POLL_KEPT },    /* block <= poll_ns: the sweet spot */
		{ 16000, 16000, POLL_KEPT },    /* equal: kept */
		{ 20000, 32000, POLL_GREW },
		{ 32768, 32768, POLL_GREW },    /* capped at poll-max-ns (block == max grows) */
		{ 32769, 0, POLL_SHRANK },      /* > max, poll-shrink 0: straight to 0 */
		{ 99999999, 0, POLL_KEPT },     /* nothing left to shrink */
		{ 1, 4000, POLL_GREW },         /* any short wait starts again */
	};
	run(&pp, s, sizeof(s) / sizeof(s[0]));
	assert_int_equal(pp.grows, 6);
	assert_int_equal(pp.shrinks, 1);
}

static void test_grow_factor_and_shrink_divisor(void **state)
{
	(void)state;
	struct poll_policy pp = mk(100000, 3, 4);
	const struct step s[] = {
		{ 50000, 4000, POLL_GREW },
		{ 50000, 12000, POLL_GREW },
		{ 50000, 36000, POLL_GREW },
		{ 50000, 100000, POLL_GREW },   /* 108000 capped */
		{ 100000, 100000, POLL_KEPT },
		{ 200000, 25000, POLL_SHRANK }, /* / poll-shrink */
		{ 200000, 6250, POLL_SHRANK },
		{ 200000, 1562, POLL_SHRANK },
		{ 1000, 1562, POLL_KEPT },
		{ 200000, 390, POLL_SHRANK },
		{ 200000, 97, POLL_SHRANK },
		{ 200000, 24, POLL_SHRANK },
		{ 200000, 6, POLL_SHRANK },
		{ 200000, 1, POLL_SHRANK },
		{ 200000, 0, POLL_SHRANK },
		{ 200000, 0, POLL_KEPT },
	};
	run(&pp, s, sizeof(s) / sizeof(s[0]));
}

static void test_max_zero_never_polls(void **state)
{
	(void)state;
	struct poll_policy pp = mk(0, 0, 0);
	const struct step s[] = { { 0, 0, POLL_KEPT }, { 1, 0, POLL_KEPT }, { 100, 0, POLL_KEPT } };
	run(&pp, s, sizeof(s) / sizeof(s[0]));
}

static void test_max_below_start(void **state)
{
	(void)state;
	struct poll_policy pp = mk(1000, 0, 0);
	const struct step s[] = { { 500, 1000, POLL_GREW }, { 500, 1000, POLL_KEPT }, { 1001, 0, POLL_SHRANK } };
	run(&pp, s, sizeof(s) / sizeof(s[0]));
}

static void test_huge_grow_saturates(void **state)
{
	(void)state;
	struct poll_policy pp = mk(1000000000, 1000, 0);
	const struct step s[] = { { 900000000, 4000, POLL_GREW }, { 900000000, 4000000, POLL_GREW },
				  { 900000000, 1000000000, POLL_GREW } };
	run(&pp, s, sizeof(s) / sizeof(s[0]));
}

/* ---- contention ------------------------------------------------------------ */

#define MS 1000000ull

static void test_contention_backoff_and_resume(void **state)
{
	(void)state;
	struct poll_contention c;
	uint64_t t = 1000 * MS, sig = 100;

	contention_init(&c);
	assert_true(contention_allows(&c, t));
	assert_true(contention_due(&c, t));          /* baseline first */
	assert_false(contention_feed(&c, t, sig));
	/* Not due before a period of polling. */
	assert_false(contention_due(&c, t + 3 * MS));
	contention_polled(&c);
	assert_false(contention_due(&c, t + 1 * MS));
	assert_true(contention_due(&c, t + 2 * MS));
	/* One involuntary switch: a blip, not contention. */
	t += 2 * MS;
	assert_false(contention_feed(&c, t, sig += 1));
	assert_int_equal(c.samples, 1);
	/* Two in a period: back off for the minimum. */
	contention_polled(&c);
	t += 2 * MS;
	assert_true(contention_feed(&c, t, sig += 2));
	assert_int_equal(c.backoffs, 1);
	assert_false(contention_allows(&c, t + 9 * MS));
	assert_false(contention_due(&c, t + 9 * MS)); /* no sampling while backing off */
	assert_true(contention_allows(&c, t + 10 * MS));
	/* Resume: a new baseline, then still contended: twice as long. */
	t += 10 * MS;
	assert_true(contention_due(&c, t));
	assert_false(contention_feed(&c, t, sig += 50)); /* baseline: no verdict */
	contention_polled(&c);
	t += 2 * MS;
	assert_true(contention_feed(&c, t, sig += 5));
	assert_false(contention_allows(&c, t + 19 * MS));
	assert_true(contention_allows(&c, t + 20 * MS));
	/* Contention gone: polling stays on and the back-off resets. */
	t += 20 * MS;
	assert_false(contention_feed(&c, t, sig));
	contention_polled(&c);
	t += 2 * MS;
	assert_false(contention_feed(&c, t, sig));
	assert_int_equal(c.backoff_ns, CONTENTION_BACKOFF_MIN_NS);
	assert_true(contention_allows(&c, t));
	assert_int_equal(c.backoffs, 2);
}

static void test_contention_backoff_capped(void **state)
{
	(void)state;
	struct poll_contention c;
	uint64_t t = 0, sig = 0;

	contention_init(&c);
	for (int i = 0; i < 20; i++) {
		contention_feed(&c, t, sig);            /* baseline */
		contention_polled(&c);
		t += 2 * MS;
		assert_true(contention_feed(&c, t, sig += 10));
		t = c.backoff_until;
	}
	assert_int_equal(c.backoff_ns, CONTENTION_BACKOFF_MAX_NS);
}

/* What one sample of each signal costs (printed; docs/usage.md quotes it). */
static void test_contention_signal_cost(void **state)
{
	(void)state;
	struct timespec a, b;
	int fd = -1;
	enum { N = 2000 };
	uint64_t sum = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++)
		sum += contention_read_nivcsw(NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ru = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / N;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++)
		sum += contention_read_rq_wait(&fd);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ss = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / N;
	printf("contention signal cost: getrusage(RUSAGE_THREAD) %.0f ns, schedstat pread %.0f ns (sum %llu)\n",
	       ru, ss, (unsigned long long)sum);
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_qemus),
		cmocka_unit_test(test_grow_from_start_double_cap),
		cmocka_unit_test(test_grow_factor_and_shrink_divisor),
		cmocka_unit_test(test_max_zero_never_polls),
		cmocka_unit_test(test_max_below_start),
		cmocka_unit_test(test_huge_grow_saturates),
		cmocka_unit_test(test_contention_backoff_and_resume),
		cmocka_unit_test(test_contention_backoff_capped),
		cmocka_unit_test(test_contention_signal_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
