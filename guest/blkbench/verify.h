/* SPDX-License-Identifier: MIT */
/*
 * The verify pattern: every 512-byte sector holds 64 words derived from
 * (seed, sector number), so a block written to or read from the wrong
 * place, a stale block or a torn one all show.  The same sector always
 * gets the same contents, so concurrent writes and reads of one sector
 * (randrw) never race into a false mismatch.
 */
#ifndef BLKBENCH_VERIFY_H
#define BLKBENCH_VERIFY_H

#include <stdint.h>

#define SECTOR 512   /* virtio 1.2 5.2.6: sector numbers count 512 bytes */

struct verify_err {
	uint64_t sector;        /* first bad sector */
	unsigned word;          /* first bad 8-byte word in it */
	uint64_t want, got;
};

void pattern_fill(void *buf, uint64_t sector, uint32_t len, uint64_t seed);
/* Number of bad sectors in buf; the first one described in *e. */
uint32_t pattern_check(const void *buf, uint64_t sector, uint32_t len, uint64_t seed,
		       struct verify_err *e);

#endif
