/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio v2 register semantics (virtio 1.2 4.2.2 and 4.2.3).
 *
 * Guest mistakes are refused and counted, never fatal: a write that the
 * current state does not allow is dropped (bad_writes), an access of the
 * wrong width to a register is dropped or reads 0 (bad_access).
 */
#include "virtio_mmio.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Counters bumped outside the lock (several vCPUs may exit at once). */
#define STAT_INC(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

int virtio_mmio_init(struct virtio_mmio *t, const char *name, uint32_t device_id,
		     uint64_t device_features, const struct virtio_dev_ops *ops, void *dev,
		     struct virtq *vqs, unsigned nr_queues, uint32_t config_len,
		     const struct guest_mem *mem, int irqfd)
{
	int r;

	if (!(device_features & (1ULL << VIRTIO_F_VERSION_1)) || !ops || !ops->config_read ||
	    config_len > 0x1000 - VIRTIO_MMIO_CONFIG || (nr_queues && !vqs))
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	r = pthread_mutex_init(&t->lock, NULL);
	if (r)
		return -r;
	r = pthread_cond_init(&t->cond, NULL);
	if (r) {
		pthread_mutex_destroy(&t->lock);
		return -r;
	}
	t->name = name;
	t->device_id = device_id;
	t->device_features = device_features;
	t->ops = ops;
	t->dev = dev;
	t->vqs = vqs;
	t->nr_queues = nr_queues;
	t->config_len = config_len;
	t->irqfd = irqfd;
	for (unsigned i = 0; i < nr_queues; i++) {
		virtq_init(&vqs[i], mem);
		vqs[i].num = VIRTQ_NUM_MAX;
	}
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_raise(struct virtio_mmio *t, uint32_t bits)
{
	uint64_t one = 1;

	/* seq_cst RMW: the used ring writes before it are visible to a vCPU
	 * that reads the bit (its MMIO exit synchronises with this word). */
	atomic_fetch_or(&t->isr, bits);
	atomic_fetch_add_explicit(&t->irqs, 1, memory_order_relaxed);
	if (t->irqfd >= 0) {
		/* An eventfd write only fails if the counter would overflow,
		 * which a consumer draining it prevents; nothing to do then. */
		ssize_t n = write(t->irqfd, &one, sizeof(one));
		(void)n;
	}
}

void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	uint32_t old = atomic_fetch_or(&t->status, VIRTIO_CONFIG_S_NEEDS_RESET);

	if (old & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	STAT_INC(t->st.needs_reset);
	/* 2.1.2: after DRIVER_OK, tell the driver with a config interrupt. */
	if (old & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_mmio_raise(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_generation++;
	if (atomic_load(&t->status) & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_mmio_raise(t, VIRTIO_MMIO_INT_CONFIG);
}

static struct virtq *cur_vq(struct virtio_mmio *t)
{
	return t->queue_sel < t->nr_queues ? &t->vqs[t->queue_sel] : NULL;
}

/*
 * The device's reset waits for in-flight I/O on t->cond, which releases
 * the lock, so another vCPU can reach the registers in the middle of it.
 * Such an access waits here until the reset has finished (lock held).
 *
 * Waiting, rather than refusing the access: the other vCPU cannot tell a
 * reset in progress from a finished one (Status already reads 0), and a
 * driver considers its reset complete when Status reads 0 (virtio 1.2
 * 2.4.2) and then programs the device.  Refused, those writes would be
 * lost; let through, Status=DRIVER_OK would re-activate the old rings with
 * the old features, and QueueReady=0 would unmap a ring, while requests are
 * still in flight.  Waiting makes the reset atomic to every other access:
 * a read of Status returns 0 only once no request can still write guest
 * memory (2.4.1), and a write applies to the freshly reset device, under
 * its usual rules (no queue set-up or DRIVER_OK before FEATURES_OK).  The
 * wait is as long as the resetting vCPU's own, the time the backend takes
 * to finish what is in flight.
 */
static void mmio_wait_reset(struct virtio_mmio *t)
{
	if (!t->resetting)
		return;
	STAT_INC(t->st.reset_waits);
	while (t->resetting)
		pthread_cond_wait(&t->cond, &t->lock);
}

static void mmio_reset(struct virtio_mmio *t)
{
	STAT_INC(t->st.resets);
	/* Not live any more: the IOThread starts nothing new and drops
	 * completions.  Then the device quiesces: no request may complete
	 * into a ring the driver is about to reuse. */
	atomic_store(&t->status, 0);
	t->resetting = true;
	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (unsigned i = 0; i < t->nr_queues; i++) {
		virtq_reset(&t->vqs[i]);
		t->vqs[i].num = VIRTQ_NUM_MAX;
	}
	t->driver_features = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	atomic_store(&t->isr, 0);
	atomic_store(&t->status, 0);
	t->resetting = false;
	pthread_cond_broadcast(&t->cond);
}

static bool mmio_features_ok(struct virtio_mmio *t)
{
	uint64_t f = t->driver_features;

	/* 2.2.1: no feature the device did not offer; 6.1: VERSION_1 is required
	 * (this transport has no legacy interface). */
	if ((f & ~t->device_features) || !(f & (1ULL << VIRTIO_F_VERSION_1)))
		return false;
	if (t->ops->features_ok && !t->ops->features_ok(t->dev, f))
		return false;
	return true;
}

#define MMIO_STATUS_DEFINED                                                             \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK | \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)

static void mmio_write_status(struct virtio_mmio *t, uint32_t v)
{
	uint32_t old = atomic_load(&t->status), set;

	if (v == 0) {
		mmio_reset(t);
		return;
	}
	/*
	 * 2.1: only six status bits are defined.  Keep the others (0x10,
	 * 0x20 and the upper 24 bits) out of the state machine instead of
	 * reflecting them back: a bit nobody defined must not read as set.
	 * Found by tests/fuzz/fuzz_mmio (corpus mmio/regress-undefined-status-bits).
	 */
	if (v & ~MMIO_STATUS_DEFINED)
		STAT_INC(t->st.bad_writes);
	v &= MMIO_STATUS_DEFINED;
	/* The driver cannot set NEEDS_RESET, nor clear it or any other bit
	 * (2.1.1: "MUST NOT clear a device status bit"); only reset does. */
	if ((old & ~VIRTIO_CONFIG_S_NEEDS_RESET) & ~v) {
		STAT_INC(t->st.bad_writes);
		return;
	}
	v = (v & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	set = v & ~old;
	if (set & VIRTIO_CONFIG_S_FEATURES_OK) {
		/* 3.1.1 step 5-6: the device clears FEATURES_OK it cannot accept;
		 * the driver re-reads it and gives up. */
		if (!(v & VIRTIO_CONFIG_S_DRIVER) || !mmio_features_ok(t)) {
			STAT_INC(t->st.features_refused);
			v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
			set &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	if ((set & VIRTIO_CONFIG_S_DRIVER_OK) && !(v & VIRTIO_CONFIG_S_FEATURES_OK)) {
		STAT_INC(t->st.bad_writes);
		v &= ~VIRTIO_CONFIG_S_DRIVER_OK;
		set &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	/* Release: queue set-up done before DRIVER_OK is seen by the IOThread. */
	atomic_store_explicit(&t->status, v, memory_order_release);
	if ((set & VIRTIO_CONFIG_S_DRIVER_OK) && t->ops->activate)
		t->ops->activate(t->dev);
}

/* Queue registers may change only after FEATURES_OK (ring features are
 * known), before DRIVER_OK, on a valid queue that is not ready (4.2.3.2). */
static struct virtq *vq_writable(struct virtio_mmio *t)
{
	struct virtq *q = cur_vq(t);
	uint32_t s = atomic_load(&t->status);

	if (!q || q->ready || !(s & VIRTIO_CONFIG_S_FEATURES_OK) || (s & VIRTIO_CONFIG_S_DRIVER_OK))
		return NULL;
	return q;
}

static void set_lo(uint64_t *v, uint32_t lo) { *v = (*v & ~0xffffffffULL) | lo; }
static void set_hi(uint64_t *v, uint32_t hi) { *v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32); }

static void mmio_write_queue_ready(struct virtio_mmio *t, uint32_t v)
{
	struct virtq *q = cur_vq(t);
	uint32_t s = atomic_load(&t->status);

	if (!q) {
		STAT_INC(t->st.bad_writes);
		return;
	}
	if (v == 0) {
		/* Linux writes 0 when it tears queues down after a reset; a live
		 * queue cannot be stopped without a reset (no RING_RESET). */
		if (q->ready && (s & VIRTIO_CONFIG_S_DRIVER_OK)) {
			STAT_INC(t->st.bad_writes);
			return;
		}
		uint16_t num = q->num;
		uint64_t d = q->desc_gpa, a = q->avail_gpa, u = q->used_gpa;
		virtq_reset(q);
		q->num = num;
		q->desc_gpa = d;
		q->avail_gpa = a;
		q->used_gpa = u;
		return;
	}
	if (v != 1 || !vq_writable(t)) {
		STAT_INC(t->st.bad_writes);
		return;
	}
	if (virtq_start(q, virtio_mmio_has_feature(t, VIRTIO_RING_F_EVENT_IDX),
			virtio_mmio_has_feature(t, VIRTIO_RING_F_INDIRECT_DESC)))
		virtio_mmio_needs_reset(t);
}

static uint32_t mmio_read_reg(struct virtio_mmio *t, uint32_t off)
{
	struct virtq *q = cur_vq(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:   return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:       return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:     return t->device_id;
	case VIRTIO_MMIO_VENDOR_ID:     return POLLVM_VIRTIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return t->dev_feat_sel < 2 ? (uint32_t)(t->device_features >> (32 * t->dev_feat_sel)) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		/* 4.2.2: 0 means "this queue is not available". */
		return q ? VIRTQ_NUM_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:   return q ? q->ready : 0;
	case VIRTIO_MMIO_STATUS:        return atomic_load(&t->status);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* 4.2.2: no shared memory region: length (and base) all ones. */
		return 0xffffffffu;
	case VIRTIO_MMIO_CONFIG_GENERATION: return t->config_generation;
	default:
		/* Write-only registers and holes read as 0. */
		return 0;
	}
}

static void mmio_write_reg(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	struct virtq *q;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->dev_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->drv_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES: {
		uint32_t s = atomic_load(&t->status);
		/* 3.1.1: features are written after DRIVER, before FEATURES_OK. */
		if (!(s & VIRTIO_CONFIG_S_DRIVER) || (s & VIRTIO_CONFIG_S_FEATURES_OK) ||
		    t->drv_feat_sel > 1) {
			STAT_INC(t->st.bad_writes);
			break;
		}
		if (t->drv_feat_sel)
			set_hi(&t->driver_features, v);
		else
			set_lo(&t->driver_features, v);
		break;
	}
	case VIRTIO_MMIO_QUEUE_SEL:     t->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		q = vq_writable(t);
		/* 2.7: a power of two, at most QueueNumMax. */
		if (!q || v == 0 || v > VIRTQ_NUM_MAX || (v & (v - 1))) {
			STAT_INC(t->st.bad_writes);
			break;
		}
		q->num = (uint16_t)v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:   mmio_write_queue_ready(t, v); break;
	case VIRTIO_MMIO_STATUS:        mmio_write_status(t, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH: {
		q = vq_writable(t);
		if (!q) {
			STAT_INC(t->st.bad_writes);
			break;
		}
		uint64_t *a = off < VIRTIO_MMIO_QUEUE_AVAIL_LOW ? &q->desc_gpa :
			      off < VIRTIO_MMIO_QUEUE_USED_LOW ? &q->avail_gpa : &q->used_gpa;
		if (off & 4)
			set_hi(a, v);
		else
			set_lo(a, v);
		break;
	}
	case VIRTIO_MMIO_SHM_SEL:
		break;
	default:
		/* Read-only registers and holes. */
		STAT_INC(t->st.bad_writes);
		break;
	}
}

static void mmio_bus_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_mmio *t = opaque;

	STAT_INC(t->st.reg_reads);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		memset(data, 0, len);
		if (c >= t->config_len || len > t->config_len - c) {
			STAT_INC(t->st.bad_access);
			return;
		}
		pthread_mutex_lock(&t->lock);
		mmio_wait_reset(t);
		t->ops->config_read(t->dev, (uint32_t)c, data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	/* 4.2.2.2: registers are read 32 bits wide and aligned. */
	if (len != 4 || (off & 3)) {
		STAT_INC(t->st.bad_access);
		memset(data, 0, len);
		return;
	}
	uint32_t v;
	if (off == VIRTIO_MMIO_INTERRUPT_STATUS) {
		STAT_INC(t->st.isr_reads);
		v = atomic_load(&t->isr);
	} else {
		pthread_mutex_lock(&t->lock);
		mmio_wait_reset(t);
		v = mmio_read_reg(t, (uint32_t)off);
		pthread_mutex_unlock(&t->lock);
	}
	/* 4.2.2: registers are little-endian, as is the config space. */
	v = htole32(v);
	memcpy(data, &v, 4);
}

static void mmio_bus_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_mmio *t = opaque;
	uint32_t v;

	STAT_INC(t->st.reg_writes);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (c >= t->config_len || len > t->config_len - c || !t->ops->config_write) {
			STAT_INC(t->st.bad_access);
			return;
		}
		pthread_mutex_lock(&t->lock);
		mmio_wait_reset(t);
		t->ops->config_write(t->dev, (uint32_t)c, data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (len != 4 || (off & 3)) {
		STAT_INC(t->st.bad_access);
		return;
	}
	memcpy(&v, data, 4);
	v = le32toh(v);
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Normally absorbed by the ioeventfd in KVM; this is the slow path. */
		STAT_INC(t->st.bus_notifies);
		if (v < t->nr_queues && t->ops->notify)
			t->ops->notify(t->dev, v);
		else
			STAT_INC(t->st.bad_writes);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		STAT_INC(t->st.acks);
		atomic_fetch_and(&t->isr, ~v);
		return;
	default:
		break;
	}
	pthread_mutex_lock(&t->lock);
	mmio_wait_reset(t);
	mmio_write_reg(t, (uint32_t)off, v);
	pthread_mutex_unlock(&t->lock);
}

const struct bus_ops virtio_mmio_bus_ops = {
	.read = mmio_bus_read,
	.write = mmio_bus_write,
};
