/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk disk the way unit tests and fuzzers build it: the
 * guest's side (vq_driver.h), the device with its irqfd and one kick
 * eventfd per queue, the event loop serving it, and a backend: the fake
 * (fake_be.h) on the fixture's own loop, or io_uring on an image (a
 * temporary file or the null disk), on the fixture's own ring and loop or
 * on an IOThread.
 *
 * Set-up, on a zeroed struct blk_fx: the guest's RAM and rings (drv_init()
 * or drv_init_at() on x->d), then
 *   fake backend:  blk_fx_start_fake()
 *   io_uring:      [blk_fx_iothread()], blk_fx_temp() and blk_fx_open(),
 *                  or blk_fx_open_null(); blk_fx_start_uring();
 *                  [iothread_start(x->t)]
 *   queues on loops of the test's own: blk_fx_create(), blk_attach_queue()
 * and blk_fx_up() for the driver's set-up.  Each returns 0, or -errno
 * after one line on stderr (the failing call's pv_err(), or the
 * fixture's own).  blk_fx_destroy() undoes whatever was done.
 */
#ifndef POLLVM_TESTS_BLK_FX_H
#define POLLVM_TESTS_BLK_FX_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../devices/blk_uring.h"
#include "../../vmm/iothread.h"
#include "fake_be.h"
#include "vq_driver.h"

/* SQ entries of the fixture's own ring. */
#define BLK_FX_RING_ENTRIES 64

struct blk_fx {
	struct drv d;                 /* the guest: RAM, queue 0's rings */
	struct blk b;
	int irqfd, kick[BLK_MAX_QUEUES];
	struct evloop loop;           /* the fixture's own loop */
	struct evloop *l;             /* the loop serving the disk: loop or the IOThread's */
	struct fake_be be;
	uint16_t next_desc;           /* blk_fx_post(): the next free descriptor */
	/* io_uring */
	struct uring u;               /* the fixture's own ring, on loop */
	struct blk_uring bu;
	struct blk_file file;
	struct iothread *t;           /* blk_fx_iothread() */
	char path[64];                /* blk_fx_temp()'s image, removed at the end */
	bool has_loop, has_ring, has_file, has_fds, has_blk;
	unsigned nr_kick;
};

static inline int blk_fx_fail(int r, const char *what)
{
	fprintf(stderr, "blk_fx: %s: %s\n", what, strerror(-r));
	return r;
}

static inline int blk_fx_own_loop(struct blk_fx *x)
{
	int r;

	if (x->has_loop)
		return 0;
	r = evloop_init(&x->loop);
	if (r)
		return blk_fx_fail(r, "evloop_init");
	x->has_loop = true;
	x->l = &x->loop;
	return 0;
}

/* The device on the guest's memory, served by ops on be; not yet attached. */
static inline int blk_fx_create(struct blk_fx *x, const struct blk_params *p,
				const struct blk_backend_ops *ops, void *be)
{
	int r;

	if (p->num_queues > BLK_MAX_QUEUES)
		return blk_fx_fail(-EINVAL, "num_queues");
	x->irqfd = eventfd(0, EFD_NONBLOCK);
	if (x->irqfd < 0)
		return blk_fx_fail(-errno, "eventfd");
	x->has_fds = true;
	for (; x->nr_kick < p->num_queues; x->nr_kick++) {
		x->kick[x->nr_kick] = eventfd(0, EFD_NONBLOCK);
		if (x->kick[x->nr_kick] < 0)
			return blk_fx_fail(-errno, "eventfd");
	}
	r = blk_init(&x->b, "vda", p, &x->d.mem, x->irqfd, x->kick, ops, be);
	if (r)
		return blk_fx_fail(r, "blk_init");
	x->has_blk = true;
	return 0;
}

/* The device, its queues on loop l. */
static inline int blk_fx_start(struct blk_fx *x, const struct blk_params *p,
			       const struct blk_backend_ops *ops, void *be, struct evloop *l)
{
	int r = blk_fx_create(x, p, ops, be);

	if (r)
		return r;
	r = blk_attach(&x->b, l);
	if (r)
		return blk_fx_fail(r, "blk_attach");
	x->l = l;
	return 0;
}

/* The device with the fake backend x->be, on the fixture's own loop. */
static inline int blk_fx_start_fake(struct blk_fx *x, const struct blk_params *p)
{
	int r = blk_fx_own_loop(x);

	return r ? r : blk_fx_start(x, p, &fake_be_ops, &x->be, &x->loop);
}

/* An IOThread "io0" (default settings, not started) for the disk: x->t. */
static inline int blk_fx_iothread(struct blk_fx *x)
{
	struct iothread_cfg c;
	int r;

	x->t = calloc(1, sizeof(*x->t));
	if (!x->t)
		return blk_fx_fail(-ENOMEM, "iothread");
	iothread_cfg_default(&c, "io0");
	r = iothread_init(x->t, &c);
	if (r) {
		free(x->t);
		x->t = NULL;
	}
	return r;
}

/* The fixture's own ring of entries SQEs on its own loop (no IOThread). */
static inline int blk_fx_ring(struct blk_fx *x, unsigned entries)
{
	int r = blk_fx_own_loop(x);

	if (r)
		return r;
	r = uring_init(&x->u, entries);
	if (r)
		return r;
	x->has_ring = true;
	r = uring_attach(&x->u, &x->loop);
	return r ? blk_fx_fail(r, "uring_attach") : 0;
}

/* A temporary image of size bytes in dir: data's, else a hole (x->path). */
static inline int blk_fx_temp(struct blk_fx *x, const char *dir, uint64_t size, const void *data)
{
	ssize_t w;
	int fd, r = 0;

	snprintf(x->path, sizeof(x->path), "%s/pollvm-test-XXXXXX", dir);
	fd = mkstemp(x->path);
	if (fd < 0) {
		x->path[0] = 0;
		return blk_fx_fail(-errno, "mkstemp");
	}
	if (data)
		w = pwrite(fd, data, size, 0);
	else
		w = ftruncate(fd, (off_t)size) ? -1 : (ssize_t)size;
	if (w != (ssize_t)size)
		r = blk_fx_fail(w < 0 ? -errno : -EIO, "writing the image");
	close(fd);
	return r;
}

/* The image at x->path, read-write, 512-byte guest blocks. */
static inline int blk_fx_open(struct blk_fx *x, enum blk_cache cache)
{
	int r = blk_file_open(&x->file, x->path, false, cache, 512);

	x->has_file = !r;
	return r;
}

/* The null disk of size bytes, read-write, 512-byte guest blocks. */
static inline int blk_fx_open_null(struct blk_fx *x, uint64_t size, bool read_zeroes)
{
	int r = blk_file_open_null(&x->file, size, false, read_zeroes, 512);

	x->has_file = !r;
	return r;
}

/* The io_uring backend x->bu on the open image: on the IOThread's ring, else the fixture's. */
static inline int blk_fx_bind(struct blk_fx *x)
{
	if (!x->t && !x->has_ring) {
		int r = blk_fx_ring(x, BLK_FX_RING_ENTRIES);
		if (r)
			return r;
	}
	blk_uring_bind(&x->bu, &x->file, x->t ? &x->t->uring : &x->u);
	return 0;
}

/* The device with the io_uring backend, on the IOThread's loop, else the fixture's. */
static inline int blk_fx_start_uring(struct blk_fx *x, const struct blk_params *p)
{
	int r = blk_fx_bind(x);

	return r ? r : blk_fx_start(x, p, &blk_uring_ops, &x->bu, x->t ? &x->t->loop : &x->loop);
}

/* The driver's set-up of queue 0 on x->d's rings. */
static inline void blk_fx_up(struct blk_fx *x, uint64_t feat)
{
	drv_bring_up(&x->d, &x->b.t, feat);
}

/* A kick of queue q, as the ioeventfd of a QueueNotify write gives it. */
static inline void blk_fx_kick(struct blk_fx *x, unsigned q)
{
	uint64_t one = 1;

	if (write(x->kick[q], &one, 8) != 8)
		abort();
}

/* Kick queue 0 and run one pass of the fixture's loop. */
static inline void blk_fx_kick_run(struct blk_fx *x)
{
	blk_fx_kick(x, 0);
	evloop_run_once(x->l, 0);
}

/* The interrupts the device signalled since the last call. */
static inline uint64_t blk_fx_irqs(struct blk_fx *x)
{
	return drv_eventfd_take(x->irqfd);
}

/*
 * Until the used index reaches idx: the fixture's loop runs, or the
 * IOThread is waited for (at most about 20 s).  The used index it got to.
 */
static inline uint16_t blk_fx_run_until_used(struct blk_fx *x, uint16_t idx)
{
	for (int i = 0; i < 20000 && drv_used_idx(&x->d) != idx; i++) {
		if (x->t)
			usleep(1000);
		else
			evloop_run_once(x->l, 1);
	}
	return drv_used_idx(&x->d);
}

/*
 * A request in fresh memory and descriptors, its data filled with fill
 * when fill >= 0, published on queue 0 (not kicked).
 */
static inline struct drv_blk_rq blk_fx_post_fill(struct blk_fx *x, uint32_t type, uint64_t sector,
						 uint32_t len, bool data_w, int fill)
{
	struct drv_blk_rq r = drv_blk_alloc(&x->d, type, sector, len);

	if (len && fill >= 0)
		memset(drv_hva(&x->d, r.data), fill, len);
	x->next_desc = drv_blk_publish(&x->d, &r, x->next_desc, data_w);
	return r;
}

static inline struct drv_blk_rq blk_fx_post(struct blk_fx *x, uint32_t type, uint64_t sector,
					    uint32_t len, bool data_w)
{
	return blk_fx_post_fill(x, type, sector, len, data_w, -1);
}

/* The fake backend completes all it holds with res; one pass for the deferred interrupt. */
static inline void blk_fx_complete_all(struct blk_fx *x, int res)
{
	fake_be_complete_all(&x->be, res);
	evloop_run_once(x->l, 0);
}

static inline void blk_fx_destroy(struct blk_fx *x)
{
	if (x->t)
		iothread_stop(x->t, 0);
	if (x->has_ring)
		uring_drain(&x->u, 0);
	if (x->has_blk)
		blk_destroy(&x->b);
	if (x->t) {
		iothread_destroy(x->t);
		free(x->t);
	}
	if (x->has_ring)
		uring_destroy(&x->u);
	if (x->has_file)
		blk_file_close(&x->file);
	if (x->has_loop)
		evloop_destroy(&x->loop);
	if (x->path[0])
		unlink(x->path);
	if (x->has_fds) {
		close(x->irqfd);
		for (unsigned q = 0; q < x->nr_kick; q++)
			close(x->kick[q]);
	}
	drv_free(&x->d);
	memset(x, 0, sizeof(*x));
}

#endif
