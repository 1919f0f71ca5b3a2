/* SPDX-License-Identifier: MIT */
#include "e820.h"
#include "layout.h"

#include <errno.h>

int e820_build(struct e820_entry_fw *out, unsigned max, uint64_t low_end, uint64_t high_size)
{
	unsigned n = 0;

	if (low_end <= HIMEM_START || low_end > LOW_RAM_END || max < 4)
		return -EINVAL;
	if (high_size && HIGH_RAM_START + high_size < HIGH_RAM_START)
		return -EINVAL;
	out[n++] = (struct e820_entry_fw){ 0, EBDA_START, E820_RAM };
	/* The MP table lives in the EBDA; the legacy VGA/BIOS hole follows. */
	out[n++] = (struct e820_entry_fw){ EBDA_START, HIMEM_START - EBDA_START, E820_RESERVED };
	out[n++] = (struct e820_entry_fw){ HIMEM_START, low_end - HIMEM_START, E820_RAM };
	if (high_size)
		out[n++] = (struct e820_entry_fw){ HIGH_RAM_START, high_size, E820_RAM };
	return (int)n;
}
