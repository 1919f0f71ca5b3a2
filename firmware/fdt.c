/* SPDX-License-Identifier: MIT */
#include "fdt.h"
#include "layout.h"

#include <errno.h>
#include <libfdt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/*
 * The tree (dtc -I dtb -O dts of a 2-CPU, 1-disk machine):
 *
 *   / { compatible = "pollvm"; #address-cells = <2>; #size-cells = <2>;
 *       interrupt-parent = <&ioapic>;
 *     memory@0 { device_type = "memory"; reg = <0 0 0 low> [, <1 0 hi hi>]; };
 *     cpus { cpu@0 { device_type = "cpu"; reg = <0>; lapic = <&lapic>; }; ... };
 *     ioapic: interrupt-controller@fec00000 { compatible = "intel,ce4100-ioapic"; ... };
 *     lapic: interrupt-controller@fee00000 { compatible = "intel,ce4100-lapic"; ... };
 *     isa@d0001000 { compatible = "isa"; #address-cells = <2>; #size-cells = <1>; ranges = ...;
 *       serial@i3f8 { compatible = "ns16550a"; reg = <1 0x3f8 8>; interrupts = <4 3>; };
 *       virtio_mmio@d0001000 { compatible = "virtio,mmio"; reg = <0 0xd0001000 0x200>;
 *                              interrupts = <5 3>; };
 *     };
 *   };
 *
 * Root cells are 2/2: RAM goes above 4 GiB. The LAPIC and IOAPIC sit at the
 * root, like the CE4100 tree (arch/x86/platform/ce4100/falconfalls.dts), as
 * devicetree.c finds them by compatible wherever they are. The devices sit
 * under a node *named* "isa" (the unit address does not count): drivers/of/address.c picks its ISA address
 * translator by node name (of_bus_isa_match), whose first reg cell says
 * which space (bit 0: 1 = I/O, 0 = memory; ISA binding, IEEE 1275), which
 * is how a port-I/O UART and MMIO devices share one bus.
 */

#define CHECK(x)                        \
	do {                            \
		int r_ = (x);           \
		if (r_ < 0)             \
			return r_;      \
	} while (0)

/* Property helpers: big-endian cells, as every DT property is. */
static int prop_cells(void *fdt, const char *name, const uint32_t *cells, unsigned n)
{
	fdt32_t be[12];

	if (n > sizeof(be) / sizeof(be[0]))
		return -FDT_ERR_INTERNAL;
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(fdt32_t)));
}

#define HI(x) ((uint32_t)((uint64_t)(x) >> 32))
#define LO(x) ((uint32_t)(x))

static int begin_node_at(void *fdt, const char *name, const char *unit_fmt, uint64_t unit)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%s@", name);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), unit_fmt, (unsigned long long)unit);
	return fdt_begin_node(fdt, buf);
}

static int write_memory(void *fdt, const struct fdt_machine *m)
{
	/* Two cells of address, two of size (root); one range per RAM block.
	 * Linux x86 takes RAM from e820, not from here (devicetree.c's
	 * early_init_dt_add_memory_arch() is a BUG() it never reaches): this
	 * node is for the reader, and for the devicetree spec, which wants it. */
	uint32_t reg[8] = { 0, 0, HI(m->mem_low), LO(m->mem_low),
			    HI(HIGH_RAM_START), LO(HIGH_RAM_START), HI(m->mem_high), LO(m->mem_high) };

	CHECK(begin_node_at(fdt, "memory", "%llx", 0));
	CHECK(fdt_property_string(fdt, "device_type", "memory"));
	CHECK(prop_cells(fdt, "reg", reg, m->mem_high ? 8 : 4));
	return fdt_end_node(fdt);
}

static int write_cpus(void *fdt, const struct fdt_machine *m)
{
	CHECK(fdt_begin_node(fdt, "cpus"));
	/* reg = APIC ID: devicetree.c dtb_cpu_setup() -> of_get_cpu_hwid(). */
	CHECK(fdt_property_u32(fdt, "#address-cells", 1));
	CHECK(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < m->ncpus; i++) {
		CHECK(begin_node_at(fdt, "cpu", "%llx", i));
		CHECK(fdt_property_string(fdt, "device_type", "cpu"));
		CHECK(fdt_property_u32(fdt, "reg", i));
		CHECK(fdt_property_u32(fdt, "lapic", FDT_PHANDLE_LAPIC));
		CHECK(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int write_apics(void *fdt)
{
	/* 4 KiB register windows: 82093AA IOAPIC and the xAPIC page (SDM 10.4.1). */
	uint32_t ioapic_reg[4] = { HI(IOAPIC_ADDR), LO(IOAPIC_ADDR), 0, 0x1000 };
	uint32_t lapic_reg[4] = { HI(LAPIC_ADDR), LO(LAPIC_ADDR), 0, 0x1000 };

	CHECK(begin_node_at(fdt, "interrupt-controller", "%llx", IOAPIC_ADDR));
	CHECK(fdt_property_string(fdt, "compatible", "intel,ce4100-ioapic"));
	CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	/* <pin type>: dt_irqdomain_alloc() in devicetree.c reads both. */
	CHECK(fdt_property_u32(fdt, "#interrupt-cells", 2));
	/* No interrupt-map below it; 0 keeps dtc's interrupt_provider check quiet. */
	CHECK(fdt_property_u32(fdt, "#address-cells", 0));
	CHECK(prop_cells(fdt, "reg", ioapic_reg, 4));
	CHECK(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_IOAPIC));
	CHECK(fdt_end_node(fdt));

	CHECK(begin_node_at(fdt, "interrupt-controller", "%llx", LAPIC_ADDR));
	CHECK(fdt_property_string(fdt, "compatible", "intel,ce4100-lapic"));
	CHECK(prop_cells(fdt, "reg", lapic_reg, 4));
	CHECK(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_LAPIC));
	return fdt_end_node(fdt);
}

/* First cell of an ISA address: bit 0 selects I/O space (ISA binding). */
#define ISA_SPACE_MEM 0
#define ISA_SPACE_IO  1
/* x86 port space: 64 Ki ports (IO_SPACE_LIMIT 0xffff, arch/x86/include/asm/io.h). */
#define X86_IO_SPACE  0x10000
/* PC UART: ports base..base+7, 1.8432 MHz crystal (115200 baud x 16), what
 * of_platform_serial_setup() (8250_of.c) wants when there is no clock. */
#define UART0_PORT    0x3f8
#define UART_NR_PORTS 8
#define UART_CLOCK_HZ 1843200

static int write_isa(void *fdt, const struct fdt_machine *m)
{
	uint64_t win = (uint64_t)VIRTIO_MMIO_MAX * VIRTIO_MMIO_SIZE;
	/*
	 * ranges: <space child-addr  parent-addr(2)  size(1)>. Memory: the
	 * virtio-mmio window maps to itself. I/O: ports 0..0xffff map to 0..0xffff,
	 * which of_translate_ioport() hands to pci_address_to_pio(): on x86 a port
	 * number is its own "address" (no PCI_IOBASE) -- but only in a kernel built
	 * with CONFIG_PCI; the pollvm test guest has none, so it cannot translate
	 * the UART's reg and its console stays with the legacy 8250 probe.
	 */
	uint32_t ranges[10] = {
		ISA_SPACE_MEM, LO(VIRTIO_MMIO_BASE), HI(VIRTIO_MMIO_BASE), LO(VIRTIO_MMIO_BASE), LO(win),
		ISA_SPACE_IO, 0, 0, 0, X86_IO_SPACE,
	};
	uint32_t uart_reg[3] = { ISA_SPACE_IO, UART0_PORT, UART_NR_PORTS };
	uint32_t uart_irq[2] = { IRQ_UART0, FDT_IOAPIC_EDGE_RISING };

	/* dtc wants a unit address on a node with ranges: the window's start. */
	CHECK(begin_node_at(fdt, "isa", "%llx", VIRTIO_MMIO_BASE));
	/* "isa" is in both match tables that populate x86 trees (see fdt.h). */
	CHECK(fdt_property_string(fdt, "compatible", "isa"));
	CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	CHECK(fdt_property_u32(fdt, "#size-cells", 1));
	CHECK(prop_cells(fdt, "ranges", ranges, 10));

	CHECK(begin_node_at(fdt, "serial", "i%llx", UART0_PORT));
	CHECK(fdt_property_string(fdt, "compatible", "ns16550a"));
	CHECK(prop_cells(fdt, "reg", uart_reg, 3));
	CHECK(prop_cells(fdt, "interrupts", uart_irq, 2));
	CHECK(fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ));
	CHECK(fdt_end_node(fdt));

	for (unsigned i = 0; i < m->ndisks; i++) {
		const struct fdt_disk *d = &m->disks[i];
		uint32_t reg[3] = { ISA_SPACE_MEM, LO(d->base), LO(d->size) };
		uint32_t irq[2] = { d->gsi, FDT_IOAPIC_EDGE_RISING };

		/* Node name as QEMU and Firecracker spell it. */
		CHECK(begin_node_at(fdt, "virtio_mmio", "%llx", d->base));
		/* Documentation/devicetree/bindings/virtio/mmio.yaml; the OF match
		 * table of drivers/virtio/virtio_mmio.c. */
		CHECK(fdt_property_string(fdt, "compatible", "virtio,mmio"));
		CHECK(prop_cells(fdt, "reg", reg, 3));
		/* Edge, active high: what an irqfd without resample delivers. */
		CHECK(prop_cells(fdt, "interrupts", irq, 2));
		CHECK(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int write_tree(void *fdt, const struct fdt_machine *m)
{
	CHECK(fdt_finish_reservemap(fdt));
	CHECK(fdt_begin_node(fdt, ""));
	CHECK(fdt_property_string(fdt, "compatible", "pollvm"));
	CHECK(fdt_property_string(fdt, "model", "pollvm"));
	CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	/* Inherited by every node with interrupts (of_irq_find_parent walks up). */
	CHECK(fdt_property_u32(fdt, "interrupt-parent", FDT_PHANDLE_IOAPIC));
	/* Empty: x86 takes the command line from the zero page, not bootargs. */
	CHECK(fdt_begin_node(fdt, "chosen"));
	CHECK(fdt_end_node(fdt));
	CHECK(write_memory(fdt, m));
	CHECK(write_cpus(fdt, m));
	CHECK(write_apics(fdt));
	CHECK(write_isa(fdt, m));
	CHECK(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

static int valid(const struct fdt_machine *m)
{
	if (m->ncpus == 0 || m->ncpus > FDT_MAX_CPUS || m->ndisks > FDT_MAX_DISKS ||
	    (m->ndisks && !m->disks) || m->mem_low == 0 || m->mem_low > LOW_RAM_END)
		return 0;
	for (unsigned i = 0; i < m->ndisks; i++) {
		const struct fdt_disk *d = &m->disks[i];
		/* The isa node's ranges map only the virtio-mmio window. */
		if (d->gsi >= IOAPIC_PINS || d->size == 0 || d->base < VIRTIO_MMIO_BASE ||
		    d->base + d->size > VIRTIO_MMIO_BASE + VIRTIO_MMIO_MAX * VIRTIO_MMIO_SIZE)
			return 0;
	}
	return 1;
}

int fdt_machine_build(void *buf, size_t cap, const struct fdt_machine *m)
{
	int r;

	if (!buf || !m || !valid(m))
		return -EINVAL;
	if (cap > INT_MAX)
		cap = INT_MAX;
	r = fdt_create(buf, (int)cap);
	if (!r)
		r = write_tree(buf, m);
	if (r == -FDT_ERR_NOSPACE)
		return -ENOSPC;
	if (r < 0)
		return -EINVAL;
	return (int)fdt_totalsize(buf);
}
