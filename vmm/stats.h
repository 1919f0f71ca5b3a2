/* SPDX-License-Identifier: MIT */
/*
 * Counters, printed on stderr at exit and on SIGUSR1, and written as JSON
 * with --stats FILE.  The JSON keys are documented in README.md ("Stats")
 * and kept stable.
 */
#ifndef POLLVM_VMM_STATS_H
#define POLLVM_VMM_STATS_H

#include <stdio.h>

struct vm;

void stats_print(const struct vm *vm, FILE *f);
/* 0, or -1 with errno set. Written to a temp file and renamed into place. */
int stats_write_json(const struct vm *vm, const char *path);

#endif
