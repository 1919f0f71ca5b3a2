/* SPDX-License-Identifier: MIT */
/* The command line, parsed and checked before anything is created. */
#ifndef POLLVM_VMM_CONFIG_H
#define POLLVM_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

#define CONFIG_MAX_CPUS 64
#define CONFIG_MIN_MEM  (32ULL << 20)
#define CONFIG_MAX_MEM  (1ULL << 40)

struct config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;     /* NULL: pollvm's default */
	uint64_t mem;
	unsigned cpus;
	double timeout;          /* seconds; 0 = none */
	enum boot_pref boot;
	const char *stats_path;  /* JSON counters at exit, or NULL */
	bool quiet;
};

/*
 * Parse argv into cfg.  Returns 0, 1 when --help/--version was handled
 * (exit 0), or -EINVAL after printing one line naming the problem.
 */
int config_parse(struct config *cfg, int argc, char **argv);

/* "256M", "1G", "4096" (bytes) -> bytes; -EINVAL unless the whole string parses. */
int parse_size(const char *s, uint64_t *out);
/* A decimal unsigned integer in [min, max]. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
