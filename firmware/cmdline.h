/* SPDX-License-Identifier: MIT */
/* Building the kernel command line: the user's words plus what pollvm adds. */
#ifndef POLLVM_FIRMWARE_CMDLINE_H
#define POLLVM_FIRMWARE_CMDLINE_H

#include <stddef.h>

struct cmdline {
	char buf[4096];
	size_t len;     /* strlen(buf) */
	size_t max;     /* the guest's limit, including the NUL */
};

void cmdline_init(struct cmdline *c, size_t max);
/* Append one space-separated word (or several); -E2BIG when it would not fit. */
int cmdline_append(struct cmdline *c, const char *s);
/* printf-style append. */
int cmdline_appendf(struct cmdline *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Is there a parameter named `key` (as "key" or "key=...")? */
int cmdline_has(const struct cmdline *c, const char *key);

#endif
