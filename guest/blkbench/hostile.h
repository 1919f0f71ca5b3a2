/* SPDX-License-Identifier: MIT */
/* hostile=CASE|all (malformed chains) and crash=on (power-cut test). */
#ifndef BLKBENCH_HOSTILE_H
#define BLKBENCH_HOSTILE_H

#include "blk.h"
#include "opts.h"

/* Runs the cases on the set-up device at base; returns the exit value. */
unsigned hostile_run(const struct bb_opts *o, struct blkdev *b, const struct vdev *v, uint64_t base);
/* Writes, flushes, writes more, prints where the flush was acknowledged, never returns. */
__attribute__((noreturn)) unsigned crash_run(const struct bb_opts *o, struct blkdev *b, const struct vdev *v);

#endif
