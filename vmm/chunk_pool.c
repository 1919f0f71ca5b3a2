/* SPDX-License-Identifier: MIT */
#include "chunk_pool.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int chunk_pool_init(struct chunk_pool *p, unsigned nr, size_t chunk_size, size_t align)
{
	memset(p, 0, sizeof(*p));
	if (nr == 0 || nr > CHUNK_POOL_MAX || align == 0 || (align & (align - 1)) ||
	    chunk_size == 0 || chunk_size % align || chunk_size > SIZE_MAX / nr - align)
		return -EINVAL;
	/* MAP_NORESERVE: untouched chunks cost address space, not memory. */
	p->map_len = chunk_size * nr + align;
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		return -errno;
	}
	p->base = (uint8_t *)(((uintptr_t)p->map + align - 1) & ~(uintptr_t)(align - 1));
	p->chunk_size = chunk_size;
	p->nr = nr;
	/* Lowest index on top: a lightly used pool keeps touching the same pages. */
	for (unsigned i = 0; i < nr; i++)
		p->free_idx[i] = (uint16_t)(nr - 1 - i);
	p->nr_free = nr;
	p->wait_tail = &p->wait;
	return 0;
}

void chunk_pool_destroy(struct chunk_pool *p)
{
	if (p->map)
		munmap(p->map, p->map_len);
	memset(p, 0, sizeof(*p));
}

void *chunk_pool_get(struct chunk_pool *p)
{
	if (!p->nr_free)
		return NULL;
	unsigned i = p->free_idx[--p->nr_free];
	if (p->nr - p->nr_free > p->used_max)
		p->used_max = p->nr - p->nr_free;
	return p->base + (size_t)i * p->chunk_size;
}

void *chunk_pool_get_or_wait(struct chunk_pool *p, struct chunk_wait *w)
{
	/* Behind the ones already waiting: in order. */
	void *c = p->wait ? NULL : chunk_pool_get(p);

	if (!c) {
		p->waits++;
		w->next = NULL;
		*p->wait_tail = w;
		p->wait_tail = &w->next;
	}
	return c;
}

void chunk_pool_put(struct chunk_pool *p, void *chunk)
{
	struct chunk_wait *w = p->wait;

	if (w) {
		/* Straight to the oldest waiter. */
		p->wait = w->next;
		if (!p->wait)
			p->wait_tail = &p->wait;
		w->got(w, chunk);
		return;
	}
	size_t i = (size_t)((uint8_t *)chunk - p->base) / p->chunk_size;
	p->free_idx[p->nr_free++] = (uint16_t)i;
}
