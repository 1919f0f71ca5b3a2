/* SPDX-License-Identifier: MIT */
#include "disks.h"
#include "log.h"
#include "vm.h"
#include "../firmware/layout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * IOAPIC pins for virtio-mmio devices: the ISA lines no platform device
 * uses (0 timer, 1 keyboard, 2 cascade, 3/4 serial, 8 RTC), then 16-23.
 * The MP table declares every pin edge-triggered, active high (ISA bus
 * default), which is what an irqfd without a resample fd delivers.
 */
static const unsigned disk_gsis[] = { 5, 6, 7, 9, 10, 11, 12, 13, 14, 15,
				      16, 17, 18, 19, 20, 21, 22, 23 };

_Static_assert(CONFIG_MAX_DISKS <= sizeof(disk_gsis) / sizeof(disk_gsis[0]), "IRQ per disk");
_Static_assert(CONFIG_MAX_DISKS <= VIRTIO_MMIO_MAX, "MMIO slot per disk");

int disks_open(struct vm_disks *ds, const struct config *cfg)
{
	memset(ds, 0, sizeof(*ds));
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		struct vm_disk *d = &ds->d[i];
		const struct disk_cfg *c = &cfg->disks[i];
		int r;

		d->cfg = c;
		d->irqfd = -1;
		for (unsigned q = 0; q < BLK_MAX_QUEUES; q++)
			d->kick_fds[q] = -1;
		snprintf(d->name, sizeof(d->name), "vd%c", 'a' + i);
		d->base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE;
		d->gsi = disk_gsis[i];
		if (c->null)
			r = blk_file_open_null(&d->file, c->size, c->ro, c->read_zeroes,
					       c->logical_block_size);
		else
			r = blk_file_open(&d->file, c->path, c->ro,
					  c->cache == DISK_CACHE_NONE ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK,
					  c->logical_block_size);
		if (r)
			return r;
		d->file_open = true;
		ds->nr++;
		if (d->file.direct_refused)
			pv_info("%s: %s refuses O_DIRECT: cache=none falls back to the page cache",
				d->name, c->path);
		if (d->file.direct_unaligned_size)
			pv_info("%s: the size of %s is not a multiple of its direct-I/O alignment (%u): "
				"cache=none falls back to the page cache", d->name, c->path, d->file.off_align);
		if (d->file.direct && c->logical_block_size < d->file.off_align)
			pv_info("%s: logical block size %u is smaller than the direct-I/O alignment %u of %s: "
				"writes not aligned to %u bytes cost a read-modify-write",
				d->name, c->logical_block_size, d->file.off_align, c->path, d->file.off_align);
		if (c->serial) {
			snprintf(d->serial, sizeof(d->serial), "%s", c->serial);
		} else if (c->null) {
			snprintf(d->serial, sizeof(d->serial), "pvnull-vd%c", 'a' + i);
		} else {
			/* Derived from the file's identity: stable across runs, 20 bytes. */
			struct stat st;
			fstat(d->file.fd, &st);
			snprintf(d->serial, sizeof(d->serial), "pv%06llx%012llx",
				 (unsigned long long)st.st_dev & 0xffffff,
				 (unsigned long long)st.st_ino & 0xffffffffffffULL);
		}
	}
	return 0;
}

int disks_cmdline(const struct vm_disks *ds, struct cmdline *c)
{
	for (unsigned i = 0; i < ds->nr; i++) {
		/* Linux virtio_mmio.c vm_cmdline_set(): <size>@<base>:<irq> */
		if (cmdline_appendf(c, "virtio_mmio.device=%llu@0x%llx:%u",
				    (unsigned long long)VIRTIO_MMIO_SIZE,
				    (unsigned long long)ds->d[i].base, ds->d[i].gsi))
			return -E2BIG;
	}
	return 0;
}

static struct iothread *disks_iothread_for(struct vm_disks *ds, const struct config *cfg,
					   const char *id)
{
	/* ds->t[0 .. nr_iothreads-1] are the named ones, the last the default. */
	for (unsigned i = 0; id && i < cfg->nr_iothreads; i++)
		if (!strcmp(cfg->iothreads[i].id, id))
			return &ds->t[i];
	return &ds->t[cfg->nr_iothreads];
}

/* physical-block-size=, else the host's direct-I/O alignment; never below the logical size. */
static uint32_t disk_phys_size(const struct vm_disk *d)
{
	uint32_t p = d->cfg->physical_block_size;

	if (!p)
		p = d->file.direct ? d->file.off_align : d->cfg->logical_block_size;
	return p < d->cfg->logical_block_size ? d->cfg->logical_block_size : p;
}

/*
 * Kicks: one eventfd per queue, registered on QueueNotify.  With a single
 * queue a zero-length ioeventfd without datamatch matches any write to
 * the register, which is what lets VMX handle it on the fast-MMIO path
 * (no instruction decode); with several queues each needs its datamatch.
 */
static int disk_wire_kicks(struct vm_disk *d, struct vm *vm, unsigned nq)
{
	bool any_len = ioctl(vm->kvm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;

	for (unsigned q = 0; q < nq; q++) {
		struct kvm_ioeventfd io = {
			.addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.fd = d->kick_fds[q],
		};
		if (nq == 1 && any_len) {
			io.len = 0;
			d->ioeventfd_kind = "any-length";
		} else {
			io.len = 4;
			io.datamatch = q;
			io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
			d->ioeventfd_kind = "datamatch";
		}
		if (ioctl(vm->kvm.vm_fd, KVM_IOEVENTFD, &io) < 0) {
			int r = -errno;
			pv_err(PV_INTERNAL, "%s: KVM_IOEVENTFD on queue %u: %s", d->name, q, strerror(errno));
			return r;
		}
	}
	return 0;
}

int disks_create(struct vm_disks *ds, struct vm *vm)
{
	const struct config *cfg = vm->cfg;
	int r;

	if (ds->nr == 0)
		return 0;
	/* The named IOThreads, then the default one (only started if used). */
	for (unsigned i = 0; i <= cfg->nr_iothreads; i++) {
		struct iothread_cfg dflt;
		iothread_cfg_default(&dflt, "default");
		r = iothread_init(&ds->t[i], i < cfg->nr_iothreads ? &cfg->iothreads[i] : &dflt);
		if (r)
			return r;
		ds->nr_t++;
	}

	for (unsigned i = 0; i < ds->nr; i++) {
		struct vm_disk *d = &ds->d[i];
		unsigned nq = d->cfg->num_queues;

		/* Queue q on the (q mod n)-th IOThread the disk names. */
		for (unsigned q = 0; q < nq; q++)
			d->tq[q] = disks_iothread_for(ds, cfg, d->cfg->nr_iothread_ids ?
						      d->cfg->iothread_ids[q % d->cfg->nr_iothread_ids] : NULL);
		d->t = d->tq[0];
		d->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->irqfd < 0) {
			r = -errno;
			pv_err(PV_INTERNAL, "%s: eventfd for its interrupt: %s", d->name, strerror(errno));
			return r;
		}
		for (unsigned q = 0; q < nq; q++) {
			d->kick_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (d->kick_fds[q] < 0) {
				r = -errno;
				pv_err(PV_INTERNAL, "%s: eventfd for queue %u's kicks: %s", d->name, q,
				       strerror(errno));
				return r;
			}
		}
		d->nr_on = d->cfg->nr_iothread_ids > 1 ? d->cfg->nr_iothread_ids : 1;
		if (d->nr_on > nq)
			d->nr_on = nq;
		for (unsigned k = 0; k < d->nr_on; k++)
			blk_uring_bind(&d->on[k], &d->file, &d->tq[k]->uring);
		struct blk_params p = {
			.capacity = d->file.size / VIRTIO_BLK_SECTOR,
			/* The guest's geometry is the disk's setting wherever the
			 * image lives; only the physical hint follows the host. */
			.blk_size = d->cfg->logical_block_size,
			.phys_size = disk_phys_size(d),
			.ro = d->cfg->ro,
			.discard = d->file.can_punch && !d->cfg->ro,
			.write_zeroes = d->file.can_punch && !d->cfg->ro,
			.writeback = true,
			.num_queues = nq,
			.serial = d->serial,
		};
		r = blk_init(&d->blk, d->name, &p, &vm->mem, d->irqfd, d->kick_fds,
			     &blk_uring_ops, &d->on[0]);
		if (r) {
			pv_err(PV_INTERNAL, "%s: cannot create the virtio-blk device: %s", d->name, strerror(-r));
			return r;
		}
		d->blk_ready = true;
		for (unsigned q = 0; q < nq; q++) {
			r = blk_attach_queue(&d->blk, q, &d->tq[q]->loop, &d->on[q % d->nr_on]);
			if (r) {
				pv_err(PV_INTERNAL, "%s: queue %u on IOThread %s: %s", d->name, q,
				       d->tq[q]->id, strerror(-r));
				return r;
			}
		}
		r = bus_register(&vm->mmio, d->base, VIRTIO_MMIO_SIZE, &virtio_mmio_bus_ops,
				 &d->blk.t, d->name);
		if (r) {
			pv_err(PV_INTERNAL, "internal error: registering %s's MMIO range: %s", d->name,
			       strerror(-r));
			return r;
		}
		r = disk_wire_kicks(d, vm, nq);
		if (r)
			return r;
		struct kvm_irqfd irqfd = { .fd = (uint32_t)d->irqfd, .gsi = d->gsi };
		if (ioctl(vm->kvm.vm_fd, KVM_IRQFD, &irqfd) < 0) {
			r = -errno;
			pv_err(PV_INTERNAL, "%s: KVM_IRQFD on GSI %u: %s", d->name, d->gsi, strerror(errno));
			return r;
		}
	}
	return 0;
}

static bool disks_iothread_used(const struct vm_disks *ds, const struct iothread *t)
{
	for (unsigned i = 0; i < ds->nr; i++)
		for (unsigned q = 0; q < ds->d[i].blk.nr_queues; q++)
			if (ds->d[i].tq[q] == t)
				return true;
	return false;
}

int disks_start(struct vm_disks *ds)
{
	for (unsigned i = 0; i < ds->nr_t; i++) {
		if (!disks_iothread_used(ds, &ds->t[i]) && i == ds->nr_t - 1)
			continue; /* the default IOThread serves nobody */
		int r = iothread_start(&ds->t[i]);
		if (r) {
			pv_err(PV_INTERNAL, "cannot start IOThread %s: %s%s", ds->t[i].id, strerror(-r),
			       r == -EPERM || r == -EINVAL ? " (installing its seccomp filter; --sandbox off to debug)" : "");
			return r;
		}
	}
	return 0;
}

int disks_stop(struct vm_disks *ds, uint64_t deadline_ns, double bound_s)
{
	int r = 0;

	for (unsigned i = 0; i < ds->nr_t; i++) {
		struct iothread *t = &ds->t[i];
		iothread_stop(t, deadline_ns);
		if (t->stop_timed_out) {
			pv_warn("stop: IOThread %s: %u requests not completed after %g s (%u SQEs not "
				"taken by the kernel, %u in the kernel); its disks were not flushed",
				t->id, t->left_requests, bound_s, t->left_unsubmitted, t->left_in_kernel);
			r = -ETIMEDOUT;
		}
	}
	/* What the guest wrote without a FLUSH reaches the disk too: each
	 * disk's teardown, once its IOThreads are done with it. */
	for (unsigned i = 0; i < ds->nr; i++) {
		struct vm_disk *d = &ds->d[i];
		bool done = true;
		for (unsigned k = 0; k < d->nr_on; k++)
			done &= !d->tq[k]->stop_timed_out;
		if (!done)
			continue;
		int e = blk_file_flush(&d->file);
		if (e)
			pv_warn("%s: flushing %s at exit: %s", d->name, d->cfg->path, strerror(-e));
	}
	return r;
}

void disks_destroy(struct vm_disks *ds)
{
	for (unsigned i = 0; i < CONFIG_MAX_DISKS; i++) {
		struct vm_disk *d = &ds->d[i];
		if (d->blk_ready)
			blk_destroy(&d->blk);
		if (d->file_open)
			blk_file_close(&d->file);
		for (unsigned q = 0; q < BLK_MAX_QUEUES; q++)
			if (d->kick_fds[q] > 0)
				close(d->kick_fds[q]);
		if (d->irqfd > 0)
			close(d->irqfd);
		d->blk_ready = d->file_open = false;
	}
	for (unsigned i = 0; i < ds->nr_t; i++)
		iothread_destroy(&ds->t[i]);
	ds->nr_t = 0;
}
