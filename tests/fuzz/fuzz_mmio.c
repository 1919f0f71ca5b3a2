/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the virtio-mmio register interface of a virtio-blk
 * device, driven by arbitrary sequences of register reads and writes
 * interleaved with queue processing and guest ring updates.
 *
 * Input layout:
 *   byte 0      number of bytes n (times 64) copied to the start of guest RAM
 *   bytes 1..n  guest RAM image (rings and buffers, anywhere)
 *   then        7-byte steps: op, offset (le16), value (le32)
 *       op & 7: 0 = 32-bit write, 1 = 32-bit read, 2 = 8/16-bit or
 *               misaligned access (width from op bit 3), 3 = run the
 *               IOThread loop and complete the backend's I/O, 4 = guest
 *               RAM store of value at offset (rings change under the
 *               device), 5 = a well-formed set-up step (the offset picks
 *               which), 6/7 = write to a register chosen from the
 *               interesting ones (op >> 3 picks), value as given
 *
 * Invariants checked after every step:
 *   - Status never holds a bit the driver did not write since the last
 *     reset, except DEVICE_NEEDS_RESET, and never a bit outside 2.1;
 *   - FEATURES_OK implies DRIVER and an acceptable feature set;
 *     DRIVER_OK implies FEATURES_OK;
 *   - no I/O reaches the backend and no guest byte changes while the
 *     device is not live (no DRIVER_OK, or NEEDS_RESET);
 *   - queue registers do not change while DRIVER_OK is set;
 *   - a write of 0 to Status really zeroes the device: status, isr,
 *     features, selectors, every queue's state and the in-flight count;
 *   - InterruptStatus has only bits 0 and 1; QueueNumMax is 256 or 0.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/virtq.h"
#include "../lib/fuzz_fx.h"

static struct blk_fx fx;             /* the disk on the fake backend */
static uint8_t *ram, *snap;          /* fx's guest RAM, and a copy */

static const struct blk_params params = {
	.capacity = 2048, .blk_size = 512, .discard = true, .write_zeroes = true,
	.writeback = true, .num_queues = 2, .serial = "fuzz-mmio",
};

/* What the backend is handed: only while the device is live, only guest RAM. */
static void live_submit(void *arg, struct blk_io *io)
{
	(void)arg;
	/* Queue processing only while the driver says the device is live. */
	if (!virtio_mmio_live(&fx.b.t))
		abort();
	for (unsigned i = 0; i < io->iovcnt; i++) {
		const uint8_t *b = io->iov[i].iov_base;
		if (!b || b < ram || io->iov[i].iov_len > (uint64_t)(ram + FUZZ_RAM_SIZE - b))
			abort();
	}
}

/* Bits the driver wrote to Status since the last reset (2.1). */
static uint32_t driver_bits;

static uint32_t rd(uint64_t off)
{
	return drv_mmio_rd(&fx.b.t, off);
}

/* A register write, shadowing what the driver wrote to Status. */
static void wr(uint64_t off, uint32_t v)
{
	if (off == VIRTIO_MMIO_STATUS) {
		if (v == 0)
			driver_bits = 0;
		else
			driver_bits |= v & 0xff;
	}
	drv_mmio_wr(&fx.b.t, off, v);
}

static void complete_pending(void)
{
	/* Newest first; a completion may start more (a throttled queue). */
	while (fx.be.n)
		fake_be_complete(&fx.be, fx.be.n - 1, 0);
}

static void run_loop(void)
{
	/* Snapshot: while not live, the device must leave RAM alone. */
	bool live = virtio_mmio_live(&fx.b.t);
	if (!live)
		memcpy(snap, ram, FUZZ_RAM_SIZE);
	for (int i = 0; i < 2; i++) {
		evloop_run_once(&fx.loop, 0);
		complete_pending();
	}
	if (!live && !virtio_mmio_live(&fx.b.t) && memcmp(snap, ram, FUZZ_RAM_SIZE))
		abort();
}

static void check_reset_state(void)
{
	if (fx.b.t.status || fx.b.t.isr || fx.b.t.driver_features || fx.b.t.queue_sel ||
	    fx.b.t.dev_feat_sel || fx.b.t.drv_feat_sel || fx.b.inflight || fx.be.n)
		abort();
	for (unsigned i = 0; i < fx.b.nr_queues; i++) {
		const struct virtq *q = &fx.b.vqs[i];
		if (q->ready || q->broken || q->desc || q->avail || q->used || q->desc_gpa ||
		    q->avail_gpa || q->used_gpa || q->last_avail_idx || q->used_idx ||
		    q->shadow_avail_idx || q->num != VIRTQ_NUM_MAX || q->event_idx || q->indirect ||
		    fx.b.q[i].inflight)
			abort();
	}
}

static void check_invariants(void)
{
	uint32_t s = rd(VIRTIO_MMIO_STATUS);
	const uint32_t defined = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK |
				 VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED;

	if (s & ~defined)
		abort();
	if ((s & ~VIRTIO_CONFIG_S_NEEDS_RESET) & ~driver_bits)
		abort();   /* a bit the driver never set */
	if ((s & VIRTIO_CONFIG_S_DRIVER_OK) && !(s & VIRTIO_CONFIG_S_FEATURES_OK))
		abort();
	if (s & VIRTIO_CONFIG_S_FEATURES_OK) {
		uint64_t f = fx.b.t.driver_features;
		if (!(s & VIRTIO_CONFIG_S_DRIVER) || (f & ~fx.b.t.device_features) ||
		    !(f & (1ULL << VIRTIO_F_VERSION_1)))
			abort();
	}
	if (rd(VIRTIO_MMIO_INTERRUPT_STATUS) & ~3u)
		abort();
	uint32_t max = rd(VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max != 0 && max != VIRTQ_NUM_MAX)
		abort();
	if (rd(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC || rd(VIRTIO_MMIO_VERSION) != 2)
		abort();
	for (unsigned i = 0; i < fx.b.nr_queues; i++) {
		const struct virtq *q = &fx.b.vqs[i];
		if (q->num == 0 || q->num > VIRTQ_NUM_MAX || (q->num & (q->num - 1)))
			abort();
		if (q->ready && (!q->desc || !q->avail || !q->used))
			abort();
	}
}

/* The registers worth hitting on purpose. */
static const uint16_t regs[] = {
	VIRTIO_MMIO_STATUS, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
	VIRTIO_MMIO_QUEUE_AVAIL_HIGH, VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH,
	VIRTIO_MMIO_QUEUE_RESET, VIRTIO_MMIO_SHM_SEL, DRV_BLK_CFG(wce),
	VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_MAGIC_VALUE,
	VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_INTERRUPT_STATUS, 0xfff, 0x1000,
};

/* One step of the documented initialisation (3.1.1, 4.2.3.2), so the
 * fuzzer reaches DRIVER_OK easily and then perturbs it. */
static void setup_step(unsigned k, uint32_t v)
{
	uint64_t feat = fx.b.t.device_features & (v | (1ULL << VIRTIO_F_VERSION_1) |
						 ((uint64_t)v << 28));
	unsigned q = v & 1;
	uint64_t base = FUZZ_RAM_GPA + ((v >> 4) & 0x3) * 0x4000;

	switch (k % 8) {
	case 0: wr(VIRTIO_MMIO_STATUS, 0); break;
	case 1:
		wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
		wr(VIRTIO_MMIO_STATUS, DRV_STATUS_AD);
		break;
	case 2: drv_mmio_set_features(&fx.b.t, feat); break;
	case 3: wr(VIRTIO_MMIO_STATUS, DRV_STATUS_ADF); break;
	case 4: {
		const struct drv rings = { .num = (uint16_t)(2u << ((v >> 8) & 7)), .desc = base,
					   .avail = base + 0x1000, .used = base + 0x2000 };
		drv_mmio_setup_queue(&fx.b.t, q, &rings);
		break;
	}
	case 5: wr(VIRTIO_MMIO_STATUS, DRV_STATUS_ALL); break;
	case 6: wr(VIRTIO_MMIO_QUEUE_NOTIFY, q); break;
	case 7: wr(VIRTIO_MMIO_INTERRUPT_ACK, rd(VIRTIO_MMIO_INTERRUPT_STATUS)); break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = fuzz_fx_start(&fx, &params, live_submit, NULL);
	snap = malloc(FUZZ_RAM_SIZE);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = (size_t)data[0] * 64;
	if (n > size - 1)
		n = size - 1;
	memset(ram, 0, FUZZ_RAM_SIZE);
	memcpy(ram, data + 1, n);
	wr(VIRTIO_MMIO_STATUS, 0);
	check_reset_state();

	for (size_t p = 1 + n; p + 7 <= size; p += 7) {
		uint8_t op = data[p];
		uint16_t off;
		uint32_t val;
		memcpy(&off, data + p + 1, 2);
		memcpy(&val, data + p + 3, 4);
		off = le16toh(off) & 0x1ff;
		val = le32toh(val);

		struct virtq before[BLK_MAX_QUEUES];
		uint32_t s0 = atomic_load(&fx.b.t.status);
		memcpy(before, fx.b.vqs, sizeof(fx.b.vqs[0]) * fx.b.nr_queues);

		uint64_t reg = off;
		switch (op & 7) {
		case 0:
			wr(off & ~3u, val);
			reg = off & ~3u;
			break;
		case 1:
			(void)rd(off & ~3u);
			reg = ~0ull;   /* a read changes nothing */
			break;
		case 2: {
			uint8_t buf[8] = { 0 };
			unsigned len = op & 8 ? 2 : 1;
			if (op & 0x10)
				len = op & 0x20 ? 8 : 4;
			if (op & 0x40)
				len = len > 4 ? 4 : len;   /* writes are at most 4 bytes */
			if (op & 0x40)
				virtio_mmio_bus_ops.write(&fx.b.t, off, &val, len);
			else
				virtio_mmio_bus_ops.read(&fx.b.t, off, buf, len);
			reg = (op & 0x40) && len == 4 && !(off & 3) ? off : ~0ull;
			if (reg == VIRTIO_MMIO_STATUS)   /* same as case 0 for the shadow */
				driver_bits = val ? driver_bits | (val & 0xff) : 0;
			break;
		}
		case 3:
			run_loop();
			reg = ~0ull;
			break;
		case 4:
			if (off < FUZZ_RAM_SIZE / 128) {
				memcpy(ram + (uint64_t)off * 128 % (FUZZ_RAM_SIZE - 4), &val, 4);
			}
			reg = ~0ull;
			break;
		case 5:
			setup_step(off, val);
			reg = ~0ull;
			break;
		default:
			reg = regs[(op >> 3) % (sizeof(regs) / sizeof(regs[0]))];
			wr(reg, val);
			break;
		}

		/* Reset really zeroes; otherwise queue state is frozen under DRIVER_OK. */
		if ((op & 7) != 3 && (op & 7) != 4 && reg == VIRTIO_MMIO_STATUS && val == 0)
			check_reset_state();
		else if ((s0 & VIRTIO_CONFIG_S_DRIVER_OK) &&
			 (atomic_load(&fx.b.t.status) & VIRTIO_CONFIG_S_DRIVER_OK))
			for (unsigned i = 0; i < fx.b.nr_queues; i++) {
				const struct virtq *a = &before[i], *b = &fx.b.vqs[i];
				if (a->num != b->num || a->desc_gpa != b->desc_gpa ||
				    a->avail_gpa != b->avail_gpa || a->used_gpa != b->used_gpa ||
				    a->ready != b->ready || a->event_idx != b->event_idx ||
				    a->indirect != b->indirect)
					abort();
			}
		check_invariants();
	}
	/* Leave the device idle for the next input. */
	run_loop();
	wr(VIRTIO_MMIO_STATUS, 0);
	check_reset_state();
	blk_fx_irqs(&fx);
	for (unsigned i = 0; i < fx.nr_kick; i++)
		drv_eventfd_take(fx.kick[i]);
	return 0;
}
