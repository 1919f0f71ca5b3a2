/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer harnesses (tests/fuzz/) share: the guest RAM every
 * input is laid over, where the harnesses that take whole rings from the
 * input expect them (their corpora are written for this layout), and the
 * disk on the fake backend, whose submit hook runs the harness's checks.
 */
#ifndef POLLVM_TESTS_FUZZ_FX_H
#define POLLVM_TESTS_FUZZ_FX_H

#include <stdint.h>
#include <stdlib.h>

#include "blk_fx.h"

/* The harness's own checking loops: not coverage feedback, and ~10x faster. */
#define NO_COV __attribute__((no_sanitize("coverage"), noinline))

/* 64 KiB of guest RAM at 0x10000, so that 16-bit-ish addresses land in it. */
#define FUZZ_RAM_GPA   0x10000ULL
#define FUZZ_RAM_SIZE  0x10000ULL
/* Queue 0's rings, as offsets into that RAM. */
#define FUZZ_DESC_OFF  0x0000
#define FUZZ_AVAIL_OFF 0x1000
#define FUZZ_USED_OFF  0x2000

/*
 * The disk with parameters p on the fake backend over the harness's RAM
 * (returned, zeroed); check(arg, io) runs on every submit.  Aborts on
 * failure: a harness without its disk cannot run.
 */
static inline uint8_t *fuzz_fx_start(struct blk_fx *x, const struct blk_params *p,
				     void (*check)(void *arg, struct blk_io *io), void *arg)
{
	/* Each input places the rings itself. */
	drv_init_at(&x->d, FUZZ_RAM_GPA, VIRTQ_NUM_MAX, FUZZ_RAM_SIZE);
	x->be.on_submit = check;
	x->be.on_submit_arg = arg;
	if (blk_fx_start_fake(x, p))
		abort();
	return x->d.ram;
}

/* The driver's rings: num entries at FUZZ_*_OFF (their contents are the input's). */
static inline void fuzz_fx_place_rings(struct blk_fx *x, unsigned num)
{
	x->d.num = (uint16_t)num;
	x->d.desc = FUZZ_RAM_GPA + FUZZ_DESC_OFF;
	x->d.avail = FUZZ_RAM_GPA + FUZZ_AVAIL_OFF;
	x->d.used = FUZZ_RAM_GPA + FUZZ_USED_OFF;
}

/*
 * A driver that resets the device and brings queue 0 up by the book
 * (virtio 1.2 3.1.1) with the features of feat the device offers, on
 * num-entry rings at FUZZ_*_OFF: only the rings' contents come from the
 * input.
 */
static inline void fuzz_fx_reset_up(struct blk_fx *x, unsigned num, uint64_t feat)
{
	fuzz_fx_place_rings(x, num);
	drv_mmio_wr(&x->b.t, VIRTIO_MMIO_STATUS, 0);
	blk_fx_up(x, feat);
}

#endif
