/* SPDX-License-Identifier: MIT */
#include "uring.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The opcodes this service offers its users: all the ring will ever run. */
static const struct {
	int op;
	const char *name;
	const char *since;
	bool required;
} uring_ops[] = {
	{ IORING_OP_NOP, "IORING_OP_NOP", "5.1", true },
	{ IORING_OP_READV, "IORING_OP_READV", "5.1", true },
	{ IORING_OP_WRITEV, "IORING_OP_WRITEV", "5.1", true },
	{ IORING_OP_FSYNC, "IORING_OP_FSYNC", "5.1", true },
	{ IORING_OP_FALLOCATE, "IORING_OP_FALLOCATE", "5.6", false },
};
#define URING_NR_OPS (sizeof(uring_ops) / sizeof(uring_ops[0]))

static void uring_unplug(void *opaque);
static void uring_retry(void *opaque);

/* ---- submission ------------------------------------------------------------ */

/* Try the stranded SQEs and the waiters again soon. */
static void uring_retry_arm(struct uring *r)
{
	if (r->loop && !r->retry.armed)
		evloop_timer_arm(r->loop, &r->retry, evloop_time(r->loop) + URING_RETRY_NS);
}

/* Hand the prepared SQEs to the kernel (what it does not take stays queued). */
static void uring_submit(struct uring *r)
{
	if (!r->queued)
		return;
	int n = r->submit(&r->ring);
	r->st.submits++;
	if (n > 0)
		r->queued -= (unsigned)n > r->queued ? r->queued : (unsigned)n;
	/* A partial submit or EAGAIN/EBUSY/EINTR leaves SQEs in the ring:
	 * they go with the next submit, after completions are reaped or on
	 * the timer. */
	if (r->queued) {
		r->st.submit_retries++;
		uring_retry_arm(r);
	}
}

/* An SQE, submitting what is queued to make room if the ring is full. */
static struct io_uring_sqe *uring_sqe(struct uring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe && r->queued) {
		r->st.sq_full++;
		uring_submit(r);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

static inline void uring_prep(struct uring *r, struct io_uring_sqe *sqe, struct uring_op *op)
{
	op->prep(op, sqe);
	io_uring_sqe_set_data(sqe, op);
	r->st.sqes++;
	r->queued++;
	r->inflight++;
	if (r->loop)
		evloop_defer(r->loop, &r->unplug);
}

void uring_issue(struct uring *r, struct uring_op *op)
{
	/* Behind the ones already waiting: in order. */
	struct io_uring_sqe *sqe = r->sqe_wait ? NULL : uring_sqe(r);

	if (!sqe) {
		r->st.sqe_waits++;
		op->next = NULL;
		*r->sqe_wait_tail = op;
		r->sqe_wait_tail = &op->next;
		uring_retry_arm(r);
		return;
	}
	uring_prep(r, sqe, op);
}

/* ---- calls ------------------------------------------------------------------ */

void uring_call_soon(struct uring *r, struct uring_call *c)
{
	c->next = NULL;
	*r->soon_tail = c;
	r->soon_tail = &c->next;
	if (r->loop)
		evloop_defer(r->loop, &r->unplug);
}

void uring_call_from(struct uring *r, struct uring_call *c)
{
	struct uring_call *head = atomic_load_explicit(&r->from, memory_order_relaxed);
	uint64_t one = 1;

	do {
		c->next = head;
		/* Release: c's fields before it is seen on the list; pairs with
		 * the acquire exchange in uring_service(). */
	} while (!atomic_compare_exchange_weak_explicit(&r->from, &head, c, memory_order_release,
							memory_order_relaxed));
	if (write(r->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wake-up is pending anyway. */
	}
}

/*
 * Calls from other threads (in the order they came), calls for the end of
 * the batch, operations waiting for an SQE; then submit.  True if anything
 * was done.
 */
static bool uring_service(struct uring *r)
{
	/* Acquire: pairs with the release CAS in uring_call_from(). */
	struct uring_call *list = atomic_exchange_explicit(&r->from, NULL, memory_order_acquire);
	struct uring_call *rev = NULL;
	bool work = false;

	while (list) {          /* pushed newest first */
		struct uring_call *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct uring_call *n = rev->next;
		rev->fn(rev);
		rev = n;
		work = true;
	}
	while (r->soon) {
		struct uring_call *c = r->soon;
		r->soon = c->next;
		if (!r->soon)
			r->soon_tail = &r->soon;
		c->fn(c);
		work = true;
	}
	while (r->sqe_wait) {
		struct io_uring_sqe *sqe = uring_sqe(r);
		if (!sqe) {
			uring_retry_arm(r);
			break;
		}
		struct uring_op *op = r->sqe_wait;
		r->sqe_wait = op->next;
		if (!r->sqe_wait)
			r->sqe_wait_tail = &r->sqe_wait;
		uring_prep(r, sqe, op);
		work = true;
	}
	uring_submit(r);
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

/* ---- completion -------------------------------------------------------------- */

unsigned uring_reap(struct uring *r)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	/*
	 * The ready CQEs in order, each marked seen (the CQ head moves on)
	 * before its done() runs, which may queue new SQEs (but not reap:
	 * the walk keeps its own head).  Then, the CQ ring empty,
	 * io_uring_peek_cqe() has the kernel post the CQEs that overflowed
	 * it, if any, and the walk goes on with them.
	 */
	do {
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			struct uring_op *op = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cq_advance(&r->ring, 1);
			r->inflight--;
			r->st.cqes++;
			n++;
			op->done(op, res);
		}
	} while (io_uring_peek_cqe(&r->ring, &cqe) == 0);
	/* Room in the CQ again: what the kernel refused may go now. */
	if (n && (r->queued || r->sqe_wait))
		uring_service(r);
	return n;
}

static void uring_on_fd(void *opaque)
{
	struct uring *r = opaque;
	uint64_t v;

	if (read(r->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already consumed; the CQ is what counts. */
	}
	uring_service(r);
	uring_reap(r);
}

static bool uring_on_poll(void *opaque)
{
	struct uring *r = opaque;
	bool work = false;

	if (atomic_load_explicit(&r->from, memory_order_relaxed))
		work = uring_service(r);
	if (io_uring_cq_ready(&r->ring))
		work |= uring_reap(r) > 0;
	return work;
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
	struct uring *r = opaque;
	uint64_t v;
	bool work;

	if (read(r->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled. */
	}
	work = uring_service(r);
	if (io_uring_cq_ready(&r->ring))
		work |= uring_reap(r) > 0;
	return work;
}

int uring_drain(struct uring *r, uint64_t deadline_ns)
{
	while (r->pending) {
		uint64_t now = evloop_now_ns(NULL);
		if (deadline_ns && now >= deadline_ns)
			return -ETIMEDOUT;
		if (r->loop) {
			uint64_t left_ms = deadline_ns ? (deadline_ns - now + 999999) / 1000000 : 100;
			evloop_run_once(r->loop, (int)(left_ms > 100 ? 100 : left_ms));
			continue;
		}
		uring_service(r);
		if (!r->inflight) {
			/* Waiting on work of another thread (uring_call_from). */
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		struct io_uring_cqe *cqe;
		int e = io_uring_wait_cqe(&r->ring, &cqe);
		if (e < 0 && e != -EINTR && e != -EAGAIN)
			return e;
		uring_reap(r);
	}
	uring_submit(r);
	return 0;
}

/* ---- set-up ---------------------------------------------------------------------- */

/*
 * Allow exactly the opcodes this service offers (the supported ones), no
 * SQE flags, and no further register operations; then enable the ring.
 */
static int uring_restrict(struct uring *r)
{
	struct io_uring_restriction res[URING_NR_OPS + 1];
	unsigned n = 0;
	int e;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < URING_NR_OPS; i++) {
		if (!uring_supports(r, (unsigned)uring_ops[i].op))
			continue;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = (uint8_t)uring_ops[i].op;
		n++;
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n].sqe_flags = 0;
	n++;
	/* Raw io_uring_register(2): Debian 12's liburing 2.3 declares the
	 * wrappers but does not export them. */
	e = (int)syscall(__NR_io_uring_register, r->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, n);
	if (e < 0)
		return -errno;
	e = (int)syscall(__NR_io_uring_register, r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return e < 0 ? -errno : 0;
}

int uring_init(struct uring *r, unsigned entries)
{
	struct io_uring_probe *probe;
	int e;

	memset(r, 0, sizeof(*r));
	r->efd = -1;
	r->unplug = (struct evloop_defer){ .fn = uring_unplug, .opaque = r };
	r->retry = (struct evloop_timer){ .fn = uring_retry, .opaque = r };
	r->submit = io_uring_submit;
	r->sqe_wait_tail = &r->sqe_wait;
	r->soon_tail = &r->soon;
	atomic_init(&r->from, NULL);
	/* Mapped now, before the thread's sandbox (chunk_pool.h).  64 KiB
	 * alignment is the largest direct-I/O alignment a file may ask for. */
	e = chunk_pool_init(&r->pool, URING_BOUNCE_CHUNKS, URING_BOUNCE_CHUNK, 65536);
	if (e) {
		pv_err(PV_INTERNAL, "io_uring: bounce memory (%u MiB): %s",
		       URING_BOUNCE_CHUNKS * (URING_BOUNCE_CHUNK >> 20), strerror(-e));
		return e;
	}
	/*
	 * Created disabled, so that the opcodes can be fixed
	 * (IORING_REGISTER_RESTRICTIONS, Linux 5.10) before any SQE runs.
	 */
	e = io_uring_queue_init(entries, &r->ring, IORING_SETUP_R_DISABLED);
	if (e == -EINVAL) {
		/* Before 5.10: no restrictions; say so once. */
		pv_info("io_uring: this kernel cannot restrict rings (Linux 5.10); "
			"running without io_uring restrictions");
		e = io_uring_queue_init(entries, &r->ring, 0);
	} else if (e == 0) {
		r->restricted = true;
	}
	if (e < 0) {
		/* ENOSYS: not built in; EPERM: kernel.io_uring_disabled: the host's to fix. */
		bool host = e == -ENOSYS || e == -EPERM;

		pv_err(host ? PV_INPUT : PV_INTERNAL, "io_uring_setup: %s (needs Linux 5.1 and io_uring "
		       "not disabled: sysctl kernel.io_uring_disabled)", strerror(-e));
		if (host)
			e = -ENOTSUP;
		goto fail;
	}
	r->ring_ok = true;
	probe = io_uring_get_probe_ring(&r->ring);
	if (!probe) {
		pv_err(PV_INPUT, "io_uring: the kernel cannot list its ops (IORING_REGISTER_PROBE, Linux 5.6)");
		e = -ENOTSUP;
		goto fail;
	}
	for (size_t i = 0; i < URING_NR_OPS; i++) {
		bool ok = io_uring_opcode_supported(probe, uring_ops[i].op);
		if (ok)
			r->ops_supported |= 1ULL << uring_ops[i].op;
		if (!ok && uring_ops[i].required) {
			pv_err(PV_INPUT, "io_uring: the kernel lacks %s (Linux %s)",
			       uring_ops[i].name, uring_ops[i].since);
			io_uring_free_probe(probe);
			e = -ENOTSUP;
			goto fail;
		}
	}
	io_uring_free_probe(probe);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		e = -errno;
		pv_err(PV_INTERNAL, "eventfd: %s", strerror(errno));
		goto fail;
	}
	e = io_uring_register_eventfd(&r->ring, r->efd);
	if (e < 0) {
		pv_err(PV_INTERNAL, "io_uring_register_eventfd: %s", strerror(-e));
		goto fail;
	}
	if (r->restricted) {
		e = uring_restrict(r);
		if (e < 0) {
			pv_err(PV_INTERNAL, "io_uring: restricting the ring: %s", strerror(-e));
			goto fail;
		}
	}
	return 0;
fail:
	uring_destroy(r);
	return e;
}

int uring_attach(struct uring *r, struct evloop *loop)
{
	r->h = (struct evloop_handler){
		.fd = r->efd, .on_fd = uring_on_fd, .on_poll = uring_on_poll,
		.on_poll_end = uring_on_poll_end, .opaque = r, .name = "io_uring",
	};
	int e = evloop_add(loop, &r->h);
	if (!e)
		r->loop = loop;
	return e;
}

void uring_destroy(struct uring *r)
{
	if (r->loop) {
		evloop_timer_cancel(r->loop, &r->retry);
		evloop_del(r->loop, &r->h);
	}
	r->loop = NULL;
	if (r->ring_ok)
		io_uring_queue_exit(&r->ring);
	r->ring_ok = false;
	if (r->efd >= 0)
		close(r->efd);
	r->efd = -1;
	chunk_pool_destroy(&r->pool);
}
