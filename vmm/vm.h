/* SPDX-License-Identifier: MIT */
/* One virtual machine: memory, buses, devices, vCPUs, and how it ends. */
#ifndef POLLVM_VMM_VM_H
#define POLLVM_VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "config.h"
#include "disks.h"
#include "guest_mem.h"
#include "kvm.h"
#include "loader.h"
#include "../devices/cmos.h"
#include "../devices/sysdev.h"
#include "../devices/uart8250.h"

struct vcpu;

struct vm {
	const struct config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	uint8_t *ram;            /* one mapping: low RAM, then high RAM */
	uint64_t ram_size, low_size, high_size;
	struct bus pio, mmio;

	struct uart8250 uart;
	struct cmos cmos;
	struct sysdev sysdev;

	struct vm_disks disks;

	struct vcpu *vcpus;
	unsigned nr_vcpus;

	/* The kernel and initrd files, read and checked before KVM is touched. */
	uint8_t *kernel_img;
	size_t kernel_len;
	struct kernel_info ki;
	uint8_t *initrd_img;
	size_t initrd_len;

	/* How the VM ends: the first vm_request_exit() wins. */
	atomic_int exit_claimed;
	int exit_status;
	char exit_why[160];
	int exit_efd;            /* eventfd the main thread waits on */
	atomic_bool stopping;    /* vCPUs leave KVM_RUN and do not re-enter */

	struct timespec t_start;      /* main() entry */
	struct timespec t_first_run;  /* first KVM_RUN of vCPU 0 */
	atomic_bool marker_seen;
	unsigned stats_seq;          /* --stats files written so far (snapshots, then final) */
	double marker_ms;
};

double ts_ms_between(const struct timespec *a, const struct timespec *b);

/*
 * Read and check the files named in cfg, and everything about them the
 * user controls, before KVM is touched.  Like vm_create(): 0, or -errno
 * after one pv_err() line that says whose the failure is (log.h).
 */
int vm_prepare(struct vm *vm, const struct config *cfg);
/* Create KVM objects, memory, devices, vCPUs; load the kernel. */
int vm_create(struct vm *vm);
/* Run until the guest or a signal ends it; returns the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Any thread: end the VM with status (first caller wins: true for it). */
bool vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
