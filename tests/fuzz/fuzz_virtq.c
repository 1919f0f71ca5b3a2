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
 * Guest RAM is 64 KiB at GPA 0x10000, so 16-bit-ish addresses land in it.
 * Properties checked beyond the sanitizers: every pop terminates, the
 * device only writes used entries for chains it popped, and a broken queue
 * stays broken.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../devices/virtq.h"

#define RAM_GPA  0x10000ULL
#define RAM_SIZE 0x10000ULL
#define DESC_OFF  0x0000
#define AVAIL_OFF 0x1000
#define USED_OFF  0x2000

static uint8_t *ram;
static struct guest_mem mem;

/* ---- raw virtqueue ---------------------------------------------------------- */

static struct virtq_elem elem;

static void fuzz_virtq(unsigned num, bool event_idx, bool indirect)
{
	struct virtq q;

	virtq_init(&q, &mem);
	q.num = (uint16_t)num;
	q.desc_gpa = RAM_GPA + DESC_OFF;
	q.avail_gpa = RAM_GPA + AVAIL_OFF;
	q.used_gpa = RAM_GPA + USED_OFF;
	if (virtq_start(&q, event_idx, indirect))
		abort();
	for (unsigned i = 0; i < 4 * num; i++) {
		int r = virtq_pop(&q, &elem);
		if (r < 0) {
			if (!q.broken || virtq_pop(&q, &elem) != -EIO)
				abort();
			break;
		}
		if (r == 0) {
			virtq_set_notification(&q, i & 1);
			break;
		}
		if (elem.head >= num || elem.nr != elem.nr_out + elem.nr_in || elem.nr > VIRTQ_SEG_MAX)
			abort();
		/* Every accepted segment lies inside RAM. */
		for (unsigned k = 0; k < elem.nr; k++) {
			const uint8_t *b = elem.iov[k].iov_base;
			if (b && (b < ram || b + elem.iov[k].iov_len > ram + RAM_SIZE))
				abort();
			if (b && elem.iov[k].iov_len)
				(void)*(volatile const uint8_t *)(b + elem.iov[k].iov_len - 1);
		}
		virtq_push(&q, elem.head, (uint32_t)elem.in_bytes);
		virtq_should_notify(&q);
	}
}

/* ---- virtio-blk ---------------------------------------------------------------- */

struct fake_be {
	struct blk_io *pending[VIRTQ_NUM_MAX];
	unsigned n;
	bool fail;
};

static struct fake_be be;

static int fake_submit(void *opaque, struct blk_io *io)
{
	struct fake_be *f = opaque;

	if (f->n >= VIRTQ_NUM_MAX)
		abort(); /* more in flight than slots: blk must throttle */
	/* Touch every byte the device handed us: must be guest RAM. */
	for (unsigned i = 0; i < io->iovcnt; i++) {
		uint8_t *b = io->iov[i].iov_base;
		if (!b || b < ram || b + io->iov[i].iov_len > ram + RAM_SIZE)
			abort();
		if (io->op == BLK_IO_READ)
			memset(b, 0xa5, io->iov[i].iov_len);
		else
			(void)*(volatile uint8_t *)(b + io->iov[i].iov_len - 1);
	}
	f->pending[f->n++] = io;
	return 0;
}

static const struct blk_backend_ops fake_ops = { .submit = fake_submit };

static struct blk blk;
static struct evloop loop;
static int irqfd, kickfd;
static struct blk_params params = {
	.capacity = 4096, .blk_size = 512, .discard = true, .write_zeroes = true,
	.writeback = true, .num_queues = 1, .serial = "fuzz",
};

static void mmio_w(uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(&blk.t, off, &v, 4);
}

static void fuzz_blk(unsigned num, uint64_t feat)
{
	uint64_t v;

	mmio_w(VIRTIO_MMIO_STATUS, 0);
	mmio_w(VIRTIO_MMIO_STATUS, 1);
	mmio_w(VIRTIO_MMIO_STATUS, 3);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	mmio_w(VIRTIO_MMIO_STATUS, 0xb);
	mmio_w(VIRTIO_MMIO_QUEUE_NUM, num);
	mmio_w(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_GPA + DESC_OFF));
	mmio_w(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_GPA + AVAIL_OFF));
	mmio_w(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_GPA + USED_OFF));
	mmio_w(VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_w(VIRTIO_MMIO_STATUS, 0xf);

	/* DRIVER_OK kicked the queue: the loop drains it. */
	for (int round = 0; round < 3; round++) {
		evloop_run_once(&loop, 0);
		unsigned n = be.n;
		be.n = 0;
		for (unsigned i = 0; i < n; i++)
			be.pending[i]->complete(be.pending[i], be.fail ? -5 : 0);
		evloop_run_once(&loop, 0);
		mmio_w(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	if (blk.inflight)
		abort();
	while (read(irqfd, &v, 8) == 8)
		;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = aligned_alloc(4096, RAM_SIZE);
	gmem_add(&mem, RAM_GPA, RAM_SIZE, ram);
	irqfd = eventfd(0, EFD_NONBLOCK);
	kickfd = eventfd(0, EFD_NONBLOCK);
	if (evloop_init(&loop) || blk_init(&blk, "fuzz", &params, &mem, irqfd, &kickfd, &fake_ops, &be) ||
	    blk_attach(&blk, &loop))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	unsigned num = 2u << ((mode >> 4) & 3);   /* 2, 4, 8, 16 */
	size_t n = size - 1 < RAM_SIZE ? size - 1 : RAM_SIZE;

	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + 1, n);
	if (mode & 1) {
		uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_DISCARD) |
				(1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | (1ULL << VIRTIO_BLK_F_FLUSH);
		if (mode & 2)
			feat |= 1ULL << VIRTIO_F_RING_EVENT_IDX;
		if (mode & 4)
			feat |= 1ULL << VIRTIO_F_RING_INDIRECT_DESC;
		blk.p.ro = mode & 8;
		be.fail = mode & 0x40;
		fuzz_blk(num, feat);
	} else {
		fuzz_virtq(num, mode & 2, mode & 4);
	}
	return 0;
}
