/* SPDX-License-Identifier: MIT */
/*
 * Latency histogram in TSC ticks: exact below 64 ticks, then 64 linear
 * sub-buckets per power of two, so a bucket is at most 1/64 of its value
 * wide and its midpoint is within 0.8% of any sample in it (the job asks
 * for percentiles within ~2%).  Fixed size (~30 KiB), O(1) insert.
 */
#ifndef BLKBENCH_STATS_H
#define BLKBENCH_STATS_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

static inline unsigned hist_bucket(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;   /* v >> e in [64, 128) */
	return HIST_SUB + e * HIST_SUB + (unsigned)((v >> e) - HIST_SUB);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	if (!h->min || v < h->min)
		h->min = v;
}

void hist_reset(struct hist *h);
/* The value below which `per_mille_x10` / 10000 of samples fall (p50 = 5000,
 * p99.9 = 9990), as its bucket's midpoint clamped to [min, max]. */
uint64_t hist_pct(const struct hist *h, unsigned per_10000);

/* ticks -> nanoseconds at tsc_khz, without 128-bit division. */
uint64_t ticks_to_ns(uint64_t ticks, uint64_t tsc_khz);

/* "12.34": a nanosecond count as microseconds with two decimals, into buf. */
const char *fmt_us(char *buf, unsigned cap, uint64_t ns);
/* "1.234": n / d with three decimals. */
const char *fmt_ratio(char *buf, unsigned cap, uint64_t n, uint64_t d);

#endif
