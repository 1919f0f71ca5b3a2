/* SPDX-License-Identifier: MIT */
/*
 * hostile=CASE|all: malformed chains against the live device, from CPL3.
 * Each case starts from a freshly reset and initialised
 * device, builds one request (or ring state) by hand, kicks, and waits
 * for the device's answer:
 *
 *   ioerr / unsupp   the request came back in the used ring with that
 *                    status byte (the rule for a bad request whose
 *                    status byte is writable);
 *   reset            DEVICE_NEEDS_RESET shows in the Status register
 *                    (a broken ring or descriptor structure, or no
 *                    writable status byte) and nothing came back;
 *   ok               a valid request after a hostile register write.
 *
 * Around every case the request's arena (64 KiB) and the IVT page at
 * guest address 0 (where a buffer address that wraps at 2^64 would land)
 * are canary-filled and snapshotted at the kick; afterwards every byte
 * outside the request's device-writable buffers must be unchanged, and used.len must not exceed
 * the writable bytes.  Hostile writes carry 0xEE and aim at sectors
 * 64..127, which no valid request writes; valid requests write 0xA5 over
 * sectors 0..63.  The last step reads sectors 0..127 back: 0xA5 then
 * zeroes proves the device executed nothing it was not given (and the
 * host compares the file too).
 */
#include "hostile.h"
#include "arch.h"
#include "blkbench.h"
#include "lib.h"
#include "stats.h"
#include "sys.h"

#define ARENA_BYTES   (64u << 10)
#define CANARY        0x5a
#define VALID_BYTE    0xa5
#define HOSTILE_BYTE  0xee
#define VALID_SECTORS 64
#define CASE_SECS     5          /* no answer for this long: the device hung */
#define LOW_CANARY    0x400      /* bytes at guest address 0 (real-mode IVT, unused) */

#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_WZ_UNMAP 1u     /* 5.2.6: virtio_blk_discard_write_zeroes flags */
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

enum expect { EXP_OK, EXP_IOERR, EXP_UNSUPP, EXP_RESET };
static const char *const exp_names[] = { "ok", "ioerr", "unsupp", "reset" };

struct range { uint64_t addr, len; };

static struct {
	const struct bb_opts *o;
	struct blkdev *b;
	const struct vdev *v0;
	uint64_t base;        /* the device's virtio-mmio window */
	uint8_t *arena;
	struct vq *q;
	/* the case being built */
	struct range wr[8];   /* device-writable buffers */
	unsigned nwr;
	uint64_t wbytes;
	uint16_t head;
	uint8_t *status;      /* where the status byte should land, or 0 */
	unsigned passed, failed;
	uint8_t low_save[LOW_CANARY];
} H;

/* Guest address 0, through a value the compiler cannot see: a constant
 * null dereference would be compiled into a trap. */
static volatile uintptr_t low_addr;
static volatile uint8_t *lowp(void) { return (volatile uint8_t *)low_addr; }

/* ---- device (re)initialisation ------------------------------------------ */

static void reinit(void)
{
	const char *why;

	if (blk_setup(H.b, H.v0, H.o, dma_alloc, &why))
		die(EXIT_SETUP, "hostile: re-initialising the device failed: %s", why);
	vdev_driver_ok(&H.b->v);
	H.q = &H.b->q[0];
	/* Interrupts are not used: suppress them (the loop polls). */
	if (H.q->event_idx)
		vq_poll_mode_rearm(H.q);
	else
		H.q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
}

/* ---- building chains ---------------------------------------------------- */

static struct vring_desc *D(unsigned i) { return &H.q->desc[i]; }

static void setd(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
	if ((flags & VRING_DESC_F_WRITE) && !(flags & VRING_DESC_F_INDIRECT)) {
		if (H.nwr < 8)
			H.wr[H.nwr++] = (struct range){ addr, len };
		H.wbytes += len;
	}
}

/* Arena layout: header at +0, status at +0x100, indirect tables at +0x1000,
 * data at +0x4000 (up to 48 KiB). */
static struct virtio_blk_outhdr *hdr_at(void) { return (void *)(H.arena); }
static uint8_t *status_at(void) { return H.arena + 0x100; }
static struct vring_desc *table_at(void) { return (void *)(H.arena + 0x1000); }
static uint8_t *data_at(void) { return H.arena + 0x4000; }

static uint64_t A(const void *p) { return (uint64_t)p; }

/* header -> data -> status, the data descriptor as given. */
static void chain3(uint32_t type, uint64_t sector, uint64_t daddr, uint32_t dlen, bool dwrite)
{
	struct virtio_blk_outhdr *h = hdr_at();

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	setd(D(0), A(h), sizeof(*h), VRING_DESC_F_NEXT, 1);
	setd(D(1), daddr, dlen, VRING_DESC_F_NEXT | (dwrite ? VRING_DESC_F_WRITE : 0), 2);
	setd(D(2), A(status_at()), 1, VRING_DESC_F_WRITE, 0);
	H.status = status_at();
	H.head = 0;
}

static void publish_head(uint16_t head)
{
	vq_add(H.q, head);
	virt_wmb();
	WRITE_ONCE(H.q->avail->idx, H.q->avail_idx);
	H.q->published = H.q->avail_idx;
}

/* What the arena holds when the device gets the request (canaries plus
 * what the case itself wrote: header, payload, tables). */
static uint8_t shadow[ARENA_BYTES];

static void kick(void)
{
	memcpy(shadow, H.arena, ARENA_BYTES);
	virt_mb();
	mmio_write32(H.b->v.regs + VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* ---- waiting and checking ----------------------------------------------- */

struct outcome {
	bool used, reset, hung;
	uint32_t id, len;
	uint8_t status;
};

static struct outcome wait_answer(void)
{
	struct outcome r = { 0 };
	uint64_t tps = H.o->tsc_khz * 1000, t0 = rdtsc();

	for (;;) {
		if (READ_ONCE(H.q->used->idx) != H.q->last_used) {
			virt_rmb();
			struct vring_used_elem e = H.q->used->ring[H.q->last_used % H.q->num];
			H.q->last_used++;
			r.used = true;
			r.id = e.id;
			r.len = e.len;
			r.status = H.status ? READ_ONCE(*H.status) : 0xff;
			return r;
		}
		if (vdev_status(&H.b->v) & VIRTIO_STATUS_NEEDS_RESET) {
			/* Give a late used entry a moment: there must be none. */
			for (int i = 0; i < 1000; i++)
				cpu_relax();
			r.reset = true;
			r.used = READ_ONCE(H.q->used->idx) != H.q->last_used;
			return r;
		}
		if (rdtsc() - t0 > CASE_SECS * tps) {
			r.hung = true;
			return r;
		}
		for (int i = 0; i < 200; i++)
			cpu_relax();
	}
}

static bool in_writable(uint64_t a)
{
	for (unsigned i = 0; i < H.nwr; i++)
		if (a >= H.wr[i].addr && a - H.wr[i].addr < H.wr[i].len)
			return true;
	return false;
}

/* Canaries outside the writable buffers; returns the first changed address or 0. */
static uint64_t canary_check(void)
{
	for (unsigned i = 0; i < ARENA_BYTES; i++)
		if (H.arena[i] != shadow[i] && !in_writable(A(H.arena + i)))
			return A(H.arena + i);
	const volatile uint8_t *low = lowp();
	for (unsigned i = 0; i < LOW_CANARY; i++)
		if (low[i] != CANARY)
			return i ? i : 0xffffffffffffffffull;   /* 0 itself: report as -1 */
	return 0;
}

static void case_begin(void)
{
	volatile uint8_t *low = lowp();

	reinit();
	H.nwr = 0;
	H.wbytes = 0;
	H.status = 0;
	memset(H.arena, CANARY, ARENA_BYTES);
	for (unsigned i = 0; i < LOW_CANARY; i++) {
		H.low_save[i] = low[i];
		low[i] = CANARY;
	}
}

static void case_end(const char *name, enum expect exp, struct outcome r, const char *note)
{
	volatile uint8_t *low = lowp();
	uint64_t bad = canary_check();
	char got[64];
	bool ok;

	for (unsigned i = 0; i < LOW_CANARY; i++)
		low[i] = H.low_save[i];
	if (r.hung)
		bb_snprintf(got, sizeof(got), "no answer in %u s (hung)", CASE_SECS);
	else if (r.reset)
		bb_snprintf(got, sizeof(got), "reset%s", r.used ? " with a used entry" : "");
	else
		bb_snprintf(got, sizeof(got), "status %u id %u len %u", r.status, r.id, r.len);

	switch (exp) {
	case EXP_RESET:
		ok = r.reset && !r.used;
		break;
	case EXP_OK:
		ok = r.used && !r.reset && r.status == 0 && r.id == H.head;
		break;
	default:
		ok = r.used && !r.reset && r.id == H.head &&
		     r.status == (exp == EXP_IOERR ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_UNSUPP);
		break;
	}
	if (r.used && !r.reset && r.len > H.wbytes) {
		ok = false;
		note = "used.len exceeds the writable bytes";
	}
	if (bad) {
		ok = false;
		uprintf("blkbench-hostile: %s: byte at %#lx outside the request's buffers changed\n", name,
			bad == 0xffffffffffffffffull ? 0ul : bad);
		note = "wrote outside the request's buffers";
	}
	if (ok)
		H.passed++;
	else
		H.failed++;
	uprintf("blkbench-hostile: %-22s %s: expected %s, got %s%s%s\n", name, ok ? "pass" : "FAIL",
		exp_names[exp], got, note ? ": " : "", note ? note : "");
}

/* One request, published and kicked, answered. */
static void run1(const char *name, enum expect exp)
{
	publish_head(H.head);
	kick();
	case_end(name, exp, wait_answer(), 0);
}

/* ---- valid I/O (set-up and the final verify) ----------------------------- */

static uint8_t valid_io(uint32_t type, uint64_t sector, uint8_t *buf, uint32_t len)
{
	reinit();
	H.nwr = 0;
	H.wbytes = 0;
	struct virtio_blk_outhdr *h = hdr_at();
	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*status_at() = 0xff;
	setd(D(0), A(h), sizeof(*h), VRING_DESC_F_NEXT, len ? 1 : 2);
	if (len)
		setd(D(1), A(buf), len, VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0), 2);
	setd(D(2), A(status_at()), 1, VRING_DESC_F_WRITE, 0);
	H.status = status_at();
	publish_head(0);
	kick();
	struct outcome r = wait_answer();
	return r.used && !r.reset ? r.status : 0xfe;
}

/* ---- the cases ------------------------------------------------------------ */

#define MMIO_SYSDEV 0xd0000000ull
#define FAR_AWAY    0x7ff000000000ull   /* far above any RAM */

/* Set queue 0 up by hand with all three rings at gpa, then DRIVER_OK and a kick. */
static void rings_at(const char *name, uint64_t gpa)
{
	struct vdev *d = &H.b->v;
	volatile uint8_t *regs = d->regs;
	const char *why;

	if (vdev_negotiate(d, d->features, 1ull << VIRTIO_F_VERSION_1, &why))
		die(EXIT_SETUP, "hostile: %s: negotiation failed: %s", name, why);
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_NUM, 8);
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)gpa);
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(gpa >> 32));
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(gpa + 0x80));
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((gpa + 0x80) >> 32));
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(gpa + 0xc0));
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((gpa + 0xc0) >> 32));
	mmio_write32(regs + VIRTIO_MMIO_QUEUE_READY, 1);
	vdev_driver_ok(d);
	kick();
	case_end(name, EXP_RESET, wait_answer(), 0);
}

static bool want(const char *c)
{
	const char *s = H.o->hostile;
	return !bb_strncmp(s, "all", 4) || !bb_strncmp(s, c, 64);
}

static void hostile_cases(void)
{
	struct vring_desc *t;
	uint16_t num;

#define CASE(n) if (want(n) && (case_begin(), 1))

	/* Buffers the device must refuse (status writable: IOERR). */
	CASE("addr_outside_ram") {
		chain3(VIRTIO_BLK_T_OUT, 64, FAR_AWAY, 4096, false);
		run1("addr_outside_ram", EXP_IOERR);
	}
	CASE("addr_own_mmio") {
		/* A read INTO the device's own registers. */
		chain3(VIRTIO_BLK_T_IN, 0, H.base, 512, true);
		run1("addr_own_mmio", EXP_IOERR);
	}
	CASE("addr_own_mmio_out") {
		/* A write whose data the device would read FROM its own registers. */
		chain3(VIRTIO_BLK_T_OUT, 70, H.base, 512, false);
		run1("addr_own_mmio_out", EXP_IOERR);
	}
	CASE("addr_sysdev_page") {
		/* pollvm's system page: a write there would end the VM. */
		chain3(VIRTIO_BLK_T_IN, 0, MMIO_SYSDEV, 512, true);
		run1("addr_sysdev_page", EXP_IOERR);
	}
	CASE("addr_in_mmio_hole") {
		/* In the hole below 4 GiB, just under the 3 GiB line. */
		chain3(VIRTIO_BLK_T_IN, 0, 0xc0000000ull - 256, 512, true);
		run1("addr_in_mmio_hole", EXP_IOERR);
	}
	CASE("addr_wraps_2_64") {
		/* 0xffff...fe00 + 0x400 wraps to guest address 0..0x1ff (canaried). */
		chain3(VIRTIO_BLK_T_IN, 0, 0xfffffffffffffe00ull, 0x400, true);
		run1("addr_wraps_2_64", EXP_IOERR);
	}
	CASE("huge_len") {
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 0xfffffe00u, true);
		run1("huge_len", EXP_IOERR);
	}
	CASE("write_before_read") {
		struct virtio_blk_outhdr *h = hdr_at();
		h->type = VIRTIO_BLK_T_OUT;
		h->sector = 65;
		memset(data_at(), HOSTILE_BYTE, 512);
		setd(D(0), A(h), 16, VRING_DESC_F_NEXT, 1);
		setd(D(1), A(data_at() + 0x1000), 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
		setd(D(2), A(data_at()), 512, VRING_DESC_F_NEXT, 3);
		setd(D(3), A(status_at()), 1, VRING_DESC_F_WRITE, 0);
		H.status = status_at();
		H.head = 0;
		run1("write_before_read", EXP_IOERR);
	}
	CASE("short_header") {
		/* 8 readable bytes in all: header -> status (with VERSION_1 a
		 * header may be split over descriptors, so the total counts). */
		chain3(VIRTIO_BLK_T_OUT, 66, A(data_at()), 512, false);
		D(0)->len = 8;
		D(0)->next = 2;
		run1("short_header", EXP_IOERR);
	}
	CASE("sector_overflow") {
		chain3(VIRTIO_BLK_T_IN, 0xffffffffffffffffull, A(data_at()), 4096, true);
		run1("sector_overflow", EXP_IOERR);
	}
	CASE("sector_past_end") {
		memset(data_at(), HOSTILE_BYTE, 4096);
		chain3(VIRTIO_BLK_T_OUT, H.b->sectors - 1, A(data_at()), 4096, false);
		run1("sector_past_end", EXP_IOERR);
	}
	CASE("sector_len_overflow") {
		/* sector * 512 wraps to 0x...: must be refused before any arithmetic. */
		memset(data_at(), HOSTILE_BYTE, 512);
		chain3(VIRTIO_BLK_T_OUT, 0x0080000000000000ull, A(data_at()), 512, false);
		run1("sector_len_overflow", EXP_IOERR);
	}
	CASE("unaligned_len") {
		memset(data_at(), HOSTILE_BYTE, 511);
		chain3(VIRTIO_BLK_T_OUT, 67, A(data_at()), 511, false);
		run1("unaligned_len", EXP_IOERR);
	}
	CASE("unknown_type") {
		memset(data_at(), HOSTILE_BYTE, 512);
		chain3(0x7777, 68, A(data_at()), 512, false);
		run1("unknown_type", EXP_UNSUPP);
	}

	/* Structure errors: DEVICE_NEEDS_RESET, nothing returned. */
	CASE("no_status_byte") {
		chain3(VIRTIO_BLK_T_OUT, 69, A(data_at()), 512, false);
		D(1)->flags = 0;   /* the chain ends at the (readable) data */
		H.nwr = 0;
		H.wbytes = 0;
		run1("no_status_byte", EXP_RESET);
	}
	CASE("desc_loop") {
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 512, true);
		D(2)->flags |= VRING_DESC_F_NEXT;
		D(2)->next = 0;   /* status -> header: a loop */
		run1("desc_loop", EXP_RESET);
	}
	CASE("next_out_of_range") {
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 512, true);
		D(1)->next = 0xffff;
		run1("next_out_of_range", EXP_RESET);
	}
	CASE("head_out_of_range") {
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 512, true);
		H.head = (uint16_t)(H.q->num + 7);
		run1("head_out_of_range", EXP_RESET);
	}
	CASE("chain_longer_than_queue") {
		/* An indirect table of more descriptors than the queue has entries
		 * (and than SEG_MAX), chained in order. */
		num = H.q->num;
		t = table_at();
		unsigned n = num + 8u;
		for (unsigned i = 0; i < n; i++)
			t[i] = (struct vring_desc){ A(data_at()), 16, VRING_DESC_F_NEXT, (uint16_t)(i + 1) };
		t[n - 1] = (struct vring_desc){ A(status_at()), 1, VRING_DESC_F_WRITE, 0 };
		setd(D(0), A(t), 16 * n, VRING_DESC_F_INDIRECT, 0);
		H.wr[H.nwr++] = (struct range){ A(status_at()), 1 };
		H.wbytes = 1;
		H.status = status_at();
		H.head = 0;
		run1("chain_longer_than_queue", EXP_RESET);
	}
	CASE("indirect_nested") {
		t = table_at();
		t[0] = (struct vring_desc){ A(t + 4), 48, VRING_DESC_F_INDIRECT, 0 };
		setd(D(0), A(t), 16, VRING_DESC_F_INDIRECT, 0);
		H.head = 0;
		run1("indirect_nested", EXP_RESET);
	}
	CASE("indirect_bad_len") {
		t = table_at();
		setd(D(0), A(t), 17, VRING_DESC_F_INDIRECT, 0);
		H.head = 0;
		run1("indirect_bad_len", EXP_RESET);
	}
	CASE("indirect_outside_ram") {
		setd(D(0), FAR_AWAY, 48, VRING_DESC_F_INDIRECT, 0);
		H.head = 0;
		run1("indirect_outside_ram", EXP_RESET);
	}
	CASE("indirect_in_own_mmio") {
		setd(D(0), H.base, 48, VRING_DESC_F_INDIRECT, 0);
		H.head = 0;
		run1("indirect_in_own_mmio", EXP_RESET);
	}
	CASE("indirect_loop") {
		t = table_at();
		t[0] = (struct vring_desc){ A(hdr_at()), 16, VRING_DESC_F_NEXT, 1 };
		t[1] = (struct vring_desc){ A(status_at()), 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0 };
		setd(D(0), A(t), 32, VRING_DESC_F_INDIRECT, 0);
		H.wr[H.nwr++] = (struct range){ A(status_at()), 1 };
		H.head = 0;
		run1("indirect_loop", EXP_RESET);
	}
	CASE("avail_idx_jump") {
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 512, true);
		WRITE_ONCE(H.q->avail->idx, (uint16_t)(H.q->num + 10));
		kick();
		case_end("avail_idx_jump", EXP_RESET, wait_answer(), 0);
	}
	CASE("avail_idx_backwards") {
		/* One good read, then avail.idx moves back by 3. */
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 512, true);
		publish_head(0);
		kick();
		struct outcome r = wait_answer();
		if (!r.used || r.status != 0) {
			case_end("avail_idx_backwards", EXP_RESET, r, "the valid request before it failed");
		} else {
			WRITE_ONCE(H.q->avail->idx, (uint16_t)(H.q->avail_idx - 3));
			kick();
			case_end("avail_idx_backwards", EXP_RESET, wait_answer(), 0);
		}
	}

	/* Rings the device must refuse at QueueReady: DEVICE_NEEDS_RESET. */
	CASE("rings_in_own_mmio")
		rings_at("rings_in_own_mmio", H.base);
	CASE("rings_outside_ram")
		rings_at("rings_outside_ram", FAR_AWAY);

	/* Register writes the device must ignore once DRIVER_OK is set. */
	CASE("queue_setup_after_driver_ok") {
		volatile uint8_t *regs = H.b->v.regs;
		mmio_write32(regs + VIRTIO_MMIO_QUEUE_SEL, 0);
		mmio_write32(regs + VIRTIO_MMIO_QUEUE_NUM, 2);
		mmio_write32(regs + VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
		mmio_write32(regs + VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x2000);
		mmio_write32(regs + VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x3000);
		mmio_write32(regs + VIRTIO_MMIO_QUEUE_READY, 0);
		/* The queue keeps working on the rings it was given. */
		chain3(VIRTIO_BLK_T_IN, 0, A(data_at()), 512, true);
		publish_head(0);
		kick();
		struct outcome r = wait_answer();
		const char *note = 0;
		if (r.used && r.status == 0 && data_at()[0] != VALID_BYTE)
			note = "read returned the wrong data";
		if (!mmio_read32(regs + VIRTIO_MMIO_QUEUE_READY))
			note = "QueueReady was cleared";
		if (note)
			r.status = 0xfd;
		case_end("queue_setup_after_driver_ok", EXP_OK, r, note);
	}
#undef CASE
}

/* ---- big_bounce: gigabytes of reads into one misaligned buffer ----------- */

#define BIG_SECS  120          /* a round's reads unanswered this long: the device hung */
#define BIG_SEG   (4u << 20)   /* segment size when the device states no smaller SIZE_MAX */
#define BIG_GUARD 4096         /* canary bytes before and after the shared buffer */

/*
 * hostile=big_bounce (not part of "all"): big_reqs reads of big_len bytes
 * from sector 0, posted together, each an indirect chain of as many
 * segments as big_len needs (at most SIZE_MAX bytes each, at most SEG_MAX
 * of them), and every segment of every read points at the same guest
 * buffer, buf_offset bytes past a page boundary.  So a guest with a few
 * MiB of RAM puts gigabytes in flight, all of it misaligned for O_DIRECT:
 * the backend must serve them from bounded bounce memory.  big_rounds
 * posts them again once all are answered (a backend whose memory use
 * changes after the first round meets the second).  They are valid
 * requests: each must complete OK, write nothing outside the buffer and
 * leave only the disk's data in it (0xA5 over sectors 0..63, zeroes after,
 * on a fresh image); then a misaligned write and read of sectors 0..63
 * must still work.
 */
static struct {
	uint32_t seg, nseg, per, wlen;  /* segment size and count, descriptors per read, bytes written */
	struct virtio_blk_outhdr *hdr;
	uint8_t *status;
	struct vring_desc *tables;
	uint8_t *area, *data;           /* guard + buf_offset + seg + guard; data = the shared buffer */
	uint64_t area_len;
} BB;

static void big_setup(void)
{
	const struct bb_opts *o = H.o;
	uint32_t seg = H.b->size_max && H.b->size_max < BIG_SEG ? H.b->size_max : BIG_SEG;
	uint64_t nseg;

	seg -= seg % 512;
	if (!seg)
		die(EXIT_SETUP, "big_bounce: the device's SIZE_MAX %u is below one sector", H.b->size_max);
	nseg = (o->big_len + seg - 1) / seg;
	if (!vdev_has(&H.b->v, VIRTIO_F_INDIRECT_DESC))
		die(EXIT_SETUP, "big_bounce: the device does not offer INDIRECT_DESC");
	/* 2.7.5.3.1: no chain longer than the queue; SEG_MAX bounds the data segments (5.2.4). */
	if (nseg + 2 > H.q->num || (H.b->seg_max && nseg > H.b->seg_max))
		die(EXIT_SETUP, "big_bounce: big_len=%lu needs %lu segments of %u bytes; the device takes %u "
		    "(SEG_MAX) in a queue of %u", o->big_len, nseg, seg, H.b->seg_max, H.q->num);
	if (o->big_len / 512 > H.b->sectors)
		die(EXIT_SETUP, "big_bounce: big_len=%lu is more than the disk (%lu sectors)", o->big_len,
		    H.b->sectors);
	BB.seg = seg;
	BB.nseg = (uint32_t)nseg;
	BB.per = BB.nseg + 2;
	BB.wlen = o->big_len < seg ? (uint32_t)o->big_len : seg;
	BB.area_len = 2 * BIG_GUARD + o->buf_offset + seg;
	BB.hdr = dma_alloc(sizeof(*BB.hdr) * o->big_reqs, 16);
	BB.status = dma_alloc(o->big_reqs, 1);
	BB.tables = dma_alloc(sizeof(struct vring_desc) * BB.per * o->big_reqs, 16);
	BB.area = dma_alloc_raw(BB.area_len, 4096);
	if (!BB.hdr || !BB.status || !BB.tables || !BB.area)
		die(EXIT_SETUP, "big_bounce: out of guest memory for a %u-byte buffer", seg);
	BB.data = BB.area + BIG_GUARD + o->buf_offset;
}

/* Post all the reads with one avail.idx store and a kick. */
static void big_post(void)
{
	const struct bb_opts *o = H.o;

	for (uint32_t i = 0; i < o->big_reqs; i++) {
		struct vring_desc *t = BB.tables + (uint64_t)i * BB.per;

		BB.hdr[i] = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = 0 };
		BB.status[i] = 0xff;
		t[0] = (struct vring_desc){ A(&BB.hdr[i]), sizeof(BB.hdr[i]), VRING_DESC_F_NEXT, 1 };
		for (uint32_t k = 0; k < BB.nseg; k++) {
			uint64_t left = o->big_len - (uint64_t)k * BB.seg;
			t[1 + k] = (struct vring_desc){ A(BB.data), left < BB.seg ? (uint32_t)left : BB.seg,
							VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(2 + k) };
		}
		t[BB.per - 1] = (struct vring_desc){ A(&BB.status[i]), 1, VRING_DESC_F_WRITE, 0 };
		H.q->desc[i] = (struct vring_desc){ A(t), 16 * BB.per, VRING_DESC_F_INDIRECT, 0 };
		if (i + 1 < o->big_reqs)
			vq_add(H.q, (uint16_t)i);
	}
	publish_head((uint16_t)(o->big_reqs - 1));
	kick();
}

/* Every read of the round answered (or why not): r as case_end takes it, note set on a bad id. */
static struct outcome big_wait(const char **note, char *note_buf, unsigned cap)
{
	uint32_t nreq = H.o->big_reqs, got = 0, seen = 0;   /* bit i: read i answered */
	uint64_t tps = H.o->tsc_khz * 1000, t0 = rdtsc();
	struct outcome r = { 0 };

	while (got < nreq) {
		if (READ_ONCE(H.q->used->idx) != H.q->last_used) {
			virt_rmb();   /* as in wait_answer: used.idx, then the entry it covers */
			struct vring_used_elem e = H.q->used->ring[H.q->last_used % H.q->num];
			H.q->last_used++;
			if (e.id >= nreq || (seen >> e.id) & 1) {
				bb_snprintf(note_buf, cap, "the device returned id %u, not a read in flight", e.id);
				*note = note_buf;
				break;
			}
			seen |= 1u << e.id;
			got++;
			if (e.len > r.len)
				r.len = e.len;
			if (READ_ONCE(BB.status[e.id]) != 0 && !r.status)
				r.status = READ_ONCE(BB.status[e.id]);
			continue;
		}
		if (vdev_status(&H.b->v) & VIRTIO_STATUS_NEEDS_RESET) {
			r.reset = true;
			break;
		}
		if (rdtsc() - t0 > BIG_SECS * tps) {
			bb_snprintf(note_buf, cap, "%u of %u reads unanswered after %u s", nreq - got, nreq, BIG_SECS);
			*note = note_buf;
			r.hung = true;
			break;
		}
		for (int i = 0; i < 200; i++)
			cpu_relax();
	}
	r.used = got == nreq;
	return r;
}

/* Outside the written bytes: canaries.  Inside: segment 0 brings 0xa5
 * below VALID_SECTORS, every other segment zeroes; whichever landed last,
 * nothing else.  0, or why not in note_buf. */
static const char *big_check_buffer(char *note_buf, unsigned cap)
{
	uint64_t start = BIG_GUARD + H.o->buf_offset;

	for (uint64_t i = 0; i < BB.area_len; i++) {
		uint8_t c = BB.area[i];
		uint64_t k = i - start;

		if (i < start || k >= BB.wlen) {
			if (c != CANARY) {
				bb_snprintf(note_buf, cap, "byte %ld from the buffer's start changed, outside the %u "
					    "bytes the reads may write", (long)(i - start), BB.wlen);
				return note_buf;
			}
		} else if (!(k < VALID_SECTORS * 512 ? c == VALID_BYTE || (c == 0 && BB.nseg > 1) : c == 0)) {
			bb_snprintf(note_buf, cap, "buffer byte %lu is %#x, not the disk's data", (unsigned long)k, c);
			return note_buf;
		}
	}
	return 0;
}

static void big_bounce(void)
{
	const struct bb_opts *o = H.o;
	static char note_buf[128];
	const char *note = 0;
	struct outcome r = { 0 };
	char secs[24];

	big_setup();
	case_begin();
	memset(BB.area, CANARY, BB.area_len);
	H.head = 0;
	H.wbytes = o->big_len + 1;   /* what one read may report in used.len */
	for (uint32_t round = 1; round <= o->big_rounds; round++) {
		uint64_t t0 = rdtsc();

		big_post();
		r = big_wait(&note, note_buf, sizeof(note_buf));
		uprintf("blkbench-hostile: big_bounce: round %u of %u: %u reads of %lu bytes (%u segments of %u "
			"bytes, all at one buffer %u bytes past a page) answered in %s s\n", round, o->big_rounds,
			o->big_reqs, o->big_len, BB.nseg, BB.seg, o->buf_offset,
			fmt_ratio(secs, sizeof(secs), ticks_to_ns(rdtsc() - t0, o->tsc_khz), 1000000000));
		if (!note && r.used && !r.reset && !r.status)
			note = big_check_buffer(note_buf, sizeof(note_buf));
		if (note || !r.used || r.reset || r.status)
			break;
	}
	r.id = H.head;
	if (note && !r.status)
		r.status = 0xfd;
	case_end("big_bounce", EXP_OK, r, note);

	/* The device still serves ordinary misaligned I/O: sectors 0..63 again. */
	uint32_t n = VALID_SECTORS * 512 < BB.seg ? VALID_SECTORS * 512 : BB.seg;
	case_begin();
	memset(BB.data, VALID_BYTE, n);
	chain3(VIRTIO_BLK_T_OUT, 0, A(BB.data), n, false);
	run1("big_bounce_write_after", EXP_OK);
	case_begin();
	memset(BB.data, 0x11, n);
	chain3(VIRTIO_BLK_T_IN, 0, A(BB.data), n, true);
	publish_head(H.head);
	kick();
	r = wait_answer();
	note = 0;
	for (uint32_t i = 0; r.used && r.status == 0 && i < n; i++)
		if (BB.data[i] != VALID_BYTE) {
			note = "read back other data than was written";
			r.status = 0xfd;
			break;
		}
	case_end("big_bounce_read_after", EXP_OK, r, note);
}

unsigned hostile_run(const struct bb_opts *o, struct blkdev *b, const struct vdev *v, uint64_t base)
{
	static uint8_t *buf;
	uint32_t len = VALID_SECTORS * 512;
	uint8_t st;

	H.o = o;
	H.b = b;
	H.v0 = v;
	H.base = base;
	H.arena = dma_alloc(ARENA_BYTES, 4096);
	buf = dma_alloc(2 * len, 4096);
	if (!H.arena || !buf)
		die(EXIT_SETUP, "hostile: out of guest memory");
	if (b->sectors < 2 * VALID_SECTORS)
		die(EXIT_SETUP, "hostile: the disk needs at least %u sectors", 2 * VALID_SECTORS);
	if (b->ro)
		die(EXIT_SETUP, "hostile: the disk is read-only");
	uprintf("blkbench-hostile: cases=%s: valid writes put %#x over sectors 0..%u, hostile ones aim at %u..%u\n",
		o->hostile, VALID_BYTE, VALID_SECTORS - 1, VALID_SECTORS, 2 * VALID_SECTORS - 1);

	/* The valid requests: the pattern, then a flush. */
	memset(buf, VALID_BYTE, len);
	st = valid_io(VIRTIO_BLK_T_OUT, 0, buf, len);
	if (st != 0)
		die(EXIT_IO, "hostile: the valid write failed (status %u)", st);
	st = valid_io(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	if (st != 0)
		die(EXIT_IO, "hostile: the valid flush failed (status %u)", st);

	hostile_cases();
	if (!bb_strncmp(o->hostile, "big_bounce", sizeof(o->hostile)))
		big_bounce();

	/* Verify: 0..63 hold the pattern, 64..127 are untouched (zero). */
	memset(buf, 0x11, 2 * len);
	st = valid_io(VIRTIO_BLK_T_IN, 0, buf, 2 * len);
	unsigned bad = 0;
	for (uint32_t i = 0; st == 0 && i < 2 * len; i++)
		if (buf[i] != (i < len ? VALID_BYTE : 0))
			bad++;
	bool vok = st == 0 && !bad;
	if (vok)
		H.passed++;
	else
		H.failed++;
	uprintf("blkbench-hostile: %-22s %s: status %u, %u byte(s) differ from what valid requests wrote\n",
		"verify", vok ? "pass" : "FAIL", st, bad);
	uprintf("blkbench-hostile: %u passed, %u failed\n", H.passed, H.failed);
	return H.failed ? EXIT_IO : EXIT_OK;
}

/* ---- crash=on: the power-cut test's guest side ---------------------------- */

/* Sector s: "PVMCRASH", le64 s, then (s * 31 + 7) & 0xff to the end. */
static void crash_fill(uint8_t *p, uint64_t s)
{
	memset(p, (int)((s * 31 + 7) & 0xff), 512);
	memcpy(p, "PVMCRASH", 8);
	memcpy(p + 8, &s, 8);
}

/* Write the pattern over sectors [from, to), 64 KiB a request; each acknowledged. */
static void crash_write(uint8_t *buf, uint64_t from, uint64_t to)
{
	const uint32_t chunk = 128;              /* sectors per request */
	uint8_t st;

	for (uint64_t s = from; s < to; s += chunk) {
		uint32_t k = to - s < chunk ? (uint32_t)(to - s) : chunk;
		for (uint32_t i = 0; i < k; i++)
			crash_fill(buf + 512 * i, s + i);
		if ((st = valid_io(VIRTIO_BLK_T_OUT, s, buf, k * 512)) != 0)
			die(EXIT_IO, "crash: write of sector %lu failed (status %u)", s, st);
	}
}

/*
 * Without FLUSH every acknowledged request must already be stable
 * (virtio 1.2 5.2.6.2), unless the driver set writeback to 1 through
 * CONFIG_WCE (writeback=1: then nothing is promised, the host's check
 * must see data lost).  Sectors [n, 2n): the pattern, then WRITE_ZEROES
 * with UNMAP over them, when the device offers it; then [0, n): the
 * pattern.  In that order the last writes have no later sync to lean on:
 * each must have been stable when it completed.
 */
static void crash_no_flush(struct blkdev *b, uint8_t *buf, uint64_t n)
{
	uint8_t st, *seg = buf;
	uint32_t nsec = (uint32_t)n, flags = VIRTIO_BLK_WZ_UNMAP;

	if (vdev_has(&b->v, VIRTIO_BLK_F_WRITE_ZEROES)) {
		if (n > vdev_cfg32(&b->v, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS))
			die(EXIT_SETUP, "crash: crash_sectors=%lu is more than max_write_zeroes_sectors", n);
		crash_write(buf, n, 2 * n);
		/* struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags. */
		memcpy(seg, &n, 8);
		memcpy(seg + 8, &nsec, 4);
		memcpy(seg + 12, &flags, 4);
		if ((st = valid_io(VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16)) != 0)
			die(EXIT_IO, "crash: write zeroes (unmap) of sectors %lu..%lu failed (status %u)",
			    n, 2 * n - 1, st);
		uprintf("blkbench-crash: write zeroes acknowledged without FLUSH: sectors %lu..%lu "
			"(written, then zeroed with unmap)\n", n, 2 * n - 1);
	}
	crash_write(buf, 0, n);
	uprintf("blkbench-crash: writes acknowledged without FLUSH (writeback byte %d): sectors 0..%lu\n",
		b->writeback, n - 1);
}

unsigned crash_run(const struct bb_opts *o, struct blkdev *b, const struct vdev *v)
{
	uint64_t n = o->crash_sectors;
	uint8_t *buf, st;

	H.o = o;
	H.b = b;
	H.v0 = v;
	H.arena = dma_alloc(ARENA_BYTES, 4096);
	buf = dma_alloc(128 * 512, 4096);
	if (!H.arena || !buf)
		die(EXIT_SETUP, "crash: out of guest memory");
	if (2 * n > b->sectors)
		die(EXIT_CMDLINE, "crash: crash_sectors=%lu needs a disk of %lu sectors", n, 2 * n);
	if (!vdev_has(&b->v, VIRTIO_BLK_F_FLUSH)) {
		if (o->flush)
			die(EXIT_SETUP, "crash: the device does not offer FLUSH");
		crash_no_flush(b, buf, n);
	} else {
		/* Sectors [0, n): written, then flushed: must survive a power cut. */
		crash_write(buf, 0, n);
		if ((st = valid_io(VIRTIO_BLK_T_FLUSH, 0, 0, 0)) != 0)
			die(EXIT_IO, "crash: flush failed (status %u)", st);
		uprintf("blkbench-crash: flush acknowledged: sectors 0..%lu were written before it\n", n - 1);
		/* Sectors [n, 2n): written, never flushed: may or may not survive. */
		crash_write(buf, n, 2 * n);
		uprintf("blkbench-crash: unflushed writes done (sectors %lu..%lu)\n", n, 2 * n - 1);
	}
	uprintf("blkbench-crash: waiting for the power cut\n");
	for (;;)
		cpu_relax();
}
