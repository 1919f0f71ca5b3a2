/* SPDX-License-Identifier: MIT */
/*
 * Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI
 * learns its CPUs, its IOAPIC and how ISA IRQs reach IOAPIC pins.
 */
#ifndef POLLVM_FIRMWARE_MPTABLE_H
#define POLLVM_FIRMWARE_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_CPUS 64

/* Bytes mptable_write() needs for ncpus CPUs. */
size_t mptable_size(unsigned ncpus);

/*
 * Write the floating pointer followed by the configuration table into
 * buf (which the guest sees at guest-physical address gpa).
 * Returns the number of bytes written, or -EINVAL / -ENOSPC.
 */
int mptable_write(void *buf, size_t cap, uint64_t gpa, unsigned ncpus);

/* The 8-bit checksum MP structures use: all bytes must sum to zero. */
uint8_t mptable_checksum(const void *p, size_t len);

#endif
