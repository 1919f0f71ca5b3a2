/* SPDX-License-Identifier: MIT */
#include "mptable.h"
#include "layout.h"

#include <errno.h>
#include <string.h>

/* Structures of MP spec 1.4, chapter 4. All little-endian and packed. */
struct mpf {                 /* 4.1 MP floating pointer structure */
	char signature[4];   /* "_MP_" */
	uint32_t physptr;
	uint8_t length;      /* in 16-byte units: 1 */
	uint8_t specrev;     /* 4 = version 1.4 */
	uint8_t checksum;
	uint8_t feature1;    /* 0: a configuration table is present */
	uint8_t feature2;    /* bit 7 IMCRP clear: virtual-wire mode */
	uint8_t feature3[3];
} __attribute__((packed));

struct mpc_header {          /* 4.2 MP configuration table header */
	char signature[4];   /* "PCMP" */
	uint16_t length;     /* base table, header included */
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t count;      /* entries in the base table */
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {             /* 4.3.1, entry type 0 */
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t signature, featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {             /* 4.3.2, entry type 1 */
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {          /* 4.3.3, entry type 2 */
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {          /* 4.3.4 (type 3) and 4.3.5 (type 4) */
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_IRQ_INT = 0, MP_IRQ_NMI = 1, MP_IRQ_EXTINT = 3 };
#define CPU_ENABLED     0x1
#define CPU_BSP         0x2
#define IOAPIC_ENABLED  0x1
/* Versions of the xAPIC KVM emulates (LAPIC version register 0x14, IOAPIC 0x11). */
#define LAPIC_VERSION   0x14
#define IOAPIC_VERSION  0x11
/* irqflag 0: polarity and trigger "conform to the bus": ISA is edge, active high. */
#define IRQFLAG_BUS     0
#define BUS_ISA         0
/* CPUID(1).EAX-style signature for the processor entries: family 6. */
#define CPU_SIGNATURE   0x600
/* CPUID(1).EDX feature bits the entry advertises: FPU (0) and APIC (9). */
#define CPU_FEATURES    ((1U << 0) | (1U << 9))

size_t mptable_size(unsigned ncpus)
{
	/* Interrupt sources: ExtINT on pin 0, ISA IRQ 0 on pin 2, then one
	 * per remaining IOAPIC pin; plus the two local interrupt entries. */
	unsigned nint = 2 + (IOAPIC_PINS - 2) + 2;
	return sizeof(struct mpf) + sizeof(struct mpc_header) +
	       ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + nint * sizeof(struct mpc_intsrc);
}

uint8_t mptable_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return (uint8_t)-s;
}

static void put_intsrc(uint8_t **p, uint8_t type, uint8_t irqtype, uint8_t srcirq,
		       uint8_t dstapic, uint8_t dstpin)
{
	struct mpc_intsrc e = {
		.type = type, .irqtype = irqtype, .irqflag = IRQFLAG_BUS,
		.srcbus = BUS_ISA, .srcbusirq = srcirq, .dstapic = dstapic, .dstirq = dstpin,
	};
	memcpy(*p, &e, sizeof(e));
	*p += sizeof(e);
}

int mptable_write(void *buf, size_t cap, uint64_t gpa, unsigned ncpus)
{
	size_t size = mptable_size(ncpus);
	uint8_t *base = buf, *p;
	struct mpc_header *hdr;
	struct mpf *mpf = buf;
	uint8_t ioapic_id = (uint8_t)ncpus; /* first APIC ID after the CPUs' */
	uint16_t count = 0;

	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	if (size > cap || gpa + size > 0x100000000ULL)
		return -ENOSPC;
	memset(buf, 0, size);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->specrev = 4;

	hdr = (struct mpc_header *)(base + sizeof(*mpf));
	memcpy(hdr->signature, "PCMP", 4);
	hdr->spec = 4;
	memcpy(hdr->oem, "POLLVM  ", 8);
	memcpy(hdr->product, "POLLVM 1    ", 12);
	hdr->lapic = (uint32_t)LAPIC_ADDR;
	p = (uint8_t *)(hdr + 1);

	for (unsigned i = 0; i < ncpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROCESSOR, .apicid = (uint8_t)i, .apicver = LAPIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BSP : 0),
			.signature = CPU_SIGNATURE, .featureflag = CPU_FEATURES,
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		count++;
	}

	struct mpc_bus bus = { .type = MP_BUS, .busid = BUS_ISA, .bustype = "ISA   " };
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	count++;

	struct mpc_ioapic io = {
		.type = MP_IOAPIC, .apicid = ioapic_id, .apicver = IOAPIC_VERSION,
		.flags = IOAPIC_ENABLED, .apicaddr = (uint32_t)IOAPIC_ADDR,
	};
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	count++;

	/*
	 * KVM's default GSI routing sends GSI 0 (the PIT) to IOAPIC pin 2 and
	 * every other GSI to the pin of the same number, as PC chipsets wire
	 * it; pin 0 carries the 8259's ExtINT.  Say exactly that.
	 */
	put_intsrc(&p, MP_INTSRC, MP_IRQ_EXTINT, 0, ioapic_id, 0);
	put_intsrc(&p, MP_INTSRC, MP_IRQ_INT, 0, ioapic_id, 2);
	count += 2;
	for (unsigned pin = 1; pin < IOAPIC_PINS; pin++) {
		if (pin == 2)
			continue;
		put_intsrc(&p, MP_INTSRC, MP_IRQ_INT, (uint8_t)pin, ioapic_id, (uint8_t)pin);
		count++;
	}
	/* LINT0 takes ExtINT (virtual wire), LINT1 the NMI, on every LAPIC (0xff). */
	put_intsrc(&p, MP_LINTSRC, MP_IRQ_EXTINT, 0, 0xff, 0);
	put_intsrc(&p, MP_LINTSRC, MP_IRQ_NMI, 0, 0xff, 1);
	count += 2;

	hdr->length = (uint16_t)(p - (uint8_t *)hdr);
	hdr->count = count;
	hdr->checksum = mptable_checksum(hdr, hdr->length);
	mpf->checksum = mptable_checksum(mpf, sizeof(*mpf));
	return (int)(p - base);
}
