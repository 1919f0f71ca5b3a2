/* SPDX-License-Identifier: MIT */
/*
 * Seccomp filters for the threads that face the guest.  A vCPU thread and
 * an IOThread each install their own filter when they start (a filter
 * binds the calling thread only), allowing the system calls their loop
 * makes and nothing else: a guest that found a bug in a device model
 * still cannot open files, make sockets, exec or ptrace.  Anything else
 * kills the whole process (SIGSYS), which the kernel logs.
 *
 * The main thread stays unfiltered: it opens files and KVM objects before
 * the guest runs and only waits on signals afterwards.
 */
#ifndef POLLVM_VMM_SANDBOX_H
#define POLLVM_VMM_SANDBOX_H

#include <stdbool.h>

enum sandbox_role { SANDBOX_VCPU, SANDBOX_IOTHREAD };

/* Set once before threads start (--sandbox on|off; default on). */
extern bool sandbox_enabled;

#define SANDBOX_MAX_IOCTL_FDS 4

/*
 * Install the role's filter on the calling thread; ioctl is allowed on
 * the nfds descriptors given (a vCPU's own fd and the VM's), on no other.
 * Returns 0 (also when disabled) or -errno.
 */
int sandbox_apply(enum sandbox_role role, const int *ioctl_fds, unsigned nfds);

#endif
