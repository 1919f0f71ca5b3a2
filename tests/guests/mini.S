/* SPDX-License-Identifier: MIT */
/*
 * A kernel-less PVH guest for whole-VM tests of the machine itself, no
 * Linux needed.  Entered in 32-bit protected mode (PVH ABI), it prints a
 * line on COM1 and then does what MINI_MODE selects, each mode one way
 * a guest can end:
 *   MODE_EXIT_PORT  write 0x21 to the isa-debug-exit port 0xf4  -> status 67
 *   MODE_EXIT_MMIO  write 5 to the pollvm exit register        -> status 11
 *   MODE_I8042      i8042 reset command 0xfe on port 0x64       -> status 0
 *   MODE_REBOOT_T   Linux's reboot=t: empty IDT, then int3      -> status 0
 *   MODE_TRIPLE     a crash: fault with an IDT full of garbage  -> status 4
 *   MODE_HANG       spin forever                                -> --timeout: 124
 *   MODE_MARKER     write the boot marker, then exit port 0     -> status 1
 */
#define MODE_EXIT_PORT 1
#define MODE_EXIT_MMIO 2
#define MODE_I8042     3
#define MODE_REBOOT_T  4
#define MODE_TRIPLE    5
#define MODE_HANG      6
#define MODE_MARKER    7

#define COM1           0x3f8
#define DEBUG_EXIT     0xf4
#define SYSDEV_EXIT    0xd0000000
#define SYSDEV_MARKER  0xd0000004
#define MARKER_INIT    0x494e4954

/* The PVH entry note (Xen public/elfnote.h, XEN_ELFNOTE_PHYS32_ENTRY = 18). */
	.section .note.pvh, "a"
	.p2align 2
	.long 4, 4, 18
	.asciz "Xen"
	.long _start

	.text
	.code32
	.globl _start
_start:
	/* The PVH ABI gives no stack: use our own. */
	mov $stack_top, %esp
	/* Check the PVH start info magic in EBX, else say so. */
	cmpl $0x336ec578, (%ebx)
	je 1f
	mov $badmagic, %esi
	call puts
	jmp exit_port
1:	mov $hello, %esi
	call puts

#if MINI_MODE == MODE_EXIT_PORT
exit_port:
	mov $DEBUG_EXIT, %dx
	mov $0x21, %al
	outb %al, %dx
#elif MINI_MODE == MODE_EXIT_MMIO
exit_port:
	movl $5, SYSDEV_EXIT
#elif MINI_MODE == MODE_I8042
exit_port:
	mov $0x64, %dx
	mov $0xfe, %al
	outb %al, %dx
#elif MINI_MODE == MODE_REBOOT_T
exit_port:
	lidt empty_idt
	int3
#elif MINI_MODE == MODE_TRIPLE
exit_port:
	lidt garbage_idt
	ud2
#elif MINI_MODE == MODE_HANG
exit_port:
2:	pause
	jmp 2b
#elif MINI_MODE == MODE_MARKER
exit_port:
	movl $MARKER_INIT, SYSDEV_MARKER
	mov $DEBUG_EXIT, %dx
	xor %eax, %eax
	outb %al, %dx
#else
#error "MINI_MODE?"
#endif
3:	hlt
	jmp 3b

/* Print the NUL-terminated string at ESI on COM1 (polled, no interrupts). */
puts:
	mov $COM1, %dx
4:	lodsb
	test %al, %al
	jz 5f
	outb %al, %dx
	jmp 4b
5:	ret

	.data
hello:		.asciz "pollvm-mini: hello\n"
badmagic:	.asciz "pollvm-mini: bad PVH start info magic\n"
	.p2align 3
empty_idt:	.word 0
		.long 0
garbage_idt:	.word 0x7ff
		.long garbage
	.p2align 4
garbage:	.fill 256, 8, 0x0123456789abcdef
	.p2align 4
stack:		.fill 1024, 1, 0
stack_top:
