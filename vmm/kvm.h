/* SPDX-License-Identifier: MIT */
/* /dev/kvm and the VM file descriptor: what the rest of vmm builds on. */
#ifndef POLLVM_VMM_KVM_H
#define POLLVM_VMM_KVM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

struct kvm {
	int sys_fd;                 /* /dev/kvm */
	int vm_fd;
	size_t run_size;            /* KVM_GET_VCPU_MMAP_SIZE */
	struct kvm_cpuid2 *cpuid;   /* KVM_GET_SUPPORTED_CPUID */
	int nr_slots;               /* KVM_CAP_NR_MEMSLOTS */
	unsigned slots_used;
	int tsc_deadline;           /* KVM_CAP_TSC_DEADLINE_TIMER */
};

/*
 * Open /dev/kvm, check the API version and every capability pollvm
 * relies on, create the VM with an in-kernel IOAPIC/PIC/LAPIC and PIT.
 * On failure prints one line naming the problem and returns -errno
 * (-ENOENT/-EACCES for a missing or forbidden /dev/kvm).
 */
int kvm_create(struct kvm *k);
void kvm_destroy(struct kvm *k);

int kvm_set_memory(struct kvm *k, uint64_t gpa, uint64_t size, void *hva);
/* Drive an in-kernel irqchip input (GSI) to level. */
int kvm_irq_line(struct kvm *k, unsigned gsi, int level);

#endif
