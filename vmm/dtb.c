/* SPDX-License-Identifier: MIT */
#include "dtb.h"
#include "log.h"
#include "vm.h"
#include "../firmware/fdt.h"
#include "../firmware/layout.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The entry must not reach the command line below it or the EBDA (MP table
 * in cmdline mode, e820-reserved) above it. */
_Static_assert(FDT_SETUP_ADDR >= CMDLINE_ADDR + CMDLINE_MAX, "setup_data overlaps the command line");
_Static_assert(FDT_SETUP_ADDR + FDT_SETUP_MAX <= EBDA_START, "setup_data overlaps the EBDA");
/* libfdt wants the blob 8-byte aligned (FDT_ERR_ALIGNMENT); the header is 16 bytes. */
_Static_assert(((FDT_SETUP_ADDR + sizeof(struct setup_data)) & 7) == 0, "tree not 8-byte aligned");
_Static_assert(FDT_MAX_DISKS >= CONFIG_MAX_DISKS, "every disk fits in the tree");

int dtb_build(const struct vm *vm, void *buf, size_t cap)
{
	struct fdt_disk disks[CONFIG_MAX_DISKS];
	struct fdt_machine m = {
		.mem_low = vm->low_size,
		.mem_high = vm->high_size,
		.ncpus = vm->nr_vcpus,
		.disks = disks,
		.ndisks = vm->disks.nr,
	};

	for (unsigned i = 0; i < vm->disks.nr; i++)
		disks[i] = (struct fdt_disk){ .base = vm->disks.d[i].base, .size = VIRTIO_MMIO_SIZE,
					      .gsi = vm->disks.d[i].gsi };
	return fdt_machine_build(buf, cap, &m);
}

int dtb_dump(const struct vm *vm, const char *path)
{
	size_t cap = FDT_SETUP_MAX - sizeof(struct setup_data);
	void *buf = malloc(cap);
	int fd, n, r = 0;

	if (!buf) {
		pv_err(PV_INTERNAL, "--dump-dtb: out of memory");
		return -ENOMEM;
	}
	n = dtb_build(vm, buf, cap);
	if (n < 0) {
		pv_err(PV_INTERNAL, "--dump-dtb: cannot build the device tree: %s", strerror(-n));
		free(buf);
		return n;
	}
	/* Cleared first: a short write leaves errno alone, and open's must survive. */
	errno = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) < 0) {
		r = errno ? -errno : -EIO;
		pv_err(PV_INPUT, "--dump-dtb %s: %s", path, strerror(-r));
		if (fd >= 0)
			unlink(path);
	}
	free(buf);
	return r;
}

int dtb_place(struct vm *vm, uint64_t *gpa)
{
	struct setup_data *sd = (struct setup_data *)(vm->ram + FDT_SETUP_ADDR);
	int n;

	n = dtb_build(vm, sd->data, FDT_SETUP_MAX - sizeof(*sd));
	if (n < 0) {
		pv_err(PV_INTERNAL, "device tree: %s (at most %llu bytes at 0x%llx)", strerror(-n),
		       (unsigned long long)(FDT_SETUP_MAX - sizeof(*sd)),
		       (unsigned long long)FDT_SETUP_ADDR);
		return n;
	}
	/* A one-entry chain: Linux parse_setup_data() walks next until 0. */
	sd->next = 0;
	sd->type = SETUP_DTB;
	sd->len = (uint32_t)n;
	*gpa = FDT_SETUP_ADDR;
	return 0;
}
