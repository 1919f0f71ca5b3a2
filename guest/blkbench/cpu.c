/* SPDX-License-Identifier: MIT */
/*
 * The CPU state blkbench's CPL3 loop needs, set once at boot: a TSS (the
 * stack an interrupt or exception from CPL3 switches to) and the IDT.
 * Paging and the GDT are static (paging.S, boot.S).
 */
#include "kernel.h"
#include "x86.h"

/* 64-bit TSS (SDM 3A 8.7, figure 8-11). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

/* 64-bit interrupt/trap gate (SDM 3A 6.14.1, figure 6-8). */
struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

/* Gate type 0xe: interrupt gate (clears IF); P=1; DPL 0 (not callable with INT n from CPL3). */
#define GATE_INTR       0x8e
/* The same with DPL 3: INT 0x80 from CPL3 may use it (SDM 3A 6.12.1.1). */
#define GATE_INTR_USER  0xee
/* Available 64-bit TSS, P=1 (SDM 3A 3.5, table 3-2: type 9). */
#define DESC_TSS        0x89

extern uint64_t gdt[GDT_ENTRIES];
extern char trap_stubs[], kstack_top[];

static struct tss tss;
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void tss_init(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	tss.rsp[0] = (uint64_t)kstack_top;
	/* No I/O bitmap (offset past the limit): every port access from CPL3 faults. */
	tss.iomap_base = sizeof(tss);
	/* System descriptor, 16 bytes (SDM 3A 8.2.3, figure 8-4). */
	gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			   ((uint64_t)DESC_TSS << 40) | (((limit >> 16) & 0xf) << 48) |
			   (((base >> 24) & 0xff) << 56);
	gdt[GDT_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
}

static void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)trap_stubs + 16 * v;   /* entry.S: 16 bytes per stub */
		idt[v] = (struct idt_gate){
			.off_lo = a & 0xffff, .sel = GDT_KERNEL_CS,
			.type_attr = v == VEC_SYSCALL ? GATE_INTR_USER : GATE_INTR,
			.off_mid = (a >> 16) & 0xffff, .off_hi = a >> 32,
		};
	}
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void kmain(void)
{
	tss_init();
	idt_init();
	/* The 8259s may deliver on vectors 0-15 if a VMM routes them: mask them. */
	pic_mask_all();
	/* CR4 was written whole in boot.S (PAE only): TSD is clear, RDTSC works at CPL3. */
}
