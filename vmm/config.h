/* SPDX-License-Identifier: MIT */
/* The command line, parsed and checked before anything is created. */
#ifndef POLLVM_VMM_CONFIG_H
#define POLLVM_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "poll_policy.h"

#define CONFIG_MAX_CPUS 64
#define CONFIG_MAX_DISKS 16      /* fits the virtio-mmio window and IRQ list */
#define CONFIG_MAX_IOTHREADS 16
#define CONFIG_MAX_QUEUES 16

/* Default bound on finishing in-flight I/O when the VM stops (--stop-timeout). */
#define CONFIG_STOP_TIMEOUT_DEFAULT 5.0

enum disk_cache { DISK_CACHE_NONE, DISK_CACHE_WRITEBACK };

struct disk_cfg {
	const char *path;        /* NULL for a null disk */
	bool null;               /* null=on: no file, every request a NOP (size= bytes) */
	uint64_t size;           /* null: the capacity in bytes */
	bool read_zeroes;        /* null: reads return zeroes (else buffers are left as they are) */
	bool ro;
	enum disk_cache cache;   /* default none: O_DIRECT, no host page cache */
	unsigned num_queues;     /* default 1 */
	const char *iothread;    /* iothread=ID[+ID...] as given, or NULL: the default IOThread */
	/* Its IOThread ids: queue q is served by iothread_ids[q % nr_iothread_ids]. */
	char iothread_ids[CONFIG_MAX_QUEUES][21];
	unsigned nr_iothread_ids;
	const char *serial;      /* GET_ID string, or NULL: derived from the file */
	unsigned logical_block_size;  /* what the guest sees: 512 (default) or 4096 */
	unsigned physical_block_size; /* hint to the guest; 0: the host's direct-I/O alignment */
};

struct iothread_cfg {
	const char *id;
	struct poll_params poll;  /* poll-max-ns, poll-grow, poll-shrink, poll-idle-ms */
	bool poll_contention;     /* back off when another task wants the CPU (default off) */
	uint64_t irq_coalesce_ns; /* irq-coalesce-us (default 0: off) */
	unsigned irq_max_batch;   /* irq-max-batch (default 0: no cap) */
	bool pinned;              /* cpu=N given */
	unsigned cpu;
};

/* The settings of an IOThread nobody named (and the defaults of a named one). */
void iothread_cfg_default(struct iothread_cfg *t, const char *id);
#define CONFIG_MIN_MEM  (32ULL << 20)
#define CONFIG_MAX_MEM  (1ULL << 40)

/* How the guest learns its devices (--machine-desc). */
enum machine_desc { MACHINE_DESC_CMDLINE, MACHINE_DESC_FDT };

struct config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;     /* NULL: pollvm's default */
	uint64_t mem;
	unsigned cpus;
	bool vcpu_pinned;        /* --cpus N,pin=C0:C1:...: vCPU i runs on host CPU vcpu_cpu[i] */
	unsigned vcpu_cpu[CONFIG_MAX_CPUS];
	double timeout;          /* seconds; 0 = none */
	double stop_timeout;     /* seconds in-flight I/O may take to finish at a stop */
	enum boot_pref boot;
	const char *stats_path;  /* JSON counters at exit, or NULL */
	struct disk_cfg disks[CONFIG_MAX_DISKS];
	unsigned nr_disks;
	struct iothread_cfg iothreads[CONFIG_MAX_IOTHREADS];
	unsigned nr_iothreads;
	bool quiet;
	enum machine_desc machine_desc; /* default cmdline: MP table + virtio_mmio.device= */
	const char *dump_dtb;    /* --dump-dtb FILE: write the tree, exit 0 */
	bool sandbox;            /* seccomp on vCPU and IOThread threads (default on) */
};

/*
 * Parse argv into cfg.  Returns 0, 1 when --help/--version was handled
 * (exit 0), or a -errno after one pv_err() line naming the problem
 * (PV_INPUT, log.h; PV_INTERNAL only when memory runs out).
 */
int config_parse(struct config *cfg, int argc, char **argv);

/* "256M", "1G", "4096" (bytes) -> bytes; -EINVAL unless the whole string parses. */
int parse_size(const char *s, uint64_t *out);
/*
 * Split "k1=v1,k2=v2" in place (s is modified): calls fn(key, value, arg)
 * for each pair; a pair without '=' gets value NULL.  Stops at the first
 * non-zero return and returns it.
 */
int parse_kv_list(char *s, int (*fn)(const char *k, const char *v, void *arg), void *arg);

/* A decimal unsigned integer in [min, max]. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
