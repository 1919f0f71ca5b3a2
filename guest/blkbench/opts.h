/* SPDX-License-Identifier: MIT */
/*
 * blkbench's job, from its kernel command line (README.md "Options").
 * Pure parsing, no hardware: this file also builds on the host for tests.
 */
#ifndef BLKBENCH_OPTS_H
#define BLKBENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bb_rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW };
enum bb_completion { COMPLETION_POLL, COMPLETION_IRQ };

#define BB_MAX_DEVS   32
#define BB_MAX_QUEUES 16      /* pollvm's BLK_MAX_QUEUES */
#define BB_MAX_QD     256     /* per queue; a queue never has more than 256 entries here */
#define BB_MAX_BS     (4u << 20)
#define BB_MAX_BIG_REQS 16
#define BB_MAX_BIG_LEN  (2ull << 30)   /* used.len (le32) must hold the length + the status byte */

/* One virtio_mmio.device=<size>@<base>:<irq>[:<id>] (Linux virtio_mmio.c vm_cmdline_set). */
struct bb_mmio_dev {
	uint64_t base, size;
	uint32_t irq;
};

struct bb_opts {
	enum bb_rw rw;
	uint32_t bs;              /* bytes, a multiple of 512 */
	uint32_t qd;              /* requests in flight per queue */
	uint32_t secs;            /* timed run; 0 when only ios= was given */
	uint64_t ios;             /* stop after this many I/Os; 0: no limit */
	uint32_t queues;
	bool verify;
	bool prefill;             /* verify: write the pattern over the region first */
	bool event_idx;           /* offer to negotiate VIRTIO_F_EVENT_IDX (default on) */
	bool flush;               /* negotiate VIRTIO_BLK_F_FLUSH (default on); off: write-through device */
	int writeback;            /* writeback=0|1: negotiate CONFIG_WCE, set this cache mode; -1: neither */
	enum bb_completion completion;
	uint64_t tsc_khz;         /* required: 0 means missing */
	uint32_t dev;             /* index among the virtio-blk devices found */
	uint64_t size;            /* job region in bytes; 0: the whole disk */
	uint64_t seed;
	uint32_t rwmixread;       /* randrw: percentage of reads */
	char hostile[32];         /* hostile=CASE|all: malformed chains (hostile.c); "" = off */
	uint64_t crash_sectors;   /* crash=on: power-cut test over 2 x this many sectors; 0 = off */
	uint32_t idle_secs;       /* after the job: leave the device alone this long, then exit */
	uint32_t buf_offset;      /* data buffers start this many bytes past a page boundary */
	uint32_t big_reqs;        /* hostile=big_bounce: reads posted at once */
	uint64_t big_len;         /* hostile=big_bounce: bytes per read */
	uint32_t big_rounds;      /* hostile=big_bounce: times the reads are posted, one round after another */
	unsigned nr_devs;
	struct bb_mmio_dev devs[BB_MAX_DEVS];
};

/*
 * Parse a command line into *o (defaults first).  Returns 0, or -1 with a
 * one-line reason in err.  Linux's own words (console=, panic=, module.x=,
 * bare flags) are ignored; any other unknown key is an error so a typo
 * cannot silently run the wrong benchmark.
 */
int bb_parse_opts(const char *cmdline, struct bb_opts *o, char *err, size_t errlen);

const char *bb_rw_name(enum bb_rw rw);

static inline bool bb_rw_random(enum bb_rw rw) { return rw >= RW_RANDREAD; }
static inline bool bb_rw_reads(enum bb_rw rw)
{
	return rw == RW_READ || rw == RW_RANDREAD || rw == RW_RANDRW;
}
static inline bool bb_rw_writes(enum bb_rw rw)
{
	return rw == RW_WRITE || rw == RW_RANDWRITE || rw == RW_RANDRW;
}

#endif
