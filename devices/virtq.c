/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (virtio 1.2 section 2.7).
 *
 * Memory ordering follows Linux's drivers/virtio/virtio_ring.c (the driver
 * we talk to): each barrier below names the driver barrier it pairs with.
 * Ring fields are accessed with __atomic builtins so that each is fetched
 * exactly once and never torn; each field of a descriptor is copied into a
 * local once, before any of them is looked at.
 */
#include "virtq.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

static inline uint16_t ld16(const __virtio16 *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline void st16(__virtio16 *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

/* 2.7.10: used_event follows the avail ring's num entries ... */
static inline __virtio16 *avail_used_event(const struct virtq *q)
{
	return &q->avail->ring[q->num];
}

/* ... and avail_event the used ring's. */
static inline __virtio16 *used_avail_event(const struct virtq *q)
{
	return (__virtio16 *)&q->used->ring[q->num];
}

void virtq_init(struct virtq *q, const struct guest_mem *mem)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->notify_enabled = true;
}

void virtq_reset(struct virtq *q)
{
	struct virtq_stats st = q->st;

	virtq_init(q, q->mem);
	q->st = st;
}

static int virtq_break(struct virtq *q, uint64_t *counter)
{
	(*counter)++;
	q->broken = true;
	return -EIO;
}

int virtq_start(struct virtq *q, bool event_idx, bool indirect)
{
	unsigned num = q->num;

	/* 2.7: Queue Size is a power of 2, at most what we offered. */
	if (num == 0 || num > VIRTQ_NUM_MAX || (num & (num - 1)))
		goto refuse;
	if ((q->desc_gpa & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (q->avail_gpa & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (q->used_gpa & (VRING_USED_ALIGN_SIZE - 1)))
		goto refuse;
	q->desc = gmem_ptr(q->mem, q->desc_gpa, virtq_desc_bytes(num));
	q->avail = gmem_ptr(q->mem, q->avail_gpa, virtq_avail_bytes(num));
	q->used = gmem_ptr(q->mem, q->used_gpa, virtq_used_bytes(num));
	if (!q->desc || !q->avail || !q->used)
		goto refuse;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->last_avail_idx = q->shadow_avail_idx = 0;
	q->used_idx = 0;
	q->signalled_used_valid = false;
	q->notify_enabled = true;
	q->broken = false;
	q->ready = true;
	return 0;

refuse:
	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
	virtq_break(q, &q->st.err_ring_addr);
	return -EINVAL;
}

/*
 * Read avail.idx once, validate it, remember it.  Acquire: the entries and
 * descriptors the driver published before idx must be seen after it; pairs
 * with virtio_wmb() in virtqueue_add_split() before its avail->idx store.
 */
static int virtq_fetch_avail_idx(struct virtq *q)
{
	uint16_t idx = le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));

	/* 2.7.13.3: the driver never has more than num entries outstanding. */
	if ((uint16_t)(idx - q->last_avail_idx) > q->num)
		return virtq_break(q, &q->st.err_avail_idx);
	q->shadow_avail_idx = idx;
	return 0;
}

bool virtq_has_avail(struct virtq *q)
{
	if (!q->ready)
		return false;
	if (q->broken)
		return false;
	if (q->shadow_avail_idx != q->last_avail_idx)
		return true;
	uint16_t idx = le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
	/* Not validated here: virtq_pop() does, and breaks the queue. */
	return idx != q->last_avail_idx;
}

/* One descriptor, each field copied once: every check uses the copy, not guest memory. */
struct virtq_desc_val {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static inline struct virtq_desc_val virtq_read_desc(const uint8_t *table, unsigned i)
{
	const uint8_t *p = table + (size_t)i * sizeof(struct vring_desc);
	struct vring_desc d;

	/* Field by field (a guest's indirect table may be misaligned). */
	memcpy(&d.addr, p + offsetof(struct vring_desc, addr), sizeof(d.addr));
	memcpy(&d.len, p + offsetof(struct vring_desc, len), sizeof(d.len));
	memcpy(&d.flags, p + offsetof(struct vring_desc, flags), sizeof(d.flags));
	memcpy(&d.next, p + offsetof(struct vring_desc, next), sizeof(d.next));
	return (struct virtq_desc_val){ .addr = le64toh(d.addr), .len = le32toh(d.len),
					.flags = le16toh(d.flags), .next = le16toh(d.next) };
}

/*
 * Put the buffer of a (non-indirect) descriptor in e's next segment, v,
 * and return the one after.  The caller has checked that e has room.  A
 * readable buffer after a writable one (2.7.4.2) is counted among the
 * writable ones, its bytes as out.
 */
static inline struct iovec *virtq_add_seg(struct virtq *q, struct virtq_elem *e, struct iovec *v,
					  struct virtq_desc_val d)
{
	void *base = NULL;

	if (d.len) {
		base = gmem_ptr(q->mem, d.addr, d.len);
		if (!base) {
			e->err |= VIRTQ_EBUF_ADDR;
			q->st.err_buf_addr++;
		}
	}
	v->iov_base = base;
	v->iov_len = d.len;
	if (d.flags & VRING_DESC_F_WRITE) {
		e->in_bytes += d.len;
		return v + 1;
	}
	e->out_bytes += d.len;
	if (v - e->iov == e->nr_out) {
		/* Every segment before it is readable too. */
		e->nr_out++;
	} else {
		if (!(e->err & VIRTQ_EBUF_ORDER))
			q->st.err_buf_order++;
		e->err |= VIRTQ_EBUF_ORDER;
	}
	return v + 1;
}

/*
 * The rest of a chain from the indirect descriptor ind on (2.7.5.3): only
 * with the feature, not together with NEXT, a table of whole descriptors
 * inside guest RAM, with no indirect descriptor in it.  Its chain is at
 * most as long as the table (more steps can only be a loop) and adds at
 * most the segments e has room for.  Returns the last descriptor's flags,
 * or -EIO with the queue broken.
 */
static int virtq_pop_indirect(struct virtq *q, struct virtq_elem *e, struct iovec **v,
			      struct virtq_desc_val ind)
{
	const size_t dsize = sizeof(struct vring_desc);
	const uint8_t *table;
	unsigned tnum, left, i = 0;

	if (!q->indirect || (ind.flags & VRING_DESC_F_NEXT) || ind.len == 0 ||
	    ind.len % dsize || ind.len / dsize > VIRTQ_SEG_MAX)
		return virtq_break(q, &q->st.err_indirect);
	table = gmem_ptr(q->mem, ind.addr, ind.len);
	if (!table)
		return virtq_break(q, &q->st.err_indirect);
	tnum = (unsigned)(ind.len / dsize);
	/* Fewer than VIRTQ_SEG_MAX segments so far (the direct part is shorter
	 * than the queue): no wrap. */
	left = VIRTQ_SEG_MAX - (unsigned)(*v - e->iov);
	if (left > tnum)
		left = tnum;
	for (;;) {
		if (left-- == 0)
			return virtq_break(q, &q->st.err_chain_len);
		struct virtq_desc_val d = virtq_read_desc(table, i);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return virtq_break(q, &q->st.err_indirect_nested);
		*v = virtq_add_seg(q, e, *v, d);
		if (!(d.flags & VRING_DESC_F_NEXT))
			return d.flags;
		if (d.next >= tnum)
			return virtq_break(q, &q->st.err_next);
		i = d.next;
	}
}

/* A direct chain never has more segments than the queue has entries. */
_Static_assert(VIRTQ_NUM_MAX <= VIRTQ_SEG_MAX, "a direct chain fits in virtq_elem");

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
	const uint8_t *table;
	struct iovec *v;        /* e's next segment */
	unsigned left, i;
	int flags, r;

	if (q->broken)
		return -EIO;
	if (!q->ready)
		return 0;
	if (q->shadow_avail_idx == q->last_avail_idx) {
		r = virtq_fetch_avail_idx(q);
		if (r)
			return r;
		if (q->shadow_avail_idx == q->last_avail_idx)
			return 0;
	}

	/* The entry is ordered after avail.idx by the acquire above. */
	uint16_t head = ld16(&q->avail->ring[q->last_avail_idx & (q->num - 1)]);
	q->last_avail_idx++;
	if (head >= q->num)
		return virtq_break(q, &q->st.err_head);

	e->head = head;
	e->nr_out = 0;
	e->err = 0;
	e->out_bytes = e->in_bytes = 0;

	table = (const uint8_t *)q->desc;
	v = e->iov;
	/* 2.7.5.3.1: a chain is never longer than Queue Size; more steps can
	 * only be a loop. */
	left = q->num;
	i = head;
	for (;;) {
		if (left-- == 0)
			return virtq_break(q, &q->st.err_chain_len);
		struct virtq_desc_val d = virtq_read_desc(table, i);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			flags = virtq_pop_indirect(q, e, &v, d);
			if (flags < 0)
				return flags;
			break;
		}
		v = virtq_add_seg(q, e, v, d);
		flags = d.flags;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= q->num)
			return virtq_break(q, &q->st.err_next);
		i = d.next;
	}
	e->nr = (uint16_t)(v - e->iov);
	e->nr_in = e->nr - e->nr_out;
	e->last_writable = flags & VRING_DESC_F_WRITE;
	q->st.popped++;
	return 1;
}

bool virtq_should_notify(struct virtq *q)
{
	bool notify;

	if (!q->ready)
		return false;
	q->st.notify_checks++;
	/*
	 * Full barrier: our used.idx store must be globally visible before we
	 * read the driver's flags / used_event, else both sides can miss each
	 * other.  Pairs with virtio_store_mb() of used_event in
	 * virtqueue_enable_cb_delayed_split() and the virtio_mb() in
	 * virtqueue_poll() / virtqueue_enable_cb_prepare_split() path that
	 * re-reads used->idx after re-enabling callbacks.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx) {
		notify = !(ld16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	} else {
		/* new_idx - old is the batch: below 65536 by the caller's
		 * contract (virtq.h, signalled_used), so it cannot wrap. */
		uint16_t old = q->signalled_used, new_idx = q->used_idx;
		bool valid = q->signalled_used_valid;

		q->signalled_used = new_idx;
		q->signalled_used_valid = true;
		/* 2.7.10's test, <linux/virtio_ring.h>'s vring_need_event(). */
		notify = !valid || vring_need_event(ld16(avail_used_event(q)), new_idx, old);
	}
	if (!notify)
		q->st.notify_suppressed++;
	return notify;
}

bool virtq_set_notification(struct virtq *q, bool enable)
{
	if (!q->ready || q->broken)
		return false;
	q->notify_enabled = enable;
	if (q->event_idx) {
		/*
		 * Enable: kick me when you add the entry at last_avail_idx
		 * (2.7.10).  Disable: put avail_event one behind what we have
		 * consumed.  The driver's "old" index is at least last_avail_idx,
		 * so vring_need_event(event, new, old) stays false for every
		 * batch it publishes until its index runs 2^16 ahead; the poller
		 * calls this again after each batch it takes, so that never
		 * happens while it polls.  (Leaving avail_event where it was
		 * would still cost one kick per polling window.)
		 */
		st16(used_avail_event(q), enable ? q->last_avail_idx : (uint16_t)(q->last_avail_idx - 1));
	} else {
		st16(&q->used->flags, enable ? 0 : VRING_USED_F_NO_NOTIFY);
	}
	if (!enable)
		return false;
	/*
	 * Full barrier: the driver must see our flags / avail_event before we
	 * look at avail.idx again, or a buffer added in between is stranded
	 * with no kick.  Pairs with virtio_mb() in virtqueue_kick_prepare_split()
	 * between the driver's avail->idx store and its read of
	 * avail_event / used->flags.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_avail(q);
}

void virtq_snapshot(const struct virtq *q, struct virtq_ring_state *s)
{
	memset(s, 0, sizeof(*s));
	s->ready = q->ready;
	s->last_avail_idx = q->last_avail_idx;
	s->used_idx = q->used_idx;
	s->signalled_used = q->signalled_used;
	s->notify_enabled = q->notify_enabled;
	if (!q->ready)
		return;
	s->avail_flags = ld16(&q->avail->flags);
	s->avail_idx = ld16(&q->avail->idx);
	s->used_event = ld16(avail_used_event(q));
	s->used_flags = ld16(&q->used->flags);
	s->used_idx_ring = ld16(&q->used->idx);
	s->avail_event = ld16(used_avail_event(q));
}
