/* SPDX-License-Identifier: MIT */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
}

void bus_destroy(struct bus *b)
{
	free(b->r);
	b->r = NULL;
	b->nr = b->cap = 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	if (len == 0 || base + len - 1 < base || !ops)
		return -EINVAL;

	unsigned pos = 0;
	while (pos < b->nr && b->r[pos].base < base)
		pos++;
	/* Neighbours on either side must end before / start after us. */
	if (pos > 0) {
		const struct bus_range *p = &b->r[pos - 1];
		if (p->base + (p->len - 1) >= base)
			return -EEXIST;
	}
	if (pos < b->nr && b->r[pos].base <= base + (len - 1))
		return -EEXIST;

	if (b->nr == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *n = realloc(b->r, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		b->r = n;
		b->cap = cap;
	}
	memmove(&b->r[pos + 1], &b->r[pos], (b->nr - pos) * sizeof(*b->r));
	b->r[pos] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	b->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr, unsigned len)
{
	unsigned lo = 0, hi = b->nr;

	if (len == 0)
		return NULL;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->r[mid];
		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* Found the range holding addr; the whole access must fit. */
			if (len - 1 > r->len - 1 - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

bool bus_read(const struct bus *b, uint64_t addr, void *data, unsigned len)
{
	const struct bus_range *r = bus_find(b, addr, len);

	if (!r || !r->ops->read) {
		memset(data, 0xff, len);
		return r != NULL;
	}
	r->ops->read(r->opaque, addr - r->base, data, len);
	return true;
}

bool bus_write(const struct bus *b, uint64_t addr, const void *data, unsigned len)
{
	const struct bus_range *r = bus_find(b, addr, len);

	if (!r)
		return false;
	if (r->ops->write)
		r->ops->write(r->opaque, addr - r->base, data, len);
	return true;
}
