/* SPDX-License-Identifier: MIT */
/*
 * Kernel image loaders: a Linux vmlinux ELF (entered at its 64-bit entry
 * with a zero page), a bzImage (boot protocol >= 2.12, 64-bit entry), or
 * any ELF carrying the Xen PVH PHYS32_ENTRY note (entered in 32-bit
 * protected mode with a start_info in EBX).
 *
 * loader_probe() validates everything it reads from the file before the
 * guest exists, so a bad file costs nothing and names its problem.
 */
#ifndef POLLVM_VMM_LOADER_H
#define POLLVM_VMM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

enum boot_kind {
	BOOT_LINUX64,   /* vmlinux or bzImage, 64-bit entry, zero page in RSI */
	BOOT_PVH,       /* PVH 32-bit entry, hvm_start_info in EBX */
};

enum boot_pref { BOOT_PREF_AUTO, BOOT_PREF_LINUX, BOOT_PREF_PVH };

enum image_format { IMAGE_ELF, IMAGE_BZIMAGE };

struct kernel_info {
	enum image_format format;
	enum boot_kind boot;
	uint64_t entry;          /* guest-physical entry point */
	uint64_t load_start;     /* lowest guest-physical byte written */
	uint64_t load_end;       /* one past the highest byte the kernel needs */
	uint64_t initrd_max;     /* the initrd must end at or below this address */
	const uint8_t *setup_hdr;/* bzImage: header bytes from offset 0x1f1 */
	size_t setup_hdr_len;
	bool has_linux_note;
	bool has_pvh_note;
};

/* The image read from path: 0, or -EINVAL after one pv_err(PV_INPUT) line naming path. */
int loader_probe(const char *path, const uint8_t *img, size_t len, enum boot_pref pref,
		 struct kernel_info *ki);

/*
 * Copy the image loader_probe() accepted as ki into guest RAM: 0, or
 * -EFAULT after one pv_err(PV_INTERNAL) line if it does not fit (the
 * caller checked ki->load_end against the RAM it gives).
 */
int loader_load(const char *path, const uint8_t *img, size_t len, const struct kernel_info *ki,
		const struct guest_mem *gm);

#endif
