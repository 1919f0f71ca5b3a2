/* SPDX-License-Identifier: MIT */
#include "blk.h"
#include "lib.h"

int blk_setup(struct blkdev *b, const struct vdev *v, const struct bb_opts *o, vq_alloc_fn alloc,
	      const char **why)
{
	uint64_t wanted, required = 1ull << VIRTIO_F_VERSION_1;

	b->v = *v;
	/*
	 * FLUSH: accepted because Linux accepts it; without it the device
	 * must complete writes only once they are stable (5.2.6.2), which
	 * makes every write a synchronous one and would measure the disk,
	 * not the VMM.  The jobs send no flushes.  flush=off declines it:
	 * a write-through device (the crash test's runs without FLUSH).
	 * INDIRECT_DESC: taken when offered, used only when qd does not fit
	 * three descriptors per request into the ring.
	 * WRITE_ZEROES: only the crash test sends one.
	 */
	wanted = required | (1ull << VIRTIO_F_INDIRECT_DESC) |
		 (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		 (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_RO);
	if (o->flush)
		wanted |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (o->event_idx)
		wanted |= 1ull << VIRTIO_F_EVENT_IDX;
	if (o->crash_sectors)
		wanted |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	/* writeback=: the driver picks the cache mode (5.2.5) itself. */
	if (o->writeback >= 0)
		required |= 1ull << VIRTIO_BLK_F_CONFIG_WCE;
	if (o->queues > 1)
		required |= 1ull << VIRTIO_BLK_F_MQ;
	wanted |= required;
	if (vdev_negotiate(&b->v, wanted, required, why)) {
		if (o->queues > 1 && !((b->v.offered >> VIRTIO_BLK_F_MQ) & 1))
			*why = "queues>1 needs VIRTIO_BLK_F_MQ, which the device does not offer";
		if (o->writeback >= 0 && !((b->v.offered >> VIRTIO_BLK_F_CONFIG_WCE) & 1))
			*why = "writeback= needs VIRTIO_BLK_F_CONFIG_WCE, which the device does not offer";
		return -1;
	}
	/* 5.2.5: writeback is read and set after FEATURES_OK. */
	b->writeback = -1;
	if (vdev_has(&b->v, VIRTIO_BLK_F_CONFIG_WCE)) {
		vdev_cfg_write8(&b->v, VIRTIO_BLK_CFG_WRITEBACK, (uint8_t)o->writeback);
		b->writeback = vdev_cfg8(&b->v, VIRTIO_BLK_CFG_WRITEBACK);
		if (b->writeback != o->writeback) {
			*why = "the device did not take the writeback= value";
			vdev_fail(&b->v);
			return -1;
		}
	}

	b->sectors = vdev_cfg64(&b->v, VIRTIO_BLK_CFG_CAPACITY);
	b->size_max = vdev_has(&b->v, VIRTIO_BLK_F_SIZE_MAX) ? vdev_cfg32(&b->v, VIRTIO_BLK_CFG_SIZE_MAX) : 0;
	b->seg_max = vdev_has(&b->v, VIRTIO_BLK_F_SEG_MAX) ? vdev_cfg32(&b->v, VIRTIO_BLK_CFG_SEG_MAX) : 0;
	b->blk_size = vdev_has(&b->v, VIRTIO_BLK_F_BLK_SIZE) ? vdev_cfg32(&b->v, VIRTIO_BLK_CFG_BLK_SIZE) : 512;
	b->num_queues = vdev_has(&b->v, VIRTIO_BLK_F_MQ) ? vdev_cfg16(&b->v, VIRTIO_BLK_CFG_NUM_QUEUES) : 1;
	b->ro = vdev_has(&b->v, VIRTIO_BLK_F_RO);
	if (o->queues > b->num_queues) {
		*why = "queues= is more than the device's num_queues";
		vdev_fail(&b->v);
		return -1;
	}
	for (b->nq = 0; b->nq < o->queues; b->nq++)
		if (vq_setup(&b->v, &b->q[b->nq], b->nq, BLK_QUEUE_MAX, alloc, why)) {
			vdev_fail(&b->v);
			return -1;
		}
	return 0;
}

void blk_feature_names(const struct blkdev *b, char *buf, unsigned cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ VIRTIO_F_VERSION_1, "VERSION_1" }, { VIRTIO_F_EVENT_IDX, "EVENT_IDX" },
		{ VIRTIO_F_INDIRECT_DESC, "INDIRECT_DESC" }, { VIRTIO_BLK_F_FLUSH, "FLUSH" },
		{ VIRTIO_BLK_F_MQ, "MQ" }, { VIRTIO_BLK_F_SIZE_MAX, "SIZE_MAX" },
		{ VIRTIO_BLK_F_SEG_MAX, "SEG_MAX" }, { VIRTIO_BLK_F_BLK_SIZE, "BLK_SIZE" },
		{ VIRTIO_BLK_F_RO, "RO" }, { VIRTIO_BLK_F_WRITE_ZEROES, "WRITE_ZEROES" },
		{ VIRTIO_BLK_F_CONFIG_WCE, "CONFIG_WCE" },
	};
	unsigned n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]) && n < cap; i++)
		if (vdev_has(&b->v, names[i].bit))
			n += (unsigned)bb_snprintf(buf + n, cap - n, "%s%s", n ? "," : "", names[i].name);
}
