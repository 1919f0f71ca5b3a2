/* SPDX-License-Identifier: MIT */
/* vCPU threads: KVM_RUN and the few exits that reach userspace. */
#ifndef POLLVM_VMM_VCPU_H
#define POLLVM_VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"

struct vm;

/* Returns from KVM_RUN, by kind (docs/counters.md, counters.h). */
#define VCPU_STATS(C, M) \
	C(exits)                /* every return from KVM_RUN */ \
	C(io)                   /* KVM_EXIT_IO */ \
	C(mmio)                 /* KVM_EXIT_MMIO */ \
	C(unclaimed_io)         /* KVM_EXIT_IO no device claimed */ \
	C(unclaimed_mmio)       /* KVM_EXIT_MMIO no device claimed */ \
	C(intr)                 /* KVM_RUN interrupted by a signal */ \
	C(other)                /* any other exit */

struct vcpu_stats {
	COUNTER_FIELDS(VCPU_STATS)
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
