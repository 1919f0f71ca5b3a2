/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport, register layout version 2 (virtio 1.2 4.2.2).
 *
 * The transport owns the register state and the virtqueues' set-up; the
 * device (virtio-blk) sees a narrow ops table and runs its queues on an
 * IOThread.  Two threads touch a transport:
 *
 *  - a vCPU thread, for register accesses (the bus callbacks);
 *  - the device's IOThread, for queue processing and interrupts.
 *
 * `lock` serialises register writes against queue processing: the IOThread
 * holds it while it pops or pushes, the vCPU while it changes state.
 * InterruptStatus is the exception, an atomic word: the IOThread sets bits,
 * the vCPU reads and acknowledges them, without taking the lock, so the
 * guest's interrupt handler never waits behind a batch.
 *
 * Queue configuration only changes while DRIVER_OK is clear (and reset
 * quiesces the device first), so the IOThread never sees a queue change
 * under it.  A reset waits for in-flight I/O with the lock released;
 * meanwhile every other register and config access (another vCPU's) waits
 * for the reset to finish, so no access sees or changes a half-reset
 * device (mmio_reset).
 */
#ifndef POLLVM_DEVICES_VIRTIO_MMIO_H
#define POLLVM_DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"
#include "../vmm/bus.h"
#include "../vmm/counters.h"

/*
 * The register offsets (VIRTIO_MMIO_*), InterruptStatus bits
 * (VIRTIO_MMIO_INT_*), device status bits (VIRTIO_CONFIG_S_*) and the
 * feature bits every transport shares (VIRTIO_F_VERSION_1) are the uapi
 * headers'.  Version 2 only: the legacy registers stay undefined.
 */
#define VIRTIO_MMIO_NO_LEGACY
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

/* 4.2.2: what MagicValue and Version read (the headers name only the registers). */
#define VIRTIO_MMIO_MAGIC     0x74726976  /* "virt" little-endian */
#define VIRTIO_MMIO_VERSION_2 2
/* 4.2.2 QueueReset, for VIRTIO_F_RING_RESET, which pollvm does not offer:
 * a hole here.  The 6.1 uapi header does not name it. */
#ifndef VIRTIO_MMIO_QUEUE_RESET
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#endif

/* pollvm's VendorID (4.2.2: any value): "PVM\0", recognisable in guest dumps. */
#define POLLVM_VIRTIO_VENDOR_ID 0x004d5650

/* What a device implements; every pointer may be NULL but config_read. */
struct virtio_dev_ops {
	/* Extra check of the driver's feature choice at FEATURES_OK; true
	 * accepts it (final), so the device may also set up here what
	 * depends on the features (config space).  Lock held. */
	bool (*features_ok)(void *dev, uint64_t features);
	/* Config space; off + len is within config_len (checked). */
	void (*config_read)(void *dev, uint32_t off, void *data, unsigned len);
	void (*config_write)(void *dev, uint32_t off, const void *data, unsigned len);
	/* A QueueNotify write reached the bus (no ioeventfd): wake the queue. */
	void (*notify)(void *dev, unsigned queue);
	/* DRIVER_OK: queues are set up; start processing.  Lock held. */
	void (*activate)(void *dev);
	/*
	 * Reset: stop processing and wait until no request is in flight
	 * (pthread_cond_wait on the transport's cond/lock).  Lock held.
	 * The transport then clears the queues and registers.
	 */
	void (*reset)(void *dev);
};

/* Counted on the vCPU threads, relaxed atomic (docs/counters.md, vmm/counters.h). */
#define VIRTIO_MMIO_STATS(C, M) \
	C(reg_reads)            /* register and config-space accesses */ \
	C(reg_writes) \
	C(bad_access)           /* width/alignment/offset not allowed */ \
	C(bad_writes)           /* write refused in this state (counted, ignored) */ \
	C(bus_notifies)         /* QueueNotify that exited to userspace */ \
	C(isr_reads)            /* InterruptStatus reads */ \
	C(acks)                 /* InterruptACK writes */ \
	C(resets)               /* device resets (status 0) */ \
	C(features_refused)     /* FEATURES_OK not granted */ \
	C(needs_reset)          /* DEVICE_NEEDS_RESET raised */ \
	C(reset_waits)          /* accesses that waited for another vCPU's reset to finish */

struct virtio_mmio_stats {
	COUNTER_FIELDS(VIRTIO_MMIO_STATS)
};

struct virtio_mmio {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* device's quiesce wait (reset), and the end of a reset */
	bool resetting;             /* a reset waits for the device to quiesce (lock) */
	const struct virtio_dev_ops *ops;
	void *dev;
	const char *name;

	uint32_t device_id;
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	_Atomic uint32_t status;
	_Atomic uint32_t isr;
	uint32_t config_generation;
	uint32_t config_len;

	unsigned nr_queues;
	struct virtq *vqs;          /* nr_queues, owned by the device */

	int irqfd;                  /* written to raise the interrupt; -1: none */
	_Atomic uint64_t irqs;      /* irqfd writes (IOThread and vCPU) */
	struct virtio_mmio_stats st;
};

/*
 * Set up a transport for a device.  device_features must include
 * VIRTIO_F_VERSION_1.  irqfd is an eventfd (KVM_IRQFD in production, a
 * plain eventfd in tests) or -1.
 */
int virtio_mmio_init(struct virtio_mmio *t, const char *name, uint32_t device_id,
		     uint64_t device_features, const struct virtio_dev_ops *ops, void *dev,
		     struct virtq *vqs, unsigned nr_queues, uint32_t config_len,
		     const struct guest_mem *mem, int irqfd);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* DRIVER_OK set and no DEVICE_NEEDS_RESET: the queues may be processed. */
static inline bool virtio_mmio_live(const struct virtio_mmio *t)
{
	uint32_t s = atomic_load_explicit(&t->status, memory_order_acquire);
	return (s & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
	       VIRTIO_CONFIG_S_DRIVER_OK;
}

static inline bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned bit)
{
	return (t->driver_features >> bit) & 1;
}

/* Set InterruptStatus bits and signal the irqfd (any thread). */
void virtio_mmio_raise(struct virtio_mmio *t, uint32_t bits);

/*
 * The device found a broken queue or request it cannot answer: set
 * DEVICE_NEEDS_RESET and, if DRIVER_OK, send a configuration change
 * interrupt (2.1.2).  Lock held.
 */
void virtio_mmio_needs_reset(struct virtio_mmio *t);

/* The device changed its config space: bump ConfigGeneration, interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

extern const struct bus_ops virtio_mmio_bus_ops;

#endif
