/* SPDX-License-Identifier: MIT */
/*
 * The io_uring backend where the host's direct-I/O block is larger than the
 * guest's: bounce chunks from the fixed pool, read-modify-write of partial
 * host blocks, serialisation of overlapping writes, waiting for a chunk or
 * an SQE, and submits the kernel refuses or takes in part.
 *
 * The image is a real O_DIRECT file under /var/tmp; its alignment is set to
 * 4096 bytes (what a 4Kn disk, or a loop device with 4096-byte sectors,
 * reports), which the file system's own smaller alignment accepts too.  The
 * guest's logical block is 512 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <liburing/barrier.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../lib/blk_fx.h"

#define SIZE (8u << 20)     /* the image: 8 MiB */
#define HOST_BLOCK 4096u

struct op {
	struct blk_io io;
	_Alignas(16) unsigned char be[BLK_IO_BACKEND_BYTES];
	struct iovec iov[4];
	int res;
	bool done;
};

/* The backend on its own ring and loop; a disk on it only where a test builds one. */
struct bx {
	struct blk_fx x;
	uint8_t *shadow;         /* what the image must hold */
	unsigned done;
};

static struct bx *cur;

static void op_done(struct blk_io *io, int res)
{
	struct op *o = (struct op *)((char *)io - offsetof(struct op, io));

	o->res = res;
	o->done = true;
	cur->done++;
}

static int setup_ring(void **state, unsigned entries)
{
	struct bx *b = calloc(1, sizeof(*b));
	struct blk_fx *x = &b->x;

	b->shadow = malloc(SIZE);
	srandom(42);
	for (unsigned i = 0; i < SIZE; i++)
		b->shadow[i] = (uint8_t)random();
	if (blk_fx_temp(x, "/var/tmp", SIZE, b->shadow) || blk_fx_open(x, BLK_CACHE_NONE))
		goto fail;
	if (!x->file.direct) {
		fprintf(stderr, "/var/tmp takes no O_DIRECT: this test needs it\n");
		goto fail;
	}
	/* A 4Kn host: buffers and offsets 4096-aligned, guest blocks 512. */
	if (blk_file_dio_setup(&x->file, true, HOST_BLOCK, HOST_BLOCK))
		goto fail;
	if (blk_fx_ring(x, entries) || blk_fx_bind(x))
		goto fail;
	cur = b;
	*state = b;
	return 0;
fail:
	blk_fx_destroy(x);
	free(b->shadow);
	free(b);
	return -1;
}

static int setup(void **state) { return setup_ring(state, 64); }
/* Fewer SQEs than requests in flight: some wait for room. */
static int setup_small_ring(void **state) { return setup_ring(state, 8); }

static int teardown(void **state)
{
	struct bx *b = *state;

	blk_fx_destroy(&b->x);
	free(b->shadow);
	free(b);
	return 0;
}

/* Submit o: op on [off, off + len) through buf (one segment). */
static void op_submit(struct bx *b, struct op *o, enum blk_io_op op, uint64_t off, uint32_t len,
		      uint8_t *buf)
{
	memset(o, 0, sizeof(*o));
	o->iov[0] = (struct iovec){ .iov_base = buf, .iov_len = len };
	o->io = (struct blk_io){
		.op = op, .offset = off, .len = len, .iov = o->iov, .iovcnt = 1, .complete = op_done,
		.backend = o->be,
	};
	assert_int_equal(blk_uring_ops.submit(&b->x.bu, &o->io), 0);
}

/* Run the loop until n completions in all arrived. */
static void run_until(struct bx *b, unsigned n)
{
	for (int i = 0; i < 20000 && b->done < n; i++)
		evloop_run_once(&b->x.loop, 10);
	assert_int_equal(b->done, n);
}

static void expect_image(struct bx *b)
{
	uint8_t *img = malloc(SIZE);
	int fd = open(b->x.path, O_RDONLY);

	assert_int_equal(pread(fd, img, SIZE, 0), SIZE);
	close(fd);
	for (unsigned i = 0; i < SIZE; i++)
		if (img[i] != b->shadow[i])
			fail_msg("image byte %u is %#x, the guest wrote %#x", i, img[i], b->shadow[i]);
	free(img);
}

/*
 * Batches of reads and writes in flight together, at 512-byte granularity
 * (offsets and lengths), through buffers at odd addresses.  Writes of one
 * batch never share a sector, but often share a host block: an RMW that
 * lost a neighbour's write would show in the image.
 */
static void test_rmw_random(void **state)
{
	struct bx *b = *state;
	enum { BATCH = 24, ROUNDS = 60, MAXSEC = 140 };
	static struct op ops[BATCH];
	uint8_t *bufs[BATCH];
	uint64_t off[BATCH];
	uint32_t len[BATCH];
	bool wr[BATCH];
	unsigned total = 0;

	for (int i = 0; i < BATCH; i++)
		bufs[i] = malloc(MAXSEC * 512 + 64);
	srandom(7);
	for (int round = 0; round < ROUNDS; round++) {
		/* Ranges clustered in 256 KiB so that host blocks are shared. */
		for (int i = 0; i < BATCH; i++) {
			bool clash;
			do {
				len[i] = (uint32_t)(1 + random() % (i % 3 ? 8 : MAXSEC)) * 512;
				off[i] = (uint64_t)(random() % 512) * 512;
				clash = false;
				for (int k = 0; k < i; k++)
					clash |= off[k] < off[i] + len[i] && off[i] < off[k] + len[k];
			} while (clash);
			wr[i] = random() % 3 != 0;
		}
		for (int i = 0; i < BATCH; i++) {
			uint8_t *p = bufs[i] + 1 + random() % 63;   /* never 4096-aligned */
			if (wr[i])
				for (uint32_t k = 0; k < len[i]; k++)
					p[k] = (uint8_t)random();
			op_submit(b, &ops[i], wr[i] ? BLK_IO_WRITE : BLK_IO_READ, off[i], len[i], p);
		}
		total += BATCH;
		run_until(b, total);
		for (int i = 0; i < BATCH; i++) {
			uint8_t *p = ops[i].iov[0].iov_base;
			assert_int_equal(ops[i].res, 0);
			if (wr[i])
				memcpy(b->shadow + off[i], p, len[i]);
			else if (memcmp(p, b->shadow + off[i], len[i]))
				fail_msg("read of %u bytes at %llu differs", len[i], (unsigned long long)off[i]);
		}
	}
	expect_image(b);
	assert_true(b->x.bu.st.rmw > 0);
	assert_true(b->x.bu.st.bounces >= total);
	assert_int_equal(b->x.u.pending, 0);
	assert_int_equal(b->x.u.pool.nr_free, URING_BOUNCE_CHUNKS);
	for (int i = 0; i < BATCH; i++)
		free(bufs[i]);
}

/* Two unaligned writes into one host block, in flight at once: both land. */
static void test_rmw_overlap_same_block(void **state)
{
	struct bx *b = *state;
	static struct op o[4];
	uint8_t *a = malloc(2048), *c = malloc(2048), *d = malloc(2048), *e = malloc(2048);

	memset(a, 'A', 512);
	memset(c, 'C', 512);
	op_submit(b, &o[0], BLK_IO_WRITE, 512, 512, a);        /* sector 1 */
	op_submit(b, &o[1], BLK_IO_WRITE, 1024, 512, c);       /* sector 2, same host block */
	/* The second waited for the first: serialised, not lost. */
	assert_int_equal(b->x.bu.st.serial_waits, 1);
	run_until(b, 2);
	assert_int_equal(o[0].res, 0);
	assert_int_equal(o[1].res, 0);
	memcpy(b->shadow + 512, a, 512);
	memcpy(b->shadow + 1024, c, 512);
	expect_image(b);

	/* Overlapping sectors: they run in the order they came, the last wins. */
	memset(d, 'D', 2048);
	memset(e, 'E', 1024);
	op_submit(b, &o[2], BLK_IO_WRITE, 4096 + 512, 2048, d);
	op_submit(b, &o[3], BLK_IO_WRITE, 4096 + 1024, 1024, e);
	run_until(b, 4);
	memcpy(b->shadow + 4096 + 512, d, 2048);
	memcpy(b->shadow + 4096 + 1024, e, 1024);
	expect_image(b);
	/* No RMW left: writes are lock-free again. */
	assert_int_equal(atomic_load(&b->x.file.ser->serialising), 0);
	assert_int_equal(atomic_load(&b->x.file.ser->fast), 0);
	free(a);
	free(c);
	free(d);
	free(e);
}

/*
 * More bounced requests than chunks: the rest wait for chunks in order,
 * none fails, and the pool never hands out more than it has.
 */
static void test_pool_exhausted(void **state)
{
	struct bx *b = *state;
	enum { N = URING_BOUNCE_CHUNKS + 36, LEN = 2u << 20 };
	static struct op o[N];
	uint8_t *buf = malloc(LEN + 1);

	/* One guest buffer for all (a hostile guest aliases its buffers too):
	 * every read fills it with the same bytes. */
	for (int i = 0; i < N; i++)
		op_submit(b, &o[i], BLK_IO_READ, 512, LEN, buf + 1);
	run_until(b, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(o[i].res, 0);
	assert_memory_equal(buf + 1, b->shadow + 512, LEN);
	assert_true(b->x.bu.st.bounce_waits > 0);
	assert_int_equal(b->x.u.pool.used_max, URING_BOUNCE_CHUNKS);
	assert_int_equal(b->x.u.pool.nr_free, URING_BOUNCE_CHUNKS);
	free(buf);
}

/* ---- the ring refuses submits, or takes them in part --------------------------- */

static atomic_int refusals;

static int submit_refusing(struct io_uring *ring)
{
	if (atomic_load(&refusals) > 0) {
		atomic_fetch_sub(&refusals, 1);
		return -EAGAIN;
	}
	return io_uring_submit(ring);
}

/* Publish every prepared SQE but let the kernel take one per call. */
static int submit_one(struct io_uring *ring)
{
	io_uring_smp_store_release(ring->sq.ktail, ring->sq.sqe_tail);
	if (*ring->sq.ktail == io_uring_smp_load_acquire(ring->sq.khead))
		return 0;
	long r = syscall(__NR_io_uring_enter, ring->ring_fd, 1, 0, 0, NULL, 0);
	return r < 0 ? -errno : (int)r;
}

/* Every other call refused, the others take one SQE: the SQ ring fills up. */
static int submit_one_or_none(struct io_uring *ring)
{
	static unsigned calls;

	if (calls++ % 2)
		return -EAGAIN;
	return submit_one(ring);
}

static void test_submit_refused(void **state)
{
	struct bx *b = *state;
	static struct op o[10];
	uint8_t *buf = aligned_alloc(4096, 10 * 4096);

	refusals = 3;
	b->x.u.submit = submit_refusing;
	for (int i = 0; i < 10; i++)
		op_submit(b, &o[i], BLK_IO_READ, (uint64_t)i * 4096, 4096, buf + i * 4096);
	/* No new request comes: the retry timer alone gets them submitted. */
	run_until(b, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(o[i].res, 0);
	assert_memory_equal(buf, b->shadow, 10 * 4096);
	assert_int_equal(atomic_load(&refusals), 0);
	assert_true(b->x.u.st.submit_retries >= 3);
	assert_int_equal(b->x.u.queued, 0);
	free(buf);
}

static void test_submit_partial(void **state)
{
	struct bx *b = *state;
	static struct op o[48];
	uint8_t *buf = malloc(48 * 1024 + 1);

	b->x.u.submit = submit_one_or_none;
	/* 24 reads at once (bounced) on an 8-entry SQ ring, and 24 unaligned
	 * writes (RMW, serialised, bounced) elsewhere. */
	for (int i = 0; i < 24; i++)
		op_submit(b, &o[i], BLK_IO_READ, (1u << 20) + 512 + (uint64_t)i * 1024, 1024,
			  buf + 1 + i * 1024);
	for (int i = 24; i < 48; i++) {
		memset(buf + 1 + i * 1024, 'a' + i, 1024);
		op_submit(b, &o[i], BLK_IO_WRITE, 512 + (uint64_t)i * 1024, 1024, buf + 1 + i * 1024);
	}
	run_until(b, 48);
	for (int i = 0; i < 48; i++)
		assert_int_equal(o[i].res, 0);
	assert_memory_equal(buf + 1, b->shadow + (1u << 20) + 512, 24 * 1024);
	for (int i = 24; i < 48; i++)
		memcpy(b->shadow + 512 + i * 1024, buf + 1 + i * 1024, 1024);
	expect_image(b);
	assert_true(b->x.u.st.submit_retries > 0);
	assert_true(b->x.u.st.sqe_waits > 0);
	free(buf);
}

/* A backend that never takes the SQE: the drain gives up at its deadline. */
static void test_drain_deadline(void **state)
{
	struct bx *b = *state;
	static struct op o;
	uint8_t *buf = aligned_alloc(4096, 4096);

	refusals = 1 << 30;
	b->x.u.submit = submit_refusing;
	op_submit(b, &o, BLK_IO_READ, 0, 4096, buf);
	uint64_t t0 = evloop_now_ns(NULL);
	assert_int_equal(uring_drain(&b->x.u, t0 + 200000000ull), -ETIMEDOUT);
	uint64_t t1 = evloop_now_ns(NULL);
	assert_true(t1 - t0 >= 200000000ull && t1 - t0 < 2000000000ull);
	assert_int_equal(b->x.u.pending, 1);
	assert_int_equal(b->x.u.queued, 1);
	/* The kernel takes it again: it completes after all. */
	refusals = 0;
	assert_int_equal(uring_drain(&b->x.u, 0), 0);
	assert_int_equal(o.res, 0);
	free(buf);
}

/* ---- the host's alignment, as the file system reports it --------------------- */

static void test_no_dioalign(void **state)
{
	struct bx *b = *state;

	/* No STATX_DIOALIGN: 4096 assumed; the guest's blocks stay 512. */
	assert_int_equal(blk_file_dio_setup(&b->x.file, false, 0, 0), 0);
	assert_true(b->x.file.direct);
	assert_int_equal(b->x.file.off_align, 4096);
	assert_int_equal(b->x.file.mem_align, 4096);
	assert_int_equal(b->x.file.lbs, 512);
	assert_non_null(b->x.file.ser);
	/* ... and 512-byte requests work on it. */
	static struct op o[2];
	uint8_t *buf = malloc(2048);
	memset(buf, 'z', 512);
	op_submit(b, &o[0], BLK_IO_WRITE, 3 * 512, 512, buf);
	op_submit(b, &o[1], BLK_IO_READ, 6 * 512, 1024, buf + 513);
	run_until(b, 2);
	assert_int_equal(o[0].res, 0);
	assert_int_equal(o[1].res, 0);
	assert_memory_equal(buf + 513, b->shadow + 6 * 512, 1024);
	memset(b->shadow + 3 * 512, 'z', 512);
	expect_image(b);
	free(buf);
	/* The file system says no direct I/O for this file: the page cache. */
	assert_int_equal(blk_file_dio_setup(&b->x.file, true, 0, 0), 0);
	assert_false(b->x.file.direct);
	assert_true(b->x.file.direct_refused);
}

static void test_unaligned_size_falls_back(void **state)
{
	(void)state;
	struct blk_file f;
	char path[] = "/var/tmp/pollvm-bounce-XXXXXX";
	int fd = mkstemp(path);

	assert_int_equal(ftruncate(fd, 4096 * 3 + 512), 0);
	close(fd);
	assert_int_equal(blk_file_open(&f, path, false, BLK_CACHE_NONE, 512), 0);
	if (f.direct) {
		/* Its last 4096-byte block is partial: O_DIRECT cannot RMW it. */
		assert_int_equal(blk_file_dio_setup(&f, true, 4096, 4096), 0);
		assert_false(f.direct);
		assert_true(f.direct_unaligned_size);
	}
	blk_file_close(&f);
	unlink(path);
}

/* ---- the whole path on a sandboxed IOThread: no allocation ------------------- */

/* The sanitizer allocator's hooks (sanitizer/allocator_interface.h, which
 * gcc does not install; libasan exports it): every malloc and free. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					       void (*free_hook)(const volatile void *));

/* Count what the watched thread allocates. */
static pthread_t watched;
static atomic_bool watching;
static atomic_ulong watched_allocs;

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (atomic_load(&watching) && pthread_equal(pthread_self(), watched))
		atomic_fetch_add(&watched_allocs, 1);
}

static void on_free(const volatile void *p)
{
	(void)p;
}

/*
 * A guest's burst on an IOThread with its sandbox on: more bounced reads
 * than there are chunks, unaligned writes sharing host blocks (RMW,
 * serialised), a FLUSH and a GET_ID, posted at once.  Everything
 * completes with the right data, and the IOThread allocates nothing while
 * it serves them.
 */
static void test_iothread_no_alloc(void **state)
{
	(void)state;
	enum { NR = 120, NW = 100, NUM_Q = 256 };
	struct blk_fx *x = calloc(1, sizeof(*x));
	struct drv *d = &x->d;
	uint8_t *shadow = malloc(SIZE);
	uint64_t rd_buf[NR], wr_buf[NW], st[NR + NW + 2];
	int fd;

	srandom(3);
	for (unsigned i = 0; i < SIZE; i++)
		shadow[i] = (uint8_t)random();
	drv_init(d, NUM_Q);
	assert_int_equal(blk_fx_iothread(x), 0);
	assert_int_equal(blk_fx_temp(x, "/var/tmp", SIZE, shadow), 0);
	assert_int_equal(blk_fx_open(x, BLK_CACHE_NONE), 0);
	assert_true(x->file.direct);
	assert_int_equal(blk_file_dio_setup(&x->file, true, HOST_BLOCK, HOST_BLOCK), 0);
	struct blk_params p = { .capacity = SIZE / 512, .blk_size = 512, .phys_size = HOST_BLOCK,
				.writeback = true, .num_queues = 1, .serial = "s" };
	assert_int_equal(blk_fx_start_uring(x, &p), 0);
	assert_int_equal(__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free), 1);
	assert_int_equal(iothread_start(x->t), 0);
	watched = x->t->thread;
	blk_fx_up(x, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ULL << VIRTIO_BLK_F_FLUSH));
	assert_int_equal(drv_mmio_rd(&x->b.t, DRV_BLK_CFG(blk_size)), 512);

	/* Buffers at odd addresses: every data request is bounced. */
	for (int i = 0; i < NR; i++)
		rd_buf[i] = drv_alloc(d, 4096 + 1, 8) + 1;
	for (int i = 0; i < NW; i++) {
		wr_buf[i] = drv_alloc(d, 1024 + 1, 8) + 1;
		for (int k = 0; k < 1024; k++)
			((uint8_t *)drv_hva(d, wr_buf[i]))[k] = (uint8_t)random();
	}
	uint16_t slot = 0;
	atomic_store(&watching, true);
	for (int i = 0; i < NR; i++)
		st[slot] = drv_blk_post(d, slot, VIRTIO_BLK_T_IN, 1, rd_buf[i], 4096, true), slot++;
	/* Writes of 1 KiB every 1.5 KiB from 1 MiB on: never the same sector,
	 * often the same 4 KiB host block. */
	for (int i = 0; i < NW; i++)
		st[slot] = drv_blk_post(d, slot, VIRTIO_BLK_T_OUT, 2048 + 3 * (uint64_t)i, wr_buf[i], 1024, false),
		slot++;
	st[slot] = drv_blk_post(d, slot, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), slot++;
	uint64_t id = drv_alloc(d, 20, 1);
	st[slot] = drv_blk_post(d, slot, VIRTIO_BLK_T_GET_ID, 0, id, 20, true), slot++;
	blk_fx_kick(x, 0);
	uint16_t used = blk_fx_run_until_used(x, slot);
	atomic_store(&watching, false);
	assert_int_equal(used, slot);

	for (int i = 0; i < slot; i++)
		assert_int_equal(*(uint8_t *)drv_hva(d, st[i]), VIRTIO_BLK_S_OK);
	for (int i = 0; i < NR; i++)
		assert_memory_equal(drv_hva(d, rd_buf[i]), shadow + 512, 4096);
	for (int i = 0; i < NW; i++)
		memcpy(shadow + (2048 + 3 * (uint64_t)i) * 512, drv_hva(d, wr_buf[i]), 1024);
	uint8_t *img = malloc(SIZE);
	fd = open(x->path, O_RDONLY);
	assert_int_equal(pread(fd, img, SIZE, 0), SIZE);
	close(fd);
	assert_memory_equal(img, shadow, SIZE);
	assert_true(x->bu.st.bounce_waits > 0);
	assert_true(x->bu.st.rmw > 0);
	assert_true(x->bu.st.serial_waits > 0);
	/* Every request in the latency histograms; all but GET_ID through the backend. */
	assert_int_equal(lat_hist_count(&x->b.q[0].lat.total), slot);
	assert_int_equal(lat_hist_count(&x->b.q[0].lat.in_backend), slot - 1);
	assert_int_equal(lat_hist_count(&x->b.q[0].lat.to_used), slot - 1);
	if (atomic_load(&watched_allocs))
		fail_msg("the IOThread allocated %lu times while serving the guest",
			 (unsigned long)atomic_load(&watched_allocs));

	iothread_stop(x->t, 0);
	__sanitizer_install_malloc_and_free_hooks(NULL, NULL);
	blk_fx_destroy(x);
	free(x);
	free(img);
	free(shadow);
}

/*
 * size_max and seg_max (5.2.4) as advertised are enforced: a segment over
 * BLK_SIZE_MAX, or more data than BLK_SEG_MAX segments of it (reachable
 * when the header and status share data segments), completes with IOERR
 * and reaches no backend; a request at the limits works.
 */
static void test_size_limits(void **state)
{
	struct bx *b = *state;
	struct blk_fx *x = &b->x;
	struct drv *d = &x->d;
	enum { BIG_GPA = 0x10000000 };
	const uint32_t big_len = BLK_SIZE_MAX + 512;
	uint8_t *big = aligned_alloc(4096, BLK_SIZE_MAX + 4096);
	uint64_t st[2];

	/* The disk on this backend's ring and loop. */
	drv_init(d, 16);
	assert_int_equal(gmem_add(&d->mem, BIG_GPA, big_len, big), 0);
	struct blk_params p = { .capacity = SIZE / 512, .blk_size = 512, .writeback = true,
				.num_queues = 1 };
	assert_int_equal(blk_fx_start_uring(x, &p), 0);
	blk_fx_up(x, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC));

	/* One segment a sector over size_max. */
	st[0] = drv_blk_post(d, 0, VIRTIO_BLK_T_IN, 0, BIG_GPA, big_len, true);
	/* 256 segments of size_max, all on one buffer; the header is the
	 * first bytes of the first, the status the last byte of the last. */
	uint64_t tab = drv_alloc(d, DRV_TABLE_BYTES(VIRTQ_SEG_MAX), VRING_DESC_ALIGN_SIZE);
	struct virtio_blk_outhdr hdr = { .type = htole32(VIRTIO_BLK_T_IN) };
	memcpy(big, &hdr, sizeof(hdr));
	for (uint16_t i = 0; i < VIRTQ_SEG_MAX; i++)
		drv_idesc(d, tab, i, BIG_GPA, BLK_SIZE_MAX,
			  (i + 1 < VIRTQ_SEG_MAX ? VRING_DESC_F_NEXT : 0) | (i ? VRING_DESC_F_WRITE : 0),
			  (uint16_t)(i + 1));
	drv_desc(d, 1, tab, DRV_TABLE_BYTES(VIRTQ_SEG_MAX), VRING_DESC_F_INDIRECT, 0);
	drv_publish(d, 1);
	blk_fx_kick(x, 0);
	assert_int_equal(blk_fx_run_until_used(x, 2), 2);
	assert_int_equal(*(uint8_t *)drv_hva(d, st[0]), VIRTIO_BLK_S_IOERR);
	assert_int_equal(big[BLK_SIZE_MAX - 1], VIRTIO_BLK_S_IOERR);
	assert_int_equal(x->b.q[0].st.err_limit, 2);
	/* One segment of exactly size_max: fine. */
	st[1] = drv_blk_post(d, 2, VIRTIO_BLK_T_IN, 0, BIG_GPA, BLK_SIZE_MAX, true);
	blk_fx_kick(x, 0);
	assert_int_equal(blk_fx_run_until_used(x, 3), 3);
	assert_int_equal(*(uint8_t *)drv_hva(d, st[1]), VIRTIO_BLK_S_OK);
	assert_memory_equal(big, b->shadow, BLK_SIZE_MAX);
	assert_int_equal(x->b.q[0].st.err_limit, 2);
	assert_int_equal(x->b.q[0].st.reads, 1);
	assert_int_equal(drv_mmio_rd(&x->b.t, DRV_BLK_CFG(size_max)), BLK_SIZE_MAX);
	assert_int_equal(drv_mmio_rd(&x->b.t, DRV_BLK_CFG(seg_max)), BLK_SEG_MAX);
	free(big);
}

/* A disk on an IOThread whose ring refuses submits while refusals says so. */
static struct blk_fx *ix_make(void)
{
	struct blk_fx *x = calloc(1, sizeof(*x));
	struct blk_params p = { .capacity = 2048, .blk_size = 512, .writeback = true, .num_queues = 1 };

	drv_init(&x->d, 16);
	assert_int_equal(blk_fx_temp(x, "/var/tmp", 1 << 20, NULL), 0);
	assert_int_equal(blk_fx_iothread(x), 0);
	x->t->uring.submit = submit_refusing;
	assert_int_equal(blk_fx_open(x, BLK_CACHE_NONE), 0);
	assert_int_equal(blk_fx_start_uring(x, &p), 0);
	assert_int_equal(iothread_start(x->t), 0);
	blk_fx_up(x, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ULL << VIRTIO_BLK_F_FLUSH));
	return x;
}

static void ix_free(struct blk_fx *x)
{
	blk_fx_destroy(x);
	free(x);
}

static void *reset_thread(void *arg)
{
	struct blk_fx *x = arg;

	drv_mmio_wr(&x->b.t, VIRTIO_MMIO_STATUS, 0);
	return NULL;
}

/*
 * A FLUSH whose SQE the kernel refuses for a while: no other request comes,
 * yet it completes, and a device reset waiting for it finishes.
 */
static void test_reset_with_stranded_request(void **state)
{
	(void)state;
	atomic_store(&refusals, 30);
	struct blk_fx *x = ix_make();
	pthread_t th;
	struct timespec dl;

	drv_blk_post(&x->d, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	blk_fx_kick(x, 0);
	for (int i = 0; i < 1000 && !x->t->uring.pending; i++)
		usleep(100);
	/* The vCPU's reset waits for the stranded FLUSH, then ends. */
	assert_int_equal(pthread_create(&th, NULL, reset_thread, x), 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	if (pthread_timedjoin_np(th, NULL, &dl))
		fail_msg("the reset still waits for the stranded request after 10 s");
	assert_int_equal(atomic_load(&x->b.t.status), 0);
	assert_int_equal(x->b.inflight, 0);
	assert_int_equal(atomic_load(&refusals), 0);
	assert_true(x->t->uring.st.submit_retries >= 30);
	iothread_stop(x->t, 0);
	ix_free(x);
}

/* A backend that never takes it: the stop gives up at its deadline and says what was left. */
static void test_stop_bounded(void **state)
{
	(void)state;
	atomic_store(&refusals, 1 << 30);
	struct blk_fx *x = ix_make();

	drv_blk_post(&x->d, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	blk_fx_kick(x, 0);
	for (int i = 0; i < 1000 && !x->t->uring.pending; i++)
		usleep(100);
	uint64_t t0 = evloop_now_ns(NULL);
	iothread_stop(x->t, t0 + 300000000ull);
	uint64_t t1 = evloop_now_ns(NULL);
	assert_true(t1 - t0 >= 300000000ull && t1 - t0 < 3000000000ull);
	assert_true(x->t->stop_timed_out);
	assert_int_equal(x->t->left_requests, 1);
	assert_int_equal(x->t->left_unsubmitted, 1);
	assert_int_equal(x->t->left_in_kernel, 0);
	atomic_store(&refusals, 0);
	ix_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rmw_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmw_overlap_same_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_partial, setup_small_ring, teardown),
		cmocka_unit_test_setup_teardown(test_drain_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dioalign, setup, teardown),
		cmocka_unit_test(test_unaligned_size_falls_back),
		cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
		cmocka_unit_test(test_iothread_no_alloc),
		cmocka_unit_test(test_reset_with_stranded_request),
		cmocka_unit_test(test_stop_bounded),
	};
	return cmocka_run_group_tests_name("blk_bounce", tests, NULL, NULL);
}
