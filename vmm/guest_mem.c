/* SPDX-License-Identifier: MIT */
#include "guest_mem.h"

#include <errno.h>

int gmem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, void *hva)
{
	if (m->nr >= GMEM_MAX_REGIONS || size == 0 || gpa + size < gpa)
		return -EINVAL;
	for (unsigned i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -EINVAL;
	}
	m->r[m->nr++] = (struct gmem_region){ .gpa = gpa, .size = size, .hva = hva };
	return 0;
}

uint64_t gmem_total(const struct guest_mem *m)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < m->nr; i++)
		t += m->r[i].size;
	return t;
}
