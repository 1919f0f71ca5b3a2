/* SPDX-License-Identifier: MIT */
/*
 * Just enough of the interrupt controllers to get one edge-triggered
 * virtio-mmio pin to one vector: the 8259s masked, the IOAPIC's
 * redirection entry for the pin, the local APIC enabled.
 */
#include "kernel.h"

/* 8259A data ports: a write is OCW1, the interrupt mask (8259A datasheet). */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

/* IOAPIC (82093AA datasheet 3.0): index/data window, redirection table. */
#define IOAPIC_BASE   0xfec00000UL
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_REDTBL 0x10      /* entry n: registers 0x10 + 2n (low), + 1 (high) */
/* Low word: vector, fixed delivery, physical destination, active high,
 * edge (bits 8-15 all 0); bit 16 masks.  High word: APIC ID in bits 24-31. */

/* Local APIC (SDM 3A 11.4.1 table 11-1). */
#define LAPIC_BASE    0xfee00000UL
#define LAPIC_ID      0x020
#define LAPIC_TPR     0x080
#define LAPIC_EOI     0x0b0
#define LAPIC_SVR     0x0f0
#define LAPIC_SVR_ENABLE (1u << 8)   /* SDM 3A 11.9 */
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV  0x3e0
#define LVT_MASKED       (1u << 16)  /* SDM 3A 11.5.1 figure 11-8 */
#define LVT_PERIODIC     (1u << 17)
#define TIMER_DIV_1      0xbu        /* divide configuration 1011b: by 1 (SDM 3A 11.5.4) */

static inline void mmio_w32(unsigned long a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_r32(unsigned long a) { return *(volatile uint32_t *)a; }

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_w32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_w32(IOAPIC_BASE + IOAPIC_WIN, v);
}

void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

void apic_route(uint32_t gsi, uint8_t vector)
{
	uint32_t apic_id = mmio_r32(LAPIC_BASE + LAPIC_ID) >> 24;

	mmio_w32(LAPIC_BASE + LAPIC_TPR, 0);   /* accept every priority class */
	mmio_w32(LAPIC_BASE + LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff);   /* spurious vector 0xff */
	ioapic_write(IOAPIC_REDTBL + 2 * gsi + 1, apic_id << 24);
	ioapic_write(IOAPIC_REDTBL + 2 * gsi, vector);
}

/*
 * Periodic LAPIC timer on vector, every count bus cycles; 0 stops it.  The
 * rate need not be known: whoever wakes reads the TSC.  (KVM's and QEMU's
 * LAPIC count at 1 GHz, so 250M is about 4 ticks a second there.)
 */
void lapic_timer(uint8_t vector, uint32_t count)
{
	if (!count) {
		mmio_w32(LAPIC_BASE + LAPIC_LVT_TIMER, LVT_MASKED | vector);
		mmio_w32(LAPIC_BASE + LAPIC_TIMER_INIT, 0);
		return;
	}
	mmio_w32(LAPIC_BASE + LAPIC_TIMER_DIV, TIMER_DIV_1);
	mmio_w32(LAPIC_BASE + LAPIC_LVT_TIMER, LVT_PERIODIC | vector);
	mmio_w32(LAPIC_BASE + LAPIC_TIMER_INIT, count);
}

void lapic_eoi(void)
{
	mmio_w32(LAPIC_BASE + LAPIC_EOI, 0);
}
