/* SPDX-License-Identifier: MIT */
#include "blk_uring.h"
#include "iov.h"
#include "../vmm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* blk_io.flags: the WRITE_ZEROES fallback to hole punching was taken. */
#define IOF_ZERO_BY_PUNCH 1u

/* POLLVM_DEBUG_IGNORE_FLUSH=1 (debug_ignore_flush_init below). */
static bool debug_ignore_flush;

static void uring_unplug(void *opaque);
static void uring_retry(void *opaque);
static bool uring_service(struct uring_ctx *u);

/* ---- the ring ------------------------------------------------------------ */

static const struct {
	int op;
	const char *name;
	const char *since;
	bool required;
} uring_ops_needed[] = {
	{ IORING_OP_READV, "IORING_OP_READV", "5.1", true },
	{ IORING_OP_WRITEV, "IORING_OP_WRITEV", "5.1", true },
	{ IORING_OP_FSYNC, "IORING_OP_FSYNC", "5.1", true },
	{ IORING_OP_FALLOCATE, "IORING_OP_FALLOCATE", "5.6", false },
	{ IORING_OP_NOP, "IORING_OP_NOP", "5.1", true },      /* the null disk */
};

/*
 * Allow exactly the SQE opcodes the backend prepares, no SQE flags, and no
 * further register operations; then enable the ring.
 */
static int uring_restrict(struct uring_ctx *u)
{
	struct io_uring_restriction res[sizeof(uring_ops_needed) / sizeof(uring_ops_needed[0]) + 1];
	unsigned n = 0;
	int r;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < sizeof(uring_ops_needed) / sizeof(uring_ops_needed[0]); i++) {
		if (uring_ops_needed[i].op == IORING_OP_FALLOCATE && !u->has_fallocate)
			continue;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = (uint8_t)uring_ops_needed[i].op;
		n++;
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n].sqe_flags = 0;
	n++;
	/* Raw io_uring_register(2): Debian 12's liburing 2.3 declares the
	 * wrappers but does not export them. */
	r = (int)syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, n);
	if (r < 0)
		return -errno;
	r = (int)syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return r < 0 ? -errno : 0;
}

/*
 * Polling stops, the loop is about to sleep on the ring's eventfd.  Every
 * CQE posted while we polled also bumped the eventfd; drain it first, then
 * look at the CQ: a CQE whose signal we consumed is visible by then (the
 * kernel stores the CQ tail before it signals, and our read of the
 * eventfd takes the same lock as its signal), and one posted later leaves
 * the eventfd readable.  This replaces a stale wake-up per sleep with one
 * read(2).  (We do not switch the eventfd off while polling with
 * IORING_CQ_EVENTFD_DISABLED: re-enabling it races with a CQE being posted
 * without a barrier we could pair with.)
 */
static bool uring_on_poll_end(void *opaque)
{
	struct uring_ctx *u = opaque;
	uint64_t v;
	bool work;

	if (read(u->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled. */
	}
	work = uring_service(u);
	if (io_uring_cq_ready(&u->ring))
		work |= uring_ctx_reap(u) > 0;
	return work;
}

static void uring_on_fd(void *opaque)
{
	struct uring_ctx *u = opaque;
	uint64_t v;

	if (read(u->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already consumed; the CQ is what counts. */
	}
	uring_service(u);
	uring_ctx_reap(u);
}

static bool uring_on_poll(void *opaque)
{
	struct uring_ctx *u = opaque;
	bool work = false;

	if (atomic_load_explicit(&u->resumed, memory_order_relaxed))
		work = uring_service(u);
	if (io_uring_cq_ready(&u->ring))
		work |= uring_ctx_reap(u) > 0;
	return work;
}

int uring_ctx_init(struct uring_ctx *u, unsigned entries, char *err, size_t errlen)
{
	struct io_uring_probe *probe;
	int r;

	memset(u, 0, sizeof(*u));
	u->efd = -1;
	u->unplug = (struct evloop_defer){ .fn = uring_unplug, .opaque = u };
	u->retry = (struct evloop_timer){ .fn = uring_retry, .opaque = u };
	u->submit = io_uring_submit;
	u->pool_wait_tail = &u->pool_wait;
	u->sqe_wait_tail = &u->sqe_wait;
	u->start_tail = &u->start;
	atomic_init(&u->resumed, NULL);
	/* Mapped now, before the IOThread's sandbox: chunk_pool.h. 64 KiB
	 * alignment is the largest direct-I/O alignment a file may ask for. */
	r = chunk_pool_init(&u->pool, URING_BOUNCE_CHUNKS, URING_BOUNCE_CHUNK, 65536);
	if (r) {
		snprintf(err, errlen, "io_uring: bounce memory (%u MiB): %s",
			 URING_BOUNCE_CHUNKS * (URING_BOUNCE_CHUNK >> 20), strerror(-r));
		return r;
	}
	/*
	 * Created disabled, so that the ops the backend uses can be fixed
	 * (IORING_REGISTER_RESTRICTIONS, Linux 5.10) before any SQE runs:
	 * a device model bug cannot turn the ring into openat or connect.
	 */
	r = io_uring_queue_init(entries, &u->ring, IORING_SETUP_R_DISABLED);
	if (r == -EINVAL) {
		/* Before 5.10: no restrictions; say so once. */
		pv_info("io_uring: this kernel cannot restrict rings (Linux 5.10); "
			"running without io_uring restrictions");
		r = io_uring_queue_init(entries, &u->ring, 0);
	} else if (r == 0) {
		u->restricted = true;
	}
	if (r < 0) {
		snprintf(err, errlen, "io_uring_setup: %s (needs Linux 5.1 and io_uring not disabled: "
			 "sysctl kernel.io_uring_disabled)", strerror(-r));
		/* ENOSYS: not built in; EPERM: kernel.io_uring_disabled. */
		if (r == -ENOSYS || r == -EPERM)
			r = -ENOTSUP;
		goto fail;
	}
	u->ring_ok = true;
	probe = io_uring_get_probe_ring(&u->ring);
	if (!probe) {
		snprintf(err, errlen, "io_uring: the kernel cannot list its ops (IORING_REGISTER_PROBE, Linux 5.6)");
		r = -ENOTSUP;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(uring_ops_needed) / sizeof(uring_ops_needed[0]); i++) {
		bool ok = io_uring_opcode_supported(probe, uring_ops_needed[i].op);
		if (uring_ops_needed[i].op == IORING_OP_FALLOCATE)
			u->has_fallocate = ok;
		if (!ok && uring_ops_needed[i].required) {
			snprintf(err, errlen, "io_uring: the kernel lacks %s (Linux %s)",
				 uring_ops_needed[i].name, uring_ops_needed[i].since);
			io_uring_free_probe(probe);
			r = -ENOTSUP;
			goto fail;
		}
	}
	io_uring_free_probe(probe);
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0) {
		r = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = io_uring_register_eventfd(&u->ring, u->efd);
	if (r < 0) {
		snprintf(err, errlen, "io_uring_register_eventfd: %s", strerror(-r));
		goto fail;
	}
	if (u->restricted) {
		r = uring_restrict(u);
		if (r < 0) {
			snprintf(err, errlen, "io_uring: restricting the ring: %s", strerror(-r));
			goto fail;
		}
	}
	return 0;
fail:
	uring_ctx_destroy(u);
	return r;
}

int uring_ctx_attach(struct uring_ctx *u, struct evloop *loop)
{
	u->h = (struct evloop_handler){
		.fd = u->efd, .on_fd = uring_on_fd, .on_poll = uring_on_poll,
		.on_poll_end = uring_on_poll_end, .opaque = u, .name = "io_uring",
	};
	int r = evloop_add(loop, &u->h);
	if (!r)
		u->loop = loop;
	return r;
}

void uring_ctx_destroy(struct uring_ctx *u)
{
	if (u->loop) {
		evloop_timer_cancel(u->loop, &u->retry);
		evloop_del(u->loop, &u->h);
	}
	u->loop = NULL;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	u->ring_ok = false;
	if (u->efd >= 0)
		close(u->efd);
	u->efd = -1;
	chunk_pool_destroy(&u->pool);
}

/* ---- requests ------------------------------------------------------------- */

/* blk_io.stage */
enum {
	ST_DIRECT,     /* one SQE on guest memory (or flush, fallocate) */
	ST_READ,       /* bounced: read the window into the chunk */
	ST_RMW_HEAD,   /* bounced write: read the window's first host block */
	ST_RMW_TAIL,   /* ... and its last */
	ST_WRITE,      /* bounced: write the window from the chunk */
};

static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static struct blk_file *io_file(const struct blk_io *io) { return io->be; }

static bool io_is_rw(const struct blk_io *io)
{
	return io->op == BLK_IO_READ || io->op == BLK_IO_WRITE;
}

/* O_DIRECT would refuse this transfer as it stands: buffer, offset or length. */
static bool io_needs_bounce(const struct blk_file *f, const struct blk_io *io)
{
	if (!f->direct)
		return false;
	if ((io->offset | io->len) & (f->off_align - 1))
		return true;
	for (unsigned i = 0; i < io->iovcnt; i++) {
		if (((uintptr_t)io->iov[i].iov_base % f->mem_align) || (io->iov[i].iov_len % f->off_align))
			return true;
	}
	return false;
}

static void fifo_push(struct blk_io ***tail, struct blk_io *io)
{
	io->next = NULL;
	**tail = io;
	*tail = &io->next;
}

static struct blk_io *fifo_pop(struct blk_io **head, struct blk_io ***tail)
{
	struct blk_io *io = *head;

	if (io) {
		*head = io->next;
		if (!*head)
			*tail = head;
	}
	return io;
}

/* Try the stranded SQEs and the waiters again soon. */
static void uring_retry_arm(struct uring_ctx *u)
{
	if (u->loop && !u->retry.armed)
		evloop_timer_arm(u->loop, &u->retry, evloop_time(u->loop) + URING_RETRY_NS);
}

/* Hand the prepared SQEs to the kernel (what it does not take stays queued). */
static void uring_submit(struct uring_ctx *u)
{
	if (!u->queued)
		return;
	int r = u->submit(&u->ring);
	u->st.submits++;
	if (r > 0)
		u->queued -= (unsigned)r > u->queued ? u->queued : (unsigned)r;
	/* A partial submit or EAGAIN/EBUSY/EINTR (the kernel is short of
	 * memory, or its CQ overflowed) leaves SQEs in the ring: they go with
	 * the next submit, after completions are reaped or on the timer. */
	if (u->queued) {
		u->st.submit_retries++;
		uring_retry_arm(u);
	}
}

/* An SQE, submitting what is queued to make room if the ring is full. */
static struct io_uring_sqe *uring_sqe(struct uring_ctx *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe && u->queued) {
		u->st.sq_full++;
		uring_submit(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* Prepare the SQE for io's current step into sqe. */
static void uring_prep(struct uring_ctx *u, struct io_uring_sqe *sqe, struct blk_io *io)
{
	struct blk_file *f = io_file(io);
	int rwf = io->dsync ? RWF_DSYNC : 0;

	switch (io->stage) {
	case ST_READ:
	case ST_RMW_HEAD:
	case ST_RMW_TAIL:
	case ST_WRITE:
		io->biov = (struct iovec){
			.iov_base = io->bounce + (io->xfer_off - io->win_off) + io->xfer_done,
			.iov_len = io->xfer_len - io->xfer_done,
		};
		if (io->stage == ST_WRITE)
			io_uring_prep_writev2(sqe, f->fd, &io->biov, 1, io->xfer_off + io->xfer_done, rwf);
		else
			io_uring_prep_readv(sqe, f->fd, &io->biov, 1, io->xfer_off + io->xfer_done);
		break;
	default:
		if (f->null) {
			/* Every op of the null disk: its completion is the whole request. */
			io_uring_prep_nop(sqe);
			break;
		}
		switch (io->op) {
		case BLK_IO_READ:
			io_uring_prep_readv(sqe, f->fd, io->iov, io->iovcnt, io->offset + io->done);
			break;
		case BLK_IO_WRITE:
			io_uring_prep_writev2(sqe, f->fd, io->iov, io->iovcnt, io->offset + io->done, rwf);
			break;
		case BLK_IO_FLUSH:
			if (debug_ignore_flush) {
				/* Debug knob (crash test): complete FLUSH without making
				 * anything durable.  An empty readv, because the ring
				 * only allows the opcodes the backend uses. */
				io_uring_prep_readv(sqe, f->fd, NULL, 0, 0);
				break;
			}
			/* Data and the metadata needed to read it back: what FLUSH promises. */
			io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
			u->st.fsyncs++;
			break;
		case BLK_IO_DISCARD:
			io_uring_prep_fallocate(sqe, f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						(off_t)io->offset, (off_t)io->len);
			break;
		case BLK_IO_WRITE_ZEROES:
			io_uring_prep_fallocate(sqe, f->fd,
						((io->unmap || (io->flags & IOF_ZERO_BY_PUNCH)) ?
						 FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) | FALLOC_FL_KEEP_SIZE,
						(off_t)io->offset, (off_t)io->len);
			break;
		}
	}
	io_uring_sqe_set_data(sqe, io);
	u->st.sqes++;
	u->queued++;
	u->inflight++;
	if (u->loop)
		evloop_defer(u->loop, &u->unplug);
}

/* Queue io's current step, or let it wait (in order) for room in the SQ ring. */
static void uring_issue(struct uring_ctx *u, struct blk_io *io)
{
	struct io_uring_sqe *sqe = u->sqe_wait ? NULL : uring_sqe(u);

	if (!sqe) {
		u->st.sqe_waits++;
		fifo_push(&u->sqe_wait_tail, io);
		uring_retry_arm(u);
		return;
	}
	uring_prep(u, sqe, io);
}

/* A step's host range: [off, off + len) of the window in the chunk. */
static void io_xfer(struct uring_ctx *u, struct blk_io *io, unsigned stage, uint64_t off,
		    uint64_t len)
{
	io->stage = stage;
	io->xfer_off = off;
	io->xfer_len = (uint32_t)len;
	io->xfer_done = 0;
	uring_issue(u, io);
}

/*
 * The next window of a bounced request: the guest bytes from io->done on,
 * as many as fit in one chunk with the host blocks around them.
 */
static void io_window(struct uring_ctx *u, struct blk_io *io)
{
	uint64_t a_sz = io_file(io)->off_align;
	uint64_t s = io->offset + io->done;
	uint64_t a = align_down(s, a_sz);
	uint64_t n = io->len - io->done;

	if (n > URING_BOUNCE_CHUNK - (s - a))
		n = URING_BOUNCE_CHUNK - (s - a);
	uint64_t e = align_up(s + n, a_sz);
	io->win_off = a;
	io->win_len = (uint32_t)(e - a);
	io->piece = (uint32_t)n;
	if (io->op == BLK_IO_READ)
		return io_xfer(u, io, ST_READ, a, e - a);
	/* A write that covers a host block only in part reads it first. */
	if (s != a) {
		u->st.rmw++;
		return io_xfer(u, io, ST_RMW_HEAD, a, a_sz);
	}
	if (s + n != e) {
		u->st.rmw++;
		return io_xfer(u, io, ST_RMW_TAIL, e - a_sz, a_sz);
	}
	iov_to_buf(io->iov, io->iovcnt, io->done, io->bounce, n);
	io_xfer(u, io, ST_WRITE, a, e - a);
}

/* The current step of a bounced request is complete: the next one. */
static void io_step_done(struct uring_ctx *u, struct blk_io *io);

/* io may run now (serialisation passed): take a chunk if it needs one. */
static void io_run(struct uring_ctx *u, struct blk_io *io)
{
	if (io->stage != ST_READ) {
		io->stage = ST_DIRECT;
		return uring_issue(u, io);
	}
	io->bounce = chunk_pool_get(&u->pool);
	if (!io->bounce) {
		/* Every chunk is in use: wait for one, in order. */
		u->st.bounce_waits++;
		fifo_push(&u->pool_wait_tail, io);
		return;
	}
	u->st.bounces++;
	io_window(u, io);
}

/* The request is over: give back its chunk and its place, then complete it. */
static void io_finish(struct uring_ctx *u, struct blk_io *io, int res)
{
	struct blk_file *f = io_file(io);

	if (io->bounce) {
		struct blk_io *w = fifo_pop(&u->pool_wait, &u->pool_wait_tail);
		if (w) {
			/* The chunk goes straight to the oldest waiter. */
			w->bounce = io->bounce;
			u->st.bounces++;
			io_window(u, w);
		} else {
			chunk_pool_put(&u->pool, io->bounce);
		}
		io->bounce = NULL;
	}
	if (f->ser && io->ser_state)
		blk_serial_end(f->ser, io);
	u->pending--;
	io->complete(io, res);
}

static void io_step_done(struct uring_ctx *u, struct blk_io *io)
{
	uint64_t a_sz = io_file(io)->off_align;
	uint64_t s = io->offset + io->done;
	uint64_t e = io->win_off + io->win_len;

	switch (io->stage) {
	case ST_READ:
		iov_from_buf_skip(io->iov, io->iovcnt, io->done, io->bounce + (s - io->win_off), io->piece);
		break;
	case ST_RMW_HEAD:
		/* The tail block too, unless the head block was the only one. */
		if (s + io->piece != e && e - a_sz != io->win_off) {
			u->st.rmw++;
			return io_xfer(u, io, ST_RMW_TAIL, e - a_sz, a_sz);
		}
		/* fall through */
	case ST_RMW_TAIL:
		iov_to_buf(io->iov, io->iovcnt, io->done, io->bounce + (s - io->win_off), io->piece);
		return io_xfer(u, io, ST_WRITE, io->win_off, io->win_len);
	case ST_WRITE:
		break;
	}
	io->done += io->piece;
	if (io->done < io->len)
		return io_window(u, io);
	io_finish(u, io, 0);
}

static int blk_uring_submit(void *be, struct blk_io *io)
{
	struct blk_file *f = be;
	struct uring_ctx *u = f->u;

	io->be = f;
	io->done = 0;
	io->flags = 0;
	io->bounce = NULL;
	io->ser_state = 0;
	io->stage = ST_DIRECT;
	if ((io->op == BLK_IO_DISCARD || io->op == BLK_IO_WRITE_ZEROES) && !u->has_fallocate && !f->null)
		return -EOPNOTSUPP;
	/* ST_READ marks "bounced" until io_run() picks the first step. */
	if (io_is_rw(io) && io_needs_bounce(f, io))
		io->stage = ST_READ;
	u->pending++;
	if (f->ser && io->op != BLK_IO_READ && io->op != BLK_IO_FLUSH) {
		uint64_t a = f->off_align;
		bool rmw = io->op == BLK_IO_WRITE && ((io->offset | io->len) & (a - 1));
		if (!blk_serial_begin(f->ser, io, align_down(io->offset, a),
				      align_up(io->offset + io->len, a), rmw)) {
			u->st.serial_waits++;
			return 0;
		}
	}
	if (io->stage == ST_READ && u->loop) {
		/* Bounced: its copies start from the end of the batch, where the
		 * device lock (held around submit) is not held. */
		fifo_push(&u->start_tail, io);
		evloop_defer(u->loop, &u->unplug);
		return 0;
	}
	io_run(u, io);
	return 0;
}

/*
 * blk_serial's resume: a write another request held back may run.  Called
 * from the thread that ended that request, so it is handed to io's own
 * ring: pushed on its list (lock-free) and its loop woken.
 */
static void blk_uring_resume(struct blk_io *io)
{
	struct uring_ctx *u = io_file(io)->u;
	struct blk_io *head = atomic_load_explicit(&u->resumed, memory_order_relaxed);
	uint64_t one = 1;

	do {
		io->next = head;
		/* Release: io's fields before it is seen on the list; pairs
		 * with the acquire exchange in uring_service(). */
	} while (!atomic_compare_exchange_weak_explicit(&u->resumed, &head, io, memory_order_release,
							memory_order_relaxed));
	if (write(u->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wake-up is pending anyway. */
	}
}

/*
 * Writes let go by other threads, then requests waiting for an SQE, in
 * their order; then submit.  True if anything was started.
 */
static bool uring_service(struct uring_ctx *u)
{
	/* Acquire: pairs with the release CAS in blk_uring_resume(). */
	struct blk_io *list = atomic_exchange_explicit(&u->resumed, NULL, memory_order_acquire);
	struct blk_io *rev = NULL;
	bool work = false;

	while (list) {          /* pushed newest first: restore their order */
		struct blk_io *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct blk_io *n = rev->next;
		io_run(u, rev);
		rev = n;
		work = true;
	}
	for (struct blk_io *io; (io = fifo_pop(&u->start, &u->start_tail));) {
		io_run(u, io);
		work = true;
	}
	while (u->sqe_wait) {
		struct io_uring_sqe *sqe = uring_sqe(u);
		if (!sqe) {
			uring_retry_arm(u);
			break;
		}
		uring_prep(u, sqe, fifo_pop(&u->sqe_wait, &u->sqe_wait_tail));
		work = true;
	}
	uring_submit(u);
	return work;
}

static void uring_unplug(void *opaque)
{
	uring_service(opaque);
}

static void uring_retry(void *opaque)
{
	uring_service(opaque);
}

static void uring_complete_one(struct uring_ctx *u, struct blk_io *io, int res)
{
	struct blk_file *f = io_file(io);

	if (res == -EAGAIN || res == -EINTR) {
		u->st.eagain++;
		return uring_issue(u, io);
	}
	if (res == -EOPNOTSUPP && io->op == BLK_IO_WRITE_ZEROES && !(io->flags & IOF_ZERO_BY_PUNCH) &&
	    f->can_punch) {
		/* No FALLOC_FL_ZERO_RANGE here (tmpfs): a hole reads back as zeroes too. */
		io->flags |= IOF_ZERO_BY_PUNCH;
		return uring_issue(u, io);
	}
	if (res < 0) {
		u->st.errors++;
		return io_finish(u, io, res);
	}
	if (f->null) {
		/* The NOP stands for the whole transfer (a null disk never bounces). */
		if (io->op == BLK_IO_READ && f->read_zeroes)
			iov_zero(io->iov, io->iovcnt);
		return io_finish(u, io, 0);
	}
	if (io->stage != ST_DIRECT) {
		if (res == 0) {
			/* End of file inside the disk: the image shrank under us. */
			u->st.errors++;
			return io_finish(u, io, -EIO);
		}
		io->xfer_done += (uint32_t)res;
		if (io->xfer_done < io->xfer_len) {
			u->st.short_io++;
			return uring_issue(u, io);
		}
		return io_step_done(u, io);
	}
	if (io_is_rw(io)) {
		if (res == 0) {
			u->st.errors++;
			return io_finish(u, io, -EIO);
		}
		io->done += (unsigned)res;
		if (io->done < io->len) {
			u->st.short_io++;
			iov_advance(&io->iov, &io->iovcnt, (unsigned)res);
			return uring_issue(u, io);
		}
	}
	io_finish(u, io, 0);
}

unsigned uring_ctx_reap(struct uring_ctx *u)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct blk_io *io = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
		u->st.cqes++;
		n++;
		uring_complete_one(u, io, res);
	}
	/* Room in the CQ again: what the kernel refused may go now. */
	if (n && (u->queued || u->sqe_wait))
		uring_service(u);
	return n;
}

int uring_ctx_drain(struct uring_ctx *u, uint64_t deadline_ns)
{
	while (u->pending) {
		uint64_t now = evloop_now_ns(NULL);
		if (deadline_ns && now >= deadline_ns)
			return -ETIMEDOUT;
		if (u->loop) {
			uint64_t left_ms = deadline_ns ? (deadline_ns - now + 999999) / 1000000 : 100;
			evloop_run_once(u->loop, (int)(left_ms > 100 ? 100 : left_ms));
			continue;
		}
		struct io_uring_cqe *cqe;
		uring_service(u);
		if (!u->inflight) {
			/* Waiting on another ring's writes: nothing of ours to wait on. */
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		int r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r < 0 && r != -EINTR && r != -EAGAIN)
			return r;
		uring_ctx_reap(u);
	}
	uring_submit(u);
	return 0;
}

const struct blk_backend_ops blk_uring_ops = {
	.submit = blk_uring_submit,
};

/* ---- files ------------------------------------------------------------------- */

/*
 * POLLVM_DEBUG_IGNORE_FLUSH=1 makes every FLUSH a no-op that still reports
 * success: the broken device the crash-consistency test must catch
 * (tests/integration/vm-tests t_crash_consistency).  Read once, at the
 * first disk's open, and announced on stderr for every disk it affects.
 */
static void debug_ignore_flush_init(const char *path)
{
	static int once = -1;

	if (once < 0) {
		const char *e = getenv("POLLVM_DEBUG_IGNORE_FLUSH");
		once = e && !strcmp(e, "1");
		debug_ignore_flush = once;
	}
	if (debug_ignore_flush)
		pv_warn("WARNING: POLLVM_DEBUG_IGNORE_FLUSH=1: FLUSH on %s is a no-op, "
			"data the guest flushes is NOT made durable (debug knob for the crash test)", path);
}

/* Give up O_DIRECT on f: the same file through the page cache. */
static int blk_file_reopen_buffered(struct blk_file *f)
{
	int fd = open(f->path, (f->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(f->fd);
	f->fd = fd;
	f->direct = false;
	f->mem_align = 1;
	f->off_align = 512;
	return 0;
}

int blk_file_dio_setup(struct blk_file *f, bool known, uint32_t mem_align, uint32_t off_align,
		       char *err, size_t errlen)
{
	int r;

	if (known && off_align == 0) {
		/* The file system says: no direct I/O on this file. */
		f->direct_refused = true;
		goto buffered;
	}
	if (!known) {
		/* No STATX_DIOALIGN (before Linux 6.1, or 9p): assume the
		 * strictest common case.  The guest's geometry does not change. */
		mem_align = 4096;
		off_align = 4096;
	}
	f->mem_align = mem_align ? mem_align : 1;
	f->off_align = off_align < 512 ? 512 : off_align;
	if (f->off_align > 65536 || (f->off_align & (f->off_align - 1)) ||
	    (f->mem_align & (f->mem_align - 1)) || f->mem_align > f->off_align) {
		snprintf(err, errlen, "%s: unusable direct-I/O alignment %u/%u (try cache=writeback)",
			 f->path, f->mem_align, f->off_align);
		return -EINVAL;
	}
	if (f->size % f->off_align) {
		/* Its last host block is partial: a read-modify-write of it
		 * would write past the end.  The page cache has no such limit. */
		f->direct_unaligned_size = true;
		goto buffered;
	}
	if (f->lbs < f->off_align && !f->ro && !f->ser) {
		r = blk_serial_init(&f->ser_store, blk_uring_resume);
		if (r) {
			snprintf(err, errlen, "%s: %s", f->path, strerror(-r));
			return r;
		}
		f->ser = &f->ser_store;
	}
	return 0;
buffered:
	if (f->ser)
		blk_serial_destroy(f->ser);
	f->ser = NULL;
	r = blk_file_reopen_buffered(f);
	if (r)
		snprintf(err, errlen, "%s: %s", f->path, strerror(-r));
	return r;
}

int blk_file_open(struct blk_file *f, const char *path, bool ro, enum blk_cache cache,
		  uint32_t lbs, char *err, size_t errlen)
{
	int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int r;

	memset(f, 0, sizeof(*f));
	if (lbs < 512 || lbs > 65536 || (lbs & (lbs - 1))) {
		snprintf(err, errlen, "%s: logical block size %u is not a power of two in 512..65536",
			 path, lbs);
		return -EINVAL;
	}
	debug_ignore_flush_init(path);
	f->path = path;
	f->lbs = lbs;
	f->ro = ro;
	f->mem_align = 1;
	f->off_align = 512;
	f->fd = open(path, flags | (cache == BLK_CACHE_NONE ? O_DIRECT : 0));
	if (f->fd < 0 && errno == EINVAL && cache == BLK_CACHE_NONE) {
		/* tmpfs and some FUSE file systems refuse O_DIRECT at open. */
		f->direct_refused = true;
		f->fd = open(path, flags);
	} else if (f->fd >= 0 && cache == BLK_CACHE_NONE) {
		f->direct = true;
	}
	if (f->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 (!ro && (errno == EACCES || errno == EROFS)) ? " (use ro=on for a read-only image)" : "");
		return r;
	}
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		f->block_dev = true;
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: BLKGETSIZE64: %s", path, strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		f->size = (uint64_t)st.st_size;
	} else {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file or block device", path);
		goto fail;
	}
	if (f->size == 0 || f->size % 512) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: size %llu is not a non-zero multiple of 512 bytes", path,
			 (unsigned long long)f->size);
		goto fail;
	}

	if (f->direct) {
		struct statx sx;
		/* Linux 6.1: the file's own direct-I/O alignment. */
		bool known = statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
			     (sx.stx_mask & STATX_DIOALIGN);
		r = blk_file_dio_setup(f, known, known ? sx.stx_dio_mem_align : 0,
				       known ? sx.stx_dio_offset_align : 0, err, errlen);
		if (r)
			goto fail;
	}

	/* Can we punch holes?  Probe past the end of a file: changes nothing. */
	if (!ro) {
		if (f->block_dev)
			f->can_punch = true;
		else
			f->can_punch = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						 (off_t)f->size, 4096) == 0;
	}
	return 0;
fail:
	close(f->fd);
	f->fd = -1;
	if (f->ser)
		blk_serial_destroy(f->ser);
	f->ser = NULL;
	return r;
}

int blk_file_open_null(struct blk_file *f, uint64_t size, bool ro, bool read_zeroes, uint32_t lbs,
		       char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (lbs < 512 || lbs > 65536 || (lbs & (lbs - 1))) {
		snprintf(err, errlen, "null: logical block size %u is not a power of two in 512..65536", lbs);
		return -EINVAL;
	}
	if (size == 0 || size % 512) {
		snprintf(err, errlen, "null: size %llu is not a non-zero multiple of 512 bytes",
			 (unsigned long long)size);
		return -EINVAL;
	}
	f->path = "null";
	f->null = true;
	f->read_zeroes = read_zeroes;
	f->ro = ro;
	f->size = size;
	f->lbs = lbs;
	f->mem_align = 1;
	f->off_align = 512;
	/* DISCARD and WRITE_ZEROES are NOPs too: offered like a file that can punch. */
	f->can_punch = !ro;
	return 0;
}

void blk_file_bind(struct blk_file *f, struct uring_ctx *u)
{
	f->u = u;
	f->next = u->files;
	u->files = f;
}

void blk_file_close(struct blk_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->ser == &f->ser_store)
		blk_serial_destroy(f->ser);
	f->ser = NULL;
}
