/* SPDX-License-Identifier: MIT */
/* Seccomp filters: allowed calls work, anything else kills the process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../devices/blk_uring.h"
#include "../../vmm/sandbox.h"

/* Run fn in a child with the role's filter; return its wait status. */
static int in_child(enum sandbox_role role, const int *fds, unsigned nfds, void (*fn)(const int *))
{
	pid_t pid = fork();
	int st = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_apply(role, fds, nfds))
			_exit(100);
		fn(fds);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void do_write(const int *fds)
{
	(void)fds;
	if (write(STDERR_FILENO, "", 0) < 0)
		_exit(101);
}

static void do_socket(const int *fds)
{
	(void)fds;
	socket(AF_INET, SOCK_STREAM, 0);
	_exit(102); /* not reached: the filter kills us */
}

static void do_open(const int *fds)
{
	(void)fds;
	open("/etc/hostname", O_RDONLY);
	_exit(103);
}

static void do_ioctl_allowed(const int *fds)
{
	int n;
	if (ioctl(fds[0], FIONREAD, &n) < 0)
		_exit(104);
}

static void do_ioctl_other_fd(const int *fds)
{
	int n;
	(void)fds;
	ioctl(STDIN_FILENO, FIONREAD, &n);
	_exit(105);
}

static bool killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void test_allowed(void **state)
{
	int p[2];
	(void)state;
	assert_int_equal(pipe(p), 0);
	int st = in_child(SANDBOX_IOTHREAD, NULL, 0, do_write);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(SANDBOX_VCPU, p, 1, do_ioctl_allowed);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
	close(p[1]);
}

static void test_forbidden(void **state)
{
	int p[2];
	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_true(killed_by_sigsys(in_child(SANDBOX_IOTHREAD, NULL, 0, do_socket)));
	assert_true(killed_by_sigsys(in_child(SANDBOX_IOTHREAD, NULL, 0, do_open)));
	assert_true(killed_by_sigsys(in_child(SANDBOX_VCPU, p, 1, do_open)));
	/* The IOThread may not ioctl at all; a vCPU only on its own fds. */
	assert_true(killed_by_sigsys(in_child(SANDBOX_IOTHREAD, p, 0, do_ioctl_allowed)));
	assert_true(killed_by_sigsys(in_child(SANDBOX_VCPU, p, 1, do_ioctl_other_fd)));
	close(p[0]);
	close(p[1]);
}

static void test_disabled(void **state)
{
	(void)state;
	sandbox_enabled = false;
	int st = in_child(SANDBOX_IOTHREAD, NULL, 0, do_open);
	sandbox_enabled = true;
	/* Without the filter open() works and the child reaches _exit(103). */
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 103);
}

/* The ring runs only the ops its service offers: anything else gets -EACCES. */
static void test_uring_restricted(void **state)
{
	struct uring u;
	struct io_uring_cqe *cqe;
	(void)state;
	assert_int_equal(uring_init(&u, 8), 0);
	assert_true(u.restricted);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	assert_int_equal(io_uring_submit(&u.ring), 1);
	assert_int_equal(io_uring_wait_cqe(&u.ring, &cqe), 0);
	assert_int_equal(cqe->res, -EACCES);
	io_uring_cqe_seen(&u.ring, cqe);
	/* An allowed op with a forbidden flag is refused too. */
	int p[2];
	char buf[4];
	struct iovec iov = { buf, sizeof(buf) };
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_readv(sqe, p[0], &iov, 1, 0);
	io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	assert_int_equal(io_uring_submit(&u.ring), 1);
	assert_int_equal(io_uring_wait_cqe(&u.ring, &cqe), 0);
	assert_int_equal(cqe->res, -EACCES);
	io_uring_cqe_seen(&u.ring, cqe);
	/* And the allowed op without flags works. */
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_readv(sqe, p[0], &iov, 1, 0);
	assert_int_equal(io_uring_submit(&u.ring), 1);
	assert_int_equal(io_uring_wait_cqe(&u.ring, &cqe), 0);
	assert_int_equal(cqe->res, 3);
	io_uring_cqe_seen(&u.ring, cqe);
	close(p[0]);
	close(p[1]);
	uring_destroy(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_uring_restricted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
