/* SPDX-License-Identifier: MIT */
/* pollvm: a small KVM VMM built around a fast virtio-blk path. */
#include "config.h"
#include "lat_hist.h"
#include "dtb.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"

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
	/* The latency histograms' TSC rate is measured over the whole run. */
	tsc_rate_start();

	/* Each failure below was reported, with its class, where it was found
	 * (log.h): bad input 2, pollvm's own failure 6. */
	r = config_parse(&cfg, argc, argv);
	if (r == 1)
		return 0;
	if (r < 0)
		return pv_fail_status("parsing the options", r);

	sandbox_enabled = cfg.sandbox;
	r = vm_prepare(&vm, &cfg);
	if (r) {
		vm_destroy(&vm);
		return pv_fail_status("reading the files", r);
	}
	if (cfg.dump_dtb) {
		/* Like QEMU's -machine dumpdtb=FILE: write the tree, boot nothing. */
		r = dtb_dump(&vm, cfg.dump_dtb);
		vm_destroy(&vm);
		return r ? pv_fail_status("--dump-dtb", r) : 0;
	}
	r = vm_create(&vm);
	if (r) {
		vm_destroy(&vm);
		return pv_fail_status("creating the VM", r);
	}
	status = vm_run(&vm);
	vm_destroy(&vm);
	return status;
}
