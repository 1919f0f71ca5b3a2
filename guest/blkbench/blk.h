/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 5.2) on top of virtio.h: feature choice, the
 * config space, and the request layout.
 */
#ifndef BLKBENCH_BLK_H
#define BLKBENCH_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK 2   /* 5 "Device Types" */

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ       12
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Config space offsets (5.2.4, struct virtio_blk_config). */
#define VIRTIO_BLK_CFG_CAPACITY   0    /* le64, in 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX   8    /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX    12   /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE   20   /* le32 */
#define VIRTIO_BLK_CFG_WRITEBACK  32   /* u8, with CONFIG_WCE: 0 write-through, 1 writeback */
#define VIRTIO_BLK_CFG_NUM_QUEUES 34   /* le16 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48   /* le32 */

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN    0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_S_OK    0

/* 5.2.6: the device-readable header of every request. */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* The largest queue we use: QueueNumMax is capped here (pollvm offers 256). */
#define BLK_QUEUE_MAX 256

struct blkdev {
	struct vdev v;
	uint64_t sectors;         /* capacity */
	uint32_t size_max;        /* largest segment, 0: no limit stated */
	uint32_t seg_max;
	uint32_t blk_size;
	uint16_t num_queues;      /* offered by the device (1 without MQ) */
	bool ro;
	int writeback;            /* the writeback byte after set-up; -1: CONFIG_WCE not negotiated */
	unsigned nq;              /* queues set up */
	struct vq q[BB_MAX_QUEUES];
};

/*
 * Negotiate and read the config of the virtio-blk device at v (probed),
 * then set up `queues` queues.  Does not set DRIVER_OK (the caller may
 * route the interrupt first).  -1 with a reason.
 */
int blk_setup(struct blkdev *b, const struct vdev *v, const struct bb_opts *o, vq_alloc_fn alloc,
	      const char **why);

/* "VERSION_1 EVENT_IDX ..." for the start-up line. */
void blk_feature_names(const struct blkdev *b, char *buf, unsigned cap);

#endif
