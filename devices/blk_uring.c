/* SPDX-License-Identifier: MIT */
#include "blk_uring.h"
#include "iov.h"

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

/*
 * blk_io.flags of DISCARD and WRITE_ZEROES:
 *  IOF_WZ_OTHER_MODE: WRITE_ZEROES uses the other fallocate mode than its
 *    first choice (that one was -EOPNOTSUPP): ZERO_RANGE when UNMAP asked
 *    for a hole, a hole when ZERO_RANGE is missing (tmpfs);
 *  IOF_DWZ_SYNC: the fallocate is done; write-through (io->dsync), so an
 *    fdatasync makes it stable before the request completes.
 */
#define IOF_WZ_OTHER_MODE 1u
#define IOF_DWZ_SYNC      2u

/* POLLVM_DEBUG_IGNORE_FLUSH=1 (debug_ignore_flush_init below). */
static bool debug_ignore_flush;

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
};

static void uring_unplug(void *opaque)
{
	struct uring_ctx *u = opaque;

	if (!u->queued)
		return;
	int r = io_uring_submit(&u->ring);
	u->st.submits++;
	/* On -EBUSY/-EAGAIN the SQEs stay in the ring: the next submit (after
	 * completions were reaped) takes them. */
	if (r > 0)
		u->queued -= (unsigned)r > u->queued ? u->queued : (unsigned)r;
}

static void uring_on_fd(void *opaque)
{
	struct uring_ctx *u = opaque;
	uint64_t v;

	if (read(u->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already consumed; the CQ is what counts. */
	}
	uring_ctx_reap(u);
}

static bool uring_on_poll(void *opaque)
{
	struct uring_ctx *u = opaque;

	if (!io_uring_cq_ready(&u->ring))
		return false;
	return uring_ctx_reap(u) > 0;
}

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

	if (read(u->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled. */
	}
	if (!io_uring_cq_ready(&u->ring))
		return false;
	return uring_ctx_reap(u) > 0;
}

int uring_ctx_init(struct uring_ctx *u, unsigned entries, char *err, size_t errlen)
{
	struct io_uring_probe *probe;
	int r;

	memset(u, 0, sizeof(*u));
	u->efd = -1;
	u->unplug = (struct evloop_defer){ .fn = uring_unplug, .opaque = u };
	/*
	 * Created disabled, so that the ops the backend uses can be fixed
	 * (IORING_REGISTER_RESTRICTIONS, Linux 5.10) before any SQE runs:
	 * a device model bug cannot turn the ring into openat or connect.
	 */
	r = io_uring_queue_init(entries, &u->ring, IORING_SETUP_R_DISABLED);
	if (r == -EINVAL) {
		/* Before 5.10: no restrictions; say so once. */
		fprintf(stderr, "pollvm: io_uring: this kernel cannot restrict rings (Linux 5.10); "
			"running without io_uring restrictions\n");
		r = io_uring_queue_init(entries, &u->ring, 0);
	} else if (r == 0) {
		u->restricted = true;
	}
	if (r < 0) {
		snprintf(err, errlen, "io_uring_setup: %s (needs Linux 5.1 and io_uring not disabled: "
			 "sysctl kernel.io_uring_disabled)", strerror(-r));
		return r;
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
	if (u->loop)
		evloop_del(u->loop, &u->h);
	u->loop = NULL;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	u->ring_ok = false;
	if (u->efd >= 0)
		close(u->efd);
	u->efd = -1;
}

/* ---- requests ------------------------------------------------------------- */

static bool io_needs_bounce(const struct blk_file *f, const struct blk_io *io)
{
	if (!f->direct)
		return false;
	for (unsigned i = 0; i < io->iovcnt; i++) {
		if (((uintptr_t)io->iov[i].iov_base % f->mem_align) || (io->iov[i].iov_len % f->off_align))
			return true;
	}
	return false;
}

/* The fallocate mode of a DISCARD or WRITE_ZEROES (without KEEP_SIZE). */
static int uring_dwz_mode(const struct blk_io *io)
{
	bool hole = io->op == BLK_IO_DISCARD || io->unmap;

	if (io->op == BLK_IO_WRITE_ZEROES && (io->flags & IOF_WZ_OTHER_MODE))
		hole = !hole;
	return hole ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE;
}

/* Prepare the SQE for what remains of io. */
static int uring_prep(struct uring_ctx *u, struct blk_file *f, struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		/* SQ ring full mid-batch: push what we have, then retry once. */
		u->st.sq_full++;
		uring_unplug(u);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	switch (io->op) {
	case BLK_IO_READ:
		if (io->bounce)
			io_uring_prep_readv(sqe, f->fd, &io->biov, 1, io->offset + io->done);
		else
			io_uring_prep_readv(sqe, f->fd, io->iov, io->iovcnt, io->offset + io->done);
		break;
	case BLK_IO_WRITE:
		if (io->bounce)
			io_uring_prep_writev2(sqe, f->fd, &io->biov, 1, io->offset + io->done,
					      io->dsync ? RWF_DSYNC : 0);
		else
			io_uring_prep_writev2(sqe, f->fd, io->iov, io->iovcnt, io->offset + io->done,
					      io->dsync ? RWF_DSYNC : 0);
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
	case BLK_IO_WRITE_ZEROES:
		if (io->flags & IOF_DWZ_SYNC) {
			io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
			u->st.fsyncs++;
			break;
		}
		io_uring_prep_fallocate(sqe, f->fd, uring_dwz_mode(io) | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	}
	io_uring_sqe_set_data(sqe, io);
	u->st.sqes++;
	u->queued++;
	u->inflight++;
	if (u->loop)
		evloop_defer(u->loop, &u->unplug);
	return 0;
}

static int blk_uring_submit(void *be, struct blk_io *io)
{
	struct blk_file *f = be;
	struct uring_ctx *u = f->u;

	io->be = f;
	io->done = 0;
	io->flags = 0;
	io->bounce = NULL;
	if ((io->op == BLK_IO_DISCARD || io->op == BLK_IO_WRITE_ZEROES) && !u->has_fallocate)
		return -EOPNOTSUPP;
	if ((io->op == BLK_IO_READ || io->op == BLK_IO_WRITE) && io_needs_bounce(f, io)) {
		/* O_DIRECT would refuse these buffers: go through an aligned copy. */
		size_t a = f->mem_align < sizeof(void *) ? sizeof(void *) : f->mem_align;
		if (io->len > SIZE_MAX || posix_memalign(&io->bounce, a, (size_t)io->len))
			return -ENOMEM;
		if (io->op == BLK_IO_WRITE)
			iov_to_buf(io->iov, io->iovcnt, 0, io->bounce, io->len);
		io->biov = (struct iovec){ .iov_base = io->bounce, .iov_len = (size_t)io->len };
		u->st.bounces++;
	}
	int r = uring_prep(u, f, io);
	if (r) {
		free(io->bounce);
		io->bounce = NULL;
	}
	return r;
}

static void uring_finish(struct blk_io *io, int res)
{
	if (io->bounce) {
		if (res == 0 && io->op == BLK_IO_READ)
			iov_from_buf(io->iov, io->iovcnt, io->bounce, io->len);
		free(io->bounce);
		io->bounce = NULL;
	}
	io->complete(io, res);
}

/*
 * A step of a DISCARD or WRITE_ZEROES completed with *res: true when io
 * goes back to the ring for its next step, else it ends with *res.
 */
static bool uring_dwz_next(const struct blk_file *f, struct blk_io *io, int *res)
{
	if (io->flags & IOF_DWZ_SYNC) {
		/* The range already changed: a failed sync is an I/O error,
		 * never "unsupported", which would say nothing was done. */
		if (*res == -EOPNOTSUPP)
			*res = -EIO;
		return false;
	}
	if (*res == -EOPNOTSUPP && io->op == BLK_IO_WRITE_ZEROES && !(io->flags & IOF_WZ_OTHER_MODE)) {
		/*
		 * Zeroes either way: a hole reads back as zeroes, and so does
		 * a zeroed range.  No hole punching (UNMAP on a block device
		 * that cannot discard with zeroes): zero the range instead.
		 * No ZERO_RANGE (tmpfs): punch, where punching works.  Neither:
		 * the second -EOPNOTSUPP makes it UNSUPP.
		 */
		if (!io->unmap && !f->can_punch)
			return false;
		io->flags |= IOF_WZ_OTHER_MODE;
		return true;
	}
	if (*res < 0 || !io->dsync)
		return false;
	io->flags |= IOF_DWZ_SYNC;
	return true;
}

static void uring_complete_one(struct uring_ctx *u, struct blk_io *io, int res)
{
	struct blk_file *f = io->be;

	if (res == -EAGAIN || res == -EINTR) {
		u->st.eagain++;
		goto again;
	}
	if ((io->op == BLK_IO_DISCARD || io->op == BLK_IO_WRITE_ZEROES) && uring_dwz_next(f, io, &res))
		goto again;
	if (res < 0) {
		u->st.errors++;
		return uring_finish(io, res);
	}
	if (io->op == BLK_IO_READ || io->op == BLK_IO_WRITE) {
		if (res == 0) {
			/* End of file inside the disk: the image shrank under us. */
			u->st.errors++;
			return uring_finish(io, -EIO);
		}
		io->done += (unsigned)res;
		if (io->done < io->len) {
			u->st.short_io++;
			if (io->bounce) {
				io->biov.iov_base = (uint8_t *)io->bounce + io->done;
				io->biov.iov_len = (size_t)(io->len - io->done);
			} else {
				iov_advance(&io->iov, &io->iovcnt, (unsigned)res);
			}
			goto again;
		}
	}
	return uring_finish(io, 0);
again:
	if (uring_prep(u, f, io) < 0) {
		u->st.errors++;
		uring_finish(io, -EIO);
	}
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
	return n;
}

void uring_ctx_drain(struct uring_ctx *u)
{
	while (u->inflight) {
		struct io_uring_cqe *cqe;

		if (u->queued)
			uring_unplug(u);
		int r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r < 0 && r != -EINTR && r != -EAGAIN)
			break;
		uring_ctx_reap(u);
	}
	if (u->queued)
		uring_unplug(u);
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
		fprintf(stderr, "pollvm: WARNING: POLLVM_DEBUG_IGNORE_FLUSH=1: FLUSH on %s is a no-op, "
			"data the guest flushes is NOT made durable (debug knob for the crash test)\n", path);
}

int blk_file_open(struct blk_file *f, const char *path, bool ro, enum blk_cache cache,
		  char *err, size_t errlen)
{
	int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int r;

	memset(f, 0, sizeof(*f));
	debug_ignore_flush_init(path);
	f->path = path;
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
		if (statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
		    (sx.stx_mask & STATX_DIOALIGN)) {
			if (sx.stx_dio_offset_align == 0) {
				/* The file system says: no direct I/O on this file. */
				int fd = open(path, flags);
				if (fd < 0) {
					r = -errno;
					snprintf(err, errlen, "%s: %s", path, strerror(errno));
					goto fail;
				}
				close(f->fd);
				f->fd = fd;
				f->direct = false;
				f->direct_refused = true;
			} else {
				f->mem_align = sx.stx_dio_mem_align ? sx.stx_dio_mem_align : 1;
				f->off_align = sx.stx_dio_offset_align;
			}
		} else {
			/* Older kernel: assume the strictest common case. */
			f->mem_align = 4096;
			f->off_align = 4096;
		}
		if (f->off_align < 512)
			f->off_align = 512;
		if (f->off_align > 65536 || (f->off_align & (f->off_align - 1))) {
			r = -EINVAL;
			snprintf(err, errlen, "%s: unusable direct-I/O alignment %u (try cache=writeback)",
				 path, f->off_align);
			goto fail;
		}
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
	return r;
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
}
