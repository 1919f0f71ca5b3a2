/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio device initialisation (virtio 1.2 3.1.1 "Driver
 * Requirements: Device Initialization", 4.2.3 "MMIO-specific
 * Initialization And Device Operation").  Runs once, at CPL3: the
 * register window is mapped user-accessible.
 */
#include "virtio.h"
#include "lib.h"

static uint32_t rd(struct vdev *d, unsigned off) { return mmio_read32(d->regs + off); }
static void wr(struct vdev *d, unsigned off, uint32_t v) { mmio_write32(d->regs + off, v); }

int vdev_probe(struct vdev *d, uint64_t base, uint32_t irq, const char **why)
{
	d->regs = (volatile uint8_t *)base;
	d->irq = irq;
	if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC) {
		*why = "no virtio-mmio magic";
		return -1;
	}
	if (rd(d, VIRTIO_MMIO_VERSION) != 2) {
		/* Version 1 is the legacy interface (4.2.4); QEMU needs
		 * -global virtio-mmio.force-legacy=false for version 2. */
		*why = "not virtio-mmio version 2 (legacy device)";
		return -1;
	}
	d->device_id = rd(d, VIRTIO_MMIO_DEVICE_ID);   /* 0: empty slot (4.2.2) */
	return 0;
}

uint32_t vdev_status(struct vdev *d)
{
	return rd(d, VIRTIO_MMIO_STATUS);
}

void vdev_fail(struct vdev *d)
{
	wr(d, VIRTIO_MMIO_STATUS, vdev_status(d) | VIRTIO_STATUS_FAILED);
}

int vdev_negotiate(struct vdev *d, uint64_t wanted, uint64_t required, const char **why)
{
	/* 1. reset; 4.2.3.1: the driver waits for Status to read back 0. */
	wr(d, VIRTIO_MMIO_STATUS, 0);
	while (rd(d, VIRTIO_MMIO_STATUS))
		cpu_relax();
	/* 2-3. we noticed the device, and can drive it. */
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	/* 4. features, 32 bits per selector value. */
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	d->offered = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	d->offered |= (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	if ((d->offered & required) != required) {
		*why = "device lacks a required feature";
		vdev_fail(d);
		return -1;
	}
	d->features = d->offered & wanted;
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	/* 5-6. FEATURES_OK, and read it back: the device may refuse. */
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		*why = "device refused FEATURES_OK";
		vdev_fail(d);
		return -1;
	}
	return 0;
}

int vq_setup(struct vdev *d, struct vq *q, unsigned index, unsigned want, vq_alloc_fn alloc,
	     const char **why)
{
	uint32_t max;
	unsigned num;

	memset(q, 0, sizeof(*q));
	q->dev = d;
	q->index = index;
	q->event_idx = vdev_has(d, VIRTIO_F_EVENT_IDX);
	/* 4.2.3.2: select, check it is not in use, read the maximum size. */
	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY)) {
		*why = "queue already in use";
		return -1;
	}
	max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max) {
		*why = "queue not available (QueueNumMax 0)";
		return -1;
	}
	num = max < want ? max : want;
	q->num = (uint16_t)num;
	/* Alignments from 2.7 table "Virtqueue Part Alignment" (16, 2, 4);
	 * a page each keeps the three parts on separate cache lines. */
	q->desc = alloc(16ull * num, 4096);
	q->avail = alloc(6 + 2ull * num, 4096);
	q->used = alloc(6 + 8ull * num, 4096);
	if (!q->desc || !q->avail || !q->used) {
		*why = "out of memory for the rings";
		return -1;
	}
	q->used_event = &q->avail->ring[num];
	q->avail_event = (uint16_t *)&q->used->ring[num];
	wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uint64_t)q->desc);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)q->desc >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uint64_t)q->avail);
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)q->avail >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uint64_t)q->used);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)q->used >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

void vdev_driver_ok(struct vdev *d)
{
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* 4.2.2.2: 32-bit accesses for 32- and 64-bit fields, 16-bit for 16-bit ones. */
uint32_t vdev_cfg32(struct vdev *d, unsigned off)
{
	return rd(d, VIRTIO_MMIO_CONFIG + off);
}

uint8_t vdev_cfg8(struct vdev *d, unsigned off)
{
	return mmio_read8(d->regs + VIRTIO_MMIO_CONFIG + off);
}

void vdev_cfg_write8(struct vdev *d, unsigned off, uint8_t v)
{
	mmio_write8(d->regs + VIRTIO_MMIO_CONFIG + off, v);
}

uint16_t vdev_cfg16(struct vdev *d, unsigned off)
{
	return mmio_read16(d->regs + VIRTIO_MMIO_CONFIG + off);
}

/* 2.5.1 / 4.2.2.2: a 64-bit field read in two halves is consistent only
 * if ConfigGeneration did not change meanwhile. */
uint64_t vdev_cfg64(struct vdev *d, unsigned off)
{
	uint32_t gen, lo, hi;

	do {
		gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = vdev_cfg32(d, off);
		hi = vdev_cfg32(d, off + 4);
	} while (gen != rd(d, VIRTIO_MMIO_CONFIG_GENERATION));
	return ((uint64_t)hi << 32) | lo;
}
