/* SPDX-License-Identifier: MIT */
#include "lat_hist.h"

#include <pthread.h>
#include <time.h>

static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;
static uint64_t tsc0, mono0;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void tsc_base(void)
{
	mono0 = mono_ns();
	tsc0 = lat_now();
}

void tsc_rate_start(void)
{
	pthread_once(&tsc_once, tsc_base);
}

double tsc_rate_hz(void)
{
	uint64_t m, t;

	tsc_rate_start();
	/* At least 1 ms of baseline: the two clocks' read skew stays below 0.1 %. */
	do {
		m = mono_ns();
		t = lat_now();
	} while (m - mono0 < 1000000);
	return (double)(t - tsc0) * 1e9 / (double)(m - mono0);
}
