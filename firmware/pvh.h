/* SPDX-License-Identifier: MIT */
/*
 * The PVH boot ABI's start info (Xen public/arch-x86/hvm/start_info.h,
 * version 1): what a PVH kernel finds through EBX at its 32-bit entry.
 */
#ifndef POLLVM_FIRMWARE_PVH_H
#define POLLVM_FIRMWARE_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define PVH_START_MAGIC 0x336ec578U

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/*
 * Lay out start info, one module entry (the initrd, when initrd_size > 0)
 * and the memory map in buf, which the guest sees at gpa.  Returns bytes
 * used or -ENOSPC.
 */
int pvh_info_write(void *buf, size_t cap, uint64_t gpa, uint64_t cmdline_gpa,
		   uint64_t initrd_gpa, uint64_t initrd_size,
		   const struct e820_entry_fw *e820, unsigned e820_nr);

#endif
