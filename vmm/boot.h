/* SPDX-License-Identifier: MIT */
/* Put the kernel, initrd, command line and firmware tables into guest RAM. */
#ifndef POLLVM_VMM_BOOT_H
#define POLLVM_VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "../firmware/cmdline.h"

struct vm;

/* The default command line when the user gives none. */
#define BOOT_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 io_delay=none"

/* Where an initrd of len bytes goes, or 0 when it does not fit. */
uint64_t boot_initrd_addr(uint64_t low_ram_end, uint64_t kernel_end,
			  uint64_t initrd_max, uint64_t len);

/*
 * Load everything and set the boot vCPU's registers.  cmdline is final
 * (devices already appended).  Returns 0, or -errno after one
 * pv_err(PV_INTERNAL) line: vm_prepare() checked all the user controls.
 */
int boot_setup(struct vm *vm, const struct cmdline *cmdline);

#endif
