/* SPDX-License-Identifier: MIT */
/*
 * A fixed pool of equal, aligned memory chunks for one thread's data path.
 *
 * The whole pool is mapped once, before the thread that uses it is
 * sandboxed; afterwards chunks are only taken and given back, never
 * allocated.  So guest traffic can neither grow the VMM's memory beyond
 * the pool nor lead the C library into system calls the sandbox forbids
 * (glibc reads /proc/sys/vm/overcommit_memory when it trims a heap after a
 * large free).  Pages are touched, and so become resident, on first use.
 *
 * One thread uses a pool: no lock.
 */
#ifndef POLLVM_VMM_CHUNK_POOL_H
#define POLLVM_VMM_CHUNK_POOL_H

#include <stddef.h>
#include <stdint.h>

#define CHUNK_POOL_MAX 256

/* A user waiting for a chunk: got() receives one, in the order they came. */
struct chunk_wait {
	void (*got)(struct chunk_wait *w, void *chunk);
	struct chunk_wait *next;  /* private */
};

struct chunk_pool {
	uint8_t *map;                 /* the mapping (base is aligned inside it) */
	size_t map_len;
	uint8_t *base;
	size_t chunk_size;
	unsigned nr, nr_free;
	uint16_t free_idx[CHUNK_POOL_MAX];
	unsigned used_max;            /* most chunks taken at once */
	struct chunk_wait *wait, **wait_tail;
	uint64_t waits;               /* takers that had to wait */
};

/*
 * nr chunks (1..CHUNK_POOL_MAX) of chunk_size bytes, each aligned to align
 * (a power of two dividing chunk_size).  -errno.
 */
int chunk_pool_init(struct chunk_pool *p, unsigned nr, size_t chunk_size, size_t align);
void chunk_pool_destroy(struct chunk_pool *p);
/* A free chunk, or NULL when every chunk is taken. */
void *chunk_pool_get(struct chunk_pool *p);
/* A free chunk, or NULL: then w->got() receives one when one comes back. */
void *chunk_pool_get_or_wait(struct chunk_pool *p, struct chunk_wait *w);
/* Give a chunk back: to the oldest waiter if there is one. */
void chunk_pool_put(struct chunk_pool *p, void *chunk);

#endif
