/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 5.2): its queues on the IOThreads (kicks, polling,
 * draining the avail ring), request slots and completion, the interrupt
 * decision per batch, reset and config space.  Parsing a request is
 * blk_parse.c's; moving its data, the backend's.
 *
 * A request whose status byte can be written is answered (IOERR / UNSUPP
 * for a bad one); without a writable status byte, or with a broken ring,
 * the device sets DEVICE_NEEDS_RESET.
 */
#include "blk.h"
#include "iov.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK_STAT(bq, field) ((bq)->st.field++)

static unsigned blk_queue_drain(struct blk_queue *bq);
static void blk_queue_rearm(struct blk_queue *bq);
static void blk_kick_fd(int fd);

/* ---- completion ---------------------------------------------------- */

/* Free the slot; the last one out wakes a reset waiting to quiesce. */
static void blk_req_release(struct blk_req *req)
{
	struct blk_queue *bq = req->bq;
	struct blk *b = bq->blk;

	req->next_free = bq->free;
	bq->free = req;
	bq->inflight--;
	if (--b->inflight == 0)
		pthread_cond_broadcast(&b->t.cond);
}

/* Write the status, return the chain, free the slot.  Lock held. */
static void blk_req_finish(struct blk_req *req, uint8_t status)
{
	struct blk_queue *bq = req->bq;
	struct blk *b = bq->blk;

	/* After a reset or DEVICE_NEEDS_RESET the rings are not ours any more. */
	if (virtio_mmio_live(&b->t)) {
		__atomic_store_n(req->parsed.status, status, __ATOMIC_RELAXED);
		/* virtq_push's release store orders the status byte before used.idx. */
		virtq_push(bq->vq, req->elem.head,
			   status == VIRTIO_BLK_S_OK ? req->parsed.used_len : 1);
		bq->pushed++;
		uint64_t t = lat_now();
		if (req->t_submit) {
			lat_hist_add(&bq->lat.to_backend, req->t_avail, req->t_submit);
			lat_hist_add(&bq->lat.in_backend, req->t_submit, req->t_done);
			lat_hist_add(&bq->lat.to_used, req->t_done, t);
		}
		lat_hist_add(&bq->lat.total, req->t_avail, t);
		if (bq->loop)
			evloop_defer(bq->loop, &bq->irq_owner->irq_defer);
	}
	blk_req_release(req);
}

static void blk_req_io_done(struct blk_io *io, int res)
{
	struct blk_req *req = (struct blk_req *)((char *)io - offsetof(struct blk_req, io));
	struct blk_queue *bq = req->bq;
	struct blk *b = bq->blk;
	uint8_t status = VIRTIO_BLK_S_OK;

	req->t_done = lat_now();
	pthread_mutex_lock(&b->t.lock);
	if (res < 0) {
		if (res == -EOPNOTSUPP && (io->op == BLK_IO_DISCARD || io->op == BLK_IO_WRITE_ZEROES)) {
			status = VIRTIO_BLK_S_UNSUPP;
			BLK_STAT(bq, unsupported);
		} else {
			status = VIRTIO_BLK_S_IOERR;
			BLK_STAT(bq, err_io);
		}
	} else if (io->op == BLK_IO_READ) {
		bq->st.bytes_read += io->len;
	} else if (io->op == BLK_IO_WRITE) {
		bq->st.bytes_written += io->len;
	}
	blk_req_finish(req, status);
	/*
	 * A slot is free again: what the ring still holds is taken by the
	 * queue's own handler in the next pass of the loop, not here.  Drains
	 * then only run from the queue's handlers, a bounded number per loop
	 * iteration (the interrupt check relies on it, see blk_queue_drain);
	 * draining here, once per completion of a batch, would not be.
	 */
	if (bq->throttled) {
		bq->throttled = false;
		blk_queue_rearm(bq);
	}
	pthread_mutex_unlock(&b->t.lock);
}

/* The batcher's raise(): the device's interrupt, while it is live (lock held). */
static bool blk_irq_send(void *dev)
{
	struct blk *b = dev;

	if (!virtio_mmio_live(&b->t))
		return false;
	virtio_mmio_raise(&b->t, VIRTIO_MMIO_INT_VRING);
	return true;
}

/*
 * Deferred to the end of the IOThread's batch: one irqfd write per device
 * for the queues this IOThread serves (owner: the first of them), at once
 * or, with irq-coalesce-us, when the timer, the batch cap or the last
 * in-flight request says so.
 */
static void blk_irq_flush(void *opaque)
{
	struct blk_queue *owner = opaque;
	struct blk *b = owner->blk;
	unsigned done = 0, inflight = 0;
	bool due = false;

	pthread_mutex_lock(&b->t.lock);
	for (unsigned i = 0; i < b->nr_queues; i++) {
		struct blk_queue *bq = &b->q[i];
		if (bq->irq_owner != owner)
			continue;
		inflight += bq->inflight;
		if (!bq->pushed)
			continue;
		done += bq->pushed;
		bq->pushed = 0;
		if (virtq_should_notify(&b->vqs[i])) {
			due = true;
			BLK_STAT(bq, irqs);
		} else {
			BLK_STAT(bq, irqs_suppressed);
		}
	}
	irq_batch_end(&owner->irq, due, done, inflight);
	pthread_mutex_unlock(&b->t.lock);
}

/* ---- requests ------------------------------------------------------ */

static void blk_req_submit(struct blk_req *req)
{
	struct blk_queue *bq = req->bq;
	struct blk *b = bq->blk;

	req->t_submit = lat_now();
	if (b->be_ops->submit(bq->be, &req->io) < 0) {
		req->t_submit = 0;
		BLK_STAT(bq, err_io);
		blk_req_finish(req, VIRTIO_BLK_S_IOERR);
	}
}

/* A popped chain: answer it, or hand it to the backend (lock held). */
static void blk_req_start(struct blk_queue *bq, struct blk_req *req)
{
	struct blk *b = bq->blk;

	blk_parse(&b->pctx, &req->elem, req->iov, &req->io, &req->parsed, &bq->st);
	switch (req->parsed.kind) {
	case BLK_PARSE_IO:
		blk_req_submit(req);
		break;
	case BLK_PARSE_DONE:
		blk_req_finish(req, req->parsed.status_val);
		break;
	case BLK_PARSE_NO_STATUS:
		blk_req_release(req);
		virtio_mmio_needs_reset(&b->t);
		break;
	}
}

/*
 * Have the queue's handler look at the ring again in the next pass of the
 * loop (lock held).  Polled, the next poll pass does (or, when polling
 * stops first, blk_queue_on_poll_end's drain).  Not polled, a kick of our
 * own: the eventfd stays readable until blk_queue_on_kick reads it, so the
 * loop cannot sleep past it, whatever the driver's kicks are set to.
 */
static void blk_queue_rearm(struct blk_queue *bq)
{
	if (bq->polling)
		return;
	atomic_fetch_add(&bq->self_kicks, 1);
	blk_kick_fd(bq->kick_fd);
}

/*
 * Take the available requests (lock held); returns how many.  Not polled,
 * it ends with notifications re-enabled and the ring re-checked, so a
 * buffer added meanwhile is not left without a kick.  Polled, it ends with
 * kicks still suppressed (refreshed for the EVENT_IDX index) and no
 * re-check: the next poll pass is the re-check.
 *
 * One call takes at most a queue size (vq->num) of requests.  A guest that
 * refills the ring as fast as requests complete (GET_ID completes at once)
 * would otherwise keep the IOThread here, holding the device lock, while
 * its other queues, its io_uring completions and the vCPUs' register
 * accesses wait.  What is left is taken in the next pass of the loop:
 * polled, the next poll pass sees it; not polled, kicks are turned off
 * (the queue is not idle, a kick would only cost the guest an exit) and
 * blk_queue_rearm wakes the handler, whose drain ends as above.
 *
 * Slots, not the ring, can run out too (a guest with more chains in flight
 * than a ring can hold, by reusing heads): the queue is throttled and takes
 * nothing until a completion frees a slot (blk_req_io_done re-arms it).
 * Either way a queue pushes at most a few drains' worth (a few vq->num)
 * plus its in-flight requests' completions in one loop iteration, and
 * blk_irq_flush checks the interrupt once per iteration: far fewer than
 * the 65536 completions that would wrap virtq_should_notify's window.
 */
static unsigned blk_queue_drain(struct blk_queue *bq)
{
	struct blk *b = bq->blk;
	struct virtq *vq = bq->vq;
	unsigned got = 0;

	if (!virtio_mmio_live(&b->t) || !vq->ready)
		return 0;
	for (;;) {
		while (bq->free && got < vq->num) {
			struct blk_req *req = bq->free;
			int r = virtq_pop(vq, &req->elem);
			if (r < 0) {
				BLK_STAT(bq, err_ring);
				virtio_mmio_needs_reset(&b->t);
				goto out;
			}
			if (r == 0)
				break;
			bq->free = req->next_free;
			bq->inflight++;
			b->inflight++;
			got++;
			req->t_avail = lat_now();
			req->t_submit = 0;
			blk_req_start(bq, req);
			if (!virtio_mmio_live(&b->t))
				goto out;
		}
		if (!bq->free) {
			/* More in the ring than a well-behaved driver can have in
			 * flight: resume when a completion frees a slot. */
			bq->throttled = true;
			BLK_STAT(bq, throttled);
			break;
		}
		if (bq->polling) {
			virtq_set_notification(vq, false);
			break;
		}
		if (got >= vq->num && virtq_has_avail(vq)) {
			/* The budget is spent and the ring is not empty. */
			virtq_set_notification(vq, false);
			blk_queue_rearm(bq);
			break;
		}
		if (!virtq_set_notification(vq, true))
			break;
	}
out:
	if (got) {
		BLK_STAT(bq, batches);
		if (got > bq->st.batch_max)
			bq->st.batch_max = got;
	}
	return got;
}

/* ---- event sources --------------------------------------------------- */

/* Of v notifications read from the kick eventfd, how many the guest sent. */
static uint64_t blk_guest_kicks(struct blk_queue *bq, uint64_t v)
{
	unsigned own = atomic_exchange(&bq->self_kicks, 0);

	return v > own ? v - own : 0;
}

static void blk_queue_on_kick(void *opaque)
{
	struct blk_queue *bq = opaque;
	struct blk *b = bq->blk;
	uint64_t v;

	/* Nonblocking: eventfd counters coalesce any number of kicks. */
	if (read(bq->kick_fd, &v, sizeof(v)) != sizeof(v))
		return;
	/* The counter holds every notification since the last read: count them
	 * all, so that kicks equals the guest's QueueNotify writes (perf). */
	bq->st.kicks += blk_guest_kicks(bq, v);
	pthread_mutex_lock(&b->t.lock);
	blk_queue_drain(bq);
	pthread_mutex_unlock(&b->t.lock);
}

static bool blk_queue_on_poll(void *opaque)
{
	struct blk_queue *bq = opaque;
	struct blk *b = bq->blk;
	unsigned got = 0;

	/* Under the lock even to peek: a reset on a vCPU thread rewrites the
	 * queue (ring pointers included) under it.  Uncontended, it costs tens
	 * of ns per pass, and idle queues leave the poll set anyway. */
	pthread_mutex_lock(&b->t.lock);
	/*
	 * Throttled (no free slot), a full ring is work we cannot do: reporting
	 * it would make every pass "progress" and the loop would spin without
	 * ever blocking.  A completion frees a slot and re-arms the queue.
	 */
	if (virtio_mmio_live(&b->t) && bq->free && virtq_has_avail(bq->vq)) {
		BLK_STAT(bq, poll_drains);
		got = blk_queue_drain(bq);
	}
	pthread_mutex_unlock(&b->t.lock);
	return got > 0;
}

/* The IOThread starts polling this queue: the driver need not kick (2.7.10). */
static void blk_queue_on_poll_begin(void *opaque)
{
	struct blk_queue *bq = opaque;
	struct blk *b = bq->blk;

	pthread_mutex_lock(&b->t.lock);
	bq->polling = true;
	BLK_STAT(bq, poll_windows);
	virtq_set_notification(bq->vq, false);
	pthread_mutex_unlock(&b->t.lock);
}

/*
 * Polling stops, the IOThread is about to sleep on the kick fd.  Order:
 * (1) drain the kick eventfd of kicks sent before now: their buffers are
 *     in the ring and step 2 takes them; without this the sleep would end
 *     at once on a stale kick;
 * (2) take what the ring holds and re-enable kicks, re-checking the ring
 *     after the re-enable (blk_queue_drain, virtq_set_notification's full
 *     barrier pairs with the driver's virtio_mb() between its avail.idx
 *     store and its read of avail_event / used.flags).
 * A buffer published after (1) either is seen by (2), or its driver saw
 * kicks enabled and kicks, which wakes the sleep.  When (2) stops at its
 * budget with the ring not empty, it kicks the eventfd itself
 * (blk_queue_rearm), which also wakes the sleep.  Nothing is stranded.
 */
static bool blk_queue_on_poll_end(void *opaque)
{
	struct blk_queue *bq = opaque;
	struct blk *b = bq->blk;
	uint64_t v;
	unsigned got;

	if (read(bq->kick_fd, &v, sizeof(v)) == sizeof(v))
		bq->st.kicks_late += blk_guest_kicks(bq, v);
	pthread_mutex_lock(&b->t.lock);
	bq->polling = false;
	got = blk_queue_drain(bq);
	/* Not live or not ready: drain did nothing; kicks on for the next start. */
	if (!got && bq->vq->ready && !bq->vq->notify_enabled)
		virtq_set_notification(bq->vq, true);
	pthread_mutex_unlock(&b->t.lock);
	return got > 0;
}

/* ---- transport ops ----------------------------------------------------- */

static void blk_kick_fd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wake-up is pending anyway. */
	}
}

static void blk_notify(void *dev, unsigned queue)
{
	struct blk *b = dev;

	if (queue < b->nr_queues)
		blk_kick_fd(b->q[queue].kick_fd);
}

static void blk_activate(void *dev)
{
	struct blk *b = dev;

	/* Look at every ring once: a driver may have queued before its first kick. */
	for (unsigned i = 0; i < b->nr_queues; i++) {
		atomic_fetch_add(&b->q[i].self_kicks, 1);
		blk_kick_fd(b->q[i].kick_fd);
	}
}

static void blk_queue_reset_slots(struct blk_queue *bq)
{
	bq->free = NULL;
	for (unsigned i = VIRTQ_NUM_MAX; i-- > 0;) {
		struct blk_req *req = &bq->reqs[i];
		req->bq = bq;
		/* The parser fills the rest of io per request (blk_parse). */
		req->io.complete = blk_req_io_done;
		req->io.backend = req->backend;
		req->next_free = bq->free;
		bq->free = req;
	}
	bq->inflight = 0;
	bq->pushed = 0;
	bq->throttled = false;
	/* An interrupt still waiting to coalesce is for rings that are gone. */
	irq_batch_forget(&bq->irq);
}

static void blk_reset(void *dev)
{
	struct blk *b = dev;

	/* Status is already 0 (not live): nothing new starts, completions
	 * are dropped.  Wait for the backend to give every buffer back. */
	while (b->inflight)
		pthread_cond_wait(&b->t.cond, &b->t.lock);
	for (unsigned i = 0; i < b->nr_queues; i++)
		blk_queue_reset_slots(&b->q[i]);
	b->config.wce = b->p.writeback;
	b->pctx.discard = b->pctx.write_zeroes = false;
}

/*
 * The cache mode follows from the features the driver accepted (virtio 1.2
 * 5.2.5 and 5.2.6.2), fixed here at FEATURES_OK because a driver reads
 * writeback after it and before DRIVER_OK:
 *  - FLUSH negotiated: the disk's initial mode (writeback), since the
 *    driver can make writes stable with FLUSH;
 *  - no FLUSH, no CONFIG_WCE: write-through, a completed write must be
 *    stable (the driver has no other way to get there);
 *  - CONFIG_WCE without FLUSH: writeback starts at 0 ("the device MUST
 *    initialize writeback to 0"); the driver may still set it.
 * Lock held (a register write).
 */
static bool blk_features_ok(void *dev, uint64_t features)
{
	struct blk *b = dev;
	bool flush = (features >> VIRTIO_BLK_F_FLUSH) & 1;

	b->config.wce = flush && b->p.writeback;
	/* What requests are checked against (blk_parse) follows the features. */
	b->pctx.discard = (features >> VIRTIO_BLK_F_DISCARD) & 1;
	b->pctx.write_zeroes = (features >> VIRTIO_BLK_F_WRITE_ZEROES) & 1;
	return true;
}

/* off + len is within BLK_CONFIG_LEN (the transport checks, without wrapping). */
static void blk_config_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct blk *b = dev;

	memcpy(data, (const uint8_t *)&b->config + off, len);
}

static void blk_config_write(void *dev, uint32_t off, const void *data, unsigned len)
{
	struct blk *b = dev;

	/* 5.2.5: only the writeback byte, and only once CONFIG_WCE is
	 * negotiated (FEATURES_OK): before that the driver's feature bits are
	 * a proposal, and FEATURES_OK sets the mode anew (blk_features_ok). */
	if (off == offsetof(struct virtio_blk_config, wce) && len == 1 &&
	    (atomic_load(&b->t.status) & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    virtio_mmio_has_feature(&b->t, VIRTIO_BLK_F_CONFIG_WCE))
		b->config.wce = *(const uint8_t *)data ? 1 : 0;
	else
		__atomic_fetch_add(&b->t.st.bad_writes, 1, __ATOMIC_RELAXED);
}

static const struct virtio_dev_ops blk_dev_ops = {
	.features_ok = blk_features_ok,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.notify = blk_notify,
	.activate = blk_activate,
	.reset = blk_reset,
};

/* ---- set-up ------------------------------------------------------------ */

/* log2 of a power of two */
static unsigned blk_log2(uint32_t v)
{
	unsigned e = 0;

	while (v > 1) {
		v >>= 1;
		e++;
	}
	return e;
}

/* The config space (5.2.4), little-endian as the driver reads it. */
static void blk_build_config(struct blk *b)
{
	uint32_t lbs = b->p.blk_size, pbs = b->p.phys_size;

	b->config = (struct virtio_blk_config){
		.capacity = htole64(b->p.capacity),
		.size_max = htole32(BLK_SIZE_MAX),
		.seg_max = htole32(BLK_SEG_MAX),
		.blk_size = htole32(lbs),
		/* topology: physical blocks of 2^exp logical ones, no
		 * alignment offset, I/O of at least (and best in) whole
		 * physical blocks, counted in logical blocks. */
		.physical_block_exp = (uint8_t)blk_log2(pbs / lbs),
		.min_io_size = htole16((uint16_t)(pbs / lbs)),
		.opt_io_size = htole32(pbs / lbs),
		.wce = b->p.writeback,
		.num_queues = htole16((uint16_t)b->nr_queues),
		/* One range per request (max_*_seg = 1): blk_parse. */
		.max_discard_sectors = htole32(BLK_MAX_DWZ_SECTORS),
		.max_discard_seg = htole32(1),
		.discard_sector_alignment = htole32(pbs / VIRTIO_BLK_SECTOR),
		.max_write_zeroes_sectors = htole32(BLK_MAX_DWZ_SECTORS),
		.max_write_zeroes_seg = htole32(1),
		.write_zeroes_may_unmap = 1,
	};
}

int blk_init(struct blk *b, const char *name, const struct blk_params *p,
	     const struct guest_mem *mem, int irqfd, const int *kick_fds,
	     const struct blk_backend_ops *be_ops, void *be)
{
	uint64_t f;
	int r;

	if (p->num_queues == 0 || p->num_queues > BLK_MAX_QUEUES || p->blk_size < VIRTIO_BLK_SECTOR ||
	    p->blk_size > 65536 || (p->blk_size & (p->blk_size - 1)) ||
	    (p->phys_size && (p->phys_size < p->blk_size || p->phys_size > 65536 ||
			      (p->phys_size & (p->phys_size - 1)))) ||
	    p->capacity > (UINT64_MAX >> 10) || !be_ops || !be_ops->submit)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->p = *p;
	if (!b->p.phys_size)
		b->p.phys_size = b->p.blk_size;
	b->nr_queues = p->num_queues;
	b->be_ops = be_ops;
	b->be = be;
	/* 5.2.6: the ID is 20 bytes, NUL-padded, not NUL-terminated when full. */
	if (p->serial) {
		size_t n = strnlen(p->serial, sizeof(b->serial));
		memcpy(b->serial, p->serial, n);
	}
	blk_build_config(b);
	b->pctx = (struct blk_parse_ctx){
		.capacity = b->p.capacity, .blk_size = b->p.blk_size, .ro = b->p.ro,
		.writeback = &b->config.wce, .serial = b->serial,
	};

	f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
	    (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
	    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY) |
	    (1ULL << VIRTIO_BLK_F_CONFIG_WCE) | (1ULL << VIRTIO_BLK_F_MQ);
	if (p->ro)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else {
		if (p->discard)
			f |= 1ULL << VIRTIO_BLK_F_DISCARD;
		if (p->write_zeroes)
			f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	}

	for (unsigned i = 0; i < b->nr_queues; i++) {
		struct blk_queue *bq = &b->q[i];
		bq->blk = b;
		bq->vq = &b->vqs[i];
		bq->index = i;
		bq->kick_fd = kick_fds[i];
		bq->be = be;
		bq->irq_owner = bq;
		bq->irq_defer = (struct evloop_defer){ .fn = blk_irq_flush, .opaque = bq };
		irq_batch_init(&bq->irq, &b->t.lock, blk_irq_send, b, &b->irq);
		bq->reqs = calloc(VIRTQ_NUM_MAX, sizeof(*bq->reqs));
		if (!bq->reqs) {
			r = -ENOMEM;
			goto fail;
		}
		blk_queue_reset_slots(bq);
	}
	r = virtio_mmio_init(&b->t, name, VIRTIO_ID_BLOCK, f, &blk_dev_ops, b, b->vqs,
			     b->nr_queues, BLK_CONFIG_LEN, mem, irqfd);
	if (r)
		goto fail;
	return 0;
fail:
	for (unsigned i = 0; i < b->nr_queues; i++)
		free(b->q[i].reqs);
	return r;
}

void blk_destroy(struct blk *b)
{
	blk_detach(b);
	for (unsigned i = 0; i < b->nr_queues; i++) {
		free(b->q[i].reqs);
		b->q[i].reqs = NULL;
	}
	virtio_mmio_destroy(&b->t);
}

int blk_attach_queue(struct blk *b, unsigned q, struct evloop *loop, void *be)
{
	struct blk_queue *bq;
	int r;

	if (q >= b->nr_queues || !loop || b->q[q].loop)
		return -EINVAL;
	bq = &b->q[q];
	bq->h = (struct evloop_handler){
		.fd = bq->kick_fd, .on_fd = blk_queue_on_kick,
		.on_poll = blk_queue_on_poll, .on_poll_begin = blk_queue_on_poll_begin,
		.on_poll_end = blk_queue_on_poll_end, .opaque = bq, .name = "virtq",
	};
	r = evloop_add(loop, &bq->h);
	if (r)
		return r;
	bq->loop = loop;
	bq->be = be;
	irq_batch_attach(&bq->irq, loop);
	/* One queue of the device on this loop signals for all of them: the
	 * first attached there. */
	bq->irq_owner = bq;
	for (unsigned i = 0; i < b->nr_queues; i++)
		if (i != q && b->q[i].loop == loop) {
			bq->irq_owner = b->q[i].irq_owner;
			break;
		}
	return 0;
}

int blk_attach(struct blk *b, struct evloop *loop)
{
	for (unsigned i = 0; i < b->nr_queues; i++) {
		int r = blk_attach_queue(b, i, loop, b->be);
		if (r) {
			blk_detach(b);
			return r;
		}
	}
	return 0;
}

void blk_detach(struct blk *b)
{
	for (unsigned i = 0; i < b->nr_queues; i++) {
		struct blk_queue *bq = &b->q[i];
		if (!bq->loop)
			continue;
		irq_batch_detach(&bq->irq);
		evloop_del(bq->loop, &bq->h);
		bq->loop = NULL;
		bq->irq_owner = bq;
	}
}

void blk_stats_total(const struct blk *b, struct blk_queue_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < b->nr_queues; i++)
		COUNTERS_ACCUMULATE(BLK_QUEUE_STATS, sum, &b->q[i].st);
}
