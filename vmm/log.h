/* SPDX-License-Identifier: MIT */
/*
 * Messages, and pollvm's exit statuses.  Messages go to stderr: stdout
 * belongs to the guest console.
 */
#ifndef POLLVM_VMM_LOG_H
#define POLLVM_VMM_LOG_H

#include <stdio.h>

#ifndef POLLVM_VERSION
#define POLLVM_VERSION "0.1"
#endif

/*
 * Exit statuses (README "Exit status").  The guest's exit device ends the
 * run with (v << 1) | 1 (devices/sysdev.c), always odd: every outcome
 * pollvm itself reports is even, so whoever reads the status can tell a
 * guest's own verdict from pollvm's.
 */
#define EXIT_GUEST_RESET 0    /* the guest reset or rebooted; SIGINT/SIGTERM stopped it */
#define EXIT_BAD_INPUT   2    /* the user's to fix: an option, a file, a host without KVM */
#define EXIT_GUEST_CRASH 4    /* triple fault, KVM internal or entry error, crash event */
#define EXIT_INTERNAL    6    /* pollvm itself failed: not the user's fault */
#define EXIT_TIMEOUT     124  /* --timeout elapsed (as timeout(1) says it) */

_Static_assert((EXIT_GUEST_RESET | EXIT_BAD_INPUT | EXIT_GUEST_CRASH | EXIT_INTERNAL |
		EXIT_TIMEOUT) % 2 == 0, "the exit device owns the odd statuses");

/*
 * Why pollvm could not start the guest, said where the failure is found:
 * that code alone knows whether the user can fix it.  Every such failure
 * prints exactly one pv_err() line with its class; main() exits with the
 * class of the first.  Callers that only pass the -errno up print nothing.
 */
enum pv_fail {
	PV_INPUT = EXIT_BAD_INPUT,   /* an option, a file, what the host lacks for them */
	PV_INTERNAL = EXIT_INTERNAL, /* a system call, ioctl or allocation that should work */
};

/* Remember why (the first class noted wins; any thread). */
void pv_fail_note(enum pv_fail why);
/*
 * The exit status for a start-up step that returned err (-errno): the
 * first class noted.  When none was (a failure that printed nothing, a
 * bug), one line names the step and the status is EXIT_INTERNAL.
 */
int pv_fail_status(const char *step, int err);
/* Forget the class noted (unit tests run many failures in one process). */
void pv_fail_reset(void);

/* A failure that stops pollvm before the guest runs: one line, one class. */
#define pv_err(why, fmt, ...) \
	(pv_fail_note(why), (void)fprintf(stderr, "pollvm: " fmt "\n", ##__VA_ARGS__))
/* A problem pollvm carries on after, or meets while it ends anyway. */
#define pv_warn(fmt, ...) fprintf(stderr, "pollvm: " fmt "\n", ##__VA_ARGS__)
#define pv_info(fmt, ...) fprintf(stderr, "pollvm: " fmt "\n", ##__VA_ARGS__)

#endif
