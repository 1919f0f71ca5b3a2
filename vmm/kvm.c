/* SPDX-License-Identifier: MIT */
#include "kvm.h"
#include "log.h"
#include "../firmware/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Everything the VMM uses, with why. A missing one is named in the error. */
static const struct { int cap; const char *name; } required_caps[] = {
	{ KVM_CAP_USER_MEMORY,    "KVM_CAP_USER_MEMORY (guest RAM from our mmap)" },
	{ KVM_CAP_IRQCHIP,        "KVM_CAP_IRQCHIP (in-kernel IOAPIC/PIC/LAPIC)" },
	{ KVM_CAP_PIT2,           "KVM_CAP_PIT2 (in-kernel PIT for TSC calibration)" },
	{ KVM_CAP_EXT_CPUID,      "KVM_CAP_EXT_CPUID (KVM_GET_SUPPORTED_CPUID)" },
	{ KVM_CAP_SET_TSS_ADDR,   "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_IOEVENTFD,      "KVM_CAP_IOEVENTFD (guest kicks without exits)" },
	{ KVM_CAP_IRQFD,          "KVM_CAP_IRQFD (interrupts from the IOThread)" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT (clean vCPU stop)" },
};

static int kvm_get_cpuid(struct kvm *k)
{
	/* KVM answers E2BIG until the buffer is large enough. */
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			k->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return -errno;
	}
	return -E2BIG;
}

int kvm_create(struct kvm *k)
{
	int r, v;

	memset(k, 0, sizeof(*k));
	k->vm_fd = -1;
	/*
	 * A host without a usable /dev/kvm is the user's to fix (bad input):
	 * no device, no permission, or a KVM that lacks what pollvm needs.
	 * Running out of file descriptors or memory opening it is not.
	 */
	k->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			pv_err(PV_INPUT, "/dev/kvm does not exist: this machine has no KVM "
			       "(see docs/testing.md: the nested test host)");
		else if (r == -EACCES || r == -EPERM)
			pv_err(PV_INPUT, "/dev/kvm: permission denied (run as root or join the kvm group)");
		else if (r == -EMFILE || r == -ENFILE || r == -ENOMEM)
			pv_err(PV_INTERNAL, "/dev/kvm: %s", strerror(-r));
		else
			pv_err(PV_INPUT, "/dev/kvm: %s%s", strerror(-r),
			       r == -ENXIO || r == -ENODEV ? " (is the kvm module loaded?)" : "");
		return r;
	}
	v = ioctl(k->sys_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		pv_err(PV_INPUT, "/dev/kvm speaks KVM API version %d, pollvm needs %d", v, KVM_API_VERSION);
		r = -EINVAL;
		goto err;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(k->sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			pv_err(PV_INPUT, "this KVM lacks %s", required_caps[i].name);
			r = -ENOTSUP;
			goto err;
		}
	}
	/* From here on the KVM is usable: a failing ioctl is pollvm's problem. */
	k->nr_slots = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	k->tsc_deadline = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	r = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0) {
		pv_err(PV_INTERNAL, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		r = -EINVAL;
		goto err;
	}
	k->run_size = (size_t)r;
	r = kvm_get_cpuid(k);
	if (r) {
		pv_err(PV_INTERNAL, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-r));
		goto err;
	}

	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "KVM_CREATE_VM: %s", strerror(errno));
		goto err;
	}
	/* VMX needs three pages for real-mode emulation; harmless elsewhere. */
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto err;
	}
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto err;
	}
	struct kvm_pit_config pit = { .flags = 0 };
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "KVM_CREATE_PIT2: %s", strerror(errno));
		goto err;
	}
	return 0;
err:
	kvm_destroy(k);
	return r;
}

void kvm_destroy(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	free(k->cpuid);
	k->cpuid = NULL;
	k->vm_fd = k->sys_fd = -1;
}

int kvm_set_memory(struct kvm *k, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region m = {
		.slot = k->slots_used,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (k->nr_slots > 0 && (int)k->slots_used >= k->nr_slots)
		return -ENOSPC;
	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		return -errno;
	k->slots_used++;
	return 0;
}

int kvm_max_vcpus(const struct kvm *k)
{
	/* api.rst, KVM_CREATE_VCPU: KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS, else 4. */
	int n = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? n : 4;
}

int kvm_irq_line(struct kvm *k, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	return ioctl(k->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}
