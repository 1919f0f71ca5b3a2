/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the split virtqueue and virtio-blk request parsing
 * over fake guest memory whose every byte comes from the fuzzer.
 *
 * Input layout:
 *   byte 0      mode: bit 0 = blk path (else raw virtq), bit 1 = EVENT_IDX,
 *               bit 2 = INDIRECT_DESC, bit 3 = read-only disk, bits 4-5 =
 *               queue size 2^(1+n), bit 6 = backend fails
 *   bytes 1..   copied over guest RAM from its start: descriptor table,
 *               avail ring, used ring, then buffers
 *
 *   raw virtq path with bit 7 set: the last byte n (<= 64) says the n
 *               bytes before it are an operation script, not RAM: each
 *               byte is one driver/device step (pop, push, notification
 *               on/off, should_notify, bump avail.idx, rewrite an avail
 *               entry, rewrite used_event / flags, reset + restart), so
 *               indices move, wrap and race the way a live driver's do
 *
 * Guest RAM is 64 KiB at GPA 0x10000, so 16-bit-ish addresses land in it.
 * Properties checked beyond the sanitizers: every pop terminates, the
 * device only writes used entries for chains it popped, a broken queue
 * stays broken, and on the raw path the device writes no guest byte
 * outside the used ring (flags, idx, entries, avail_event).
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
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

static struct blk_fx fx;             /* guest RAM; the disk on the fake backend */
static uint8_t *ram;

/* ---- raw virtqueue ---------------------------------------------------------- */

static struct virtq_elem elem;

/* The raw path never writes a buffer: only the used ring may change. */
static uint8_t before[FUZZ_RAM_SIZE];

NO_COV static void check_only_used_ring_written(unsigned num)
{
	uint64_t lo = FUZZ_USED_OFF, hi = FUZZ_USED_OFF + virtq_used_bytes(num) + 2;

	if (memcmp(ram, before, lo) || memcmp(ram + hi, before + hi, FUZZ_RAM_SIZE - hi))
		abort();
}

/* The device's side of the input's rings, without a transport. */
static void vq_start(struct virtq *q, unsigned num, bool event_idx, bool indirect)
{
	fuzz_fx_place_rings(&fx, num);
	if (drv_virtq_start(&fx.d, q, event_idx, indirect))
		abort();
}

/* Pop one chain and check what virtq_pop promises about it. */
static int vq_pop_checked(struct virtq *q, unsigned num)
{
	int r = virtq_pop(q, &elem);

	if (r < 0) {
		if (!q->broken || virtq_pop(q, &elem) != -EIO || virtq_has_avail(q))
			abort();
		return r;
	}
	if (r == 0)
		return 0;
	if (elem.head >= num || elem.nr != elem.nr_out + elem.nr_in || elem.nr > VIRTQ_SEG_MAX ||
	    elem.nr == 0)
		abort();
	/* Every accepted segment lies inside RAM. */
	uint64_t out = 0, in = 0;
	for (unsigned k = 0; k < elem.nr; k++) {
		const uint8_t *b = elem.iov[k].iov_base;
		if (b && (b < ram || elem.iov[k].iov_len > (uint64_t)(ram + FUZZ_RAM_SIZE - b)))
			abort();
		if (!b && elem.iov[k].iov_len && !(elem.err & VIRTQ_EBUF_ADDR))
			abort();
		if (b && elem.iov[k].iov_len)
			(void)*(volatile const uint8_t *)(b + elem.iov[k].iov_len - 1);
		if (k < elem.nr_out)
			out += elem.iov[k].iov_len;
		else
			in += elem.iov[k].iov_len;
	}
	/* Byte counts match the segments unless the order was wrong (then a
	 * misplaced readable segment counts as out but sits among the ins). */
	if (!(elem.err & VIRTQ_EBUF_ORDER) && (out != elem.out_bytes || in != elem.in_bytes))
		abort();
	return 1;
}

static void fuzz_virtq(unsigned num, bool event_idx, bool indirect, const uint8_t *ops, size_t nops)
{
	struct virtq q;
	uint16_t popped[VIRTQ_NUM_MAX];
	unsigned npopped = 0;

	memcpy(before, ram, FUZZ_RAM_SIZE);
	vq_start(&q, num, event_idx, indirect);
	if (!nops) {
		for (unsigned i = 0; i < 4 * num; i++) {
			int r = vq_pop_checked(&q, num);
			if (r < 0)
				break;
			if (r == 0) {
				virtq_set_notification(&q, i & 1);
				break;
			}
			virtq_push(&q, elem.head, (uint32_t)elem.in_bytes);
			virtq_should_notify(&q);
		}
		check_only_used_ring_written(num);
		return;
	}

	/* Scripted: the driver's ring writes are made here too, so compare
	 * against a snapshot taken after each of them. */
	struct vring_avail *avail = (void *)(ram + FUZZ_AVAIL_OFF);
	for (size_t i = 0; i < nops; i++) {
		uint8_t op = ops[i], arg = op >> 3;
		switch (op & 7) {
		case 0: /* pop until empty or broken; remember heads */
		case 1:
			for (;;) {
				int r = vq_pop_checked(&q, num);
				if (r <= 0)
					break;
				if (npopped < VIRTQ_NUM_MAX)
					popped[npopped++] = elem.head;
				else
					break;
			}
			break;
		case 2: /* push up to arg+1 popped chains, then ask about an interrupt */
			for (unsigned k = 0; k <= arg && npopped; k++)
				virtq_push(&q, popped[--npopped], arg * 77u);
			virtq_should_notify(&q);
			break;
		case 3:
			virtq_set_notification(&q, arg & 1);
			break;
		case 4: /* driver publishes arg more entries (may overrun: a structure error) */
			avail->idx = htole16((uint16_t)(le16toh(avail->idx) + (arg & 1 ? arg * 9u : arg)));
			memcpy(before, ram, FUZZ_RAM_SIZE);
			break;
		case 5: /* driver rewrites an avail entry, or used_event */
			avail->ring[arg % (num + 1)] = htole16((uint16_t)(arg * 0x1111u));
			memcpy(before, ram, FUZZ_RAM_SIZE);
			break;
		case 6: /* driver toggles NO_INTERRUPT / moves avail.idx backwards */
			if (arg & 1)
				avail->flags ^= htole16(VRING_AVAIL_F_NO_INTERRUPT);
			else
				avail->idx = htole16((uint16_t)(le16toh(avail->idx) - arg));
			memcpy(before, ram, FUZZ_RAM_SIZE);
			break;
		case 7: /* device reset and a fresh start on the same memory */
			vq_start(&q, num, event_idx, indirect);
			npopped = 0;
			break;
		}
		check_only_used_ring_written(num);
		memcpy(before, ram, FUZZ_RAM_SIZE);
	}
}

/* ---- virtio-blk ---------------------------------------------------------------- */

static bool fail_completions;

/* Touch every byte the device hands the backend: it must be guest RAM. */
static void touch_submit(void *arg, struct blk_io *io)
{
	(void)arg;
	for (unsigned i = 0; i < io->iovcnt; i++) {
		uint8_t *b = io->iov[i].iov_base;
		if (!b || b < ram || b + io->iov[i].iov_len > ram + FUZZ_RAM_SIZE)
			abort();
		if (io->op == BLK_IO_READ)
			memset(b, 0xa5, io->iov[i].iov_len);
		else
			(void)*(volatile uint8_t *)(b + io->iov[i].iov_len - 1);
	}
}

static struct blk_params params = {
	.capacity = 4096, .blk_size = 512, .discard = true, .write_zeroes = true,
	.writeback = true, .num_queues = 1, .serial = "fuzz",
};

static void fuzz_blk(unsigned num, uint64_t feat)
{
	fuzz_fx_reset_up(&fx, num, feat);

	/* DRIVER_OK kicked the queue: the loop drains it. */
	for (int round = 0; round < 3; round++) {
		evloop_run_once(&fx.loop, 0);
		fake_be_complete_all(&fx.be, fail_completions ? -EIO : 0);
		evloop_run_once(&fx.loop, 0);
		drv_mmio_wr(&fx.b.t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	if (fx.b.inflight)
		abort();
	blk_fx_irqs(&fx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = fuzz_fx_start(&fx, &params, touch_submit, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	unsigned num = 2u << ((mode >> 4) & 3);   /* 2, 4, 8, 16 */
	size_t n = size - 1 < FUZZ_RAM_SIZE ? size - 1 : FUZZ_RAM_SIZE;

	const uint8_t *ops = NULL;
	size_t nops = 0;
	if (!(mode & 1) && (mode & 0x80) && size >= 2) {
		nops = data[size - 1] % 65;
		if (nops > size - 2)
			nops = size - 2;
		ops = data + size - 1 - nops;
		n = size - 2 - nops < FUZZ_RAM_SIZE ? size - 2 - nops : FUZZ_RAM_SIZE;
	}
	memset(ram, 0, FUZZ_RAM_SIZE);
	memcpy(ram, data + 1, n);
	if (mode & 1) {
		uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_DISCARD) |
				(1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | (1ULL << VIRTIO_BLK_F_FLUSH);
		if (mode & 2)
			feat |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
		if (mode & 4)
			feat |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
		fx.b.p.ro = mode & 8;
		fail_completions = mode & 0x40;
		fuzz_blk(num, feat);
	} else {
		fuzz_virtq(num, mode & 2, mode & 4, ops, nops);
	}
	return 0;
}
