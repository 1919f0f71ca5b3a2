/* SPDX-License-Identifier: MIT */
/*
 * The guest-physical memory map of a pollvm machine.
 *
 * Everything a guest can find at a fixed address is named here, so the
 * loaders, the firmware tables and the devices agree on one picture:
 *
 *   0x0000_0000  real-mode IVT/BDA (left as RAM; Linux reserves it itself)
 *   0x0000_0500  boot GDT               (BOOT_GDT_ADDR)
 *   0x0000_0540  empty boot IDT         (BOOT_IDT_ADDR)
 *   0x0000_6000  PVH start info + memmap (PVH_INFO_ADDR)
 *   0x0000_7000  Linux zero page         (ZERO_PAGE_ADDR)
 *   0x0000_9000  identity page tables    (PML4, PDPT, 4 x PD: first 4 GiB)
 *   0x0002_0000  kernel command line     (CMDLINE_ADDR, CMDLINE_MAX)
 *   0x0002_1000  SETUP_DTB setup_data + device tree (FDT_SETUP_ADDR, FDT_SETUP_MAX;
 *                --machine-desc=fdt only, Linux reserves it: memblock_x86_reserve_range_setup_data)
 *   0x0009_fc00  MP floating pointer + config table (EBDA, e820-reserved)
 *   0x000a_0000  VGA/BIOS hole up to 1 MiB (e820-reserved, not backed)
 *   0x0010_0000  kernel (bzImage protected-mode part; vmlinux at its paddr)
 *   ...          RAM up to min(--mem, LOW_RAM_END); the rest above 4 GiB
 *   0xd000_0000  pollvm system device page (exit register, boot marker)
 *   0xd000_1000  virtio-mmio devices, VIRTIO_MMIO_SIZE bytes each
 *   0xfec0_0000  IOAPIC (in-kernel)
 *   0xfee0_0000  LAPIC (in-kernel)
 *   0x1_0000_0000 RAM above the 32-bit hole, when --mem > LOW_RAM_END
 */
#ifndef POLLVM_FIRMWARE_LAYOUT_H
#define POLLVM_FIRMWARE_LAYOUT_H

#define BOOT_GDT_ADDR      0x500ULL
#define BOOT_IDT_ADDR      0x540ULL
#define PVH_INFO_ADDR      0x6000ULL
#define ZERO_PAGE_ADDR     0x7000ULL
#define BOOT_PML4_ADDR     0x9000ULL
#define BOOT_PDPT_ADDR     0xa000ULL
#define BOOT_PD_ADDR       0xb000ULL /* four pages: 0xb000..0xefff */
#define CMDLINE_ADDR       0x20000ULL
/* Linux x86 COMMAND_LINE_SIZE is 2048 (arch/x86/include/asm/setup.h). */
#define CMDLINE_MAX        2048U
/* setup_data header + flattened device tree: the page after the command
 * line, 64 KiB (a 64-CPU, 18-disk tree is ~7 KiB), well below the EBDA. */
#define FDT_SETUP_ADDR     0x21000ULL
#define FDT_SETUP_MAX      0x10000ULL

#define EBDA_START         0x9fc00ULL
#define MPTABLE_ADDR       EBDA_START
#define HIMEM_START        0x100000ULL  /* 1 MiB: start of "high" memory */

/* RAM below 4 GiB stops here; the gap up to 4 GiB holds the MMIO devices. */
#define LOW_RAM_END        0xc0000000ULL
#define HIGH_RAM_START     0x100000000ULL

#define SYSDEV_ADDR        0xd0000000ULL
#define SYSDEV_SIZE        0x1000ULL
#define SYSDEV_REG_EXIT    0x0  /* write v: pollvm exits with (v << 1) | 1 */
#define SYSDEV_REG_MARKER  0x4  /* write SYSDEV_MARKER_INIT: guest init reached */
#define SYSDEV_MARKER_INIT 0x494e4954U /* "INIT" */

#define VIRTIO_MMIO_BASE   0xd0001000ULL
/* virtio-mmio register block: 0x100 of registers + config space (virtio 1.2 4.2.2). */
#define VIRTIO_MMIO_SIZE   0x200ULL
#define VIRTIO_MMIO_MAX    18

#define IOAPIC_ADDR        0xfec00000ULL
#define LAPIC_ADDR         0xfee00000ULL
#define IOAPIC_PINS        24

/* KVM needs three pages for the VMX real-mode TSS just below the BIOS ROM. */
#define KVM_TSS_ADDR       0xfffbd000ULL

/* Legacy ISA IRQs used by the platform devices. */
#define IRQ_UART0          4

#endif
