/* SPDX-License-Identifier: MIT */
/* pollvm: a small KVM VMM built around a fast virtio-blk path. */
#include "config.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"

#include <errno.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct config cfg;
	struct vm vm;
	int r, status;

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
