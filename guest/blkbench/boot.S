/* SPDX-License-Identifier: MIT */
/*
 * From the PVH entry to 64-bit C, with as few instructions as possible:
 * under PVM every CPL0 instruction is emulated (~1 us each), so the page
 * tables are static data (paging.S) and nothing here loops.
 *
 * The PVH ABI (Xen docs/misc/pvh.pandoc): 32-bit protected mode, paging
 * off, flat CS/DS/ES/SS, EBX = physical address of hvm_start_info, no
 * stack, interrupts off.
 */
#include "x86.h"

/* The entry note (Xen public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY = 18). */
	.section .note.pvh, "a"
	.p2align 2
	.long 4, 4, 18
	.asciz "Xen"
	.long pvh_entry

	.section .text.boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	/* The upper halves of the GPRs are undefined after the switch to
	 * long mode (SDM 3A 9.8.5.4): keep the start info pointer in memory. */
	movl %ebx, pvh_start_info

	lgdt gdt_ptr

	/* Long mode, SDM 3A 9.8.5: PAE, CR3, EFER.LME, then CR0.PG. */
	movl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl $(CR0_PG | CR0_NE | CR0_ET | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $GDT_KERNEL_CS, $long_entry

	.code64
long_entry:
	movl $GDT_KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $kstack_top, %rsp
	call kmain              /* cpu.c: TSS, IDT */
	/* Drop to CPL3 for good: the whole benchmark runs there (main.c). */
	movl pvh_start_info, %edi
	movq $user_main, %rsi
	movq $ustack_top, %rdx
	jmp enter_user

/*
 * The GDT (SDM 3A 3.4.5, 5.2.1).  64-bit code: L=1, D=0; data: the
 * attributes are ignored in long mode except P and DPL.  The TSS slot is
 * filled in by cpu.c (its base address has to be split into fields).
 */
	.data
	.p2align 4
	.globl gdt
gdt:
	.quad 0                         /* null */
	.quad 0x00af9a000000ffff        /* 0x08 kernel code, 64-bit, DPL 0 */
	.quad 0x00cf92000000ffff        /* 0x10 kernel data, DPL 0 */
	.quad 0x00cffa000000ffff        /* 0x18 user code, 32-bit (SYSRET base) */
	.quad 0x00cff2000000ffff        /* 0x20 user data, DPL 3 */
	.quad 0x00affa000000ffff        /* 0x28 user code, 64-bit, DPL 3 */
	.quad 0, 0                      /* 0x30 TSS, 16 bytes */
gdt_end:
	.p2align 2
	.word 0
	.globl gdt_ptr
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.globl pvh_start_info
pvh_start_info:
	.long 0

	.bss
	.p2align 12
	.space 16384
	.globl kstack_top
kstack_top:
	.space 65536
	.globl ustack_top
ustack_top:
