/* SPDX-License-Identifier: MIT */
/* The e820 memory map every boot path hands the guest (zero page, PVH). */
#ifndef POLLVM_FIRMWARE_E820_H
#define POLLVM_FIRMWARE_E820_H

#include <stdint.h>

/* Types from the ACPI address range descriptor (ACPI 6.4 15.1, Table 15.1). */
#define E820_RAM      1
#define E820_RESERVED 2

#define E820_MAX 8

struct e820_entry_fw {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * Describe RAM [0, low_end) with the EBDA/BIOS hole below 1 MiB reserved,
 * and [HIGH_RAM_START, + high_size) when high_size > 0.
 * Returns the number of entries, or -EINVAL when low_end is below 1 MiB
 * or above LOW_RAM_END, or max is too small.
 */
int e820_build(struct e820_entry_fw *out, unsigned max, uint64_t low_end, uint64_t high_size);

#endif
