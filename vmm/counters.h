/* SPDX-License-Identifier: MIT */
/*
 * Counter sets, each defined once: an X-macro list next to its struct,
 * one counter per line, each followed by a comment saying what it counts:
 *
 *	#define FOO_STATS(C, M) \
 *		C(events) \
 *		M(depth_max)
 *
 *	struct foo_stats { COUNTER_FIELDS(FOO_STATS) };
 *
 * C is a count: over several instances (queues, disks) the total is the
 * sum.  M is a high-water mark: the total is the largest.  The struct's
 * fields, the totals (COUNTERS_ACCUMULATE), the --stats JSON (stats.h)
 * and the check that docs/counters.md documents each name and no other
 * (scripts/check-counters, which reads every *_STATS(C, M) list of
 * devices/ and vmm/) all come from the list.
 */
#ifndef POLLVM_VMM_COUNTERS_H
#define POLLVM_VMM_COUNTERS_H

#include <stdint.h>

#define COUNTER_FIELD(name) uint64_t name;
#define COUNTER_FIELDS(list) list(COUNTER_FIELD, COUNTER_FIELD)

/* How many counters a list has (an integer constant expression). */
#define COUNTER_ONE(name) +1
#define COUNTERS_NR(list) (0 list(COUNTER_ONE, COUNTER_ONE))

#define COUNTER_ADD_(name) counters_sum_->name += counters_src_->name;
#define COUNTER_MAX_(name) \
	if (counters_src_->name > counters_sum_->name) \
		counters_sum_->name = counters_src_->name;

/* Fold the counters of list in *src into *sum: counts add up, marks keep the largest. */
#define COUNTERS_ACCUMULATE(list, sum, src) do { \
	__typeof__(sum) counters_sum_ = (sum); \
	__typeof__(src) counters_src_ = (src); \
	list(COUNTER_ADD_, COUNTER_MAX_) \
} while (0)

#endif
