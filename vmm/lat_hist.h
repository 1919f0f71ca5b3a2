/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms cheap enough to stay on: one rdtsc per stamp, one
 * bit scan and one increment per sample.  Bucket k counts intervals of
 * [2^k, 2^(k+1)) TSC cycles (bucket 0 also holds 0 and 1 cycle); the
 * printers turn the bounds into nanoseconds with the TSC rate measured
 * over the process's life (tsc_rate_hz), so no calibration delays start-up.
 *
 * One thread writes a histogram (the IOThread serving the queue); readers
 * (the stats printers) may see a sample in flight, never a torn counter.
 */
#ifndef POLLVM_VMM_LAT_HIST_H
#define POLLVM_VMM_LAT_HIST_H

#include <stdint.h>
#include <x86intrin.h>

#define LAT_HIST_BUCKETS 64   /* every uint64_t interval has its bucket */

struct lat_hist {
	uint64_t n[LAT_HIST_BUCKETS];
};

static inline uint64_t lat_now(void)
{
	return __rdtsc();
}

/* Record the interval from t0 to t1 (TSC cycles; a TSC that went back counts as 0). */
static inline void lat_hist_add(struct lat_hist *h, uint64_t t0, uint64_t t1)
{
	uint64_t d = t1 - t0;
	unsigned k = 63u - (unsigned)__builtin_clzll(d | 1);

	if ((int64_t)d < 0)
		k = 0;
	/* One writer: a relaxed store is enough for readers to see whole counts. */
	__atomic_store_n(&h->n[k], h->n[k] + 1, __ATOMIC_RELAXED);
}

static inline uint64_t lat_hist_count(const struct lat_hist *h)
{
	uint64_t s = 0;

	for (unsigned k = 0; k < LAT_HIST_BUCKETS; k++)
		s += __atomic_load_n(&h->n[k], __ATOMIC_RELAXED);
	return s;
}

/*
 * An upper bound of the q-th quantile (0 < q <= 1) of the samples: the
 * upper end of the bucket that holds it, in cycles; 0 when there are none.
 */
static inline uint64_t lat_hist_quantile(const struct lat_hist *h, double q)
{
	uint64_t total = lat_hist_count(h), want, seen = 0;

	if (!total)
		return 0;
	want = (uint64_t)((double)total * q + 0.999999);
	for (unsigned k = 0; k < LAT_HIST_BUCKETS; k++) {
		seen += __atomic_load_n(&h->n[k], __ATOMIC_RELAXED);
		if (seen >= want)
			return 2ull << k;
	}
	return 2ull << (LAT_HIST_BUCKETS - 1);
}

/* Start measuring the TSC's rate (at start-up: the longer the baseline, the better). */
void tsc_rate_start(void);
/* The TSC's rate in Hz, against CLOCK_MONOTONIC since tsc_rate_start() (or the first call). */
double tsc_rate_hz(void);

#endif
