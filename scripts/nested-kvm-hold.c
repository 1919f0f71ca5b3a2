/*
 * nested-kvm-hold: keep one KVM VM (irqchip + one vCPU) open for the whole
 * life of the nested test host's L1, so that L1's kernel never patches its
 * own hot code when our tests create and destroy their VMs.
 *
 * Why: KVM flips kernel static keys when the first VM appears and the last
 * one goes (preempt_notifier_key, whose sites are in __schedule and
 * finish_task_switch; apic_sw_disabled with the first LAPIC; and it enables
 * and disables SVM on every CPU by IPI).  Each flip rewrites live kernel
 * text with the INT3 protocol of text_poke_bp().  Under QEMU's
 * multi-threaded TCG that cross-modifying code wedges L1 now and then:
 * seen here, one CPU kept taking the INT3 at __schedule+0x2ab (the
 * preempt-notifier branch) with its runqueue lock held and interrupts off,
 * long after the patch was done, the other spun on that lock in
 * try_to_wake_up: no timer, no console, nothing but the host's timeout.
 * 300 VM create/destroy cycles in L1 hung after 1 and after 29; with this
 * holder running, 300 of 300 passed (and faster: no re-patching, no SVM
 * enable/disable IPIs per VM).  With one VM always open the counts never
 * drop to zero, so the keys never flip.
 *
 * The kvm:* tracepoints are the same story when perf attaches to a VM that
 * is already running (scripts/trace-exits --pid): perf's first event on a
 * tracepoint registers its probe, which enables the tracepoint's static key
 * and retargets its static call, patching sites such as trace_kvm_entry
 * that L1's CPU running the vCPU executes with interrupts off right before
 * VMRUN; the last event going patches them back.  Seen in CI under
 * t_trace_exits_attach: one CPU of L1 stopped taking interrupts ("timer
 * wakeup didn't happen" for it), then a perf on the other soft-locked
 * waiting on it.  So the holder also opens one disabled perf event (CPU 0,
 * no buffer, nothing recorded) on every kvm:* tracepoint: perf's probe
 * stays registered, and later perf sessions only add events to it.
 *
 * Built static by scripts/nested-host into L1's initramfs (no libc there);
 * L1's init starts it before the command.  It prints one line once the VM
 * and the tracepoint events exist and then sleeps until L1 powers off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KVM_EVENTS "/sys/kernel/tracing/events/kvm"

static int fail(const char *what)
{
	fprintf(stderr, "nested-kvm-hold: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Open a disabled CPU-0 perf event on each tracepoint under KVM_EVENTS;
 * the number held, or -errno when the directory cannot be read. */
static int hold_tracepoints(void)
{
	struct perf_event_attr attr;
	struct dirent *de;
	char path[512];
	int held = 0;
	DIR *dir;

	dir = opendir(KVM_EVENTS);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		unsigned long long id;
		FILE *f;
		int ok;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), KVM_EVENTS "/%s/id", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;	/* "enable", "filter": not events */
		ok = fscanf(f, "%llu", &id) == 1;
		fclose(f);
		if (!ok)
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.type = PERF_TYPE_TRACEPOINT;
		attr.size = sizeof(attr);
		attr.config = id;
		attr.disabled = 1;
		/* pid -1, cpu 0: system-wide on one CPU; never enabled, never mmapped. */
		if (syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC) >= 0)
			held++;
		else
			fprintf(stderr, "nested-kvm-hold: perf_event_open kvm:%s: %s\n", de->d_name, strerror(errno));
	}
	closedir(dir);
	return held;
}

int main(void)
{
	int kvm, vm, vcpu, held;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	/* The in-kernel irqchip first, so that the vCPU gets a LAPIC. */
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	held = hold_tracepoints();
	if (held < 0)
		fprintf(stderr, "nested-kvm-hold: %s: %s (no tracepoints held)\n", KVM_EVENTS, strerror(-held));
	printf("nested-kvm-hold: holding a VM (fd %d, vCPU fd %d) and %d kvm:* tracepoints\n", vm, vcpu,
	       held < 0 ? 0 : held);
	fflush(stdout);
	for (;;)
		pause();
}
