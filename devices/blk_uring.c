/* SPDX-License-Identifier: MIT */
#include "blk_uring.h"
#include "iov.h"
#include "../vmm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* POLLVM_DEBUG_IGNORE_FLUSH=1 (debug_ignore_flush_init below). */
static bool debug_ignore_flush;

/* ---- requests ------------------------------------------------------------- */

/* A request's state in the backend, inside its blk_io (BLK_IO_BACKEND_BYTES). */
struct blk_uio {
	struct blk_io *io;
	struct uring_op op;        /* the SQE in flight */
	struct uring_call call;    /* start on the ring's thread */
	struct chunk_wait cw;      /* waiting for a bounce chunk */
	struct blk_serial_req ser; /* place among the disk's writes */
	struct blk_uring *bu;
	struct iovec *iov;         /* what is left of the guest's segments (direct) */
	unsigned iovcnt;
	unsigned stage;
	unsigned flags;
	uint64_t done;             /* bytes of the request finished */
	uint8_t *bounce;           /* a pool chunk while the request holds one */
	struct iovec biov;
	uint64_t win_off;          /* host offset of the chunk's first byte */
	uint32_t win_len;          /* host bytes of the chunk's window */
	uint32_t piece;            /* guest bytes the window carries */
	uint64_t xfer_off;         /* the transfer in flight: host range ... */
	uint32_t xfer_len, xfer_done; /* ... and how much of it is done */
};
_Static_assert(sizeof(struct blk_uio) <= BLK_IO_BACKEND_BYTES, "blk_io backend space");
_Static_assert(_Alignof(struct blk_uio) <= 16, "blk_io backend alignment");

/*
 * blk_uio.flags of DISCARD and WRITE_ZEROES:
 *  IOF_WZ_OTHER_MODE: WRITE_ZEROES uses the other fallocate mode than its
 *    first choice (that one was -EOPNOTSUPP): ZERO_RANGE when UNMAP asked
 *    for a hole, a hole when ZERO_RANGE is missing (tmpfs);
 *  IOF_DWZ_SYNC: the fallocate is done; write-through (io->dsync), so an
 *    fdatasync makes it stable before the request completes.
 */
#define IOF_WZ_OTHER_MODE 1u
#define IOF_DWZ_SYNC      2u

/* blk_uio.stage */
enum {
	ST_DIRECT,     /* one SQE on guest memory (or flush, fallocate) */
	ST_BOUNCE,     /* bounced, not started: waits for a chunk */
	ST_READ,       /* bounced: read the window into the chunk */
	ST_RMW_HEAD,   /* bounced write: read the window's first host block */
	ST_RMW_TAIL,   /* ... and its last */
	ST_WRITE,      /* bounced: write the window from the chunk */
};

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static struct blk_uio *uio_of(struct blk_io *io) { return io->backend; }
static struct blk_io *io_of(struct blk_uio *x) { return x->io; }

static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

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

/* The fallocate mode of a DISCARD or WRITE_ZEROES (without KEEP_SIZE). */
static int uio_dwz_mode(const struct blk_uio *x)
{
	const struct blk_io *io = x->io;
	bool hole = io->op == BLK_IO_DISCARD || io->unmap;

	if (io->op == BLK_IO_WRITE_ZEROES && (x->flags & IOF_WZ_OTHER_MODE))
		hole = !hole;
	return hole ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE;
}

/* uring_op.prep: the SQE for the request's current step. */
static void uio_prep(struct uring_op *op, struct io_uring_sqe *sqe)
{
	struct blk_uio *x = container_of(op, struct blk_uio, op);
	struct blk_io *io = io_of(x);
	struct blk_file *f = x->bu->file;
	int rwf = io->dsync ? RWF_DSYNC : 0;

	if (f->null) {
		/* Every op of the null disk: its completion is the whole request. */
		io_uring_prep_nop(sqe);
		return;
	}
	if (x->stage != ST_DIRECT) {
		x->biov = (struct iovec){
			.iov_base = x->bounce + (x->xfer_off - x->win_off) + x->xfer_done,
			.iov_len = x->xfer_len - x->xfer_done,
		};
		if (x->stage == ST_WRITE)
			io_uring_prep_writev2(sqe, f->fd, &x->biov, 1, x->xfer_off + x->xfer_done, rwf);
		else
			io_uring_prep_readv(sqe, f->fd, &x->biov, 1, x->xfer_off + x->xfer_done);
		return;
	}
	switch (io->op) {
	case BLK_IO_READ:
		io_uring_prep_readv(sqe, f->fd, x->iov, x->iovcnt, io->offset + x->done);
		break;
	case BLK_IO_WRITE:
		io_uring_prep_writev2(sqe, f->fd, x->iov, x->iovcnt, io->offset + x->done, rwf);
		break;
	case BLK_IO_FLUSH:
		if (debug_ignore_flush) {
			/* Debug knob (crash test): complete FLUSH without making
			 * anything durable. */
			io_uring_prep_nop(sqe);
			break;
		}
		/* Data and the metadata needed to read it back: what FLUSH promises. */
		io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
		x->bu->st.fsyncs++;
		break;
	case BLK_IO_DISCARD:
	case BLK_IO_WRITE_ZEROES:
		if (x->flags & IOF_DWZ_SYNC) {
			io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
			x->bu->st.fsyncs++;
			break;
		}
		io_uring_prep_fallocate(sqe, f->fd, uio_dwz_mode(x) | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	}
}

/* A bounced step's host range: [off, off + len) of the window. */
static void uio_xfer(struct blk_uio *x, unsigned stage, uint64_t off, uint64_t len)
{
	x->stage = stage;
	x->xfer_off = off;
	x->xfer_len = (uint32_t)len;
	x->xfer_done = 0;
	uring_issue(x->bu->ring, &x->op);
}

/*
 * The next window of a bounced request: the guest bytes from x->done on,
 * as many as fit in one chunk with the host blocks around them.
 */
static void uio_window(struct blk_uio *x)
{
	struct blk_io *io = io_of(x);
	uint64_t a_sz = x->bu->file->off_align;
	uint64_t s = io->offset + x->done;
	uint64_t a = align_down(s, a_sz);
	uint64_t n = io->len - x->done;

	if (n > URING_BOUNCE_CHUNK - (s - a))
		n = URING_BOUNCE_CHUNK - (s - a);
	uint64_t e = align_up(s + n, a_sz);
	x->win_off = a;
	x->win_len = (uint32_t)(e - a);
	x->piece = (uint32_t)n;
	if (io->op == BLK_IO_READ) {
		uio_xfer(x, ST_READ, a, e - a);
		return;
	}
	/* A write that covers a host block only in part reads it first. */
	if (s != a) {
		x->bu->st.rmw++;
		uio_xfer(x, ST_RMW_HEAD, a, a_sz);
		return;
	}
	if (s + n != e) {
		x->bu->st.rmw++;
		uio_xfer(x, ST_RMW_TAIL, e - a_sz, a_sz);
		return;
	}
	iov_to_buf(io->iov, io->iovcnt, x->done, x->bounce, n);
	uio_xfer(x, ST_WRITE, a, e - a);
}

/* chunk_wait.got: the chunk a bounced request waited for. */
static void uio_got_chunk(struct chunk_wait *w, void *chunk)
{
	struct blk_uio *x = container_of(w, struct blk_uio, cw);

	x->bounce = chunk;
	x->bu->st.bounces++;
	uio_window(x);
}

/* The request may run now (its place among the writes is granted). */
static void uio_run(struct blk_uio *x)
{
	struct uring *r = x->bu->ring;

	if (x->stage == ST_DIRECT) {
		uring_issue(r, &x->op);
		return;
	}
	x->cw.got = uio_got_chunk;
	void *chunk = chunk_pool_get_or_wait(&r->pool, &x->cw);
	if (!chunk) {
		/* Every chunk is in use: uio_got_chunk() when one comes back. */
		x->bu->st.bounce_waits++;
		return;
	}
	uio_got_chunk(&x->cw, chunk);
}

/* uring_call.fn: start on the ring's thread (end of batch, or resumed). */
static void uio_start(struct uring_call *c)
{
	uio_run(container_of(c, struct blk_uio, call));
}

/*
 * Give back the request's bounce chunk and its place among the writes.
 * Out of line: uio_finish() of a request that holds neither (most of them)
 * then saves fewer registers.
 */
static __attribute__((noinline)) void uio_release(struct blk_uio *x)
{
	struct blk_file *f = x->bu->file;

	if (x->bounce) {
		void *chunk = x->bounce;
		x->bounce = NULL;
		chunk_pool_put(&x->bu->ring->pool, chunk);
	}
	if (f->ser && blk_serial_tracked(&x->ser))
		blk_serial_end(f->ser, &x->ser);
}

/* The request is over: give back what it holds, then complete it. */
static void uio_finish(struct blk_uio *x, int res)
{
	struct blk_io *io = io_of(x);

	if (res < 0)
		x->bu->st.errors++;
	if (x->bounce || x->bu->file->ser)
		uio_release(x);
	uring_pending_dec(x->bu->ring);
	io->complete(io, res);
}

/*
 * The current step of a bounced request is complete: the next one.  Out
 * of line: inlined into uio_done(), its copies would cost every
 * completion, bounced or not, a larger stack frame.
 */
static __attribute__((noinline)) void uio_step_done(struct blk_uio *x)
{
	struct blk_io *io = io_of(x);
	uint64_t a_sz = x->bu->file->off_align;
	uint64_t s = io->offset + x->done;
	uint64_t e = x->win_off + x->win_len;

	switch (x->stage) {
	case ST_READ:
		iov_from_buf_skip(io->iov, io->iovcnt, x->done, x->bounce + (s - x->win_off), x->piece);
		break;
	case ST_RMW_HEAD:
		/* The tail block too, unless the head block was the only one. */
		if (s + x->piece != e && e - a_sz != x->win_off) {
			x->bu->st.rmw++;
			uio_xfer(x, ST_RMW_TAIL, e - a_sz, a_sz);
			return;
		}
		/* fall through */
	case ST_RMW_TAIL:
		iov_to_buf(io->iov, io->iovcnt, x->done, x->bounce + (s - x->win_off), x->piece);
		uio_xfer(x, ST_WRITE, x->win_off, x->win_len);
		return;
	case ST_WRITE:
		break;
	}
	x->done += x->piece;
	if (x->done < io->len) {
		uio_window(x);
		return;
	}
	uio_finish(x, 0);
}

/*
 * A step of a DISCARD or WRITE_ZEROES completed with *res: true when it
 * goes back to the ring for its next step, else it ends with *res.
 */
static bool uio_dwz_next(struct blk_uio *x, int *res)
{
	const struct blk_io *io = x->io;

	if (x->flags & IOF_DWZ_SYNC) {
		/* The range already changed: a failed sync is an I/O error,
		 * never "unsupported", which would say nothing was done. */
		if (*res == -EOPNOTSUPP)
			*res = -EIO;
		return false;
	}
	if (*res == -EOPNOTSUPP && io->op == BLK_IO_WRITE_ZEROES && !(x->flags & IOF_WZ_OTHER_MODE)) {
		/*
		 * Zeroes either way: a hole reads back as zeroes, and so does
		 * a zeroed range.  No hole punching (UNMAP on a block device
		 * that cannot discard with zeroes): zero the range instead.
		 * No ZERO_RANGE (tmpfs): punch, where punching works.  Neither:
		 * the second -EOPNOTSUPP makes it UNSUPP.
		 */
		if (!io->unmap && !x->bu->file->can_punch)
			return false;
		x->flags |= IOF_WZ_OTHER_MODE;
		return true;
	}
	if (*res < 0 || !io->dsync)
		return false;
	x->flags |= IOF_DWZ_SYNC;
	return true;
}

/* uring_op.done: a CQE for the request's current step. */
static void uio_done(struct uring_op *op, int res)
{
	struct blk_uio *x = container_of(op, struct blk_uio, op);
	struct blk_io *io = io_of(x);
	struct uring *r = x->bu->ring;

	if (res == -EAGAIN || res == -EINTR) {
		x->bu->st.eagain++;
		uring_issue(r, op);
		return;
	}
	if ((io->op == BLK_IO_DISCARD || io->op == BLK_IO_WRITE_ZEROES) && !x->bu->file->null &&
	    uio_dwz_next(x, &res)) {
		uring_issue(r, op);
		return;
	}
	if (res < 0) {
		uio_finish(x, res);
		return;
	}
	if (x->bu->file->null) {
		/* The NOP stands for the whole transfer (a null disk never bounces). */
		if (io->op == BLK_IO_READ && x->bu->file->read_zeroes)
			iov_zero(io->iov, io->iovcnt);
		uio_finish(x, 0);
		return;
	}
	if (x->stage != ST_DIRECT) {
		if (res == 0) {
			/* End of file inside the disk: the image shrank under us. */
			uio_finish(x, -EIO);
			return;
		}
		x->xfer_done += (uint32_t)res;
		if (x->xfer_done < x->xfer_len) {
			x->bu->st.short_io++;
			uring_issue(r, op);
			return;
		}
		uio_step_done(x);
		return;
	}
	if (io_is_rw(io)) {
		if (res == 0) {
			uio_finish(x, -EIO);
			return;
		}
		x->done += (unsigned)res;
		if (x->done < io->len) {
			x->bu->st.short_io++;
			iov_advance(&x->iov, &x->iovcnt, (unsigned)res);
			uring_issue(r, op);
			return;
		}
	}
	uio_finish(x, 0);
}

/*
 * blk_serial's resume: a write another request held back may run.  Called
 * from the thread that ended that request: handed to the request's own
 * ring.
 */
static void uio_resume(struct blk_serial_req *req)
{
	struct blk_uio *x = container_of(req, struct blk_uio, ser);

	uring_call_from(x->bu->ring, &x->call);
}

static int blk_uring_submit(void *be, struct blk_io *io)
{
	struct blk_uring *bu = be;
	struct blk_file *f = bu->file;
	struct blk_uio *x = uio_of(io);

	/* Only what this request reads before writing it (the rest is set
	 * by the step that uses it): this runs for every request. */
	x->io = io;
	x->bu = bu;
	x->op.prep = uio_prep;
	x->op.done = uio_done;
	x->iov = io->iov;
	x->iovcnt = io->iovcnt;
	x->stage = ST_DIRECT;
	x->flags = 0;
	x->done = 0;
	x->bounce = NULL;
	if (io_is_rw(io)) {
		if (io_needs_bounce(f, io))
			x->stage = ST_BOUNCE;
	} else if (io->op != BLK_IO_FLUSH && !f->null && !blk_uring_can_fallocate(bu->ring)) {
		return -EOPNOTSUPP;   /* DISCARD, WRITE_ZEROES */
	}
	uring_pending_inc(bu->ring);
	/* Bounced, or perhaps held back among the writes: it starts from a
	 * call (uio_start), at the end of the batch or when resumed. */
	if (x->stage == ST_BOUNCE || f->ser)
		x->call.fn = uio_start;
	if (f->ser)
		x->ser.state = 0;   /* uio_finish asks whether it is tracked */
	if (f->ser && io->op != BLK_IO_READ && io->op != BLK_IO_FLUSH) {
		uint64_t a = f->off_align;
		bool rmw = io->op == BLK_IO_WRITE && ((io->offset | io->len) & (a - 1));
		if (!blk_serial_begin(f->ser, &x->ser, align_down(io->offset, a),
				      align_up(io->offset + io->len, a), rmw)) {
			bu->st.serial_waits++;
			return 0;
		}
	}
	if (x->stage == ST_BOUNCE) {
		/* Its copies start from the end of the batch, where the device
		 * lock (held around submit) is not held. */
		uring_call_soon(bu->ring, &x->call);
		return 0;
	}
	uio_run(x);
	return 0;
}

const struct blk_backend_ops blk_uring_ops = {
	.submit = blk_uring_submit,
};

void blk_uring_bind(struct blk_uring *b, struct blk_file *f, struct uring *r)
{
	memset(b, 0, sizeof(*b));
	b->file = f;
	b->ring = r;
}

bool blk_uring_can_fallocate(const struct uring *r)
{
	return uring_supports(r, IORING_OP_FALLOCATE);
}

/* ---- files ------------------------------------------------------------------- */

/*
 * POLLVM_DEBUG_IGNORE_FLUSH=1 makes every FLUSH a no-op that still reports
 * success: the broken device the crash-consistency test must catch
 * (t_crash_consistency, tests/integration/tests/crash.sh).  Read once, at
 * the first disk's open, and announced on stderr for every disk it affects.
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

int blk_file_dio_setup(struct blk_file *f, bool known, uint32_t mem_align, uint32_t off_align)
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
		pv_err(PV_INPUT, "--disk %s: unusable direct-I/O alignment %u/%u (try cache=writeback)",
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
		r = blk_serial_init(&f->ser_store, uio_resume);
		if (r) {
			pv_err(PV_INTERNAL, "--disk %s: %s", f->path, strerror(-r));
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
		pv_err(PV_INPUT, "--disk %s: %s", f->path, strerror(-r));
	return r;
}

int blk_file_open(struct blk_file *f, const char *path, bool ro, enum blk_cache cache,
		  uint32_t lbs)
{
	int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int r;

	memset(f, 0, sizeof(*f));
	if (lbs < 512 || lbs > 65536 || (lbs & (lbs - 1))) {
		pv_err(PV_INPUT, "--disk %s: logical block size %u is not a power of two in 512..65536",
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
		pv_err(PV_INPUT, "--disk %s: %s%s", path, strerror(errno),
		       (!ro && (errno == EACCES || errno == EROFS)) ? " (use ro=on for a read-only image)" : "");
		return r;
	}
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "--disk %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		f->block_dev = true;
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0) {
			r = -errno;
			pv_err(PV_INTERNAL, "--disk %s: BLKGETSIZE64: %s", path, strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		f->size = (uint64_t)st.st_size;
	} else {
		r = -EINVAL;
		pv_err(PV_INPUT, "--disk %s: not a regular file or block device", path);
		goto fail;
	}
	if (f->size == 0 || f->size % 512) {
		r = -EINVAL;
		pv_err(PV_INPUT, "--disk %s: size %llu is not a non-zero multiple of 512 bytes", path,
		       (unsigned long long)f->size);
		goto fail;
	}

	if (f->direct) {
		struct statx sx;
		/* Linux 6.1: the file's own direct-I/O alignment. */
		bool known = statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
			     (sx.stx_mask & STATX_DIOALIGN);
		r = blk_file_dio_setup(f, known, known ? sx.stx_dio_mem_align : 0,
				       known ? sx.stx_dio_offset_align : 0);
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

int blk_file_open_null(struct blk_file *f, uint64_t size, bool ro, bool read_zeroes, uint32_t lbs)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (lbs < 512 || lbs > 65536 || (lbs & (lbs - 1))) {
		pv_err(PV_INPUT, "--disk null: logical block size %u is not a power of two in 512..65536", lbs);
		return -EINVAL;
	}
	if (size == 0 || size % 512) {
		pv_err(PV_INPUT, "--disk null: size %llu is not a non-zero multiple of 512 bytes",
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

int blk_file_flush(struct blk_file *f)
{
	if (f->fd < 0 || f->ro || f->null)
		return 0;
	return fdatasync(f->fd) < 0 ? -errno : 0;
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
