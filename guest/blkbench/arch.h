/* SPDX-License-Identifier: MIT */
/*
 * CPL3 helpers: time, memory ordering, device registers.
 *
 * Memory ordering on x86 (SDM 3A 9.2.2): loads are not reordered with
 * loads, stores not with stores, but a store may pass a later load.  So
 * the virtio read and write barriers are compiler barriers, and only a
 * store-then-load ordering (publish, then read the other side's event
 * index) needs a real fence.
 */
#ifndef BLKBENCH_ARCH_H
#define BLKBENCH_ARCH_H

#include <stdint.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	/* Allowed at CPL3 because CR4.TSD is clear (boot.S).  Not serialising:
	 * good to a few tens of cycles, far below what we measure. */
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Compiler-only barriers: enough for load/load and store/store on x86. */
#define barrier() __asm__ volatile("" ::: "memory")
#define virt_rmb() barrier()
#define virt_wmb() barrier()
/* Store/load: a locked RMW on the stack is a full fence and cheaper than
 * MFENCE (the choice Linux made for smp_mb on x86-64). */
static inline void virt_mb(void)
{
	__asm__ volatile("lock addl $0, (%%rsp)" ::: "memory", "cc");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}

/* Device registers: one plain MOV each (under PVM the faulting user
 * instruction is decoded and emulated by KVM: keep it simple). */
static inline uint32_t mmio_read32(volatile void *a) { return *(volatile uint32_t *)a; }
static inline uint16_t mmio_read16(volatile void *a) { return *(volatile uint16_t *)a; }
static inline uint8_t mmio_read8(volatile void *a) { return *(volatile uint8_t *)a; }
static inline void mmio_write32(volatile void *a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void mmio_write8(volatile void *a, uint8_t v) { *(volatile uint8_t *)a = v; }

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
