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
 * On failure prints one pv_err() line naming the problem and returns
 * -errno: PV_INPUT when the host has no usable KVM (missing, forbidden,
 * too old, lacking a capability), PV_INTERNAL when an ioctl of a usable
 * one fails.
 */
int kvm_create(struct kvm *k);
void kvm_destroy(struct kvm *k);

/* How many vCPUs one VM may have. */
int kvm_max_vcpus(const struct kvm *k);
int kvm_set_memory(struct kvm *k, uint64_t gpa, uint64_t size, void *hva);
/* Drive an in-kernel irqchip input (GSI) to level. */
int kvm_irq_line(struct kvm *k, unsigned gsi, int level);

#endif
