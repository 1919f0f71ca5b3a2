/* SPDX-License-Identifier: MIT */
#include "bootparams.h"

#include <errno.h>
#include <string.h>

/* boot.rst: "HdrS" magic at 0x202 and the 0xAA55 boot flag at 0x1fe. */
#define HDRS_MAGIC     0x53726448U
#define BOOT_FLAG      0xaa55
/* We speak boot protocol 2.15 when the kernel brought no header (vmlinux). */
#define BOOT_PROTO_VER 0x020f
/* type_of_loader 0xff: "undefined" loader (boot.rst, type_of_loader). */
#define LOADER_UNDEF   0xff

int bootparams_build(struct boot_params *bp, const struct bootparams_cfg *cfg)
{
	struct setup_header *h = &bp->hdr;

	if (cfg->e820_nr > E820_MAX_ENTRIES_ZEROPAGE)
		return -EINVAL;
	memset(bp, 0, sizeof(*bp));

	if (cfg->setup_hdr) {
		/* Copy the kernel's own header, then fill in the loader fields. */
		size_t n = cfg->setup_hdr_len;
		if (n > sizeof(*h))
			n = sizeof(*h);
		memcpy(h, cfg->setup_hdr, n);
	} else {
		h->header = HDRS_MAGIC;
		h->version = BOOT_PROTO_VER;
		h->boot_flag = BOOT_FLAG;
		/* vmlinux is linked for CONFIG_PHYSICAL_ALIGN; 16 MiB is Linux's default. */
		h->kernel_alignment = 0x1000000;
	}
	h->type_of_loader = LOADER_UNDEF;
	/* LOADED_HIGH: protected-mode code sits at 1 MiB or above. */
	h->loadflags |= LOADED_HIGH;
	h->cmd_line_ptr = (uint32_t)cfg->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(cfg->cmdline_gpa >> 32);
	h->cmdline_size = cfg->cmdline_size;
	h->ramdisk_image = (uint32_t)cfg->initrd_gpa;
	h->ramdisk_size = (uint32_t)cfg->initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(cfg->initrd_gpa >> 32);
	bp->ext_ramdisk_size = (uint32_t)(cfg->initrd_size >> 32);
	/* setup_data appeared in protocol 2.09. */
	if (cfg->setup_data_gpa) {
		if (h->version < 0x0209)
			return -EINVAL;
		h->setup_data = cfg->setup_data_gpa;
	}

	for (unsigned i = 0; i < cfg->e820_nr; i++) {
		bp->e820_table[i].addr = cfg->e820[i].addr;
		bp->e820_table[i].size = cfg->e820[i].size;
		bp->e820_table[i].type = cfg->e820[i].type;
	}
	bp->e820_entries = (uint8_t)cfg->e820_nr;
	return 0;
}
