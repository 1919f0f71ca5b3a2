/* SPDX-License-Identifier: MIT */
/*
 * Counters, printed on stderr at exit and on SIGUSR1, and written as JSON
 * with --stats FILE.  The JSON keys are documented in docs/counters.md
 * and kept stable.
 */
#ifndef POLLVM_VMM_STATS_H
#define POLLVM_VMM_STATS_H

#include <stdbool.h>
#include <stdio.h>

struct vm;

void stats_print(const struct vm *vm, FILE *f);
/*
 * 0, or -1 with errno set. Written to a temp file and renamed into place.
 * final: at exit; else a snapshot of a running VM (SIGUSR1), numbered in
 * "snapshot" with the CLOCK_MONOTONIC time its counters were read.
 */
int stats_write_json(struct vm *vm, const char *path, bool final);

#endif
