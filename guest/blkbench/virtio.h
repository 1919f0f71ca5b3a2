/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio-mmio (virtio 1.2 4.2, register layout version 2) and
 * split-virtqueue (2.7) driver, written for a single-threaded CPL3 loop.
 * Guest memory is identity-mapped, so a pointer is its own bus address.
 */
#ifndef BLKBENCH_VIRTIO_H
#define BLKBENCH_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"

/* Our own copy of the spec's constants, on purpose: it cross-checks the device's uapi ones. */

/* Register offsets (4.2.2, "MMIO Device Register Layout"). */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC   0x74726976  /* "virt" (4.2.2) */

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER      2u
#define VIRTIO_STATUS_DRIVER_OK   4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED      128u

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* Split virtqueue layout (2.7.5, 2.7.6, 2.7.8). */
#define VRING_DESC_F_NEXT        1
#define VRING_DESC_F_WRITE       2
#define VRING_DESC_F_INDIRECT    4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY   1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];   /* then used_event (EVENT_IDX) */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];   /* then avail_event (EVENT_IDX) */
};

struct vdev {
	volatile uint8_t *regs;
	uint32_t irq;
	uint32_t device_id;
	uint64_t offered;      /* device features */
	uint64_t features;     /* negotiated */
};

struct vq {
	struct vdev *dev;
	unsigned index;
	uint16_t num;
	bool event_idx;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;          /* avail->ring[num] */
	uint16_t *avail_event;         /* (uint16_t *)&used->ring[num] */
	uint16_t avail_idx;            /* next avail slot to fill (not yet published) */
	uint16_t published;            /* avail.idx as last written */
	uint16_t last_used;            /* next used entry to read */
	uint64_t kicks, kick_checks;
};

/* Allocator for ring memory (zeroed, aligned, identity-mapped). */
typedef void *(*vq_alloc_fn)(uint64_t bytes, uint64_t align);

static inline bool vdev_has(const struct vdev *d, unsigned bit) { return (d->features >> bit) & 1; }

/* Check magic, version 2 and read DeviceID; 0 ok, -1 with a reason. */
int vdev_probe(struct vdev *d, uint64_t base, uint32_t irq, const char **why);
/*
 * Reset, ACKNOWLEDGE, DRIVER, then offer (device features & wanted) and
 * check FEATURES_OK (3.1.1 steps 1-6).  -1 when a `required` bit is not
 * offered or the device refuses.
 */
int vdev_negotiate(struct vdev *d, uint64_t wanted, uint64_t required, const char **why);
/* Set up queue `index` with min(QueueNumMax, want) entries (4.2.3.2). */
int vq_setup(struct vdev *d, struct vq *q, unsigned index, unsigned want, vq_alloc_fn alloc,
	     const char **why);
void vdev_driver_ok(struct vdev *d);
void vdev_fail(struct vdev *d);
uint32_t vdev_status(struct vdev *d);

/* Device config space: 32- and 16-bit fields, 64-bit with the generation check (4.2.2.2). */
uint32_t vdev_cfg32(struct vdev *d, unsigned off);
uint16_t vdev_cfg16(struct vdev *d, unsigned off);
uint64_t vdev_cfg64(struct vdev *d, unsigned off);
/* 8-bit fields, the one the driver may write (virtio-blk's writeback) too. */
uint8_t vdev_cfg8(struct vdev *d, unsigned off);
void vdev_cfg_write8(struct vdev *d, unsigned off, uint8_t v);

/* The data path, all inline: it is the loop being measured. */

/* 2.7.10 vring_need_event: has new_idx passed event since old? */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Queue one chain head; not visible to the device until vq_publish(). */
static inline void vq_add(struct vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
}

/*
 * Make the added heads visible, then kick only if the device asked
 * (2.7.10 / 2.7.7.2).  Returns true if it kicked.
 */
static inline bool vq_publish(struct vq *q)
{
	uint16_t old = q->published, new_idx = q->avail_idx;
	bool kick;

	if (old == new_idx)
		return false;
	/* Descriptors and ring entries before the index: pairs with the
	 * device's read barrier between loading avail.idx and reading the
	 * ring (pollvm virtq_pop's acquire load, QEMU's smp_rmb). */
	virt_wmb();
	WRITE_ONCE(q->avail->idx, new_idx);
	q->published = new_idx;
	/* The index store before the load of avail_event / used.flags: pairs
	 * with the device's full barrier between writing avail_event (or
	 * NO_NOTIFY) and re-reading avail.idx (pollvm virtq_set_notification,
	 * QEMU virtio_queue_set_notification).  Without it both sides can
	 * miss each other and the request sits unkicked. */
	virt_mb();
	q->kick_checks++;
	if (q->event_idx)
		kick = vring_need_event(READ_ONCE(*q->avail_event), new_idx, old);
	else
		kick = !(READ_ONCE(q->used->flags) & VRING_USED_F_NO_NOTIFY);
	if (kick) {
		/* An uncached MMIO store is not reordered with the earlier
		 * stores (SDM 3A 11.3): the ring is visible before the kick. */
		mmio_write32(q->dev->regs + VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
		q->kicks++;
	}
	return kick;
}

/* Anything in the used ring we have not consumed? */
static inline bool vq_has_used(struct vq *q)
{
	return READ_ONCE(q->used->idx) != q->last_used;
}

/* Take one used entry; false when none. */
static inline bool vq_get_used(struct vq *q, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem e;

	if (!vq_has_used(q))
		return false;
	/* used.idx before the entry (and the buffers it returns): pairs with
	 * the device's write barrier between filling the entry and storing
	 * used.idx (pollvm virtq_push's release store, QEMU's smp_wmb). */
	virt_rmb();
	e = q->used->ring[q->last_used % q->num];
	q->last_used++;
	*id = e.id;
	*len = e.len;
	return true;
}

/*
 * Interrupt policy after a reap.  Polling: used_event half the ring space
 * ahead, so vring_need_event never fires while fewer than 32768 entries
 * are in flight (or NO_INTERRUPT without EVENT_IDX, set once at setup).
 * Interrupts: used_event = last_used, "tell me at the next one" (2.7.7.2),
 * as Linux's virtqueue_enable_cb does after each drain.
 */
static inline void vq_poll_mode_rearm(struct vq *q)
{
	if (q->event_idx)
		WRITE_ONCE(*q->used_event, (uint16_t)(q->last_used + 0x8000));
}

static inline void vq_irq_mode_rearm(struct vq *q)
{
	if (q->event_idx)
		WRITE_ONCE(*q->used_event, q->last_used);
}

#endif
