/* SPDX-License-Identifier: MIT */
/*
 * The GDT and identity page tables a kernel finds when pollvm enters it
 * directly (no BIOS): flat 32-bit segments for the PVH entry, a 64-bit
 * code segment plus 1:1 paging of the first 4 GiB for the Linux 64-bit
 * entry (boot.rst, "64-bit Boot Protocol").
 */
#ifndef POLLVM_FIRMWARE_BOOT_TABLES_H
#define POLLVM_FIRMWARE_BOOT_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* Selectors: boot.rst asks for __BOOT_CS = 0x10, __BOOT_DS = 0x18. */
#define BOOT_CS32_SEL 0x08
#define BOOT_CS64_SEL 0x10
#define BOOT_DS_SEL   0x18
#define BOOT_TSS_SEL  0x20
#define BOOT_GDT_ENTRIES 5

/* GDT descriptor flags: access byte in bits 0-7, G/DB/L/AVL in bits 12-15. */
#define GDT_CODE32 0xc09b  /* G, D/B, present, code exec/read, accessed */
#define GDT_CODE64 0xa09b  /* G, L, present, code exec/read, accessed */
#define GDT_DATA   0xc093  /* G, D/B, present, data read/write, accessed */
#define GDT_TSS    0x808b  /* G, present, 32-bit busy TSS */

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

/* Write the GDT (BOOT_GDT_ADDR) and empty IDT (BOOT_IDT_ADDR); low is the host view of GPA 0. */
void boot_gdt_write(void *low, uint64_t gdt[BOOT_GDT_ENTRIES]);

/* Write PML4 + PDPT + 4 PDs mapping [0, 4 GiB) 1:1 with 2 MiB pages. */
void boot_pagetables_write(void *low);

#endif
