/* SPDX-License-Identifier: MIT */
/* firmware/fdt.c: the machine's device tree, read back with libfdt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../firmware/fdt.h"
#include "../../firmware/layout.h"

#define BUF 65536
static uint8_t buf[BUF] __attribute__((aligned(8)));

static struct fdt_disk disk_n(unsigned i, unsigned gsi)
{
	return (struct fdt_disk){ .base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE,
				  .size = VIRTIO_MMIO_SIZE, .gsi = gsi };
}

/* Property as big-endian u32 cells; fails the test unless it has n cells. */
static void expect_cells(const void *fdt, int node, const char *name, const uint32_t *want, int n)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	assert_non_null(p);
	assert_int_equal(len, n * 4);
	for (int i = 0; i < n; i++)
		assert_int_equal(fdt32_to_cpu(p[i]), want[i]);
}

static uint32_t prop_u32(const void *fdt, int node, const char *name)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	assert_non_null(p);
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*p);
}

static void check_common(const void *fdt, int size, unsigned ncpus)
{
	int node;
	char path[64];

	assert_true(size > 0);
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), (uint32_t)size);

	node = fdt_path_offset(fdt, "/");
	assert_int_equal(prop_u32(fdt, node, "#address-cells"), 2);
	assert_int_equal(prop_u32(fdt, node, "#size-cells"), 2);
	assert_int_equal(prop_u32(fdt, node, "interrupt-parent"), FDT_PHANDLE_IOAPIC);

	/* CPUs: reg = APIC ID, one node each, no more. */
	for (unsigned i = 0; i < ncpus; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		node = fdt_path_offset(fdt, path);
		assert_true(node >= 0);
		assert_string_equal(fdt_getprop(fdt, node, "device_type", NULL), "cpu");
		assert_int_equal(prop_u32(fdt, node, "reg"), i);
	}
	snprintf(path, sizeof(path), "/cpus/cpu@%x", ncpus);
	assert_int_equal(fdt_path_offset(fdt, path), -FDT_ERR_NOTFOUND);

	/* IOAPIC: what devicetree.c's dtb_ioapic_setup() and the OF irq core look for. */
	node = fdt_node_offset_by_compatible(fdt, -1, "intel,ce4100-ioapic");
	assert_true(node >= 0);
	assert_int_equal(node, fdt_node_offset_by_phandle(fdt, FDT_PHANDLE_IOAPIC));
	assert_non_null(fdt_getprop(fdt, node, "interrupt-controller", NULL));
	assert_int_equal(prop_u32(fdt, node, "#interrupt-cells"), 2);
	expect_cells(fdt, node, "reg", (uint32_t[]){ 0, (uint32_t)IOAPIC_ADDR, 0, 0x1000 }, 4);

	node = fdt_node_offset_by_compatible(fdt, -1, "intel,ce4100-lapic");
	assert_true(node >= 0);
	expect_cells(fdt, node, "reg", (uint32_t[]){ 0, (uint32_t)LAPIC_ADDR, 0, 0x1000 }, 4);

	/* The bus: named "isa" (address translation) and compatible "isa" (population). */
	node = fdt_path_offset(fdt, "/isa@d0001000");
	assert_true(node >= 0);
	assert_int_equal(fdt_node_check_compatible(fdt, node, "isa"), 0);
	assert_int_equal(prop_u32(fdt, node, "#address-cells"), 2);
	assert_int_equal(prop_u32(fdt, node, "#size-cells"), 1);

	node = fdt_path_offset(fdt, "/isa@d0001000/serial@i3f8");
	assert_true(node >= 0);
	assert_int_equal(fdt_node_check_compatible(fdt, node, "ns16550a"), 0);
	expect_cells(fdt, node, "reg", (uint32_t[]){ 1, 0x3f8, 8 }, 3);
	expect_cells(fdt, node, "interrupts", (uint32_t[]){ IRQ_UART0, FDT_IOAPIC_EDGE_RISING }, 2);
}

static int count_virtio(const void *fdt)
{
	int n = 0;

	for (int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio"))
		n++;
	return n;
}

static void check_disk(const void *fdt, const struct fdt_disk *d)
{
	char path[64];
	int node;

	snprintf(path, sizeof(path), "/isa@d0001000/virtio_mmio@%llx", (unsigned long long)d->base);
	node = fdt_path_offset(fdt, path);
	assert_true(node >= 0);
	assert_int_equal(fdt_node_check_compatible(fdt, node, "virtio,mmio"), 0);
	expect_cells(fdt, node, "reg", (uint32_t[]){ 0, (uint32_t)d->base, (uint32_t)d->size }, 3);
	/* Edge, active high: index 3 of devicetree.c's of_ioapic_type[]. */
	expect_cells(fdt, node, "interrupts", (uint32_t[]){ d->gsi, 3 }, 2);
}

static void test_one_disk_one_cpu(void **state)
{
	struct fdt_disk d = disk_n(0, 5);
	struct fdt_machine m = { .mem_low = 256ULL << 20, .ncpus = 1, .disks = &d, .ndisks = 1 };
	(void)state;

	int n = fdt_machine_build(buf, sizeof(buf), &m);
	check_common(buf, n, 1);
	assert_int_equal(count_virtio(buf), 1);
	check_disk(buf, &d);
	/* Low RAM only: one range. */
	expect_cells(buf, fdt_path_offset(buf, "/memory@0"), "reg",
		     (uint32_t[]){ 0, 0, 0, 256U << 20 }, 4);
}

static void test_many_disks_cpus_high_mem(void **state)
{
	static const unsigned gsis[] = { 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };
	struct fdt_disk d[FDT_MAX_DISKS];
	struct fdt_machine m = { .mem_low = LOW_RAM_END, .mem_high = 2ULL << 30, .ncpus = 8,
				 .disks = d, .ndisks = FDT_MAX_DISKS };
	(void)state;

	for (unsigned i = 0; i < FDT_MAX_DISKS; i++)
		d[i] = disk_n(i, gsis[i]);
	int n = fdt_machine_build(buf, sizeof(buf), &m);
	check_common(buf, n, 8);
	assert_int_equal(count_virtio(buf), FDT_MAX_DISKS);
	for (unsigned i = 0; i < FDT_MAX_DISKS; i++)
		check_disk(buf, &d[i]);
	expect_cells(buf, fdt_path_offset(buf, "/memory@0"), "reg",
		     (uint32_t[]){ 0, 0, 0, (uint32_t)LOW_RAM_END, 1, 0, 0, 0x80000000U }, 8);
}

static void test_max_cpus_no_disks(void **state)
{
	struct fdt_machine m = { .mem_low = 64ULL << 20, .ncpus = FDT_MAX_CPUS };
	(void)state;

	int n = fdt_machine_build(buf, sizeof(buf), &m);
	check_common(buf, n, FDT_MAX_CPUS);
	assert_int_equal(count_virtio(buf), 0);
}

static void test_bad_description(void **state)
{
	struct fdt_disk d[FDT_MAX_DISKS + 1];
	struct fdt_machine m = { .mem_low = 64ULL << 20, .ncpus = 1, .disks = d };
	(void)state;

	for (unsigned i = 0; i <= FDT_MAX_DISKS; i++)
		d[i] = disk_n(i % FDT_MAX_DISKS, 5);
	m.ndisks = FDT_MAX_DISKS + 1; /* too many disks */
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	m.ndisks = 1;
	m.ncpus = 0;
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	m.ncpus = FDT_MAX_CPUS + 1;
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	m.ncpus = 1;
	d[0].gsi = IOAPIC_PINS; /* no such IOAPIC pin */
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	d[0] = disk_n(0, 5);
	d[0].base = SYSDEV_ADDR; /* outside the window the isa ranges map */
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	d[0] = disk_n(FDT_MAX_DISKS, 5); /* one slot past the window */
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	d[0] = disk_n(0, 5);
	m.mem_low = 0;
	assert_int_equal(fdt_machine_build(buf, sizeof(buf), &m), -EINVAL);
	assert_int_equal(fdt_machine_build(NULL, sizeof(buf), &m), -EINVAL);
}

static void test_buffer_too_small(void **state)
{
	struct fdt_disk d = disk_n(0, 5);
	struct fdt_machine m = { .mem_low = 64ULL << 20, .ncpus = 2, .disks = &d, .ndisks = 1 };
	(void)state;

	int n = fdt_machine_build(buf, sizeof(buf), &m);
	assert_true(n > 0);
	/* One byte short, and smaller than even the header. */
	uint8_t *small = malloc((size_t)n - 1);
	assert_non_null(small);
	assert_int_equal(fdt_machine_build(small, (size_t)n - 1, &m), -ENOSPC);
	assert_int_equal(fdt_machine_build(small, 8, &m), -ENOSPC);
	free(small);
	/* Exactly enough works. */
	uint8_t *exact = malloc((size_t)n);
	assert_non_null(exact);
	assert_int_equal(fdt_machine_build(exact, (size_t)n, &m), n);
	assert_int_equal(fdt_check_header(exact), 0);
	free(exact);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_disk_one_cpu),
		cmocka_unit_test(test_many_disks_cpus_high_mem),
		cmocka_unit_test(test_max_cpus_no_disks),
		cmocka_unit_test(test_bad_description),
		cmocka_unit_test(test_buffer_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
