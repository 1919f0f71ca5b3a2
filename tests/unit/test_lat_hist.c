/* SPDX-License-Identifier: MIT */
/* The latency histograms: buckets, quantile bounds, the TSC rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "../../vmm/lat_hist.h"

static void test_buckets(void **state)
{
	struct lat_hist h = { 0 };
	(void)state;

	lat_hist_add(&h, 100, 100);        /* 0 cycles: bucket 0 */
	lat_hist_add(&h, 100, 101);        /* 1: bucket 0 */
	lat_hist_add(&h, 100, 102);        /* 2: bucket 1 */
	lat_hist_add(&h, 100, 103);        /* 3: bucket 1 */
	lat_hist_add(&h, 0, 1000);         /* 512..1023: bucket 9 */
	lat_hist_add(&h, 0, UINT64_MAX / 2); /* 2^62..2^63-1: bucket 62 */
	lat_hist_add(&h, 50, 10);          /* the TSC went back: 0 */
	assert_int_equal(h.n[0], 3);
	assert_int_equal(h.n[1], 2);
	assert_int_equal(h.n[9], 1);
	assert_int_equal(h.n[62], 1);
	assert_int_equal(lat_hist_count(&h), 7);
}

static void test_quantiles(void **state)
{
	struct lat_hist h = { 0 };
	(void)state;

	assert_int_equal(lat_hist_quantile(&h, 0.5), 0);
	/* 90 samples of ~1000 cycles, 10 of ~100000. */
	for (int i = 0; i < 90; i++)
		lat_hist_add(&h, 0, 1000);
	for (int i = 0; i < 10; i++)
		lat_hist_add(&h, 0, 100000);
	/* Upper bounds of the buckets holding them: 1024 and 131072. */
	assert_int_equal(lat_hist_quantile(&h, 0.5), 1024);
	assert_int_equal(lat_hist_quantile(&h, 0.9), 1024);
	assert_int_equal(lat_hist_quantile(&h, 0.91), 131072);
	assert_int_equal(lat_hist_quantile(&h, 0.99), 131072);
	assert_int_equal(lat_hist_quantile(&h, 1.0), 131072);
}

static void test_tsc_rate(void **state)
{
	(void)state;
	tsc_rate_start();
	struct timespec ts = { 0, 20000000 };
	nanosleep(&ts, NULL);
	double hz = tsc_rate_hz();
	/* Any x86-64 TSC of this century: between 100 MHz and 10 GHz. */
	assert_true(hz > 1e8 && hz < 1e10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_tsc_rate),
	};
	return cmocka_run_group_tests_name("lat_hist", tests, NULL, NULL);
}
