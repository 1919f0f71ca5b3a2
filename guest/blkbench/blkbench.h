/* SPDX-License-Identifier: MIT */
/* What the CPL3 files share: printing, the DMA heap, giving up. */
#ifndef BLKBENCH_H
#define BLKBENCH_H

#include <stdint.h>

/* Format and print through SYS_WRITE (only CPL0 may touch COM1 under PVM). */
void uprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "blkbench: error: ..." and end the VM with exit value v. */
__attribute__((noreturn)) void die(unsigned v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Zeroed, aligned, identity-mapped guest RAM after the image; NULL when out. */
void *dma_alloc(uint64_t bytes, uint64_t align);
/* Same, not zeroed (data buffers: filling megabytes would only cost time). */
void *dma_alloc_raw(uint64_t bytes, uint64_t align);
uint64_t dma_free_bytes(void);

#endif
