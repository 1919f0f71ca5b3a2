/* SPDX-License-Identifier: MIT */
/*
 * The ways between CPL3 and CPL0:
 *   enter_user     CPL0 -> CPL3 once, with IRETQ (SDM 3A 6.14.3 frame)
 *   trap_stubs     exceptions, interrupts and the INT 0x80 system call
 *                  through the IDT, back with IRETQ (sys.h says why not SYSCALL)
 * Each path is a handful of instructions: they run emulated under PVM.
 */
#include "x86.h"

	.text
	.code64

/* void enter_user(uint64_t arg, void (*rip)(uint64_t), void *rsp) */
	.globl enter_user
enter_user:
	movl $(GDT_USER_DS | USER_RPL), %eax
	movl %eax, %ds
	movl %eax, %es
	pushq $(GDT_USER_DS | USER_RPL)         /* SS */
	pushq %rdx                              /* RSP */
	/* IF=0 at CPL3: interrupts are taken only where the benchmark waits
	 * for them, in the SYS_WAIT_IRQ call (kernel.c). */
	pushq $RFLAGS_RESERVED                  /* RFLAGS */
	pushq $(GDT_USER_CS | USER_RPL)         /* CS */
	pushq %rsi                              /* RIP */
	iretq

/*
 * 256 IDT stubs, 16 bytes apart (cpu.c computes trap_stubs + 16 * vector).
 * Each pushes a dummy error code where the CPU pushes none (SDM 3A 6.13,
 * table 6-1: vectors 8, 10-14, 17, 21, 29, 30 have one), then its vector.
 */
	.p2align 4
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

/* Saves what the C ABI lets trap() clobber; frame layout: struct trap_frame. */
trap_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq %rsp, %rdi
	call trap                               /* kernel.c */
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp                          /* vector, error code */
	iretq
