/* SPDX-License-Identifier: MIT */
/*
 * Counters, printed on stderr at exit and on SIGUSR1, and written as JSON
 * with --stats FILE.  The JSON keys are documented in docs/counters.md
 * and kept stable.
 */
#ifndef POLLVM_VMM_STATS_H
#define POLLVM_VMM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vm;
struct vm_disks;

void stats_print(const struct vm *vm, FILE *f);
/*
 * 0, or -1 with errno set. Written to a temp file and renamed into place.
 * final: at exit; else a snapshot of a running VM (SIGUSR1), numbered in
 * "snapshot" with the CLOCK_MONOTONIC time its counters were read.
 */
int stats_write_json(struct vm *vm, const char *path, bool final);

/* The disks' and IOThreads' lines of stats_print(), and their JSON (disks_stats.c). */
void disks_stats_print(const struct vm_disks *ds, FILE *f);
void disks_stats_json(const struct vm_disks *ds, FILE *f);

/*
 * One counter, after *sep: as JSON ("key": value; the next separator is
 * ", ") or as text (key=value; then " ").
 */
void stats_counter(FILE *f, const char **sep, bool json, const char *key, uint64_t v);

/* Each counter of list (a *_STATS(C, M) list, counters.h) in *s, by stats_counter(). */
#define STATS_COUNTER_(name) stats_counter(stats_f_, stats_sep_, stats_json_, #name, stats_s_->name);
#define STATS_COUNTERS(list, f, sep, json, s) do { \
	FILE *stats_f_ = (f); \
	const char **stats_sep_ = (sep); \
	bool stats_json_ = (json); \
	__typeof__(s) stats_s_ = (s); \
	list(STATS_COUNTER_, STATS_COUNTER_) \
} while (0)

#endif
