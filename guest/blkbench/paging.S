/* SPDX-License-Identifier: MIT */
/*
 * Identity page tables for the first 4 GiB, built by the assembler so the
 * (emulated, under PVM) CPL0 boot code does not spend 2048 loop
 * iterations on them.  Four page directories of 2 MiB pages (SDM 3A
 * 4.5.4, table 4-18).
 *
 * Everything is user-accessible (PTE_US): the benchmark runs at CPL3 and
 * touches its own memory, guest RAM for buffers and the virtio-mmio
 * windows (pollvm: 0xd0000000, QEMU microvm: 0xfeb00000) directly.  The
 * two pages holding the IOAPIC (0xfec00000) and the LAPIC (0xfee00000)
 * stay supervisor-only: only the CPL0 interrupt code touches them.
 * Everything from 3 GiB up (the MMIO hole of both VMMs) is uncacheable
 * (PCD|PWT), as device registers must be.
 */
#include "x86.h"

#define PD_RAM   (PTE_P | PTE_RW | PTE_US | PTE_PS)
#define PD_MMIO  (PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_PCD | PTE_PWT)
#define PD_APIC  (PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT)
#define TABLE    (PTE_P | PTE_RW | PTE_US)

	.section .data.pagetables, "aw"
	.p2align 12
	.globl pml4
pml4:
	.quad pdpt + TABLE
	.fill 511, 8, 0
pdpt:
	.quad pd + TABLE, pd + 0x1000 + TABLE, pd + 0x2000 + TABLE, pd + 0x3000 + TABLE
	.fill 508, 8, 0
pd:
	.set addr, 0
	.rept 2048
	.if addr == 0xfec00000 || addr == 0xfee00000
	.quad addr + PD_APIC
	.elseif addr >= 0xc0000000
	.quad addr + PD_MMIO
	.else
	.quad addr + PD_RAM
	.endif
	.set addr, addr + 0x200000
	.endr
