/* SPDX-License-Identifier: MIT */
/* pollvm: a small KVM VMM built around a fast virtio-blk path. */
#include "config.h"
#include "dtb.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct config cfg;
	struct vm vm;
	int r, status;

	/*
	 * SIGINT/SIGTERM/SIGUSR1 are taken through a signalfd once the VM runs;
	 * blocked from the start, one that arrives while the machine is being
	 * built waits there and still means a clean stop.
	 */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	r = config_parse(&cfg, argc, argv);
	if (r == 1)
		return 0;
	if (r < 0)
		return EXIT_BAD_INPUT;

	sandbox_enabled = cfg.sandbox;
	r = vm_prepare(&vm, &cfg);
	if (r) {
		vm_destroy(&vm);
		return EXIT_BAD_INPUT;
	}
	if (cfg.dump_dtb) {
		/* Like QEMU's -machine dumpdtb=FILE: write the tree, boot nothing. */
		r = dtb_dump(&vm, cfg.dump_dtb);
		vm_destroy(&vm);
		return r ? EXIT_BAD_INPUT : 0;
	}
	r = vm_create(&vm);
	if (r) {
		vm_destroy(&vm);
		/* A missing or forbidden /dev/kvm, a KVM without what we need, or
		 * an option the machine cannot honour is the user's to fix: 2. */
		return (r == -ENOENT || r == -EACCES || r == -EPERM || r == -ENOTSUP ||
			r == -EINVAL || r == -E2BIG || r == -ENOSPC || r == -ENOMEM || r == -EFAULT)
			       ? EXIT_BAD_INPUT : EXIT_GUEST_CRASH;
	}
	status = vm_run(&vm);
	vm_destroy(&vm);
	return status;
}
