/* SPDX-License-Identifier: MIT */
/*
 * A PIO or MMIO dispatch bus.  Devices register address ranges with an
 * ops table; the vCPU exit handler looks the address up and calls it.
 *
 * Ranges are registered while the machine is built (single-threaded) and
 * only looked up afterwards, so lookups take no lock.  Device callbacks
 * run on whichever vCPU thread exited: a device shared by several vCPUs
 * synchronises itself.
 */
#ifndef POLLVM_VMM_BUS_H
#define POLLVM_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* offset is relative to the range base; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;        /* "pio" or "mmio", for messages */
	struct bus_range *r;     /* sorted by base, non-overlapping */
	unsigned nr, cap;
};

void bus_init(struct bus *b, const char *name);
void bus_destroy(struct bus *b);

/* -EINVAL for an empty or wrapping range, -EEXIST when it overlaps one. */
int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name);

/* The range holding all of [addr, addr + len), or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr, unsigned len);

/*
 * Dispatch one access.  Returns false when no device claims it: a read
 * then yields all-ones (what an empty ISA/MMIO slot returns), a write is
 * dropped.  The caller counts those.
 */
bool bus_read(const struct bus *b, uint64_t addr, void *data, unsigned len);
bool bus_write(const struct bus *b, uint64_t addr, const void *data, unsigned len);

#endif
