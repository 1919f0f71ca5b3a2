/* SPDX-License-Identifier: MIT */
/* The benchmark loop (job.c): runs the job on a set-up device, prints the summary. */
#ifndef BLKBENCH_JOB_H
#define BLKBENCH_JOB_H

#include "blk.h"
#include "opts.h"

/* Returns the exit value (sys.h EXIT_*). */
unsigned job_run(const struct bb_opts *o, struct blkdev *b);

/* idle=N: leave the (still live) device alone for N seconds, spinning on
 * the TSC in guest user mode: what the VMM's IOThread costs on an idle disk. */
void idle_run(const struct bb_opts *o);

#endif
