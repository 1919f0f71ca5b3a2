/* SPDX-License-Identifier: MIT */
/*
 * blkbench's CPL0 side: what runs once at boot (cpu.c), the system calls
 * and traps (kernel.c), the interrupt controllers (apic.c).  Kept small:
 * under PVM every instruction here is emulated.
 */
#ifndef BLKBENCH_KERNEL_H
#define BLKBENCH_KERNEL_H

#include <stdint.h>

/* Pushed by entry.S trap_common, then by the stub, then by the CPU. */
struct trap_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Port I/O (CPL0 only: IOPL is 0 and the TSS has no I/O bitmap). */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* kernel.c */
void console_write(const char *s, unsigned long len);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void vm_exit(unsigned v);
long sys_dispatch(long nr, long a1, long a2, long a3);
void trap(struct trap_frame *f);

/* apic.c */
void pic_mask_all(void);
void apic_route(uint32_t gsi, uint8_t vector);
void lapic_eoi(void);
void lapic_timer(uint8_t vector, uint32_t count);

#endif
