/* SPDX-License-Identifier: MIT */
#include "verify.h"

#define GOLDEN 0x9e3779b97f4a7c15ull   /* 2^64 / phi: consecutive words differ in many bits */

/* Data buffers may start at any byte (buf_offset=): words are read and
 * written through a type that promises no alignment. */
typedef uint64_t __attribute__((aligned(1), may_alias)) u64_any;

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a cheap, good mix. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t sector_key(uint64_t seed, uint64_t sector)
{
	return mix64(seed ^ mix64(sector + GOLDEN));
}

void pattern_fill(void *buf, uint64_t sector, uint32_t len, uint64_t seed)
{
	u64_any *w = buf;

	for (uint32_t s = 0; s < len / SECTOR; s++, sector++) {
		uint64_t k = sector_key(seed, sector);
		for (unsigned j = 0; j < SECTOR / 8; j++)
			*w++ = k + j * GOLDEN;
	}
}

uint32_t pattern_check(const void *buf, uint64_t sector, uint32_t len, uint64_t seed,
		       struct verify_err *e)
{
	const u64_any *w = buf;
	uint32_t bad = 0;

	for (uint32_t s = 0; s < len / SECTOR; s++, sector++, w += SECTOR / 8) {
		uint64_t k = sector_key(seed, sector);
		for (unsigned j = 0; j < SECTOR / 8; j++) {
			if (w[j] == k + j * GOLDEN)
				continue;
			if (!bad++)
				*e = (struct verify_err){ sector, j, k + j * GOLDEN, w[j] };
			break;
		}
	}
	return bad;
}
