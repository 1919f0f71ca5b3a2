/* SPDX-License-Identifier: MIT */
#include "boot_tables.h"
#include "layout.h"

#include <string.h>

/* Page table entry bits (Intel SDM vol. 3, 4.5): present, writable, 2 MiB page. */
#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return (((uint64_t)base & 0xff000000ULL) << (56 - 24)) |
	       (((uint64_t)flags & 0x0000f0ffULL) << 40) |
	       (((uint64_t)limit & 0x000f0000ULL) << (48 - 16)) |
	       (((uint64_t)base & 0x00ffffffULL) << 16) |
	       ((uint64_t)limit & 0x0000ffffULL);
}

void boot_gdt_write(void *low, uint64_t gdt[BOOT_GDT_ENTRIES])
{
	uint8_t *m = low;

	gdt[0] = 0;
	gdt[BOOT_CS32_SEL / 8] = gdt_entry(GDT_CODE32, 0, 0xfffff);
	gdt[BOOT_CS64_SEL / 8] = gdt_entry(GDT_CODE64, 0, 0xfffff);
	gdt[BOOT_DS_SEL / 8] = gdt_entry(GDT_DATA, 0, 0xfffff);
	gdt[BOOT_TSS_SEL / 8] = gdt_entry(GDT_TSS, 0, 0xfffff);
	memcpy(m + BOOT_GDT_ADDR, gdt, BOOT_GDT_ENTRIES * sizeof(uint64_t));
	/* An empty IDT: any exception before the kernel loads its own is a triple fault. */
	memset(m + BOOT_IDT_ADDR, 0, 8);
}

void boot_pagetables_write(void *low)
{
	uint8_t *m = low;
	uint64_t *pml4 = (uint64_t *)(m + BOOT_PML4_ADDR);
	uint64_t *pdpt = (uint64_t *)(m + BOOT_PDPT_ADDR);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t *pd = (uint64_t *)(m + BOOT_PD_ADDR + i * 4096);
		pdpt[i] = (BOOT_PD_ADDR + i * 4096) | PTE_P | PTE_RW;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS;
	}
}
