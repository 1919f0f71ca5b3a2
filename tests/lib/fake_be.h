/* SPDX-License-Identifier: MIT */
/*
 * A fake virtio-blk backend (struct blk_backend_ops) for unit tests and
 * fuzzers: it holds every request it is handed until the test completes
 * it, in any order and with any result.  Optionally it refuses submits,
 * moves the data to and from a RAM disk on completion, and calls a hook
 * on each submit: an oracle's checks, or a guest that acts while the
 * device drains its ring.
 */
#ifndef POLLVM_TESTS_FAKE_BE_H
#define POLLVM_TESTS_FAKE_BE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/blk.h"

struct fake_be {
	struct blk_io *pending[VIRTQ_NUM_MAX];  /* held, oldest first */
	unsigned n;                             /* held now */
	unsigned submitted;                     /* taken since set-up */
	struct blk_io last;                     /* a copy of the last one taken */
	bool fail_submit;                       /* refuse submits with -EIO */
	/* RAM disk: completions with result 0 move the data (NULL: none). */
	uint8_t *disk;
	uint64_t disk_size;
	/* Runs on every submit taken, after it is held, on the device's thread. */
	void (*on_submit)(void *arg, struct blk_io *io);
	void *on_submit_arg;
};

static inline int fake_be_submit(void *be, struct blk_io *io)
{
	struct fake_be *f = be;

	if (f->fail_submit)
		return -EIO;
	if (f->n >= VIRTQ_NUM_MAX)
		abort();   /* more in flight than request slots: blk must throttle */
	f->pending[f->n++] = io;
	f->last = *io;
	f->submitted++;
	if (f->on_submit)
		f->on_submit(f->on_submit_arg, io);
	return 0;
}

static const struct blk_backend_ops fake_be_ops = { .submit = fake_be_submit };

/* Take held request i out (the others keep their order). */
static inline struct blk_io *fake_be_take(struct fake_be *f, unsigned i)
{
	if (i >= f->n)
		abort();
	struct blk_io *io = f->pending[i];
	memmove(&f->pending[i], &f->pending[i + 1], (f->n - i - 1) * sizeof(f->pending[0]));
	f->n--;
	return io;
}

/* Take every held request out into p (VIRTQ_NUM_MAX entries); how many. */
static inline unsigned fake_be_take_all(struct fake_be *f, struct blk_io **p)
{
	unsigned n = f->n;

	memcpy(p, f->pending, n * sizeof(p[0]));
	f->n = 0;
	return n;
}

/* The RAM disk's side of io: read into the guest's buffers, write from them, zero. */
static inline void fake_be_do(struct fake_be *f, const struct blk_io *io)
{
	uint64_t off = io->offset;

	/* A request past the disk's end is the device's bug: blk checks the range. */
	if (off > f->disk_size || io->len > f->disk_size - off)
		abort();
	switch (io->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		for (unsigned i = 0; i < io->iovcnt; i++) {
			size_t l = io->iov[i].iov_len;
			if (l > f->disk_size - off)
				abort();
			if (io->op == BLK_IO_READ)
				memcpy(io->iov[i].iov_base, f->disk + off, l);
			else
				memcpy(f->disk + off, io->iov[i].iov_base, l);
			off += l;
		}
		break;
	case BLK_IO_DISCARD:
	case BLK_IO_WRITE_ZEROES:
		memset(f->disk + off, 0, io->len);
		break;
	default:
		break;
	}
}

/* Complete a request taken out: with res (0 moves the data on a RAM disk). */
static inline void fake_be_finish(struct fake_be *f, struct blk_io *io, int res)
{
	if (!res && f->disk)
		fake_be_do(f, io);
	io->complete(io, res);
}

/* Complete held request i with res. */
static inline void fake_be_complete(struct fake_be *f, unsigned i, int res)
{
	fake_be_finish(f, fake_be_take(f, i), res);
}

/*
 * Complete every request held now with res, oldest first; what the
 * completions submit (a throttled queue going on) is held for later.
 */
static inline void fake_be_complete_all(struct fake_be *f, int res)
{
	struct blk_io *p[VIRTQ_NUM_MAX];
	unsigned n = fake_be_take_all(f, p);

	for (unsigned i = 0; i < n; i++)
		fake_be_finish(f, p[i], res);
}

#endif
