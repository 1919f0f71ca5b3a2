/* SPDX-License-Identifier: MIT */
/*
 * --machine-desc=fdt and --dump-dtb: the machine's device tree
 * (firmware/fdt.h) built from the VM's configuration, written to a file or
 * handed to a Linux guest as a SETUP_DTB setup_data entry (boot.rst).
 */
#ifndef POLLVM_VMM_DTB_H
#define POLLVM_VMM_DTB_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/* The tree for vm (after vm_prepare: RAM sizes, vCPUs, disks) into buf. */
int dtb_build(const struct vm *vm, void *buf, size_t cap);

/* --dump-dtb: write the tree to path.  0, or -errno after one pv_err()
 * line (PV_INPUT when path cannot be written). */
int dtb_dump(const struct vm *vm, const char *path);

/*
 * Write the setup_data entry (header + tree) at FDT_SETUP_ADDR in guest
 * RAM and return that address in *gpa: the zero page's setup_data head.
 * 0, or -errno after one pv_err(PV_INTERNAL) line.
 */
int dtb_place(struct vm *vm, uint64_t *gpa);

#endif
