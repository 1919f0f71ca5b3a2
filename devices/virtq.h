/* SPDX-License-Identifier: MIT */
/*
 * The split virtqueue (virtio 1.2 section 2.7), device side.
 *
 * The three rings live in guest memory and the guest may rewrite them at
 * any moment, so every field is read exactly once into a local, validated
 * with arithmetic that cannot wrap, and only then used.  Two kinds of
 * guest error are told apart:
 *
 *  - a broken ring or descriptor STRUCTURE (head or next index out of
 *    range, a loop, a chain longer than the queue, a bad indirect table, a
 *    nested indirect table, avail.idx moving more than the queue size):
 *    virtq_pop() returns -EIO and the queue stays broken until reset; the
 *    transport then sets DEVICE_NEEDS_RESET;
 *  - a well-formed chain whose BUFFERS are bad (outside guest RAM or
 *    overlapping MMIO, a device-writable buffer before a readable one):
 *    the chain is popped with elem->err saying what, so the device can fail
 *    the request with IOERR when its status byte is writable.
 *
 * Threading: one thread at a time drives a queue (the IOThread owning it,
 * under the device lock); the guest is the only other party.
 */
#ifndef POLLVM_DEVICES_VIRTQ_H
#define POLLVM_DEVICES_VIRTQ_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "../vmm/counters.h"
#include "../vmm/guest_mem.h"

/*
 * The spec's ring layout, flags (VRING_DESC_F_*, VRING_USED_F_NO_NOTIFY,
 * VRING_AVAIL_F_NO_INTERRUPT), alignments (VRING_*_ALIGN_SIZE) and the
 * ring's own feature bits (VIRTIO_RING_F_INDIRECT_DESC, _EVENT_IDX) are
 * <linux/virtio_ring.h>'s.  Its structs hold little-endian values
 * (VERSION_1): every access converts.
 */

/*
 * The largest queue pollvm offers (QueueNumMax).  256 entries cover a
 * QD32 workload eight times over and keep per-queue request state small.
 * A power of two, and so is every Queue Size the transport accepts
 * (QueueNum: a power of two up to it): the ring indices are masked with
 * num - 1 (virtq.c).
 */
#define VIRTQ_NUM_MAX 256
/* Segments one chain may carry (direct plus indirect), see virtq_pop(). */
#define VIRTQ_SEG_MAX VIRTQ_NUM_MAX

/* elem->err: per-buffer problems (the request fails, the queue lives). */
#define VIRTQ_EBUF_ADDR   1u  /* a buffer is not wholly inside guest RAM */
#define VIRTQ_EBUF_ORDER  2u  /* a readable buffer follows a writable one */

struct virtq_elem {
	uint16_t head;        /* descriptor index to return in the used ring */
	uint16_t nr_out;      /* leading device-readable segments */
	uint16_t nr_in;       /* then device-writable segments */
	uint16_t nr;          /* nr_out + nr_in */
	bool last_writable;   /* the last segment is device-writable */
	unsigned err;         /* VIRTQ_EBUF_* */
	uint64_t out_bytes, in_bytes;
	/* iov_base is NULL for a segment whose address was refused. */
	struct iovec iov[VIRTQ_SEG_MAX];
};

/* Refusals and traffic, one counter per kind (docs/counters.md, vmm/counters.h). */
#define VIRTQ_STATS(C, M) \
	C(popped)               /* chains taken from the avail ring */ \
	C(pushed)               /* entries added to the used ring */ \
	C(notify_checks)        /* interrupt decisions made */ \
	C(notify_suppressed)    /* ... of which the driver had suppressed */ \
	/* structure: the queue breaks */ \
	C(err_ring_addr)        /* rings outside RAM or misaligned at QueueReady */ \
	C(err_avail_idx)        /* avail.idx moved more than the queue size */ \
	C(err_head)             /* head index >= queue size */ \
	C(err_next)             /* next index out of range */ \
	C(err_chain_len)        /* loop, or chain longer than allowed */ \
	C(err_indirect)         /* bad indirect table (len, addr, flags, feature) */ \
	C(err_indirect_nested)  /* indirect descriptor inside an indirect table */ \
	/* per buffer: the request fails */ \
	C(err_buf_addr)         /* buffer outside guest RAM */ \
	C(err_buf_order)        /* readable buffer after a writable one */

struct virtq_stats {
	COUNTER_FIELDS(VIRTQ_STATS)
};

struct virtq {
	const struct guest_mem *mem;
	uint16_t num;                /* Queue Size chosen by the driver */
	bool event_idx;              /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;               /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool ready;                  /* started: rings mapped */
	bool broken;                 /* structure error seen: no more pops */
	bool notify_enabled;         /* what we last told the driver */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Host views of the rings, valid while ready. */
	struct vring_desc *desc;
	struct vring_avail *avail;   /* flags, idx, ring[num], then used_event */
	struct vring_used *used;     /* flags, idx, ring[num], then avail_event */

	uint16_t last_avail_idx;     /* next avail entry to consume */
	uint16_t shadow_avail_idx;   /* avail.idx as last read */
	uint16_t used_idx;           /* next used entry to fill (our copy of used.idx) */
	/*
	 * used_idx at the last virtq_should_notify().  2.7.10's test looks at
	 * the entries pushed since then as a 16-bit distance, so the caller
	 * must check before 65536 of them pile up: with more, the distance
	 * wraps and a used_event inside them is missed (no interrupt, a hung
	 * driver).  virtio-blk checks once per IOThread loop iteration and
	 * pushes at most a few queue sizes in one (blk_queue_drain).
	 */
	uint16_t signalled_used;
	bool signalled_used_valid;

	struct virtq_stats st;
};

/* Zero the queue and bind it to guest memory (no rings yet). */
void virtq_init(struct virtq *q, const struct guest_mem *mem);

/*
 * Map the rings at q->desc_gpa/avail_gpa/used_gpa for q->num entries.
 * -EINVAL (counted, queue broken) when any ring is outside guest RAM,
 * misaligned, or num is 0 / above VIRTQ_NUM_MAX.
 */
int virtq_start(struct virtq *q, bool event_idx, bool indirect);

/* Forget everything (device reset); stats are kept. */
void virtq_reset(struct virtq *q);

/* Does the driver have buffers we have not popped?  (Polling hook.) */
bool virtq_has_avail(struct virtq *q);

/*
 * Take the next available chain.  Returns 1 with *e filled, 0 when the
 * ring is empty, -EIO when the ring structure is broken (the queue is
 * then marked broken and every later call returns -EIO).
 */
int virtq_pop(struct virtq *q, struct virtq_elem *e);

/*
 * Return a chain to the driver: used entry, then used.idx (published).
 * Inline: once per request.
 */
static inline void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	struct vring_used_elem *ent;

	if (!q->ready)
		return;
	ent = &q->used->ring[q->used_idx & (q->num - 1)];
	__atomic_store_n(&ent->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&ent->len, htole32(written), __ATOMIC_RELAXED);
	q->used_idx++;
	/*
	 * Release: the entry is visible before used.idx moves.  Pairs with
	 * virtio_rmb() in virtqueue_get_buf_ctx_split() after more_used_split()
	 * read used->idx.
	 */
	__atomic_store_n(&q->used->idx, htole16(q->used_idx), __ATOMIC_RELEASE);
	q->st.pushed++;
}

/*
 * After one or more virtq_push(): does the driver want an interrupt?
 * Honours VRING_AVAIL_F_NO_INTERRUPT or, with EVENT_IDX, used_event.
 * Call once per batch of fewer than 65536 pushes: it remembers what it has
 * signalled (signalled_used).
 */
bool virtq_should_notify(struct virtq *q);

/*
 * Ask the driver to kick (enable) or not to (disable) when it adds
 * buffers: VRING_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX.  When
 * enabling, returns true if buffers arrived meanwhile (the caller must
 * drain again, or a buffer published while kicks were off is stranded);
 * false otherwise.
 */
bool virtq_set_notification(struct virtq *q, bool enable);

/*
 * Both sides' ring indices at one moment, for diagnosing a stalled queue
 * (--stats, SIGUSR1): did the driver publish what we never took (a missed
 * kick), or did we complete what it never saw (a missed interrupt)?  The
 * guest fields are read without validation: they are only printed.
 */
struct virtq_ring_state {
	bool ready;
	uint16_t avail_flags, avail_idx, used_event;   /* written by the driver */
	uint16_t used_flags, used_idx_ring, avail_event; /* as the guest sees them */
	uint16_t last_avail_idx, used_idx, signalled_used;
	bool notify_enabled;
};
void virtq_snapshot(const struct virtq *q, struct virtq_ring_state *s);

/* Bytes needed for each ring of a queue of num entries (2.7), the
 * avail ring's used_event and the used ring's avail_event included. */
static inline uint64_t virtq_desc_bytes(unsigned num)
{
	return (uint64_t)sizeof(struct vring_desc) * num;
}

static inline uint64_t virtq_avail_bytes(unsigned num)
{
	return sizeof(struct vring_avail) + sizeof(__virtio16) * (num + 1ull);
}

static inline uint64_t virtq_used_bytes(unsigned num)
{
	return sizeof(struct vring_used) + sizeof(struct vring_used_elem) * (uint64_t)num +
	       sizeof(__virtio16);
}

#endif
