/* SPDX-License-Identifier: MIT */
#include "vm.h"
#include "boot.h"
#include "evloop.h"
#include "log.h"
#include "stats.h"
#include "vcpu.h"
#include "../firmware/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

double ts_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Read a whole regular file the user named; one-line error naming opt and path. */
static int read_file(const char *opt, const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pv_err(PV_INPUT, "%s %s: %s", opt, path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pv_err(PV_INPUT, "%s %s: not a regular file", opt, path);
		r = -EINVAL;
		goto out;
	}
	if (st.st_size == 0) {
		pv_err(PV_INPUT, "%s %s: the file is empty", opt, path);
		r = -EINVAL;
		goto out;
	}
	b = malloc((size_t)st.st_size);
	if (!b) {
		pv_err(PV_INTERNAL, "%s %s: out of memory for %lld bytes", opt, path, (long long)st.st_size);
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pv_err(PV_INPUT, "%s %s: read failed: %s", opt, path, n ? strerror(errno) : "file shrank");
			free(b);
			r = -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	r = 0;
out:
	close(fd);
	return r;
}

int vm_prepare(struct vm *vm, const struct config *cfg)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	clock_gettime(CLOCK_MONOTONIC, &vm->t_start);
	vm->cfg = cfg;
	vm->exit_efd = -1;
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
	vm->nr_vcpus = cfg->cpus;
	vm->ram_size = cfg->mem;
	vm->low_size = cfg->mem < LOW_RAM_END ? cfg->mem : LOW_RAM_END;
	vm->high_size = cfg->mem - vm->low_size;

	r = read_file("--kernel", cfg->kernel, &vm->kernel_img, &vm->kernel_len);
	if (r)
		return r;
	r = loader_probe(cfg->kernel, vm->kernel_img, vm->kernel_len, cfg->boot, &vm->ki);
	if (r)
		return r;
	if (cfg->machine_desc == MACHINE_DESC_FDT && vm->ki.boot == BOOT_PVH) {
		pv_err(PV_INPUT, "--machine-desc=fdt: --kernel %s is entered through PVH, whose start info "
		       "has no setup_data for the device tree (use a vmlinux with --boot linux, or a bzImage)",
		       cfg->kernel);
		return -EINVAL;
	}
	if (vm->ki.load_end > vm->low_size) {
		pv_err(PV_INPUT, "--kernel %s needs RAM up to %llu MiB; --mem is %llu MiB", cfg->kernel,
		       (unsigned long long)(vm->ki.load_end >> 20) + 1,
		       (unsigned long long)(cfg->mem >> 20));
		return -EINVAL;
	}
	if (cfg->initrd) {
		r = read_file("--initrd", cfg->initrd, &vm->initrd_img, &vm->initrd_len);
		if (r)
			return r;
		if (!boot_initrd_addr(vm->low_size, vm->ki.load_end, vm->ki.initrd_max, vm->initrd_len)) {
			pv_err(PV_INPUT, "--initrd %s (%zu MiB) does not fit in guest RAM above the kernel; "
			       "raise --mem", cfg->initrd, vm->initrd_len >> 20);
			return -EINVAL;
		}
	}
	return disks_open(&vm->disks, cfg);
}

bool vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
{
	int expected = 0;
	va_list ap;

	if (!atomic_compare_exchange_strong(&vm->exit_claimed, &expected, 1))
		return false;
	vm->exit_status = status;
	va_start(ap, fmt);
	vsnprintf(vm->exit_why, sizeof(vm->exit_why), fmt, ap);
	va_end(ap);
	/* vCPUs stop re-entering the guest; the main thread kicks the rest. */
	atomic_store(&vm->stopping, true);
	uint64_t one = 1;
	if (write(vm->exit_efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow with one write; nothing to do. */
	}
	return true;
}

/* The run ends as pollvm's own failure, whatever ended it first. */
static void vm_set_internal_error(struct vm *vm, const char *fmt, ...)
{
	size_t n = strlen(vm->exit_why);
	va_list ap;

	vm->exit_status = EXIT_INTERNAL;
	if (n + 3 < sizeof(vm->exit_why)) {
		memcpy(vm->exit_why + n, "; ", 3);
		va_start(ap, fmt);
		vsnprintf(vm->exit_why + n + 2, sizeof(vm->exit_why) - n - 2, fmt, ap);
		va_end(ap);
	}
}

static void vm_sysdev_exit(void *opaque, int status, const char *why)
{
	vm_request_exit(opaque, status, "%s", why);
}

static void vm_sysdev_marker(void *opaque)
{
	struct vm *vm = opaque;
	struct timespec now;
	bool expected = false;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!atomic_compare_exchange_strong(&vm->marker_seen, &expected, true))
		return;
	vm->marker_ms = ts_ms_between(&vm->t_start, &now);
	pv_info("guest init reached after %.1f ms", vm->marker_ms);
}

static const struct sysdev_ops vm_sysdev_ops = {
	.exit = vm_sysdev_exit,
	.marker = vm_sysdev_marker,
};

static void vm_irq_set_level(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;

	kvm_irq_line(&vm->kvm, gsi, level);
}

static int vm_create_memory(struct vm *vm)
{
	int r;

	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		/* MAP_NORESERVE: only the address space or an overcommit limit
		 * refuses it, and a smaller --mem is the way out. */
		pv_err(PV_INPUT, "--mem %llu MiB: the host cannot map that much guest RAM: %s",
		       (unsigned long long)(vm->ram_size >> 20), strerror(errno));
		return -ENOMEM;
	}
	/* Hints only: THP cuts EPT/NPT misses; children (none today) need no copy. */
	madvise(vm->ram, vm->ram_size, MADV_HUGEPAGE);
	madvise(vm->ram, vm->ram_size, MADV_DONTFORK);

	r = kvm_set_memory(&vm->kvm, 0, vm->low_size, vm->ram);
	if (!r)
		r = gmem_add(&vm->mem, 0, vm->low_size, vm->ram);
	if (!r && vm->high_size) {
		r = kvm_set_memory(&vm->kvm, HIGH_RAM_START, vm->high_size, vm->ram + vm->low_size);
		if (!r)
			r = gmem_add(&vm->mem, HIGH_RAM_START, vm->high_size, vm->ram + vm->low_size);
	}
	if (r)
		pv_err(PV_INTERNAL, "registering guest RAM with KVM: %s", strerror(-r));
	return r;
}

static int vm_create_devices(struct vm *vm)
{
	struct irq_line uart_irq = { .set_level = vm_irq_set_level, .opaque = vm, .gsi = IRQ_UART0 };
	int r = 0;

	uart8250_init(&vm->uart, STDOUT_FILENO, uart_irq);
	cmos_init(&vm->cmos);
	vm->sysdev = (struct sysdev){ .ops = &vm_sysdev_ops, .opaque = vm };

	r |= bus_register(&vm->pio, 0x3f8, 8, &uart8250_ops, &vm->uart, "uart0");
	r |= bus_register(&vm->pio, CMOS_PORT, 2, &cmos_ops, &vm->cmos, "cmos");
	r |= bus_register(&vm->pio, DEBUG_EXIT_PORT, 4, &sysdev_exit_port_ops, &vm->sysdev, "debug-exit");
	r |= bus_register(&vm->pio, I8042_DATA_PORT, I8042_CMD_PORT - I8042_DATA_PORT + 1,
			  &sysdev_i8042_ops, &vm->sysdev, "i8042");
	r |= bus_register(&vm->pio, RST_CNT_PORT, 1, &sysdev_rstcnt_ops, &vm->sysdev, "rst-cnt");
	r |= bus_register(&vm->pio, POST_PORT, 1, &sysdev_sink_ops, &vm->sysdev, "post");
	r |= bus_register(&vm->mmio, SYSDEV_ADDR, SYSDEV_SIZE, &sysdev_mmio_ops, &vm->sysdev, "sysdev");
	if (r) {
		/* r ORs several -errno: only "failed" is certain. */
		pv_err(PV_INTERNAL, "internal error: cannot register the platform devices' I/O ranges");
		return -EEXIST;
	}
	return 0;
}

static int vm_build_cmdline(struct vm *vm, struct cmdline *c)
{
	const char *base = vm->cfg->cmdline ? vm->cfg->cmdline : BOOT_DEFAULT_CMDLINE;

	cmdline_init(c, CMDLINE_MAX);
	/* With a device tree the tree carries the disks (vmm/dtb.c). */
	if (cmdline_append(c, base) ||
	    (vm->cfg->machine_desc == MACHINE_DESC_CMDLINE && disks_cmdline(&vm->disks, c))) {
		pv_err(PV_INPUT, "--cmdline is longer than the guest's %u-byte limit with the devices' entries",
		       CMDLINE_MAX - 1);
		return -E2BIG;
	}
	return 0;
}

int vm_create(struct vm *vm)
{
	struct cmdline cmdline;
	int r;

	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->exit_efd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_efd < 0) {
		r = -errno;
		pv_err(PV_INTERNAL, "eventfd: %s", strerror(errno));
		return r;
	}

	r = vm_build_cmdline(vm, &cmdline);
	if (r)
		return r;
	r = kvm_create(&vm->kvm);
	if (r)
		return r;
	r = kvm_max_vcpus(&vm->kvm);
	if (vm->nr_vcpus > (unsigned)r) {
		pv_err(PV_INPUT, "--cpus %u: this KVM runs at most %d vCPUs in a VM", vm->nr_vcpus, r);
		return -E2BIG;
	}
	r = vm_create_memory(vm);
	if (r)
		return r;
	r = vm_create_devices(vm);
	if (r)
		return r;
	r = disks_create(&vm->disks, vm);
	if (r)
		return r;

	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		pv_err(PV_INTERNAL, "out of memory for %u vCPUs", vm->nr_vcpus);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		r = vcpu_create(&vm->vcpus[i], vm, i);
		if (r)
			return r;
	}

	/* vm_prepare() checked what the user controls (the kernel and initrd
	 * against --mem, the boot protocol against --machine-desc): what is
	 * left to fail here is pollvm's. */
	r = boot_setup(vm, &cmdline);
	if (r)
		return r;
	/* The kernel and initrd are in guest RAM now: their copies on the heap
	 * would stay resident for the VM's whole life for nothing. */
	free(vm->kernel_img);
	free(vm->initrd_img);
	vm->kernel_img = vm->initrd_img = NULL;
	vm->ki.setup_hdr = NULL;
	return 0;
}

/* Console input: raw keystrokes to the UART, Ctrl-C still a signal. */
struct tty_state {
	bool raw;
	struct termios saved;
};

static void tty_raw(struct tty_state *t)
{
	struct termios tio;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return;
	tio = t->saved;
	tio.c_lflag &= (tcflag_t)~(ICANON | ECHO);
	tio.c_iflag &= (tcflag_t)~(ICRNL | IXON);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0)
		t->raw = true;
}

static void tty_restore(struct tty_state *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

static int vm_arm_timeout(double secs)
{
	struct itimerspec its = { 0 };
	int fd;

	if (secs <= 0)
		return -1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0)
		return -1;
	its.it_value.tv_sec = (time_t)secs;
	its.it_value.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

int vm_run(struct vm *vm)
{
	struct tty_state tty = { 0 };
	bool host_stopped = false; /* a signal or --timeout ended it, not the guest */
	sigset_t set;
	int sfd, tfd, r;

	/* The main thread takes SIGINT/SIGTERM/SIGUSR1 through a signalfd;
	 * every thread starts with them (and the vCPU kick) blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, vcpu_kick_signal());
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, vcpu_kick_signal());
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	tfd = vm_arm_timeout(vm->cfg->timeout);
	tty_raw(&tty);

	/* IOThreads first: a driver's reset waits for them to quiesce its queues. */
	r = disks_start(&vm->disks);
	if (r)
		vm_request_exit(vm, EXIT_INTERNAL, "cannot start the IOThreads");
	for (unsigned i = 0; i < vm->nr_vcpus && !r; i++) {
		r = vcpu_start(&vm->vcpus[i]);
		if (r) {
			vm_request_exit(vm, EXIT_INTERNAL, "cannot start vCPU %u thread: %s", i, strerror(-r));
			break;
		}
	}

	while (!atomic_load(&vm->exit_claimed)) {
		struct pollfd p[4] = {
			{ .fd = vm->exit_efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = tfd, .events = POLLIN },
			{ .fd = tty.raw ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			vm_request_exit(vm, EXIT_INTERNAL, "poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1) {
					stats_print(vm, stderr);
					/* A snapshot in the --stats file too: scripts/trace-exits
					 * --pid diffs two of them around its perf window. */
					if (vm->cfg->stats_path && stats_write_json(vm, vm->cfg->stats_path, false))
						pv_warn("--stats %s: cannot write: %s", vm->cfg->stats_path,
						       strerror(errno));
				} else
					host_stopped |= vm_request_exit(vm, EXIT_GUEST_RESET, "stopped by %s",
									si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			}
		}
		if (p[2].revents & POLLIN)
			host_stopped |= vm_request_exit(vm, EXIT_TIMEOUT, "timeout: the guest ran for %g s",
							vm->cfg->timeout);
		if (p[3].revents & POLLIN) {
			uint8_t buf[64];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0)
				uart8250_receive(&vm->uart, buf, (unsigned)n);
		}
	}

	atomic_store(&vm->stopping, true);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	/*
	 * The stop is bounded (--stop-timeout): a vCPU may be inside a device
	 * reset that waits for in-flight I/O, and the IOThreads finish that
	 * I/O only while the backend answers.  Past the bound pollvm says what
	 * was left and exits with its internal-error status.
	 */
	uint64_t bound = (uint64_t)(vm->cfg->stop_timeout * 1e9);
	uint64_t deadline = evloop_now_ns(NULL) + bound;
	/* pthread_timedjoin_np counts in CLOCK_REALTIME. */
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (time_t)(bound / 1000000000ull) + (dl.tv_nsec + (long)(bound % 1000000000ull)) / 1000000000L;
	dl.tv_nsec = (dl.tv_nsec + (long)(bound % 1000000000ull)) % 1000000000L;
	bool stuck = false;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		if (pthread_timedjoin_np(vm->vcpus[i].thread, NULL, &dl)) {
			pv_warn("stop: vCPU %u did not stop within %g s (a device reset waiting for I/O?)",
			       i, vm->cfg->stop_timeout);
			stuck = true;
			continue;
		}
		vm->vcpus[i].started = false;
	}
	/* No vCPU can queue more work: let in-flight I/O finish, flush, stop. */
	if (disks_stop(&vm->disks, deadline, vm->cfg->stop_timeout) || stuck)
		vm_set_internal_error(vm, "the stop did not finish within --stop-timeout %g s",
				      vm->cfg->stop_timeout);
	tty_restore(&tty);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);

	if (vm->exit_status != 0 || !vm->cfg->quiet)
		pv_info("%s (exit status %d)", vm->exit_why, vm->exit_status);
	/* The guest did not end the run: where were its vCPUs? */
	if (host_stopped && !vm->cfg->quiet)
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vcpu_print_state(&vm->vcpus[i], stderr);
	if (!vm->cfg->quiet)
		stats_print(vm, stderr);
	if (vm->cfg->stats_path && stats_write_json(vm, vm->cfg->stats_path, true))
		pv_warn("--stats %s: cannot write: %s", vm->cfg->stats_path, strerror(errno));
	if (stuck) {
		/* A vCPU thread still runs: nothing may be torn down under it. */
		fflush(NULL);
		_exit(vm->exit_status);
	}
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].fd >= 0)
				vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	disks_destroy(&vm->disks);
	kvm_destroy(&vm->kvm);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	free(vm->kernel_img);
	free(vm->initrd_img);
}
