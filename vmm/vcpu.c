/* SPDX-License-Identifier: MIT */
#include "vcpu.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"
#include "../firmware/boot_tables.h"
#include "../firmware/layout.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Control register and EFER bits (Intel SDM vol. 3, 2.5 and 2.2.1). */
#define CR0_PE     (1ULL << 0)
#define CR0_ET     (1ULL << 4)
#define CR0_PG     (1ULL << 31)
#define CR4_PAE    (1ULL << 5)
#define EFER_LME   (1ULL << 8)
#define EFER_LMA   (1ULL << 10)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 0x1
/* CPUID.1:ECX bit 31: "running under a hypervisor". */
#define CPUID_1_ECX_HYPERVISOR (1U << 31)
/*
 * CPUID.1:ECX bit 24: TSC-deadline LAPIC timer.  KVM emulates it but
 * leaves it out of KVM_GET_SUPPORTED_CPUID (api.rst, KVM_CAP_TSC_DEADLINE_TIMER):
 * a VMM sets it.  With it Linux needs no LAPIC timer calibration against
 * the PIT, which is slow and, when guest time runs unevenly (nested or
 * emulated CPUs), fails and leaves the guest without timer ticks.
 */
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)
/* EFLAGS bit 1 is reserved and always set. */
#define RFLAGS_RESERVED 0x2
/* Initial stack for the 64-bit entry: below the page tables, above the zero page. */
#define BOOT_STACK 0x8ff0

int vcpu_kick_signal(void)
{
	return SIGRTMIN;
}

static int vcpu_set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *sup = v->vm->kvm.cpuid;
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, sup, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			/* EBX[31:24]: initial APIC ID, which the MP table uses too. */
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (v->vm->kvm.tsc_deadline)
				e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: EDX is the x2APIC ID. */
			e->edx = v->id;
			break;
		default:
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

static int vcpu_set_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m = {
		.hdr.nmsrs = 1,
		.e[0] = { .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
	};

	/* KVM_SET_MSRS returns how many it set; fewer is not fatal for a hint. */
	return ioctl(v->fd, KVM_SET_MSRS, &m) < 0 ? -errno : 0;
}

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id)
{
	int r;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return r;
	}
	v->run = mmap(NULL, vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		pv_err(PV_INTERNAL, "mmap of vCPU %u run area: %s", id, strerror(errno));
		goto err_close;
	}
	r = vcpu_set_cpuid(v);
	if (r) {
		pv_err(PV_INTERNAL, "KVM_SET_CPUID2 on vCPU %u: %s", id, strerror(-r));
		goto err_unmap;
	}
	vcpu_set_msrs(v);
	return 0;
err_unmap:
	munmap(v->run, vm->kvm.run_size);
err_close:
	close(v->fd);
	v->fd = -1;
	v->run = NULL;
	return r;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->kvm.run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

/* A KVM segment from one of our boot GDT descriptors. */
static struct kvm_segment seg_from_gdt(uint64_t d, uint16_t sel)
{
	return (struct kvm_segment){
		.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24),
		.limit = (uint32_t)(((d & 0xffff) | (((d >> 48) & 0xf) << 16))),
		.selector = sel,
		.type = (d >> 40) & 0xf,
		.present = (d >> 47) & 1,
		.dpl = (d >> 45) & 3,
		.db = (d >> 54) & 1,
		.s = (d >> 44) & 1,
		.l = (d >> 53) & 1,
		.g = (d >> 55) & 1,
		.avl = (d >> 52) & 1,
	};
}

static void seg_scale_limit(struct kvm_segment *s)
{
	/* KVM wants the byte limit; G=1 means 4 KiB granules. */
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

int vcpu_setup_boot_regs(struct vcpu *v, uint64_t entry, uint64_t boot_arg)
{
	struct vm *vm = v->vm;
	uint64_t gdt[BOOT_GDT_ENTRIES];
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool pvh = vm->ki.boot == BOOT_PVH;

	boot_gdt_write(vm->ram, gdt);
	if (!pvh)
		boot_pagetables_write(vm->ram);

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	uint16_t cs_sel = pvh ? BOOT_CS32_SEL : BOOT_CS64_SEL;
	struct kvm_segment cs = seg_from_gdt(gdt[cs_sel / 8], cs_sel);
	struct kvm_segment ds = seg_from_gdt(gdt[BOOT_DS_SEL / 8], BOOT_DS_SEL);
	struct kvm_segment tr = seg_from_gdt(gdt[BOOT_TSS_SEL / 8], BOOT_TSS_SEL);
	seg_scale_limit(&cs);
	seg_scale_limit(&ds);
	seg_scale_limit(&tr);
	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.tr = tr;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	/* A non-empty limit, so an early crash is not mistaken for reboot=t. */
	sregs.idt.base = BOOT_IDT_ADDR;
	sregs.idt.limit = 7;
	if (pvh) {
		/* PVH ABI: 32-bit protected mode, paging off. */
		sregs.cr0 = CR0_PE | CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
	} else {
		/* boot.rst 64-bit protocol: long mode, identity paging. */
		sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
		sregs.cr3 = BOOT_PML4_ADDR;
		sregs.cr4 = CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = RFLAGS_RESERVED;
	regs.rip = entry;
	if (pvh) {
		regs.rbx = boot_arg;     /* hvm_start_info */
	} else {
		regs.rsi = boot_arg;     /* zero page */
		regs.rsp = regs.rbp = BOOT_STACK;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	bool ok = true;

	v->st.io++;
	/* String I/O (rep ins/outs) arrives as count back-to-back items. */
	for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			ok &= bus_write(&v->vm->pio, run->io.port, p, run->io.size);
		else
			ok &= bus_read(&v->vm->pio, run->io.port, p, run->io.size);
	}
	if (!ok)
		v->st.unclaimed_io++;
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	bool ok;

	v->st.mmio++;
	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (run->mmio.is_write)
		ok = bus_write(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		ok = bus_read(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	if (!ok)
		v->st.unclaimed_mmio++;
}

/*
 * Linux's reboot=t loads an empty IDT (limit 0) and faults on purpose:
 * a reset, not a crash.  VMX reports it as a triple fault; a KVM that
 * emulates guest kernel code (PVM) may give up delivering the exception
 * and report an emulation failure instead.
 */
static bool vcpu_idt_empty(const struct kvm_sregs *sregs)
{
	return sregs->idt.limit == 0;
}

/*
 * On SVM, KVM reinitialises the VMCB when it intercepts a shutdown
 * (svm.c, shutdown_interception): by the time we see KVM_EXIT_SHUTDOWN
 * the vCPU is already at the reset vector, and the faulting state is gone.
 */
static bool vcpu_state_is_reset(const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	return regs->rip == 0xfff0 && sregs->cs.base == 0xffff0000;
}

static void vcpu_handle_shutdown(struct vcpu *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_GET_REGS, &regs) < 0) {
		vm_request_exit(v->vm, EXIT_GUEST_CRASH, "guest triple fault on vCPU %u", v->id);
		return;
	}
	if (vcpu_state_is_reset(&regs, &sregs))
		vm_request_exit(v->vm, EXIT_GUEST_CRASH,
				"guest triple fault on vCPU %u (KVM reset the vCPU before reporting it, "
				"as on SVM: RIP unknown; for a guest reboot use reboot=k)", v->id);
	else if (vcpu_idt_empty(&sregs))
		vm_request_exit(v->vm, EXIT_GUEST_RESET, "guest reset (triple fault on an empty IDT)");
	else
		vm_request_exit(v->vm, EXIT_GUEST_CRASH, "guest triple fault on vCPU %u, RIP 0x%llx",
				v->id, (unsigned long long)regs.rip);
}

static void vcpu_handle_internal_error(struct vcpu *v)
{
	struct kvm_sregs sregs;

	if (v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0 && vcpu_idt_empty(&sregs))
		vm_request_exit(v->vm, EXIT_GUEST_RESET, "guest reset (fault on an empty IDT)");
	else
		vm_request_exit(v->vm, EXIT_GUEST_CRASH, "KVM internal error %u on vCPU %u, RIP 0x%llx",
				v->run->internal.suberror, v->id, (unsigned long long)vcpu_rip(v));
}

static void vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		break;
	case KVM_EXIT_INTR:
		v->st.intr++;
		break;
	case KVM_EXIT_SHUTDOWN:
		vcpu_handle_shutdown(v);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		v->st.other++;
		if (run->system_event.type == KVM_SYSTEM_EVENT_CRASH)
			vm_request_exit(v->vm, EXIT_GUEST_CRASH, "guest reported a crash (vCPU %u)", v->id);
		else
			vm_request_exit(v->vm, EXIT_GUEST_RESET, "guest system event %u", run->system_event.type);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		v->st.other++;
		vcpu_handle_internal_error(v);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		v->st.other++;
		vm_request_exit(v->vm, EXIT_GUEST_CRASH, "KVM entry failed (reason 0x%llx) on vCPU %u, RIP 0x%llx",
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
				v->id, (unsigned long long)vcpu_rip(v));
		break;
	default:
		/* With an in-kernel irqchip and no optional exits enabled, KVM has
		 * no other reason to hand us: pollvm does not know what to do. */
		v->st.other++;
		vm_request_exit(v->vm, EXIT_INTERNAL, "KVM exit %u on vCPU %u, RIP 0x%llx, which pollvm "
				"does not handle", run->exit_reason, v->id, (unsigned long long)vcpu_rip(v));
		break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	/* Only vCPU threads take the kick signal, so it always lands on us. */
	sigemptyset(&set);
	sigaddset(&set, vcpu_kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	if (vm->cfg->vcpu_pinned) {
		cpu_set_t cpus;
		CPU_ZERO(&cpus);
		CPU_SET((int)vm->cfg->vcpu_cpu[v->id], &cpus);
		if (pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus)) {
			vm_request_exit(vm, EXIT_INTERNAL, "vCPU %u: cannot pin to CPU %u", v->id,
					vm->cfg->vcpu_cpu[v->id]);
			return NULL;
		}
	}

	/* From here on the guest runs: only the system calls a vCPU needs. */
	int fds[2] = { v->fd, vm->kvm.vm_fd };
	int r = sandbox_apply(SANDBOX_VCPU, fds, 2);
	if (r) {
		vm_request_exit(vm, EXIT_INTERNAL, "vCPU %u: cannot install its seccomp filter: %s",
				v->id, strerror(-r));
		return NULL;
	}

	if (v->id == 0)
		clock_gettime(CLOCK_MONOTONIC, &vm->t_first_run);
	while (!atomic_load(&vm->stopping)) {
		r = ioctl(v->fd, KVM_RUN, 0);
		v->st.exits++;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->st.intr++;
				continue;
			}
			vm_request_exit(vm, EXIT_INTERNAL, "KVM_RUN on vCPU %u: %s", v->id, strerror(errno));
			break;
		}
		vcpu_handle_exit(v);
	}
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only here to make KVM_RUN return -EINTR */
}

static void vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(vcpu_kick_signal(), &sa, NULL); /* no SA_RESTART */
}

int vcpu_start(struct vcpu *v)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int r;

	pthread_once(&once, vcpu_install_kick_handler);
	r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (r)
		return -r;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	/* immediate_exit covers the window before the thread enters KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, vcpu_kick_signal());
}

/* KVM_GET_MP_STATE values (Documentation/virt/kvm/api.rst, 4.38). */
static const char *vcpu_mp_state_name(uint32_t s)
{
	switch (s) {
	case KVM_MP_STATE_RUNNABLE:      return "runnable";
	case KVM_MP_STATE_UNINITIALIZED: return "uninitialized";
	case KVM_MP_STATE_INIT_RECEIVED: return "init_received";
	case KVM_MP_STATE_HALTED:        return "halted";
	case KVM_MP_STATE_SIPI_RECEIVED: return "sipi_received";
	default:                         return "other";
	}
}

void vcpu_print_state(struct vcpu *v, FILE *f)
{
	struct kvm_mp_state mp = { .mp_state = UINT32_MAX };
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		fprintf(f, "pollvm: vcpu%u at stop: cannot read its registers: %s\n", v->id,
			strerror(errno));
		return;
	}
	/* Without an in-kernel irqchip there is no MP state: say "other". */
	(void)ioctl(v->fd, KVM_GET_MP_STATE, &mp);
	/* A hung guest's RIPs, looked up in its vmlinux (addr2line -f), say where it hung. */
	fprintf(f, "pollvm: vcpu%u at stop: rip=0x%llx rsp=0x%llx rflags=0x%llx cs=0x%x cr0=0x%llx "
		   "cr3=0x%llx mp_state=%s\n",
		v->id, (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
		(unsigned long long)regs.rflags, sregs.cs.selector, (unsigned long long)sregs.cr0,
		(unsigned long long)sregs.cr3, vcpu_mp_state_name(mp.mp_state));
}
