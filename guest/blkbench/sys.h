/* SPDX-License-Identifier: MIT */
/*
 * The calls the CPL3 benchmark makes into its CPL0 part (kernel.c), by
 * INT 0x80 through a DPL 3 interrupt gate.  Under PVM only CPL0 may touch
 * I/O ports, and only CPL0 may HLT, so printing, ending the VM and
 * sleeping until an interrupt go through here; everything else stays at
 * CPL3.
 *
 * Why not SYSCALL: under PVM it jumps to LSTAR but the code there still
 * cannot do port I/O (OUT raises #GP with the user CS in the frame).  Why
 * INT 0x80 works there anyway: PVM turns it into a #UD, which it does
 * deliver through the IDT, and trap() recognises the CD 80 bytes.
 */
#ifndef BLKBENCH_SYS_H
#define BLKBENCH_SYS_H

#include <stdint.h>

enum {
	SYS_WRITE,      /* (buf, len): write to COM1 */
	SYS_EXIT,       /* (v): isa-debug-exit; the VMM exits with (v << 1) | 1 */
	SYS_IRQ_ROUTE,  /* (mmio_base, gsi): route the device's pin to VEC_VIRTIO */
	SYS_WAIT_IRQ,   /* (seen): sleep until the interrupt count differs from seen */
	SYS_IRQ_STATS,  /* (struct irq_stats *): copy the interrupt counters */
	SYS_TICK,       /* (count): periodic LAPIC timer that ends SYS_WAIT_IRQ; 0 stops */
	SYS_NR
};

/* Exit values v (README.md "Exit status"); the VMM reports (v << 1) | 1. */
#define EXIT_OK        0   /* status 1 */
#define EXIT_IO        2   /* status 5: I/O error or verify mismatch */
#define EXIT_CMDLINE   3   /* status 7: bad command line */
#define EXIT_TRAP      4   /* status 9: unexpected exception or interrupt */
#define EXIT_SETUP     5   /* status 11: no device, refused features, no memory */

struct irq_stats {
	uint64_t irqs;          /* VEC_VIRTIO interrupts handled */
	uint64_t irqs_in_user;  /* ... of which interrupted CPL3 (IF was 0 there: should be 0) */
	uint64_t isr_zero;      /* InterruptStatus read 0 (spurious for us) */
	uint64_t isr_config;    /* configuration change interrupts */
	uint64_t spurious;      /* LAPIC spurious vector */
	uint64_t waits;         /* SYS_WAIT_IRQ calls */
	uint64_t halts;         /* HLTs in them */
	uint64_t ud_syscalls;   /* calls that arrived as #UD (PVM: see kernel.c) */
	uint64_t ticks;         /* VEC_TICK timer interrupts */
	uint64_t irqs_at_hlt;   /* interrupts taken with RIP at wait_irq's HLT (kernel.c skip_hlt) */
};

static inline long syscall3(long nr, long a1, long a2, long a3)
{
	/* entry.S trap_common restores every register but RAX, the result. */
	__asm__ volatile("int $0x80" : "+a"(nr) : "D"(a1), "S"(a2), "d"(a3) : "memory");
	return nr;
}

static inline void sys_write(const char *s, unsigned long len) { syscall3(SYS_WRITE, (long)s, (long)len, 0); }
__attribute__((noreturn)) static inline void sys_exit(unsigned v)
{
	syscall3(SYS_EXIT, v, 0, 0);
	__builtin_unreachable();
}
static inline long sys_irq_route(uint64_t base, unsigned gsi) { return syscall3(SYS_IRQ_ROUTE, (long)base, gsi, 0); }
static inline uint64_t sys_wait_irq(uint64_t seen) { return (uint64_t)syscall3(SYS_WAIT_IRQ, (long)seen, 0, 0); }
static inline void sys_irq_stats(struct irq_stats *s) { syscall3(SYS_IRQ_STATS, (long)s, 0, 0); }
static inline void sys_tick(uint32_t count) { syscall3(SYS_TICK, count, 0, 0); }

#endif
