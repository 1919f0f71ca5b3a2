/* SPDX-License-Identifier: MIT */
/* vCPU threads: KVM_RUN and the few exits that reach userspace. */
#ifndef POLLVM_VMM_VCPU_H
#define POLLVM_VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vm;

struct vcpu_stats {
	uint64_t exits;           /* every return from KVM_RUN */
	uint64_t io;              /* KVM_EXIT_IO */
	uint64_t mmio;            /* KVM_EXIT_MMIO */
	uint64_t io_unclaimed;    /* accesses no device claimed */
	uint64_t mmio_unclaimed;
	uint64_t intr;            /* KVM_RUN interrupted by a signal */
	uint64_t other;
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct vcpu_stats st;
};

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id);
void vcpu_destroy(struct vcpu *v);
/* Registers for the boot CPU at the kernel entry (boot kind from vm->ki). */
int vcpu_setup_boot_regs(struct vcpu *v, uint64_t entry, uint64_t boot_arg);
int vcpu_start(struct vcpu *v);
/* Make the thread leave KVM_RUN (it sees vm->stopping). */
void vcpu_kick(struct vcpu *v);
/* Signal used to kick vCPUs; blocked everywhere but in vCPU threads. */
int vcpu_kick_signal(void);
/* Where a stopped vCPU was (thread joined): one line, for a guest that hung. */
void vcpu_print_state(struct vcpu *v, FILE *f);

#endif
