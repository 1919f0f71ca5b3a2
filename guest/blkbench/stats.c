/* SPDX-License-Identifier: MIT */
#include "stats.h"
#include "lib.h"

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

uint64_t hist_pct(const struct hist *h, unsigned per_10000)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (h->count * per_10000 + 9999) / 10000;   /* ceil: nearest-rank percentile */
	if (!rank)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo, width, mid;

		seen += h->b[i];
		if (seen < rank)
			continue;
		if (i < HIST_SUB) {
			lo = i;
			width = 1;
		} else {
			unsigned e = (i - HIST_SUB) / HIST_SUB;
			lo = (uint64_t)(HIST_SUB + (i - HIST_SUB) % HIST_SUB) << e;
			width = 1ull << e;
		}
		mid = lo + width / 2;
		return mid < h->min ? h->min : mid > h->max ? h->max : mid;
	}
	return h->max;
}

uint64_t ticks_to_ns(uint64_t ticks, uint64_t khz)
{
	/* ticks * 1e6 / khz, split so nothing overflows for any ticks < 2^64:
	 * the remainder is < khz <= 1e8, times 1e6 stays below 2^64. */
	return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

const char *fmt_us(char *buf, unsigned cap, uint64_t ns)
{
	uint64_t centi = (ns + 5) / 10;   /* hundredths of a microsecond, rounded */
	bb_snprintf(buf, cap, "%lu.%02lu", (unsigned long)(centi / 100), (unsigned long)(centi % 100));
	return buf;
}

const char *fmt_ratio(char *buf, unsigned cap, uint64_t n, uint64_t d)
{
	uint64_t milli = d ? (n * 1000 + d / 2) / d : 0;
	bb_snprintf(buf, cap, "%lu.%03lu", (unsigned long)(milli / 1000), (unsigned long)(milli % 1000));
	return buf;
}
