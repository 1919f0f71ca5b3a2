/* SPDX-License-Identifier: MIT */
/*
 * Host-side test of blkbench's command-line parser (opts.c): built and
 * run by `make blkbench-test`.  Plain asserts, no framework: opts.c and
 * lib.c are freestanding code that happens to build for the host too.
 */
#include <stdio.h>
#include <string.h>

#include "opts.h"

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, \
				cmd, #cond);                                     \
			failures++;                                              \
		}                                                                \
	} while (0)

static struct bb_opts o;
static char err[256];
static const char *cmd;

static int parse(const char *c)
{
	cmd = c;
	return bb_parse_opts(c, &o, err, sizeof(err));
}

/* An error whose message contains `what`. */
static void bad(const char *c, const char *what)
{
	CHECK(parse(c) == -1);
	CHECK(strstr(err, what) != NULL);
}

int main(void)
{
	/* Defaults, and the tsc_khz requirement. */
	CHECK(parse("tsc_khz=2596144") == 0);
	CHECK(o.rw == RW_RANDREAD && o.bs == 4096 && o.qd == 1 && o.secs == 5 && o.ios == 0);
	CHECK(o.queues == 1 && !o.verify && o.prefill && o.event_idx && o.flush);
	CHECK(o.completion == COMPLETION_POLL && o.tsc_khz == 2596144 && o.dev == 0);
	CHECK(o.size == 0 && o.rwmixread == 50 && o.nr_devs == 0);
	bad("", "tsc_khz= is required");
	bad("rw=read qd=4", "tsc_khz= is required");

	/* Every option, suffixes, and the devices QEMU and pollvm append. */
	CHECK(parse("  rw=randrw bs=64k qd=32 secs=7 ios=1m queues=2 verify=on prefill=off "
		    "event_idx=off completion=irq tsc_khz=3000000 dev=1 size=1g seed=42 "
		    "rwmixread=70 virtio_mmio.device=512@0xfeb00e00:12 "
		    "virtio_mmio.device=0x200@0xd0001000:5:1  ") == 0);
	CHECK(o.rw == RW_RANDRW && o.bs == 65536 && o.qd == 32 && o.secs == 7);
	CHECK(o.ios == (1u << 20) && o.queues == 2 && o.verify && !o.prefill && !o.event_idx);
	CHECK(o.completion == COMPLETION_IRQ && o.tsc_khz == 3000000 && o.dev == 1);
	CHECK(o.size == (1ull << 30) && o.seed == 42 && o.rwmixread == 70);
	CHECK(o.nr_devs == 2);
	CHECK(o.devs[0].size == 512 && o.devs[0].base == 0xfeb00e00 && o.devs[0].irq == 12);
	CHECK(o.devs[1].size == 512 && o.devs[1].base == 0xd0001000 && o.devs[1].irq == 5);
	CHECK(parse("bs=1M tsc_khz=1000 virtio_mmio.device=4K@0x1000:9") == 0);
	CHECK(o.bs == (1u << 20) && o.devs[0].size == 4096 && o.devs[0].irq == 9);

	/* ios= alone runs exactly that many; with secs= whichever ends first. */
	CHECK(parse("ios=1000 tsc_khz=1000") == 0 && o.secs == 0 && o.ios == 1000);
	CHECK(parse("ios=1000 secs=3 tsc_khz=1000") == 0 && o.secs == 3 && o.ios == 1000);

	/* Linux's words are not ours: ignored.  Unknown keys are errors. */
	CHECK(parse("console=ttyS0 reboot=k panic=-1 quiet ro tsc=reliable foo.bar=1 tsc_khz=1000") == 0);
	bad("tsc_khz=1000 qdepth=4", "unknown option qdepth=");

	/* Bad values. */
	bad("rw=sideways tsc_khz=1000", "bad rw=sideways");
	/* hostile= and crash= */
	CHECK(parse("hostile=all tsc_khz=1000") == 0 && !strcmp(o.hostile, "all"));
	CHECK(parse("hostile=desc_loop tsc_khz=1000") == 0 && !strcmp(o.hostile, "desc_loop"));
	CHECK(parse("tsc_khz=1000") == 0 && o.hostile[0] == 0 && o.crash_sectors == 0);
	bad("hostile= tsc_khz=1000", "bad hostile=");
	bad("hostile=abcdefghijklmnopqrstuvwxyz0123456789 tsc_khz=1000", "bad hostile=");
	CHECK(parse("crash=on tsc_khz=1000") == 0 && o.crash_sectors == 2048);
	CHECK(parse("crash_sectors=64 crash=on tsc_khz=1000") == 0 && o.crash_sectors == 64);
	CHECK(parse("crash=on crash_sectors=64 tsc_khz=1000") == 0 && o.crash_sectors == 64);
	bad("crash=maybe tsc_khz=1000", "bad crash=");
	/* flush=off: a driver that does not negotiate FLUSH (write-through device). */
	CHECK(parse("flush=off tsc_khz=1000") == 0 && !o.flush);
	CHECK(parse("flush=off flush=on tsc_khz=1000") == 0 && o.flush);
	CHECK(parse("crash=on flush=off tsc_khz=1000") == 0 && !o.flush && o.crash_sectors == 2048);
	bad("flush=maybe tsc_khz=1000", "bad flush=");
	/* writeback=0|1: CONFIG_WCE and the cache mode the driver sets. */
	CHECK(parse("tsc_khz=1000") == 0 && o.writeback == -1);
	CHECK(parse("writeback=0 tsc_khz=1000") == 0 && o.writeback == 0);
	CHECK(parse("flush=off writeback=1 tsc_khz=1000") == 0 && o.writeback == 1 && !o.flush);
	bad("writeback=2 tsc_khz=1000", "for writeback=");
	bad("writeback=on tsc_khz=1000", "for writeback=");
	bad("crash_sectors=0 tsc_khz=1000", "crash_sectors=");
	bad("bs=1000 tsc_khz=1000", "not a multiple of 512");
	bad("bs=0 tsc_khz=1000", "for bs=");
	bad("bs=8m tsc_khz=1000", "for bs=");
	bad("bs=4x tsc_khz=1000", "for bs=");
	bad("qd=0 tsc_khz=1000", "for qd=");
	bad("qd=257 tsc_khz=1000", "for qd=");
	bad("queues=17 tsc_khz=1000", "for queues=");
	bad("secs=0 tsc_khz=1000", "for secs=");
	/* idle=: seconds of leaving the device alone after the job. */
	CHECK(parse("tsc_khz=1000") == 0 && o.idle_secs == 0);
	CHECK(parse("idle=12 tsc_khz=1000") == 0 && o.idle_secs == 12);
	bad("idle=86401 tsc_khz=1000", "idle=");
	bad("idle=1k tsc_khz=1000", "idle=");
	/* buf_offset=: bytes past a page boundary, any of 0..4095. */
	CHECK(parse("tsc_khz=1000") == 0 && o.buf_offset == 0);
	CHECK(parse("buf_offset=8 tsc_khz=1000") == 0 && o.buf_offset == 8);
	CHECK(parse("buf_offset=4095 tsc_khz=1000") == 0 && o.buf_offset == 4095);
	bad("buf_offset=4096 tsc_khz=1000", "for buf_offset=");
	bad("buf_offset=1k tsc_khz=1000", "for buf_offset=");
	bad("buf_offset=-1 tsc_khz=1000", "for buf_offset=");
	/* big_reqs=, big_len= (hostile=big_bounce): 3 x 1016 MiB unless told. */
	CHECK(parse("hostile=big_bounce tsc_khz=1000") == 0 && !strcmp(o.hostile, "big_bounce"));
	CHECK(o.big_reqs == 3 && o.big_len == (1016ull << 20) && o.big_rounds == 1);
	CHECK(parse("big_rounds=2 tsc_khz=1000") == 0 && o.big_rounds == 2);
	bad("big_rounds=0 tsc_khz=1000", "for big_rounds=");
	CHECK(parse("big_reqs=16 big_len=64m tsc_khz=1000") == 0 && o.big_reqs == 16 &&
	      o.big_len == (64u << 20));
	CHECK(parse("big_len=2g tsc_khz=1000") == 0 && o.big_len == (2ull << 30));
	CHECK(parse("big_len=512 tsc_khz=1000") == 0 && o.big_len == 512);
	bad("big_reqs=0 tsc_khz=1000", "for big_reqs=");
	bad("big_reqs=17 tsc_khz=1000", "for big_reqs=");
	bad("big_len=1000 tsc_khz=1000", "big_len=1000 is not a multiple of 512");
	bad("big_len=256 tsc_khz=1000", "for big_len=");
	bad("big_len=3g tsc_khz=1000", "for big_len=");
	bad("verify=maybe tsc_khz=1000", "bad verify=");
	bad("completion=spin tsc_khz=1000", "bad completion=");
	bad("tsc_khz=12", "for tsc_khz=");
	bad("tsc_khz=", "for tsc_khz=");
	bad("tsc_khz=99999999999999999999999", "for tsc_khz=");
	bad("rwmixread=101 tsc_khz=1000", "for rwmixread=");
	bad("size=100 tsc_khz=1000", "for size=");
	bad("size=1k bs=4k tsc_khz=1000", "smaller than bs=");
	bad("tsc_khz=1000 virtio_mmio.device=512", "bad virtio_mmio.device=");
	bad("tsc_khz=1000 virtio_mmio.device=512@0xzz:5", "bad virtio_mmio.device=");
	bad("tsc_khz=1000 virtio_mmio.device=0@0x1000:5", "bad virtio_mmio.device=");
	bad("tsc_khz=1000 virtio_mmio.device=512@0x1000:300", "bad virtio_mmio.device=");

	if (failures) {
		fprintf(stderr, "blkbench opts: %d check(s) failed\n", failures);
		return 1;
	}
	printf("blkbench opts: all checks passed\n");
	return 0;
}
