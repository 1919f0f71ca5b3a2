/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory as devices see it: a few RAM regions and one
 * bounds-checked way to turn a guest address range into a host pointer.
 *
 * Everything a guest hands a device (descriptor addresses, lengths, ring
 * addresses) goes through gmem_ptr(): the range must lie wholly inside
 * one RAM region, and the arithmetic cannot wrap.  MMIO windows are not
 * RAM, so a buffer that overlaps a device's registers is refused too.
 */
#ifndef POLLVM_VMM_GUEST_MEM_H
#define POLLVM_VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;   /* first guest-physical address */
	uint64_t size;  /* bytes; gpa + size does not wrap (checked on add) */
	uint8_t *hva;   /* host mapping */
};

struct guest_mem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned nr;
};

/* Add a region; -EINVAL on wrap, overlap or a full table. */
int gmem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, void *hva);

/*
 * Host pointer for [gpa, gpa + len), or NULL when any byte of it is not
 * guest RAM.  len == 0 asks only whether gpa itself is inside RAM.
 */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (const struct gmem_region *r = m->r; r < m->r + m->nr; r++) {
		uint64_t off;

		/* Subtractions only, so no sum can overflow 2^64; the first
		 * one borrows when gpa is below the region. */
		if (__builtin_sub_overflow(gpa, r->gpa, &off) || off >= r->size)
			continue;
		if (len > r->size - off)
			return NULL;
		return r->hva + off;
	}
	return NULL;
}

/* Total RAM bytes. */
uint64_t gmem_total(const struct guest_mem *m);

#endif
