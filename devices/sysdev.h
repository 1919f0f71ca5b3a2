/* SPDX-License-Identifier: MIT */
/*
 * The ways a guest ends or signals the VMM:
 *  - the isa-debug-exit port (QEMU's convention, port 0xf4): writing v ends
 *    the VM with exit status (v << 1) | 1, so kernel-less guests behave the
 *    same under QEMU and pollvm;
 *  - the pollvm system page (SYSDEV_ADDR): the same exit register for guest
 *    user mode, which can write MMIO but (under PVM) not do port I/O, and
 *    the boot-time marker the test guest's init writes;
 *  - the reset lines Linux's reboot= modes pull: the i8042 "pulse reset"
 *    command 0xfe on port 0x64 (reboot=k) and the reset control register
 *    0xcf9 (reboot=pci).  A reset ends the VM with status 0.
 */
#ifndef POLLVM_DEVICES_SYSDEV_H
#define POLLVM_DEVICES_SYSDEV_H

#include <stdint.h>

#include "../vmm/bus.h"

#define DEBUG_EXIT_PORT 0xf4
#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define RST_CNT_PORT    0xcf9
#define POST_PORT       0x80

struct sysdev_ops {
	/* End the VM with this exit status; why is for the log. */
	void (*exit)(void *opaque, int status, const char *why);
	/* The guest wrote the boot marker. */
	void (*marker)(void *opaque);
};

struct sysdev {
	const struct sysdev_ops *ops;
	void *opaque;
};

extern const struct bus_ops sysdev_exit_port_ops;   /* port 0xf4, 4 bytes */
extern const struct bus_ops sysdev_mmio_ops;        /* SYSDEV_ADDR page */
extern const struct bus_ops sysdev_i8042_ops;       /* ports 0x60..0x64 */
extern const struct bus_ops sysdev_rstcnt_ops;      /* port 0xcf9 */
extern const struct bus_ops sysdev_sink_ops;        /* reads 0, writes ignored (port 0x80) */

#endif
