/* SPDX-License-Identifier: MIT */
/*
 * The little of a C library blkbench needs (freestanding: no libc).
 * The names are prefixed so opts.c also builds on the host for tests.
 */
#ifndef BLKBENCH_LIB_H
#define BLKBENCH_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The compiler may emit calls to these four by their standard names. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t bb_strlen(const char *s);
int bb_strncmp(const char *a, const char *b, size_t n);

/*
 * printf subset: %d %i %u %x %X %s %c %p %% with flags '0' '-' '#', a
 * width, a precision for %s (".N" or ".*"), and the l/ll/z length modifiers.  Returns the length it would
 * have written (like snprintf); always NUL-terminates when cap > 0.
 */
int bb_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
int bb_snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
