/* SPDX-License-Identifier: MIT */
#include "poll_policy.h"

#include <string.h>

void poll_params_default(struct poll_params *p)
{
	*p = (struct poll_params){
		.max_ns = POLL_DEFAULT_MAX_NS,
		.grow = POLL_DEFAULT_GROW,
		.shrink = POLL_DEFAULT_SHRINK,
		.idle_ns = POLL_DEFAULT_IDLE_MS * 1000000ull,
	};
}

void poll_policy_init(struct poll_policy *pp, const struct poll_params *p)
{
	memset(pp, 0, sizeof(*pp));
	pp->p = *p;
}

enum poll_adjust poll_policy_adjust(struct poll_policy *pp, uint64_t block_ns)
{
	uint64_t max = pp->p.max_ns;

	if (block_ns <= pp->poll_ns)
		return POLL_KEPT;               /* polling caught it: the sweet spot */
	if (block_ns > max) {
		/* Polling that long would cost more than sleeping: poll less. */
		if (pp->poll_ns == 0)
			return POLL_KEPT;
		pp->poll_ns = pp->p.shrink ? pp->poll_ns / pp->p.shrink : 0;
		pp->shrinks++;
		return POLL_SHRANK;
	}
	if (pp->poll_ns >= max)
		return POLL_KEPT;
	/* The event came within max but after the window: poll longer. */
	if (pp->poll_ns == 0) {
		pp->poll_ns = POLL_START_NS;
	} else {
		uint64_t grow = pp->p.grow ? pp->p.grow : 2;
		/* Saturate instead of wrapping for absurd poll-grow values. */
		pp->poll_ns = pp->poll_ns > max / grow ? max : pp->poll_ns * grow;
	}
	if (pp->poll_ns > max)
		pp->poll_ns = max;
	pp->grows++;
	return POLL_GREW;
}
