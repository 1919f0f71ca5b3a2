/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: virtio-blk request handling end to end (virtio-mmio
 * set-up, kick, virtq_pop, request parsing, a backend that completes
 * asynchronously and really moves the data, used ring, interrupt), over
 * fake guest memory whose every byte comes from the fuzzer.
 *
 * Input layout:
 *   byte 0   bit 1 = EVENT_IDX, bit 2 = INDIRECT_DESC, bit 3 = read-only
 *            disk, bits 4-6 = queue size 2 << n (2..256), bit 7 = the
 *            backend fails every third request
 *   byte 1   completion order: bit 0 = newest first, bits 1-7 = rotation;
 *            also how many rounds of (drain, complete, kick): 1 + (b & 3)
 *   bytes 2.. guest RAM from its start: descriptor table at +0, avail
 *            ring at +0x1000, used ring at +0x2000 (zeroed, as a driver
 *            hands it over), then anything
 *
 * An oracle independent of the device walks every published chain in the
 * initial RAM (the way the spec says a chain is read) and collects the
 * device-writable buffers of each.  Checked after every input, beyond
 * ASan/UBSan:
 *   - no guest byte changes outside those writable buffers and the used
 *     ring (the rest of RAM is a canary);
 *   - the backend is only handed reads into writable buffers, writes from
 *     RAM, and offsets inside the disk;
 *   - every used entry names a published head, and its len never exceeds
 *     that chain's writable bytes;
 *   - nothing stays in flight, and the backend never sees more requests
 *     than were published.
 * Inputs where a writable buffer overlaps a descriptor table or the avail
 * ring (the chain could change under the device, so the oracle's walk
 * would no longer be the device's) skip the canary and used-entry checks.
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

#define DISK_SECTORS 512

static struct blk_fx fx;             /* the disk on the fake backend, a RAM disk */
static uint8_t *ram, *snap;          /* fx's guest RAM, and as it was before the run */
static uint8_t *allowed;             /* per RAM byte: device may write it */
static uint8_t disk[DISK_SECTORS * 512], disk0[DISK_SECTORS * 512];

/* ---- the oracle ------------------------------------------------------- */

struct range { uint64_t off, len; };

static struct {
	bool published[VIRTQ_NUM_MAX];
	uint64_t wbytes[VIRTQ_NUM_MAX];  /* writable bytes of the chain at head */
	bool self_modifying;             /* writable overlaps ring structure */
	bool used_clobbered;             /* writable overlaps the used ring */
	unsigned nr_published;
	struct range tables[VIRTQ_NUM_MAX * 2];
	unsigned ntables;
	struct range wr[VIRTQ_NUM_MAX * 8];
	unsigned nwr;
} O;

static bool ram_range(uint64_t gpa, uint64_t len, uint64_t *off)
{
	if (gpa < FUZZ_RAM_GPA || gpa - FUZZ_RAM_GPA >= FUZZ_RAM_SIZE ||
	    len > FUZZ_RAM_SIZE - (gpa - FUZZ_RAM_GPA))
		return false;
	*off = gpa - FUZZ_RAM_GPA;
	return true;
}

static bool overlaps(struct range a, uint64_t off, uint64_t len)
{
	return a.len && len && a.off < off + len && off < a.off + a.len;
}

/* Walk the chain at head as the spec defines it; give up where it is broken. */
NO_COV static void oracle_chain(unsigned num, bool indirect, uint16_t head)
{
	const uint8_t *table = ram + FUZZ_DESC_OFF;
	unsigned tnum = num, steps = 0, i = head;
	bool in_ind = false;

	O.wbytes[head] = 0;
	while (steps++ <= tnum) {
		struct vring_desc d;
		uint64_t off;

		memcpy(&d, table + sizeof(d) * i, sizeof(d));
		uint64_t addr = le64toh(d.addr);
		uint32_t len = le32toh(d.len);
		uint16_t flags = le16toh(d.flags), next = le16toh(d.next);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (in_ind || !indirect || !len || len % sizeof(d) || !ram_range(addr, len, &off))
				return;
			if (O.ntables < sizeof(O.tables) / sizeof(O.tables[0]))
				O.tables[O.ntables++] = (struct range){ off, len };
			else
				O.self_modifying = true;   /* cannot track: be conservative */
			table = ram + off;
			tnum = len / sizeof(d);
			steps = 0;
			i = 0;
			in_ind = true;
			continue;
		}
		if (flags & VRING_DESC_F_WRITE) {
			O.wbytes[head] += len;
			if (ram_range(addr, len, &off) && len) {
				if (O.nwr < sizeof(O.wr) / sizeof(O.wr[0]))
					O.wr[O.nwr++] = (struct range){ off, len };
				else
					O.self_modifying = true;
			}
		}
		if (!(flags & VRING_DESC_F_NEXT) || next >= tnum)
			return;
		i = next;
	}
}

NO_COV static void oracle(unsigned num, bool indirect)
{
	const struct vring_avail *avail = (const void *)(ram + FUZZ_AVAIL_OFF);
	uint16_t idx = le16toh(avail->idx);

	memset(&O, 0, sizeof(O));
	memset(allowed, 0, FUZZ_RAM_SIZE);
	/* The device breaks the ring instead of reading more than num entries. */
	O.nr_published = idx <= num ? idx : 0;
	O.tables[O.ntables++] = (struct range){ FUZZ_DESC_OFF, virtq_desc_bytes(num) };
	for (unsigned k = 0; k < O.nr_published; k++) {
		uint16_t head = le16toh(avail->ring[k]);
		if (head >= num)
			break;   /* the ring breaks here: nothing after it is read */
		O.published[head] = true;
		oracle_chain(num, indirect, head);
	}
	uint64_t used_lo = FUZZ_USED_OFF, used_len = virtq_used_bytes(num) + 2;
	for (unsigned w = 0; w < O.nwr; w++) {
		memset(allowed + O.wr[w].off, 1, O.wr[w].len);
		if (overlaps(O.wr[w], FUZZ_AVAIL_OFF, virtq_avail_bytes(num) + 2))
			O.self_modifying = true;
		for (unsigned t = 0; t < O.ntables; t++)
			if (overlaps(O.wr[w], O.tables[t].off, O.tables[t].len))
				O.self_modifying = true;
		if (overlaps(O.wr[w], used_lo, used_len))
			O.used_clobbered = true;
	}
	/* Used-entry writes may land in an indirect table placed in the used ring. */
	for (unsigned t = 0; t < O.ntables; t++)
		if (overlaps(O.tables[t], used_lo, used_len))
			O.self_modifying = true;
	memset(allowed + used_lo, 1, used_len);
}

/* ---- the backend: the fake on a RAM disk, checked ----------------------- */

static bool fail_every_third;        /* the backend fails every third completion */
static unsigned completions;

static bool in_ram(const void *p, uint64_t len)
{
	const uint8_t *b = p;
	return b && b >= ram && len <= (uint64_t)(ram + FUZZ_RAM_SIZE - b);
}

/* What the device hands the backend: published, in the guest's buffers, inside the disk. */
NO_COV static void oracle_submit(void *arg, struct blk_io *io)
{
	struct fake_be *f = arg;

	if (f->submitted > O.nr_published && !O.self_modifying)
		abort(); /* a request nobody published */
	switch (io->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE: {
		uint64_t sum = 0;
		for (unsigned i = 0; i < io->iovcnt; i++) {
			const uint8_t *b = io->iov[i].iov_base;
			uint64_t l = io->iov[i].iov_len;
			if (!in_ram(b, l) || !l)
				abort();
			/* Reads land only in device-writable buffers. */
			if (io->op == BLK_IO_READ && !O.self_modifying)
				for (uint64_t k = 0; k < l; k++)
					if (!allowed[b - ram + k])
						abort();
			sum += l;
		}
		if (sum != io->len)
			abort();
	}
		/* fallthrough */
	case BLK_IO_DISCARD:
	case BLK_IO_WRITE_ZEROES:
		if (io->offset > sizeof(disk) || io->len > sizeof(disk) - io->offset || !io->len)
			abort();
		break;
	case BLK_IO_FLUSH:
		break;
	default:
		abort();
	}
}

/* Complete all the backend holds in the order order picks (a rotation, maybe reversed). */
static void complete_all(uint8_t order)
{
	struct blk_io *p[VIRTQ_NUM_MAX];
	unsigned n = fake_be_take_all(&fx.be, p);

	for (unsigned k = 0; k < n; k++) {
		unsigned j = (k + (order >> 1)) % n;
		struct blk_io *io = p[order & 1 ? n - 1 - j : j];
		fake_be_finish(&fx.be, io, fail_every_third && ++completions % 3 == 0 ? -EIO : 0);
	}
}

static struct blk_params params = {
	.capacity = DISK_SECTORS, .blk_size = 512, .discard = true, .write_zeroes = true,
	.writeback = true, .num_queues = 1, .serial = "fuzz-blk-serial-0123456789",
};

NO_COV static void check(unsigned num)
{
	if (fx.b.inflight || fx.be.n)
		abort();
	if (O.self_modifying)
		return;
	for (uint64_t i = 0; i < FUZZ_RAM_SIZE; i++)
		if (ram[i] != snap[i] && !allowed[i])
			abort();   /* the device wrote outside the request's buffers */
	if (O.used_clobbered)
		return;
	const struct vring_used *used = (const void *)(ram + FUZZ_USED_OFF);
	uint16_t uidx = le16toh(used->idx);
	if (uidx > O.nr_published)
		abort();   /* more completions than requests */
	for (unsigned k = 0; k < uidx; k++) {
		uint32_t id = le32toh(used->ring[k % num].id), len = le32toh(used->ring[k % num].len);
		if (id >= num || !O.published[id])
			abort();   /* returned a chain nobody published */
		if (len > O.wbytes[id] || len == 0)
			abort();   /* claimed more written bytes than the chain has */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = fuzz_fx_start(&fx, &params, oracle_submit, &fx.be);
	snap = malloc(FUZZ_RAM_SIZE);
	for (size_t i = 0; i < sizeof(disk0); i += 512)
		memset(disk0 + i, (int)(i / 512), 512);
	allowed = malloc(FUZZ_RAM_SIZE);
	fx.be.disk = disk;
	fx.be.disk_size = sizeof(disk);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t mode = data[0], order = data[1];
	unsigned num = 2u << ((mode >> 4) & 7);   /* 2 .. 256 */
	size_t n = size - 2 < FUZZ_RAM_SIZE ? size - 2 : FUZZ_RAM_SIZE;
	bool evidx = mode & 2, indirect = mode & 4;

	memset(ram, 0, FUZZ_RAM_SIZE);
	memcpy(ram, data + 2, n);
	/* A driver hands the device a zeroed used ring (the rest is the fuzzer's). */
	memset(ram + FUZZ_USED_OFF, 0, virtq_used_bytes(num) + 2);
	memcpy(disk, disk0, sizeof(disk));
	fx.b.p.ro = mode & 8;
	fail_every_third = mode & 0x80;
	fx.be.submitted = completions = 0;
	oracle(num, indirect);
	memcpy(snap, ram, FUZZ_RAM_SIZE);

	uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_DISCARD) |
			(1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | (1ULL << VIRTIO_BLK_F_FLUSH) |
			(evidx ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0) |
			(indirect ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0);
	if (fx.b.p.ro)
		feat &= ~((1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	fuzz_fx_reset_up(&fx, num, feat);
	if (!(fx.b.t.status & VIRTIO_CONFIG_S_DRIVER_OK))
		abort();

	/* DRIVER_OK kicked the queue: the loop drains it. */
	unsigned rounds = 1 + (order & 3);
	for (unsigned round = 0; round < rounds; round++) {
		evloop_run_once(&fx.loop, 0);
		complete_all(order);
		evloop_run_once(&fx.loop, 0);
		drv_mmio_wr(&fx.b.t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	evloop_run_once(&fx.loop, 0);
	complete_all(order);
	evloop_run_once(&fx.loop, 0);
	check(num);
	blk_fx_irqs(&fx);
	drv_eventfd_take(fx.kick[0]);
	return 0;
}
