/* SPDX-License-Identifier: MIT */
#include "sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

bool sandbox_enabled = true;

/* System calls both kinds of thread make: memory for stdio/malloc, locks,
 * time, signals (the vCPU kick), logging, and thread exit. */
static const int common_syscalls[] = {
	SYS_read, SYS_write, SYS_writev, SYS_pread64, SYS_pwrite64,
	SYS_futex, SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep,
	SYS_sched_yield, SYS_gettid, SYS_getpid,
	SYS_mmap, SYS_munmap, SYS_madvise, SYS_mprotect, SYS_brk,
	SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_sigaltstack,
	SYS_fstat, SYS_newfstatat, SYS_lseek,
	SYS_exit, SYS_exit_group, SYS_restart_syscall,
	SYS_getrusage, SYS_sched_getaffinity, SYS_rseq, SYS_set_robust_list,
};

/* A vCPU: only ioctl (on its own vCPU and VM fds, checked below) beyond the common set. */
static const int vcpu_syscalls[] = { -1 };

/* An IOThread: its event loop (and its timers: interrupt coalescing,
 * submit retries), io_uring, eventfds.  Disks are flushed by their
 * teardown on the main thread, not here. */
static const int iothread_syscalls[] = {
	SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_ctl, SYS_timerfd_settime,
	SYS_io_uring_enter,
	SYS_close,
};

#define MAX_RULES 64

static int build(struct sock_filter *f, const int *a, size_t na, const int *b, size_t nb,
		 const int *ioctl_fds, size_t nfds)
{
	int n = 0;

	/* Only x86-64 system calls: refuse the i386 and x32 ABIs outright. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* x32 numbers have bit 30 set (__X32_SYSCALL_BIT). */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	for (size_t i = 0; i < na + nb; i++) {
		int nr = i < na ? a[i] : b[i - na];
		if (nr < 0)
			continue;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	if (nfds) {
		/* ioctl(fd, ...) only on the listed fds (the low 32 bits of args[0]). */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0,
						      (unsigned char)(1 + 2 * nfds));
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[0]));
		for (size_t i = 0; i < nfds; i++) {
			f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)ioctl_fds[i], 0, 1);
			f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		}
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	return n;
}

int sandbox_apply(enum sandbox_role role, const int *ioctl_fds, unsigned nfds)
{
	struct sock_filter f[6 + 2 * MAX_RULES + 2 + 2 * SANDBOX_MAX_IOCTL_FDS + 1];
	const int *extra = role == SANDBOX_VCPU ? vcpu_syscalls : iothread_syscalls;
	size_t nextra = role == SANDBOX_VCPU ? sizeof(vcpu_syscalls) / sizeof(int)
					     : sizeof(iothread_syscalls) / sizeof(int);
	size_t ncommon = sizeof(common_syscalls) / sizeof(int);

	_Static_assert(sizeof(common_syscalls) / sizeof(int) + sizeof(iothread_syscalls) / sizeof(int)
		       <= MAX_RULES, "filter size");
	if (!sandbox_enabled)
		return 0;
	if (nfds > SANDBOX_MAX_IOCTL_FDS)
		return -EINVAL;
	int n = build(f, common_syscalls, ncommon, extra, nextra, ioctl_fds, nfds);
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };

	/* Required for an unprivileged filter, and right anyway: no setuid gains. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* seccomp(2) without SECCOMP_FILTER_FLAG_TSYNC: this thread only. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}
