/* SPDX-License-Identifier: MIT */
/*
 * x86-64 architectural constants blkbench's CPL0 part needs, shared by the
 * assembly and the C files.  Section numbers are the Intel SDM, volume 3A
 * ("SDM 3A 4.5" = volume 3A, section 4.5).
 */
#ifndef BLKBENCH_X86_H
#define BLKBENCH_X86_H

/*
 * GDT slots.  The order of the user entries is forced by SYSRET
 * (SDM 2B "SYSRET"): with STAR[63:48] = GDT_USER_BASE it loads
 * SS = base + 8 and, for a 64-bit return, CS = base + 16, both RPL 3.
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
#define CR0_PE          (1u << 0)
#define CR0_MP          (1u << 1)
#define CR0_ET          (1u << 4)
#define CR0_NE          (1u << 5)
#define CR0_PG          (1u << 31)
#define CR4_TSD         (1u << 2)   /* set: RDTSC faults at CPL3; we keep it clear */
#define CR4_PAE         (1u << 5)

/* MSRs (SDM 4 "Model-Specific Registers", architectural MSRs). */
#define MSR_EFER        0xc0000080
#define EFER_SCE        (1u << 0)   /* SYSCALL/SYSRET enable */
#define EFER_LME        (1u << 8)   /* long mode enable */
#define MSR_STAR        0xc0000081
#define MSR_LSTAR       0xc0000082
#define MSR_FMASK       0xc0000084

/* RFLAGS bits (SDM 1 3.4.3). */
#define RFLAGS_RESERVED (1u << 1)   /* always 1 */
#define RFLAGS_TF       (1u << 8)
#define RFLAGS_IF       (1u << 9)
#define RFLAGS_DF       (1u << 10)
#define RFLAGS_AC       (1u << 18)

/* Page-table entry bits (SDM 3A 4.5, tables 4-15 .. 4-19). */
#define PTE_P           (1u << 0)
#define PTE_RW          (1u << 1)
#define PTE_US          (1u << 2)   /* user-accessible */
#define PTE_PWT         (1u << 3)
#define PTE_PCD         (1u << 4)   /* with PWT: uncacheable (PAT entry 3) */
#define PTE_PS          (1u << 7)   /* 2 MiB page in a PD entry */

/* Interrupt vectors (SDM 3A 6.3.1: 0-31 are the architecture's). */
#define NR_EXCEPTIONS   32
#define VEC_PF          14
#define VEC_VIRTIO      0x40        /* the disk's IOAPIC pin */
#define VEC_SPURIOUS    0xff        /* LAPIC spurious vector, low nibble 0xf */

#endif
