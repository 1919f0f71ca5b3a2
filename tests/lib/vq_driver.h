/* SPDX-License-Identifier: MIT */
/*
 * A minimal split-ring DRIVER over fake guest memory, for unit tests,
 * fuzzers and build/bench-device: it lays out the three rings, writes
 * descriptors (well-formed or not) and virtio-blk requests, publishes
 * heads, decides on kicks, reads the used ring, and sets the device up
 * through its virtio-mmio registers, the way a guest would.
 */
#ifndef POLLVM_TESTS_VQ_DRIVER_H
#define POLLVM_TESTS_VQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/guest_mem.h"
#include "../../devices/virtio_mmio.h"

/* Guest RAM starts above 0 so that "below RAM" is testable too. */
#define DRV_RAM_GPA  0x100000ULL
#define DRV_RAM_SIZE (1ULL << 20)

struct drv {
	struct guest_mem mem;
	uint8_t *ram;
	uint64_t ram_gpa, ram_size;
	uint16_t num;
	uint64_t desc, avail, used;   /* ring GPAs */
	uint64_t brk;                 /* bump allocator for buffers */
	uint16_t avail_idx, last_used;
};

static inline void *drv_hva(struct drv *d, uint64_t gpa)
{
	return d->ram + (gpa - d->ram_gpa);
}

static inline uint64_t drv_alloc(struct drv *d, uint64_t len, uint64_t align)
{
	uint64_t a = (d->brk + align - 1) & ~(align - 1);
	d->brk = a + len;
	if (d->brk > d->ram_gpa + d->ram_size)
		abort();
	return a;
}

/*
 * Rings for num entries (a power of two) at the start of ram_size bytes of
 * zeroed RAM at gpa; buffers from 64 KiB on.
 */
static inline void drv_init_at(struct drv *d, uint64_t gpa, uint16_t num, uint64_t ram_size)
{
	memset(d, 0, sizeof(*d));
	d->ram = aligned_alloc(4096, ram_size);
	if (!d->ram)
		abort();
	memset(d->ram, 0, ram_size);
	d->ram_gpa = gpa;
	d->ram_size = ram_size;
	if (gmem_add(&d->mem, gpa, ram_size, d->ram))
		abort();
	d->num = num;
	d->brk = gpa;
	d->desc = drv_alloc(d, 16ull * num, 16);
	d->avail = drv_alloc(d, 6 + 2ull * num, 2);
	d->used = drv_alloc(d, 6 + 8ull * num, 4);
	d->brk = gpa + 0x10000;
}

static inline void drv_init_ram(struct drv *d, uint16_t num, uint64_t ram_size)
{
	drv_init_at(d, DRV_RAM_GPA, num, ram_size);
}

static inline void drv_init(struct drv *d, uint16_t num)
{
	drv_init_ram(d, num, DRV_RAM_SIZE);
}

static inline void drv_free(struct drv *d)
{
	free(d->ram);
	d->ram = NULL;
}

/* Write descriptor i of the table at GPA table (the ring's, or an indirect one). */
static inline void drv_idesc(struct drv *d, uint64_t table, uint16_t i, uint64_t addr,
			     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = drv_hva(d, table + 16ull * i);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static inline void drv_desc(struct drv *d, uint16_t i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	drv_idesc(d, d->desc, i, addr, len, flags, next);
}

static inline uint16_t *drv_avail16(struct drv *d, unsigned word)
{
	return (uint16_t *)drv_hva(d, d->avail + 2ull * word);
}

static inline void drv_set_avail_idx(struct drv *d, uint16_t idx)
{
	d->avail_idx = idx;
	__atomic_store_n(drv_avail16(d, 1), idx, __ATOMIC_RELEASE);
}

static inline void drv_publish(struct drv *d, uint16_t head)
{
	*drv_avail16(d, 2 + (d->avail_idx & (d->num - 1))) = head;
	drv_set_avail_idx(d, (uint16_t)(d->avail_idx + 1));
}

static inline void drv_set_avail_flags(struct drv *d, uint16_t f) { *drv_avail16(d, 0) = f; }
static inline void drv_set_used_event(struct drv *d, uint16_t v) { *drv_avail16(d, 2 + d->num) = v; }

static inline uint16_t drv_used_flags(struct drv *d) { return *(uint16_t *)drv_hva(d, d->used); }
static inline uint16_t drv_used_idx(struct drv *d)
{
	return __atomic_load_n((uint16_t *)drv_hva(d, d->used + 2), __ATOMIC_ACQUIRE);
}
static inline uint16_t drv_avail_event(struct drv *d)
{
	return *(uint16_t *)drv_hva(d, d->used + 4 + 8ull * d->num);
}

/* Next used entry, if any: 1 and id/len, else 0. */
static inline int drv_get_used(struct drv *d, uint32_t *id, uint32_t *len)
{
	if (drv_used_idx(d) == d->last_used)
		return 0;
	uint8_t *e = drv_hva(d, d->used + 4 + 8ull * (d->last_used & (d->num - 1)));
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	d->last_used++;
	return 1;
}

/*
 * 2.7.13.4 / 2.7.10: after publishing avail entries from old_idx on, does
 * the device want a kick?  With EVENT_IDX when avail_event lies in
 * [old_idx, avail_idx) (vring_need_event), else unless used.flags says
 * VRING_USED_F_NO_NOTIFY.  The full fence orders the avail.idx store before
 * the read of the device's choice; it pairs with the full barrier in
 * virtq_set_notification() between the device's store of that choice and
 * its re-read of avail.idx, so one side always sees the other.
 */
static inline bool drv_kick_needed(struct drv *d, uint16_t old_idx, bool event_idx)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (event_idx) {
		uint16_t ev = __atomic_load_n((uint16_t *)drv_hva(d, d->used + 4 + 8ull * d->num),
					      __ATOMIC_RELAXED);
		return (uint16_t)(d->avail_idx - ev - 1) < (uint16_t)(d->avail_idx - old_idx);
	}
	return !(__atomic_load_n((uint16_t *)drv_hva(d, d->used), __ATOMIC_RELAXED) &
		 VIRTQ_USED_F_NO_NOTIFY);
}

/* ---- virtio-blk requests (5.2.6) ---------------------------------------- */

/* No device writes this status: a request it never completed keeps it. */
#define DRV_BLK_S_UNSET 0xee

/* The 16-byte request header at hdr: type, reserved 0, sector. */
static inline void drv_blk_put_hdr(struct drv *d, uint64_t hdr, uint32_t type, uint64_t sector)
{
	uint8_t *h = drv_hva(d, hdr);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
}

/* One DISCARD / WRITE_ZEROES segment (5.2.6: sector, num_sectors, flags) at gpa. */
static inline void drv_blk_put_dwz(struct drv *d, uint64_t gpa, uint64_t sector, uint32_t n,
				   uint32_t flags)
{
	uint8_t *p = drv_hva(d, gpa);

	memcpy(p, &sector, 8);
	memcpy(p + 8, &n, 4);
	memcpy(p + 12, &flags, 4);
}

/*
 * A request's chain in the descriptor table at GPA table (tnum entries),
 * from entry i on, wrapping at its end: the header at hdr, one data
 * segment of len bytes at data when len (device-writable when data_w), and
 * the status byte at st, set to DRV_BLK_S_UNSET.  Returns the entries used.
 */
static inline uint16_t drv_blk_put_chain(struct drv *d, uint64_t table, uint16_t tnum, uint16_t i,
					 uint64_t hdr, uint64_t data, uint32_t len, bool data_w,
					 uint64_t st)
{
	uint16_t n = 0;

	*(uint8_t *)drv_hva(d, st) = DRV_BLK_S_UNSET;
	drv_idesc(d, table, i, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % tnum));
	i = (uint16_t)((i + 1) % tnum);
	n++;
	if (len) {
		drv_idesc(d, table, i, data, len, VIRTQ_DESC_F_NEXT | (data_w ? VIRTQ_DESC_F_WRITE : 0),
			  (uint16_t)((i + 1) % tnum));
		i = (uint16_t)((i + 1) % tnum);
		n++;
	}
	drv_idesc(d, table, i, st, 1, VIRTQ_DESC_F_WRITE, 0);
	return (uint16_t)(n + 1);
}

/*
 * A request in descriptor slot: the header at hdr, one data segment when
 * len, the status byte at st, all through the indirect table at tab (48
 * bytes).  Not yet published.
 */
static inline void drv_blk_put_req(struct drv *d, uint16_t slot, uint64_t tab, uint64_t hdr,
				   uint64_t st, uint32_t type, uint64_t sector, uint64_t data,
				   uint32_t len, bool data_w)
{
	drv_blk_put_hdr(d, hdr, type, sector);
	uint16_t n = drv_blk_put_chain(d, tab, 3, 0, hdr, data, len, data_w, st);
	drv_desc(d, slot, tab, 16u * n, VIRTQ_DESC_F_INDIRECT, 0);
}

/* drv_blk_put_req() on fresh header, status and table, published; the status byte's GPA. */
static inline uint64_t drv_blk_post(struct drv *d, uint16_t slot, uint32_t type, uint64_t sector,
				    uint64_t data, uint32_t len, bool data_w)
{
	uint64_t hdr = drv_alloc(d, 16, 16), st = drv_alloc(d, 1, 1), tab = drv_alloc(d, 48, 16);

	drv_blk_put_req(d, slot, tab, hdr, st, type, sector, data, len, data_w);
	drv_publish(d, slot);
	return st;
}

/* A request in guest memory: where its parts are, the head it went out in. */
struct drv_blk_rq {
	uint16_t head;
	uint64_t hdr, data, status;
	uint32_t len;
};

/* A request in fresh memory: the header written, len bytes of data (512-aligned) when len. */
static inline struct drv_blk_rq drv_blk_alloc(struct drv *d, uint32_t type, uint64_t sector,
					      uint32_t len)
{
	struct drv_blk_rq r = { .len = len };

	r.hdr = drv_alloc(d, 16, 16);
	r.data = len ? drv_alloc(d, len, 512) : 0;
	r.status = drv_alloc(d, 1, 1);
	drv_blk_put_hdr(d, r.hdr, type, sector);
	return r;
}

/* r's chain in the ring's descriptors from head on (wrapping); the next free one. */
static inline uint16_t drv_blk_put_direct(struct drv *d, struct drv_blk_rq *r, uint16_t head,
					  bool data_w)
{
	uint16_t n = drv_blk_put_chain(d, d->desc, d->num, head, r->hdr, r->data, r->len, data_w,
				       r->status);

	r->head = head;
	return (uint16_t)((head + n) % d->num);
}

/* drv_blk_put_direct(), published. */
static inline uint16_t drv_blk_publish(struct drv *d, struct drv_blk_rq *r, uint16_t head,
				       bool data_w)
{
	uint16_t next = drv_blk_put_direct(d, r, head, data_w);

	drv_publish(d, head);
	return next;
}

static inline uint8_t drv_blk_status(struct drv *d, const struct drv_blk_rq *r)
{
	return *(uint8_t *)drv_hva(d, r->status);
}

/* The count an eventfd (irqfd) gathered since the last call, 0 if none. */
static inline uint64_t drv_eventfd_take(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, 8) != 8)
		return 0;
	return v;
}

/* ---- virtio-mmio registers (4.2.2) ----------------------------------------- */

static inline uint32_t drv_mmio_rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v;

	virtio_mmio_bus_ops.read(t, off, &v, 4);
	return v;
}

static inline void drv_mmio_wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(t, off, &v, 4);
}

/* The driver's feature bits, both words (3.1.1 step 5). */
static inline void drv_mmio_set_features(struct virtio_mmio *t, uint64_t feat)
{
	drv_mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	drv_mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	drv_mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	drv_mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
}

/* 3.1.1 steps 2 to 6, as Linux does them: ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
static inline void drv_mmio_negotiate(struct virtio_mmio *t, uint64_t feat)
{
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	drv_mmio_set_features(t, feat);
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
}

/* Queue q on q_rings's rings (4.2.3.2): size, the three addresses (both halves), ready. */
static inline void drv_mmio_setup_queue(struct virtio_mmio *t, unsigned q, const struct drv *q_rings)
{
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_NUM, q_rings->num);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q_rings->desc);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q_rings->desc >> 32));
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q_rings->avail);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q_rings->avail >> 32));
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q_rings->used);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q_rings->used >> 32));
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* The device's side of d's rings without a transport: a started virtq (virtq_start()'s result). */
static inline int drv_virtq_start(struct drv *d, struct virtq *q, bool event_idx, bool indirect)
{
	virtq_init(q, &d->mem);
	q->num = d->num;
	q->desc_gpa = d->desc;
	q->avail_gpa = d->avail;
	q->used_gpa = d->used;
	return virtq_start(q, event_idx, indirect);
}

/* Another queue's rings in d's memory (shares its RAM and allocator). */
static inline void drv_init_queue(struct drv *q, struct drv *d)
{
	*q = *d;
	q->avail_idx = q->last_used = 0;
	q->desc = drv_alloc(d, 16ull * d->num, 16);
	q->avail = drv_alloc(d, 6 + 2ull * d->num, 2);
	q->used = drv_alloc(d, 6 + 8ull * d->num, 4);
}

/* The driver's set-up after a reset (virtio 1.2 3.1.1), as Linux does it:
 * the features of feat the device offers, queue i on qs[i]'s rings, DRIVER_OK. */
static inline void drv_bring_up_queues(struct drv *const *qs, unsigned n, struct virtio_mmio *t,
				       uint64_t feat)
{
	drv_mmio_negotiate(t, feat & t->device_features);
	for (unsigned i = 0; i < n; i++)
		drv_mmio_setup_queue(t, i, qs[i]);
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static inline void drv_bring_up(struct drv *d, struct virtio_mmio *t, uint64_t feat)
{
	drv_bring_up_queues(&d, 1, t, feat);
}

#endif
