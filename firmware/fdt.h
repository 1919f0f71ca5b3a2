/* SPDX-License-Identifier: MIT */
/*
 * The machine as a flattened device tree (devicetree spec v0.4), written
 * with libfdt, in the shape Linux 6.1's x86 code reads: CPUs, LAPIC and
 * IOAPIC for arch/x86/kernel/devicetree.c (which then replaces the MP
 * table), devices under a root-level "isa" node, which both
 * of_platform_default_populate() (drivers/of/platform.c) and devicetree.c's
 * own ce4100_ids match table populate. Passed to the guest as a SETUP_DTB
 * setup_data entry (see vmm/dtb.c); a pure function of struct fdt_machine.
 */
#ifndef POLLVM_FIRMWARE_FDT_H
#define POLLVM_FIRMWARE_FDT_H

#include <stddef.h>
#include <stdint.h>

#define FDT_MAX_CPUS  64     /* as the MP table: vCPU i has APIC ID i */
#define FDT_MAX_DISKS 18     /* VIRTIO_MMIO_MAX slots in the virtio-mmio window */

struct fdt_disk {
	uint64_t base;       /* guest-physical base of its virtio-mmio registers */
	uint64_t size;       /* VIRTIO_MMIO_SIZE */
	unsigned gsi;        /* IOAPIC pin (GSI base 0), edge, active high */
};

struct fdt_machine {
	uint64_t mem_low;    /* RAM bytes at 0 (up to LOW_RAM_END) */
	uint64_t mem_high;   /* RAM bytes at HIGH_RAM_START, or 0 */
	unsigned ncpus;      /* 1..FDT_MAX_CPUS */
	const struct fdt_disk *disks;
	unsigned ndisks;     /* 0..FDT_MAX_DISKS */
};

/* Phandles pollvm assigns (any non-zero, unique u32 will do). */
#define FDT_PHANDLE_IOAPIC 1
#define FDT_PHANDLE_LAPIC  2

/*
 * The IOAPIC interrupt specifier's second cell, as Linux 6.1 decodes it:
 * an index into of_ioapic_type[] in arch/x86/kernel/devicetree.c. The
 * binding text (Documentation/devicetree/bindings/interrupt-controller/
 * intel,ce4100-ioapic.txt) lists another order (0 = edge rising); the
 * code is what runs, so these follow the code.
 */
#define FDT_IOAPIC_EDGE_FALLING 0
#define FDT_IOAPIC_LEVEL_HIGH   1
#define FDT_IOAPIC_LEVEL_LOW    2
#define FDT_IOAPIC_EDGE_RISING  3

/*
 * Write the tree into buf (cap bytes). Returns its size (fdt_totalsize)
 * or -EINVAL (bad description: no CPUs, too many CPUs or disks, a GSI
 * past the IOAPIC's pins, a disk outside the virtio-mmio window) or
 * -ENOSPC (buf too small), -EINVAL for any other libfdt error.
 */
int fdt_machine_build(void *buf, size_t cap, const struct fdt_machine *m);

#endif
