/* SPDX-License-Identifier: MIT */
/* Firmware tables: e820, zero page, command line, MP table, PVH info, GDT and paging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include "../../firmware/boot_tables.h"
#include "../../firmware/bootparams.h"
#include "../../firmware/cmdline.h"
#include "../../firmware/e820.h"
#include "../../firmware/layout.h"
#include "../../firmware/mptable.h"
#include "../../firmware/pvh.h"

static void test_e820_low_only(void **state)
{
	struct e820_entry_fw e[E820_MAX];
	(void)state;
	int n = e820_build(e, E820_MAX, 256ULL << 20, 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, EBDA_START);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, EBDA_START);
	assert_int_equal(e[1].addr + e[1].size, HIMEM_START);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, HIMEM_START);
	assert_int_equal(e[2].addr + e[2].size, 256ULL << 20);
	assert_int_equal(e[2].type, E820_RAM);
}

static void test_e820_high(void **state)
{
	struct e820_entry_fw e[E820_MAX];
	(void)state;
	int n = e820_build(e, E820_MAX, LOW_RAM_END, 1ULL << 30);
	assert_int_equal(n, 4);
	assert_int_equal(e[2].addr + e[2].size, LOW_RAM_END);
	assert_int_equal(e[3].addr, HIGH_RAM_START);
	assert_int_equal(e[3].size, 1ULL << 30);
}

static void test_e820_bad(void **state)
{
	struct e820_entry_fw e[E820_MAX];
	(void)state;
	assert_int_equal(e820_build(e, E820_MAX, HIMEM_START, 0), -EINVAL);
	assert_int_equal(e820_build(e, E820_MAX, LOW_RAM_END + 4096, 0), -EINVAL);
	assert_int_equal(e820_build(e, 3, 64ULL << 20, 0), -EINVAL);
	assert_int_equal(e820_build(e, E820_MAX, LOW_RAM_END, UINT64_MAX), -EINVAL);
}

static void test_bootparams_vmlinux(void **state)
{
	struct e820_entry_fw e[E820_MAX];
	struct boot_params *bp = malloc(sizeof(*bp));
	(void)state;
	int n = e820_build(e, E820_MAX, 512ULL << 20, 0);
	struct bootparams_cfg c = {
		.cmdline_gpa = CMDLINE_ADDR, .cmdline_size = 42,
		.initrd_gpa = 0x1f000000, .initrd_size = 0x123456,
		.e820 = e, .e820_nr = (unsigned)n,
	};
	memset(bp, 0xaa, sizeof(*bp));
	assert_int_equal(bootparams_build(bp, &c), 0);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_true(bp->hdr.version >= 0x0209);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, CMDLINE_ADDR);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.cmdline_size, 42);
	assert_int_equal(bp->hdr.ramdisk_image, 0x1f000000);
	assert_int_equal(bp->hdr.ramdisk_size, 0x123456);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[2].addr, HIMEM_START);
	assert_int_equal(bp->e820_table[2].type, E820_RAM);
	/* Everything we did not set is zero (the 0xaa fill is gone). */
	assert_int_equal(bp->hdr.setup_data, 0);
	assert_int_equal(bp->acpi_rsdp_addr, 0);
	free(bp);
}

static void test_bootparams_bzimage_header(void **state)
{
	struct boot_params *bp = calloc(1, sizeof(*bp));
	uint8_t hdr[0x70] = { 0 };
	(void)state;
	/* The header as a bzImage carries it from offset 0x1f1. */
	hdr[0] = 27;                                   /* setup_sects */
	memcpy(hdr + (0x202 - 0x1f1), "HdrS", 4);
	hdr[0x206 - 0x1f1] = 0x0f; hdr[0x207 - 0x1f1] = 0x02; /* version 2.15 */
	hdr[0x1fe - 0x1f1] = 0x55; hdr[0x1ff - 0x1f1] = 0xaa;
	struct bootparams_cfg c = {
		.setup_hdr = hdr, .setup_hdr_len = sizeof(hdr),
		.cmdline_gpa = CMDLINE_ADDR, .cmdline_size = 5, .setup_data_gpa = 0x5000,
	};
	assert_int_equal(bootparams_build(bp, &c), 0);
	assert_int_equal(bp->hdr.setup_sects, 27);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.setup_data, 0x5000);
	assert_true(bp->hdr.loadflags & LOADED_HIGH);

	/* setup_data needs protocol 2.09. */
	hdr[0x206 - 0x1f1] = 0x08;
	assert_int_equal(bootparams_build(bp, &c), -EINVAL);
	free(bp);
}

static void test_cmdline(void **state)
{
	struct cmdline c;
	(void)state;
	cmdline_init(&c, 32);
	assert_int_equal(cmdline_append(&c, "console=ttyS0"), 0);
	assert_int_equal(cmdline_appendf(&c, "a=%d", 5), 0);
	assert_string_equal(c.buf, "console=ttyS0 a=5");
	assert_int_equal(c.len, strlen(c.buf));
	assert_true(cmdline_has(&c, "console"));
	assert_true(cmdline_has(&c, "a"));
	assert_false(cmdline_has(&c, "cons"));
	assert_false(cmdline_has(&c, "ttyS0"));
	/* 17 used + ' ' + 14 = 32 chars, one too many for the NUL. */
	assert_int_equal(cmdline_append(&c, "12345678901234"), -E2BIG);
	assert_string_equal(c.buf, "console=ttyS0 a=5");
	assert_int_equal(cmdline_append(&c, "1234567890123"), 0);
	assert_int_equal(c.len, 31);
	assert_int_equal(cmdline_append(&c, ""), 0);
}

static void test_mptable(void **state)
{
	uint8_t buf[4096];
	(void)state;
	for (unsigned ncpus = 1; ncpus <= 8; ncpus++) {
		int n = mptable_write(buf, sizeof(buf), MPTABLE_ADDR, ncpus);
		assert_int_equal(n, (int)mptable_size(ncpus));
		/* Floating pointer: signature, points right behind itself, sums to 0. */
		assert_memory_equal(buf, "_MP_", 4);
		uint32_t phys;
		memcpy(&phys, buf + 4, 4);
		assert_int_equal(phys, MPTABLE_ADDR + 16);
		assert_int_equal(mptable_checksum(buf, 16), 0);
		/* Config table: signature, length, checksum over its length. */
		uint8_t *t = buf + 16;
		uint16_t len, count;
		memcpy(&len, t + 4, 2);
		memcpy(&count, t + 34, 2);
		assert_memory_equal(t, "PCMP", 4);
		assert_int_equal(len, n - 16);
		assert_int_equal(mptable_checksum(t, len), 0);
		/* CPUs, bus, IOAPIC, 24 interrupt sources, 2 local ones. */
		assert_int_equal(count, ncpus + 1 + 1 + 24 + 2);
		/* Processor entries: APIC ID = index, only the first is the BSP. */
		for (unsigned i = 0; i < ncpus; i++) {
			uint8_t *e = t + 44 + i * 20;
			assert_int_equal(e[0], 0);
			assert_int_equal(e[1], i);
			assert_int_equal(e[3], i == 0 ? 3 : 1);
		}
		/* The IOAPIC follows the bus entry, with the next APIC ID. */
		uint8_t *io = t + 44 + ncpus * 20 + 8;
		assert_int_equal(io[0], 2);
		assert_int_equal(io[1], ncpus);
		uint32_t addr;
		memcpy(&addr, io + 4, 4);
		assert_int_equal(addr, IOAPIC_ADDR);
		/* ISA IRQ 0 goes to pin 2, as KVM routes GSI 0. */
		uint8_t *irq0 = io + 8 + 8;
		assert_int_equal(irq0[0], 3);
		assert_int_equal(irq0[5], 0);
		assert_int_equal(irq0[7], 2);
		/* Corrupting one byte breaks the checksum. */
		t[10] ^= 1;
		assert_int_not_equal(mptable_checksum(t, len), 0);
	}
	assert_int_equal(mptable_write(buf, sizeof(buf), MPTABLE_ADDR, 0), -EINVAL);
	assert_int_equal(mptable_write(buf, sizeof(buf), MPTABLE_ADDR, MPTABLE_MAX_CPUS + 1), -EINVAL);
	assert_int_equal(mptable_write(buf, 100, MPTABLE_ADDR, 2), -ENOSPC);
	/* 64 CPUs do not fit the 1 KiB EBDA but do fit below 1 MiB. */
	assert_true(mptable_size(MPTABLE_MAX_CPUS) <= HIMEM_START - MPTABLE_ADDR);
}

static void test_pvh_info(void **state)
{
	struct e820_entry_fw e[E820_MAX];
	uint8_t buf[ZERO_PAGE_ADDR - PVH_INFO_ADDR];
	(void)state;
	int n = e820_build(e, E820_MAX, 128ULL << 20, 0);
	int r = pvh_info_write(buf, sizeof(buf), PVH_INFO_ADDR, CMDLINE_ADDR, 0x7000000, 0x1000, e, (unsigned)n);
	assert_true(r > 0);
	struct hvm_start_info si;
	memcpy(&si, buf, sizeof(si));
	assert_int_equal(si.magic, PVH_START_MAGIC);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.cmdline_paddr, CMDLINE_ADDR);
	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(si.memmap_entries, 3);
	struct hvm_modlist_entry m;
	memcpy(&m, buf + (si.modlist_paddr - PVH_INFO_ADDR), sizeof(m));
	assert_int_equal(m.paddr, 0x7000000);
	assert_int_equal(m.size, 0x1000);
	struct hvm_memmap_table_entry me;
	memcpy(&me, buf + (si.memmap_paddr - PVH_INFO_ADDR) + 2 * sizeof(me), sizeof(me));
	assert_int_equal(me.addr, HIMEM_START);
	assert_int_equal(me.type, E820_RAM);
	/* No initrd: no module list. */
	pvh_info_write(buf, sizeof(buf), PVH_INFO_ADDR, CMDLINE_ADDR, 0, 0, e, (unsigned)n);
	memcpy(&si, buf, sizeof(si));
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	assert_int_equal(pvh_info_write(buf, 40, PVH_INFO_ADDR, CMDLINE_ADDR, 0, 0, e, (unsigned)n), -ENOSPC);
}

static void test_gdt_and_paging(void **state)
{
	uint64_t gdt[BOOT_GDT_ENTRIES];
	static uint8_t low[0x10000];
	(void)state;
	/* The well-known flat descriptors. */
	assert_int_equal(gdt_entry(GDT_CODE64, 0, 0xfffff), 0x00af9b000000ffffULL);
	assert_int_equal(gdt_entry(GDT_CODE32, 0, 0xfffff), 0x00cf9b000000ffffULL);
	assert_int_equal(gdt_entry(GDT_DATA, 0, 0xfffff), 0x00cf93000000ffffULL);
	assert_int_equal(gdt_entry(GDT_DATA, 0x12345678, 0xabcde), 0x12ca93345678bcdeULL);
	boot_gdt_write(low, gdt);
	assert_memory_equal(low + BOOT_GDT_ADDR, gdt, sizeof(gdt));
	assert_int_equal(gdt[0], 0);
	boot_pagetables_write(low);
	uint64_t pml4, pdpt3, pd;
	memcpy(&pml4, low + BOOT_PML4_ADDR, 8);
	assert_int_equal(pml4, BOOT_PDPT_ADDR | 3);
	memcpy(&pdpt3, low + BOOT_PDPT_ADDR + 3 * 8, 8);
	assert_int_equal(pdpt3, (BOOT_PD_ADDR + 3 * 4096) | 3);
	/* The last 2 MiB page below 4 GiB maps itself. */
	memcpy(&pd, low + BOOT_PD_ADDR + 3 * 4096 + 511 * 8, 8);
	assert_int_equal(pd, 0xffe00000ULL | 0x83);
	/* The boot structures do not overlap one another. */
	assert_true(BOOT_GDT_ADDR + sizeof(gdt) <= BOOT_IDT_ADDR);
	assert_true(BOOT_IDT_ADDR + 8 <= PVH_INFO_ADDR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_low_only),
		cmocka_unit_test(test_e820_high),
		cmocka_unit_test(test_e820_bad),
		cmocka_unit_test(test_bootparams_vmlinux),
		cmocka_unit_test(test_bootparams_bzimage_header),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_pvh_info),
		cmocka_unit_test(test_gdt_and_paging),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
