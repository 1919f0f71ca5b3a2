/* SPDX-License-Identifier: MIT */
/*
 * How long the IOThread polls before it sleeps: QEMU's adaptive rule
 * (util/aio-posix.c adjust_polling_time, seeds 001/002), as a pure function
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
 * Defaults.  poll-max-ns is QEMU's IOThread default, 32768 ns: QEMU chose it
 * on NVMe (16-32 us polling helped QD1 and QD32), and on an ordinary VMX/SVM
 * host an eventfd wake-up of a sleeping IOThread costs a few us (seed 004
 * measured 4 us), so a longer window would only burn CPU for events that a
 * sleep would have caught almost as fast.  On the project's PVM machine a
 * wake-up costs ~22 us, which makes polling pay even more; blkbench there
 * (scripts/bench-poll, 4k randread QD1 on an ext4 O_DIRECT file): a read
 * completes in ~10-20 us, well inside 32 us, so the window grows to catch
 * both the completion and the next kick, and p50 drops from ~32 us to ~12 us
 * with zero kicks per I/O.  A larger window (65536) bought nothing there
 * measurable and costs idle-ish CPU everywhere, so we keep QEMU's value.
 * poll-grow 0 (= x2) and poll-shrink 0 (= straight to 0) are QEMU's too: one
 * long sleep means the source went quiet, and 4 us -> 32 us takes only
 * 4 short waits to win back.
 */
#define POLL_DEFAULT_MAX_NS   32768u
#define POLL_DEFAULT_GROW     0u        /* 0: double */
#define POLL_DEFAULT_SHRINK   0u        /* 0: drop to 0 */
/* Seed 001: a handler idle this long leaves the poll set (QEMU: 7 s). */
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
