/* SPDX-License-Identifier: MIT */
/*
 * The machine's virtio-blk disks and the IOThreads that run them: files
 * opened and checked first (vm_prepare), then devices placed in the
 * virtio-mmio window, their QueueNotify registers wired to ioeventfds and
 * their interrupt lines to irqfds, so that requests and completions never
 * pass through a vCPU thread.
 */
#ifndef POLLVM_VMM_DISKS_H
#define POLLVM_VMM_DISKS_H

#include <stdint.h>

#include "config.h"
#include "iothread.h"
#include "../devices/blk.h"
#include "../devices/blk_uring.h"
#include "../firmware/cmdline.h"

struct vm;

struct vm_disk {
	char name[8];              /* vda, vdb, ... as Linux will call them */
	const struct disk_cfg *cfg;
	struct blk_file file;
	bool file_open;
	struct blk blk;
	bool blk_ready;
	struct iothread *t;        /* queue 0's IOThread */
	struct iothread *tq[BLK_MAX_QUEUES];   /* each queue's */
	/* The file on the ring of the disk's k-th IOThread (queue q's is
	 * on[q % number of IOThreads]): the backend handle of its queues. */
	struct blk_uring on[BLK_MAX_QUEUES];
	unsigned nr_on;
	uint64_t base;             /* guest-physical base of its registers */
	unsigned gsi;
	int irqfd;
	int kick_fds[BLK_MAX_QUEUES];
	char serial[24];
	const char *ioeventfd_kind; /* how kicks are wired, for the log/stats */
};

struct vm_disks {
	struct vm_disk d[CONFIG_MAX_DISKS];
	unsigned nr;
	struct iothread t[CONFIG_MAX_IOTHREADS + 1];
	unsigned nr_t;
};

/* Open every --disk file; a failure is one pv_err() line, PV_INPUT, and -errno. */
int disks_open(struct vm_disks *ds, const struct config *cfg);
/* virtio_mmio.device=... for each disk. */
int disks_cmdline(const struct vm_disks *ds, struct cmdline *c);
/*
 * After KVM and guest memory exist: devices, IOThreads, ioeventfds, irqfds.
 * A failure is one pv_err() line: PV_INPUT when the host's io_uring lacks
 * what pollvm needs, PV_INTERNAL otherwise.
 */
int disks_create(struct vm_disks *ds, struct vm *vm);
int disks_start(struct vm_disks *ds);
/*
 * Drain in-flight I/O, flush, join the IOThreads, all by deadline_ns
 * (CLOCK_MONOTONIC; bound_s is the bound, for the message).  -ETIMEDOUT,
 * after saying on stderr what was left, when the deadline passed first.
 */
int disks_stop(struct vm_disks *ds, uint64_t deadline_ns, double bound_s);
void disks_destroy(struct vm_disks *ds);

#endif
