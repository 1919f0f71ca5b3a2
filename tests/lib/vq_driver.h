/* SPDX-License-Identifier: MIT */
/*
 * A minimal split-ring DRIVER over fake guest memory, for unit tests,
 * fuzzers and build/bench-device: it lays out the three rings, writes
 * descriptors (well-formed or not) and virtio-blk requests, publishes
 * heads, decides on kicks, reads the used ring, and sets the device up
 * through its virtio-mmio registers, the way a guest would.  The layout,
 * flags and register names are the uapi headers' (<linux/virtio_ring.h>,
 * <linux/virtio_blk.h>, <linux/virtio_mmio.h>), as the device's are; the
 * values written are little-endian, as a VERSION_1 driver writes them.
 */
#ifndef POLLVM_TESTS_VQ_DRIVER_H
#define POLLVM_TESTS_VQ_DRIVER_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/guest_mem.h"
#include "../../devices/blk_proto.h"
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
	d->desc = drv_alloc(d, virtq_desc_bytes(num), VRING_DESC_ALIGN_SIZE);
	d->avail = drv_alloc(d, virtq_avail_bytes(num), VRING_AVAIL_ALIGN_SIZE);
	d->used = drv_alloc(d, virtq_used_bytes(num), VRING_USED_ALIGN_SIZE);
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

/* Bytes of an indirect table of n descriptors. */
#define DRV_TABLE_BYTES(n) ((n) * (uint32_t)sizeof(struct vring_desc))

/*
 * Write descriptor i of the table at GPA table (the ring's, or an indirect
 * one, which a test may misalign: copied whole, never dereferenced there).
 */
static inline void drv_idesc(struct drv *d, uint64_t table, uint16_t i, uint64_t addr,
			     uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc v = { .addr = htole64(addr), .len = htole32(len),
				.flags = htole16(flags), .next = htole16(next) };

	memcpy(drv_hva(d, table + sizeof(v) * (uint64_t)i), &v, sizeof(v));
}

static inline void drv_desc(struct drv *d, uint16_t i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	drv_idesc(d, d->desc, i, addr, len, flags, next);
}

static inline struct vring_avail *drv_avail(struct drv *d) { return drv_hva(d, d->avail); }
static inline struct vring_used *drv_used(struct drv *d) { return drv_hva(d, d->used); }

/* 2.7.10: used_event after the avail ring's num entries, avail_event after the used ring's. */
static inline __virtio16 *drv_used_event_p(struct drv *d) { return &drv_avail(d)->ring[d->num]; }
static inline __virtio16 *drv_avail_event_p(struct drv *d)
{
	return (__virtio16 *)&drv_used(d)->ring[d->num];
}

static inline void drv_set_avail_idx(struct drv *d, uint16_t idx)
{
	d->avail_idx = idx;
	__atomic_store_n(&drv_avail(d)->idx, htole16(idx), __ATOMIC_RELEASE);
}

static inline void drv_publish(struct drv *d, uint16_t head)
{
	drv_avail(d)->ring[d->avail_idx & (d->num - 1)] = htole16(head);
	drv_set_avail_idx(d, (uint16_t)(d->avail_idx + 1));
}

static inline void drv_set_avail_flags(struct drv *d, uint16_t f)
{
	drv_avail(d)->flags = htole16(f);
}

static inline void drv_set_used_event(struct drv *d, uint16_t v)
{
	*drv_used_event_p(d) = htole16(v);
}

static inline uint16_t drv_used_flags(struct drv *d) { return le16toh(drv_used(d)->flags); }
static inline uint16_t drv_used_idx(struct drv *d)
{
	return le16toh(__atomic_load_n(&drv_used(d)->idx, __ATOMIC_ACQUIRE));
}
static inline uint16_t drv_avail_event(struct drv *d) { return le16toh(*drv_avail_event_p(d)); }

/* Next used entry, if any: 1 and id/len, else 0. */
static inline int drv_get_used(struct drv *d, uint32_t *id, uint32_t *len)
{
	if (drv_used_idx(d) == d->last_used)
		return 0;
	const struct vring_used_elem *e = &drv_used(d)->ring[d->last_used & (d->num - 1)];
	*id = le32toh(e->id);
	*len = le32toh(e->len);
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
		uint16_t ev = le16toh(__atomic_load_n(drv_avail_event_p(d), __ATOMIC_RELAXED));
		return vring_need_event(ev, d->avail_idx, old_idx);
	}
	return !(le16toh(__atomic_load_n(&drv_used(d)->flags, __ATOMIC_RELAXED)) &
		 VRING_USED_F_NO_NOTIFY);
}

/* ---- virtio-blk requests (5.2.6) ---------------------------------------- */

/* No device writes this status: a request it never completed keeps it. */
#define DRV_BLK_S_UNSET 0xee

/* The bus offset of a field of the config space (5.2.4). */
#define DRV_BLK_CFG(field) (VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, field))

/* Bytes of the request header and of one DISCARD / WRITE_ZEROES segment. */
#define DRV_BLK_HDR_BYTES ((uint32_t)sizeof(struct virtio_blk_outhdr))
#define DRV_BLK_DWZ_BYTES ((uint32_t)sizeof(struct virtio_blk_discard_write_zeroes))

/* The request header at hdr: type, reserved 0, sector. */
static inline void drv_blk_put_hdr(struct drv *d, uint64_t hdr, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = htole32(type), .sector = htole64(sector) };

	memcpy(drv_hva(d, hdr), &h, sizeof(h));
}

/* One DISCARD / WRITE_ZEROES segment (5.2.6: sector, num_sectors, flags) at gpa. */
static inline void drv_blk_put_dwz(struct drv *d, uint64_t gpa, uint64_t sector, uint32_t n,
				   uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = {
		.sector = htole64(sector), .num_sectors = htole32(n), .flags = htole32(flags),
	};

	memcpy(drv_hva(d, gpa), &s, sizeof(s));
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
	drv_idesc(d, table, i, hdr, DRV_BLK_HDR_BYTES, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % tnum));
	i = (uint16_t)((i + 1) % tnum);
	n++;
	if (len) {
		drv_idesc(d, table, i, data, len, VRING_DESC_F_NEXT | (data_w ? VRING_DESC_F_WRITE : 0),
			  (uint16_t)((i + 1) % tnum));
		i = (uint16_t)((i + 1) % tnum);
		n++;
	}
	drv_idesc(d, table, i, st, 1, VRING_DESC_F_WRITE, 0);
	return (uint16_t)(n + 1);
}

/*
 * A request in descriptor slot: the header at hdr, one data segment when
 * len, the status byte at st, all through the indirect table at tab
 * (DRV_TABLE_BYTES(3)).  Not yet published.
 */
static inline void drv_blk_put_req(struct drv *d, uint16_t slot, uint64_t tab, uint64_t hdr,
				   uint64_t st, uint32_t type, uint64_t sector, uint64_t data,
				   uint32_t len, bool data_w)
{
	drv_blk_put_hdr(d, hdr, type, sector);
	uint16_t n = drv_blk_put_chain(d, tab, 3, 0, hdr, data, len, data_w, st);
	drv_desc(d, slot, tab, DRV_TABLE_BYTES(n), VRING_DESC_F_INDIRECT, 0);
}

/* drv_blk_put_req() on fresh header, status and table, published; the status byte's GPA. */
static inline uint64_t drv_blk_post(struct drv *d, uint16_t slot, uint32_t type, uint64_t sector,
				    uint64_t data, uint32_t len, bool data_w)
{
	uint64_t hdr = drv_alloc(d, DRV_BLK_HDR_BYTES, 16), st = drv_alloc(d, 1, 1);
	uint64_t tab = drv_alloc(d, DRV_TABLE_BYTES(3), VRING_DESC_ALIGN_SIZE);

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

	r.hdr = drv_alloc(d, DRV_BLK_HDR_BYTES, 16);
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

/* Device status as the driver's set-up (3.1.1) accumulates it. */
#define DRV_STATUS_AD  (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)
#define DRV_STATUS_ADF (DRV_STATUS_AD | VIRTIO_CONFIG_S_FEATURES_OK)
#define DRV_STATUS_ALL (DRV_STATUS_ADF | VIRTIO_CONFIG_S_DRIVER_OK)

/* A 32-bit access, as a guest makes it: little-endian on the bus (4.2.2). */
static inline uint32_t drv_mmio_rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v;

	virtio_mmio_bus_ops.read(t, off, &v, 4);
	return le32toh(v);
}

static inline void drv_mmio_wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	v = htole32(v);
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
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD);
	drv_mmio_set_features(t, feat);
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, DRV_STATUS_ADF);
}

/* Queue q on q_rings's rings (4.2.3.2): size, the three addresses (both halves), ready. */
static inline void drv_mmio_setup_queue(struct virtio_mmio *t, unsigned q, const struct drv *q_rings)
{
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_NUM, q_rings->num);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q_rings->desc);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q_rings->desc >> 32));
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q_rings->avail);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q_rings->avail >> 32));
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q_rings->used);
	drv_mmio_wr(t, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q_rings->used >> 32));
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
	q->desc = drv_alloc(d, virtq_desc_bytes(d->num), VRING_DESC_ALIGN_SIZE);
	q->avail = drv_alloc(d, virtq_avail_bytes(d->num), VRING_AVAIL_ALIGN_SIZE);
	q->used = drv_alloc(d, virtq_used_bytes(d->num), VRING_USED_ALIGN_SIZE);
}

/* The driver's set-up after a reset (virtio 1.2 3.1.1), as Linux does it:
 * the features of feat the device offers, queue i on qs[i]'s rings, DRIVER_OK. */
static inline void drv_bring_up_queues(struct drv *const *qs, unsigned n, struct virtio_mmio *t,
				       uint64_t feat)
{
	drv_mmio_negotiate(t, feat & t->device_features);
	for (unsigned i = 0; i < n; i++)
		drv_mmio_setup_queue(t, i, qs[i]);
	drv_mmio_wr(t, VIRTIO_MMIO_STATUS, DRV_STATUS_ALL);
}

static inline void drv_bring_up(struct drv *d, struct virtio_mmio *t, uint64_t feat)
{
	drv_bring_up_queues(&d, 1, t, feat);
}

#endif
