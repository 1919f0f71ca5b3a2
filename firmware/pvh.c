/* SPDX-License-Identifier: MIT */
#include "pvh.h"

#include <errno.h>
#include <string.h>

int pvh_info_write(void *buf, size_t cap, uint64_t gpa, uint64_t cmdline_gpa,
		   uint64_t initrd_gpa, uint64_t initrd_size,
		   const struct e820_entry_fw *e820, unsigned e820_nr)
{
	size_t mod_off = sizeof(struct hvm_start_info);
	size_t map_off = mod_off + sizeof(struct hvm_modlist_entry);
	size_t need = map_off + e820_nr * sizeof(struct hvm_memmap_table_entry);
	uint8_t *b = buf;
	struct hvm_start_info si = {
		.magic = PVH_START_MAGIC,
		.version = 1,    /* version 1 added the memory map */
		.cmdline_paddr = cmdline_gpa,
		.memmap_paddr = gpa + map_off,
		.memmap_entries = e820_nr,
	};

	if (need > cap)
		return -ENOSPC;
	memset(buf, 0, need);
	if (initrd_size) {
		struct hvm_modlist_entry m = { .paddr = initrd_gpa, .size = initrd_size };
		si.nr_modules = 1;
		si.modlist_paddr = gpa + mod_off;
		memcpy(b + mod_off, &m, sizeof(m));
	}
	for (unsigned i = 0; i < e820_nr; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = e820[i].addr, .size = e820[i].size, .type = e820[i].type,
		};
		memcpy(b + map_off + i * sizeof(e), &e, sizeof(e));
	}
	memcpy(b, &si, sizeof(si));
	return (int)need;
}
