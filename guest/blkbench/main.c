/* SPDX-License-Identifier: MIT */
/*
 * blkbench's CPL3 entry: read the PVH start info, parse the job, find the
 * virtio-blk device, run the job, end the VM with its verdict.
 */
#include <stdarg.h>

#include "blk.h"
#include "blkbench.h"
#include "hostile.h"
#include "job.h"
#include "lib.h"
#include "opts.h"
#include "sys.h"

/* PVH start info, version 1 (Xen public/arch-x86/hvm/start_info.h). */
#define PVH_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
#define E820_RAM 1

/* Guest RAM above 3 GiB is the MMIO hole in both VMMs and mapped uncached (paging.S). */
#define HEAP_LIMIT 0xc0000000ull
/* When the start info has no memory map: assume what any useful VM has. */
#define HEAP_FALLBACK (32ull << 20)

extern char _end[];
static uint64_t heap_cur, heap_end;

void uprintf(const char *fmt, ...)
{
	static char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bb_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sys_write(buf, (unsigned long)n < sizeof(buf) ? (unsigned long)n : sizeof(buf) - 1);
}

void die(unsigned v, const char *fmt, ...)
{
	static char buf[512];
	va_list ap;
	int n;

	n = bb_snprintf(buf, sizeof(buf), "blkbench: error: ");
	va_start(ap, fmt);
	n += bb_vsnprintf(buf + n, sizeof(buf) - (unsigned)n - 1, fmt, ap);
	va_end(ap);
	if ((unsigned)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	sys_write(buf, (unsigned long)n);
	sys_exit(v);
}

void *dma_alloc_raw(uint64_t bytes, uint64_t align)
{
	uint64_t p = (heap_cur + align - 1) & ~(align - 1);

	if (p > heap_end || bytes > heap_end - p)
		return 0;
	heap_cur = p + bytes;
	return (void *)p;
}

void *dma_alloc(uint64_t bytes, uint64_t align)
{
	void *p = dma_alloc_raw(bytes, align);
	if (p)
		memset(p, 0, bytes);
	return p;
}

uint64_t dma_free_bytes(void)
{
	return heap_end - heap_cur;
}

static void heap_init(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *m = (const void *)si->memmap_paddr;

	heap_cur = (uint64_t)_end;
	heap_end = 0;
	for (uint32_t i = 0; si->memmap_paddr && i < si->memmap_entries; i++)
		if (m[i].type == E820_RAM && m[i].addr <= heap_cur && heap_cur < m[i].addr + m[i].size)
			heap_end = m[i].addr + m[i].size;
	if (!heap_end) {
		heap_end = HEAP_FALLBACK;
		uprintf("blkbench: no memory map in the start info: assuming RAM up to %lu MiB\n",
			(unsigned long)(HEAP_FALLBACK >> 20));
	}
	if (heap_end > HEAP_LIMIT)
		heap_end = HEAP_LIMIT;
}

/* The o->dev-th virtio-blk device of the command line's virtio_mmio.device= list. */
static const struct bb_mmio_dev *find_dev(const struct bb_opts *o, struct vdev *v)
{
	unsigned seen = 0;

	if (!o->nr_devs)
		die(EXIT_SETUP, "no virtio_mmio.device= on the command line (pollvm adds one per --disk, "
			       "QEMU microvm one per virtio-mmio device when acpi=off)");
	for (unsigned i = 0; i < o->nr_devs; i++) {
		const struct bb_mmio_dev *d = &o->devs[i];
		const char *why;

		if (vdev_probe(v, d->base, d->irq, &why)) {
			uprintf("blkbench: skipping %#lx: %s\n", d->base, why);
			continue;
		}
		if (v->device_id != VIRTIO_ID_BLOCK)
			continue;   /* empty slot (0) or another kind of device */
		if (seen++ == o->dev)
			return d;
	}
	die(EXIT_SETUP, "dev=%u: only %u virtio-blk device(s) found among %u virtio_mmio.device= entries",
	    o->dev, seen, o->nr_devs);
}

__attribute__((noreturn)) void user_main(uint64_t start_info);

void user_main(uint64_t start_info)
{
	const struct hvm_start_info *si = (const void *)start_info;
	static struct bb_opts o;
	static struct blkdev b;
	struct vdev v;
	const struct bb_mmio_dev *d;
	const char *cmdline, *why;
	char err[160], feats[160];

	if (!si || si->magic != PVH_START_MAGIC)
		die(EXIT_SETUP, "no PVH start info (EBX=%#lx): boot blkbench through its PVH entry", start_info);
	cmdline = si->cmdline_paddr ? (const char *)si->cmdline_paddr : "";
	if (bb_parse_opts(cmdline, &o, err, sizeof(err)))
		die(EXIT_CMDLINE, "bad command line: %s", err);
	heap_init(si);

	d = find_dev(&o, &v);
	if (blk_setup(&b, &v, &o, dma_alloc, &why))
		die(EXIT_SETUP, "virtio-blk at %#lx: %s", d->base, why);
	if (o.completion == COMPLETION_IRQ)
		sys_irq_route(d->base, d->irq);
	vdev_driver_ok(&b.v);
	blk_feature_names(&b, feats, sizeof(feats));
	uprintf("blkbench: dev %u virtio-blk at %#lx irq %u: %lu sectors (%lu MiB), %u/%u queue(s) of %u, features %s, "
		"blk_size %u size_max %u seg_max %u\n", o.dev, d->base, d->irq, b.sectors, b.sectors >> 11, b.nq,
		b.num_queues, b.q[0].num, feats, b.blk_size, b.size_max, b.seg_max);

	if (o.hostile[0]) {
		unsigned st = hostile_run(&o, &b, &v, d->base);
		if (o.idle_secs)
			idle_run(&o);
		sys_exit(st);
	}
	if (o.crash_sectors)
		crash_run(&o, &b, &v);
	int st = job_run(&o, &b);
	if (o.idle_secs)
		idle_run(&o);
	sys_exit(st);
}
