/* SPDX-License-Identifier: MIT */
/*
 * blkbench's system calls and trap handler, the only CPL0 code that runs
 * after boot.  Each path is short on purpose: under PVM a CPL0
 * instruction costs about a microsecond.
 */
#include <stdarg.h>

#include "kernel.h"
#include "lib.h"
#include "sys.h"
#include "x86.h"

#define COM1        0x3f8   /* 8250 UART data register; THR empty is never waited for:
			       pollvm's and QEMU's UARTs take a byte at once */
#define DEBUG_EXIT  0xf4    /* QEMU isa-debug-exit, pollvm's too: status (v << 1) | 1 */

/* virtio-mmio registers the handler needs (virtio 1.2 4.2.2). */
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK    0x064
#define VIRTIO_MMIO_INT_CONFIG       2u

static volatile uint8_t *irq_dev;   /* the routed device's registers */
static struct irq_stats st;
extern const char bb_hlt_insn[];   /* the HLT in wait_irq() */

void console_write(const char *s, unsigned long len)
{
	while (len--)
		outb(COM1, (uint8_t)*s++);
}

void kprintf(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bb_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, (unsigned long)n < sizeof(buf) ? (unsigned long)n : sizeof(buf) - 1);
}

void vm_exit(unsigned v)
{
	outb(DEBUG_EXIT, (uint8_t)v);
	kprintf("blkbench: the exit port (0xf4) did not end the VM (status %u); halting\n", v);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Sleep until an interrupt moved the count past what the caller saw, or a
 * watchdog tick came (the caller then checks its clock). */

static __attribute__((noinline)) uint64_t wait_irq(uint64_t seen)
{
	uint64_t ticks = st.ticks;

	st.waits++;
	while (st.irqs == seen && st.ticks == ticks) {
		st.halts++;
		/* STI's one-instruction shadow (SDM 2B "STI") keeps an interrupt
		 * from slipping in between the check and the HLT. */
		__asm__ volatile("sti\n.globl bb_hlt_insn\nbb_hlt_insn: hlt\ncli" ::: "memory");
	}
	return st.irqs;
}

long sys_dispatch(long nr, long a1, long a2, long a3)
{
	(void)a3;
	switch (nr) {
	case SYS_WRITE:
		console_write((const char *)a1, (unsigned long)a2);
		return 0;
	case SYS_EXIT:
		vm_exit((unsigned)a1);
	case SYS_IRQ_ROUTE:
		irq_dev = (volatile uint8_t *)a1;
		apic_route((uint32_t)a2, VEC_VIRTIO);
		return 0;
	case SYS_WAIT_IRQ:
		return (long)wait_irq((uint64_t)a1);
	case SYS_IRQ_STATS:
		*(struct irq_stats *)a1 = st;
		return 0;
	case SYS_TICK:
		lapic_timer(VEC_TICK, (uint32_t)a1);
		return 0;
	}
	return -1;
}

/*
 * The device's interrupt, as Linux's vm_interrupt() does it: read
 * InterruptStatus, acknowledge exactly those bits (each an MMIO exit),
 * then EOI.  Completions themselves are found by the CPL3 loop.
 */
static void virtio_irq(struct trap_frame *f)
{
	uint32_t isr = 0;

	if (irq_dev) {
		isr = *(volatile uint32_t *)(irq_dev + VIRTIO_MMIO_INTERRUPT_STATUS);
		if (isr)
			*(volatile uint32_t *)(irq_dev + VIRTIO_MMIO_INTERRUPT_ACK) = isr;
	}
	st.irqs++;
	st.irqs_in_user += (f->cs & 3) == USER_RPL;
	st.isr_zero += isr == 0;
	st.isr_config += (isr & VIRTIO_MMIO_INT_CONFIG) != 0;
	lapic_eoi();
}

static const char *const exc_names[NR_EXCEPTIONS] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault", "coproc",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "15", "#MF x87 FP", "#AC alignment",
	"#MC machine check", "#XM SIMD FP", "#VE virtualization", "#CP control protection",
};

/*
 * Is this #UD a system call?  PVM does not deliver software interrupts
 * (INT n, INT3) through the IDT: it raises #UD at the instruction
 * instead.  The user wrappers only ever use INT 0x80 (CD 80), so a #UD
 * from CPL3 on those two bytes is the call PVM did not deliver.
 */
static int ud_is_syscall(const struct trap_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->rip;
	return (f->cs & 3) == USER_RPL && ip[0] == 0xcd && ip[1] == VEC_SYSCALL;
}

/*
 * An interrupt taken with RIP at wait_irq()'s HLT, i.e. between STI and
 * HLT.  A CPU never does that (STI blocks interrupts until the next
 * instruction is done: SDM 2B "STI"), but the nested test host (QEMU TCG
 * emulating SVM under L1 KVM) was seen to, about once in five runs of
 * 2000 I/Os; returning there would halt again with the wake-up spent, and
 * the job would hang.  Step over the HLT so the loop re-checks; count it.
 */
static void skip_hlt(struct trap_frame *f)
{
	if (f->rip == (uint64_t)bb_hlt_insn) {
		f->rip += 1;   /* HLT is one byte (F4) */
		st.irqs_at_hlt++;
	}
}

void trap(struct trap_frame *f)
{
	if (f->vector == VEC_SYSCALL || (f->vector == VEC_UD && ud_is_syscall(f))) {
		if (f->vector == VEC_UD) {
			f->rip += 2;   /* a fault returns to the instruction; skip it */
			st.ud_syscalls++;
		}
		f->rax = (uint64_t)sys_dispatch((long)f->rax, (long)f->rdi, (long)f->rsi, (long)f->rdx);
		return;
	}
	if (f->vector == VEC_VIRTIO) {
		skip_hlt(f);
		virtio_irq(f);
		return;
	}
	if (f->vector == VEC_TICK) {
		skip_hlt(f);
		st.ticks++;
		lapic_eoi();
		return;
	}
	if (f->vector == VEC_SPURIOUS) {   /* no EOI for the spurious vector (SDM 3A 11.9) */
		st.spurious++;
		return;
	}
	if (f->vector < NR_EXCEPTIONS) {
		uint64_t cr2 = 0;
		if (f->vector == VEC_PF)
			__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		kprintf("blkbench: exception %lu (%s) at rip=%#lx cs=%#lx err=%#lx cr2=%#lx rsp=%#lx\n",
			f->vector, exc_names[f->vector] ? exc_names[f->vector] : "reserved",
			f->rip, f->cs, f->error, cr2, f->rsp);
	} else {
		kprintf("blkbench: unexpected interrupt vector %lu at rip=%#lx\n", f->vector, f->rip);
	}
	vm_exit(EXIT_TRAP);
}
