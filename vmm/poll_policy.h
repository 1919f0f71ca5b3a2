/* SPDX-License-Identifier: MIT */
/*
 * How long the IOThread polls before it sleeps: QEMU's adaptive rule
 * (util/aio-posix.c adjust_polling_time), as a pure function
 * of the time the last wait took, so that it can be tested with a fake clock.
 *
 * After each wait that took block_ns (polling plus blocking):
 *   block_ns <= poll_ns        polling caught the event: keep poll_ns;
 *   block_ns >  poll-max-ns    the wait was too long to be worth polling:
 *                              poll_ns /= poll-shrink (poll-shrink 0: to 0);
 *   else if poll_ns < max      the event came a little too late: grow,
 *                              from POLL_START_NS, *= poll-grow (0: 2),
 *                              capped at poll-max-ns.
 * poll-max-ns 0 turns polling off.
 */
#ifndef POLLVM_VMM_POLL_POLICY_H
#define POLLVM_VMM_POLL_POLICY_H

#include <stdint.h>

/*
 * Defaults: QEMU's.  A window longer than the few microseconds an eventfd
 * wake-up of a sleeping IOThread costs on a VMX/SVM host only burns CPU for
 * events a sleep would catch almost as fast; poll-grow 0 (x2) and
 * poll-shrink 0 (straight to 0): one long sleep means the source went
 * quiet, and 4 us -> 32 us takes only 4 short waits to win back.  The
 * measurements behind the choice: docs/benchmarks.md, "Polling defaults".
 */
#define POLL_DEFAULT_MAX_NS   32768u
#define POLL_DEFAULT_GROW     0u        /* 0: double */
#define POLL_DEFAULT_SHRINK   0u        /* 0: drop to 0 */
/* A handler idle this long leaves the poll set and waits on its fd (QEMU: 7 s). */
#define POLL_DEFAULT_IDLE_MS  7000u
/* First window when growing from 0 (QEMU: "start polling at 4 microseconds"). */
#define POLL_START_NS         4000u

struct poll_params {
	uint64_t max_ns;      /* poll-max-ns; 0: never poll */
	uint64_t grow;        /* poll-grow; 0: 2 */
	uint64_t shrink;      /* poll-shrink; 0: to 0 */
	uint64_t idle_ns;     /* poll-idle-ms in ns; 0: never remove idle handlers */
};

struct poll_policy {
	struct poll_params p;
	uint64_t poll_ns;     /* the current window */
	uint64_t grows, shrinks;
};

enum poll_adjust { POLL_KEPT = 0, POLL_GREW = 1, POLL_SHRANK = -1 };

/* QEMU's defaults (above). */
void poll_params_default(struct poll_params *p);
/* Start with poll_ns 0: the first short wait grows it. */
void poll_policy_init(struct poll_policy *pp, const struct poll_params *p);
/* Feed one wait's duration; returns what changed. */
enum poll_adjust poll_policy_adjust(struct poll_policy *pp, uint64_t block_ns);

#endif
