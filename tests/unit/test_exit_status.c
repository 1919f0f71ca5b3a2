/* SPDX-License-Identifier: MIT */
/*
 * Whose failure it is: what the user must fix exits 2, pollvm's own
 * failure 6.  The checks main() runs before KVM is touched (options, the
 * kernel, initrd and disk files, --dump-dtb), each refusal as the code
 * that found it classified it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/config.h"
#include "../../vmm/dtb.h"
#include "../../vmm/log.h"
#include "../../vmm/vm.h"
#include "fake_kernel.h"

static char dir[64];
/* Files the cases name, under dir. */
static char p_vmlinux[128], p_pvh[128], p_high[128], p_empty[128], p_junk[128], p_disk[128],
	p_odd[128], p_dtb[128], p_missing[128], p_dtb_missing_dir[128];

static void put_file(const char *path, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	struct fake_elf f;
	char junk[4096];
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/pollvm-exit-status.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(p_vmlinux, sizeof(p_vmlinux), "%s/vmlinux", dir);
	snprintf(p_pvh, sizeof(p_pvh), "%s/pvh.elf", dir);
	snprintf(p_high, sizeof(p_high), "%s/high.elf", dir);
	snprintf(p_empty, sizeof(p_empty), "%s/empty", dir);
	snprintf(p_junk, sizeof(p_junk), "%s/junk", dir);
	snprintf(p_disk, sizeof(p_disk), "%s/disk.img", dir);
	snprintf(p_odd, sizeof(p_odd), "%s/odd.img", dir);
	snprintf(p_dtb, sizeof(p_dtb), "%s/tree.dtb", dir);
	snprintf(p_missing, sizeof(p_missing), "%s/missing", dir);
	snprintf(p_dtb_missing_dir, sizeof(p_dtb_missing_dir), "%s/missing/tree.dtb", dir);

	make_elf64(&f, true, true, 0x1000000);      /* a vmlinux at 16 MiB */
	put_file(p_vmlinux, f.b, f.len);
	make_elf64(&f, false, true, 0x100000);      /* PVH entry only */
	put_file(p_pvh, f.b, f.len);
	make_elf64(&f, true, false, 0x4000000);     /* needs RAM up to 64 MiB */
	put_file(p_high, f.b, f.len);
	put_file(p_empty, "", 0);
	memset(junk, 0x5a, sizeof(junk));
	put_file(p_junk, junk, sizeof(junk));
	put_file(p_disk, "", 0);
	assert_int_equal(truncate(p_disk, 1 << 20), 0);
	put_file(p_odd, junk, 1000);                /* not a multiple of 512 */
	return 0;
}

static int teardown(void **state)
{
	const char *files[] = { p_vmlinux, p_pvh, p_high, p_empty, p_junk, p_disk, p_odd, p_dtb };
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	return rmdir(dir);
}

/*
 * main() up to vm_create(): options, files, --dump-dtb.  Returns the exit
 * status main() would give for a failure there, or 0 when all passed.
 */
static int start(const char *const *args)
{
	char *argv[24];
	struct config cfg;
	struct vm vm;
	int argc = 0, r;

	argv[argc++] = strdup("pollvm");
	for (; *args; args++)
		argv[argc++] = strdup(*args); /* --disk is parsed in place */
	argv[argc] = NULL;
	pv_fail_reset();
	r = config_parse(&cfg, argc, argv);
	if (r == 0) {
		r = vm_prepare(&vm, &cfg);
		if (r == 0 && cfg.dump_dtb)
			r = dtb_dump(&vm, cfg.dump_dtb);
		vm_destroy(&vm);
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return r ? pv_fail_status("start", r) : 0;
}

#define START(...) start((const char *const[]){ __VA_ARGS__, NULL })

static void test_files_are_input(void **state)
{
	(void)state;
	assert_int_equal(START("--kernel", p_vmlinux), 0);

	assert_int_equal(START("--kernel", p_missing), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", dir), EXIT_BAD_INPUT);         /* a directory */
	assert_int_equal(START("--kernel", p_empty), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_junk), EXIT_BAD_INPUT);     /* not a kernel */
	assert_int_equal(START("--kernel", p_high, "--mem", "32M"), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_pvh, "--machine-desc=fdt"), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--initrd", p_missing), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--initrd", p_empty), EXIT_BAD_INPUT);

	char d_missing[160], d_odd[160], d_dir[160], d_ok[160];
	snprintf(d_missing, sizeof(d_missing), "path=%s", p_missing);
	snprintf(d_odd, sizeof(d_odd), "path=%s", p_odd);
	snprintf(d_dir, sizeof(d_dir), "path=%s", dir);
	snprintf(d_ok, sizeof(d_ok), "path=%s,cache=writeback", p_disk);
	assert_int_equal(START("--kernel", p_vmlinux, "--disk", d_ok), 0);
	assert_int_equal(START("--kernel", p_vmlinux, "--disk", d_missing), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--disk", d_odd), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--disk", d_dir), EXIT_BAD_INPUT);
}

static void test_dump_dtb(void **state)
{
	struct stat st;
	(void)state;

	assert_int_equal(START("--kernel", p_vmlinux, "--dump-dtb", p_dtb), 0);
	assert_int_equal(stat(p_dtb, &st), 0);
	assert_true(st.st_size > 0);
	/* A path that cannot be written is the user's: nothing left behind. */
	assert_int_equal(START("--kernel", p_vmlinux, "--dump-dtb", p_dtb_missing_dir), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--dump-dtb", dir), EXIT_BAD_INPUT);
	assert_int_equal(stat(p_missing, &st), -1);
}

static void test_options_are_input(void **state)
{
	(void)state;
	assert_int_equal(START("--kernel", p_vmlinux, "--mem", "lots"), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--frobnicate"), EXIT_BAD_INPUT);
	assert_int_equal(START("--kernel", p_vmlinux, "--stats", p_dtb_missing_dir), EXIT_BAD_INPUT);
}

static void test_unclassified_is_internal(void **state)
{
	(void)state;
	/* A failure nobody reported is a bug of pollvm's, not the user's. */
	pv_fail_reset();
	assert_int_equal(pv_fail_status("a step", -EIO), EXIT_INTERNAL);
	/* The first report decides: later ones are what that failure caused. */
	pv_fail_reset();
	pv_err(PV_INTERNAL, "test: internal first");
	pv_err(PV_INPUT, "test: input second");
	assert_int_equal(pv_fail_status("a step", -EIO), EXIT_INTERNAL);
	pv_fail_reset();
	pv_err(PV_INPUT, "test: input first");
	pv_err(PV_INTERNAL, "test: internal second");
	assert_int_equal(pv_fail_status("a step", -EIO), EXIT_BAD_INPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_are_input),
		cmocka_unit_test(test_dump_dtb),
		cmocka_unit_test(test_options_are_input),
		cmocka_unit_test(test_unclassified_is_internal),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
