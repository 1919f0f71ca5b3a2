/* SPDX-License-Identifier: MIT */
/*
 * x86-64 architectural constants blkbench's CPL0 part needs, shared by the
 * assembly and the C files.  Section numbers are the Intel SDM, volume 3A
 * ("SDM 3A 4.5" = volume 3A, section 4.5).
 */
#ifndef BLKBENCH_X86_H
#define BLKBENCH_X86_H

/* Assemblers want no C integer suffixes (clang's refuses 1u). */
#ifdef __ASSEMBLER__
#define BIT(n) (1 << (n))
#else
#define BIT(n) (1u << (n))
#endif

/*
 * GDT slots, in the order SYSRET would need (SDM 2B "SYSRET": SS = base
 * + 8, CS = base + 16) although blkbench returns with IRETQ (sys.h).
 */
#define GDT_KERNEL_CS   0x08
#define GDT_KERNEL_DS   0x10
#define GDT_USER_BASE   0x18    /* 32-bit user code: unused, SYSRET's base */
#define GDT_USER_DS     0x20
#define GDT_USER_CS     0x28
#define GDT_TSS         0x30    /* 16-byte system descriptor (SDM 3A 8.2.3) */
#define GDT_ENTRIES     8
#define USER_RPL        3

/* Control registers (SDM 3A 2.5). */
#define CR0_PE          BIT(0)
#define CR0_MP          BIT(1)
#define CR0_ET          BIT(4)
#define CR0_NE          BIT(5)
#define CR0_PG          BIT(31)
#define CR4_TSD         BIT(2)   /* set: RDTSC faults at CPL3; we keep it clear */
#define CR4_PAE         BIT(5)

/* MSRs (SDM 4 "Model-Specific Registers", architectural MSRs). */
#define MSR_EFER        0xc0000080
#define EFER_LME        BIT(8)   /* long mode enable */

/* RFLAGS bits (SDM 1 3.4.3). */
#define RFLAGS_RESERVED BIT(1)   /* always 1 */
#define RFLAGS_TF       BIT(8)
#define RFLAGS_IF       BIT(9)
#define RFLAGS_DF       BIT(10)
#define RFLAGS_AC       BIT(18)

/* Page-table entry bits (SDM 3A 4.5, tables 4-15 .. 4-19). */
#define PTE_P           BIT(0)
#define PTE_RW          BIT(1)
#define PTE_US          BIT(2)   /* user-accessible */
#define PTE_PWT         BIT(3)
#define PTE_PCD         BIT(4)   /* with PWT: uncacheable (PAT entry 3) */
#define PTE_PS          BIT(7)   /* 2 MiB page in a PD entry */

/* Interrupt vectors (SDM 3A 6.3.1: 0-31 are the architecture's). */
#define NR_EXCEPTIONS   32
#define VEC_UD          6
#define VEC_PF          14
#define VEC_VIRTIO      0x40        /* the disk's IOAPIC pin */
#define VEC_TICK        0x41        /* LAPIC timer: wakes SYS_WAIT_IRQ for the watchdog */
#define VEC_SYSCALL     0x80        /* CPL3 -> CPL0 call gate (DPL 3) */
#define VEC_SPURIOUS    0xff        /* LAPIC spurious vector, low nibble 0xf */

#endif
