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
 * Built static by scripts/nested-host into L1's initramfs (no libc there);
 * L1's init starts it before the command.  It prints one line once the VM
 * exists and then sleeps until L1 powers off.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "nested-kvm-hold: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	int kvm, vm, vcpu;

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
	printf("nested-kvm-hold: holding a VM (fd %d, vCPU fd %d)\n", vm, vcpu);
	fflush(stdout);
	for (;;)
		pause();
}
