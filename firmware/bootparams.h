/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 "zero page" (struct boot_params, Documentation/arch/x86/
 * boot.rst and zero-page.rst) for the 64-bit entry of a vmlinux or bzImage.
 */
#ifndef POLLVM_FIRMWARE_BOOTPARAMS_H
#define POLLVM_FIRMWARE_BOOTPARAMS_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "e820.h"

struct bootparams_cfg {
	const void *setup_hdr;     /* bzImage bytes from 0x1f1, or NULL (vmlinux) */
	size_t setup_hdr_len;
	uint64_t cmdline_gpa;
	uint32_t cmdline_size;     /* strlen of the command line */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	uint64_t setup_data_gpa;   /* head of the setup_data chain, or 0 */
	const struct e820_entry_fw *e820;
	unsigned e820_nr;
};

/* Fill *bp; -EINVAL for an e820 table too long or a 64-bit initrd on an old header. */
int bootparams_build(struct boot_params *bp, const struct bootparams_cfg *cfg);

#endif
