/* SPDX-License-Identifier: MIT */
/* Command-line parsing: sizes, numbers, both getopt forms, and refusals (bad input, exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "../../vmm/config.h"
#include "../../vmm/log.h"

static void test_parse_size(void **state)
{
	uint64_t v;
	(void)state;
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("2g", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(parse_size("64MiB", &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(parse_size("1KB", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size(" 1M", &v), -EINVAL);
	assert_int_equal(parse_size("12X", &v), -EINVAL);
	assert_int_equal(parse_size("1MX", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -EINVAL);
	assert_int_equal(parse_size("17179869184G", &v), -EINVAL); /* 2^34 G overflows */
}

static void test_parse_uint(void **state)
{
	uint64_t v;
	(void)state;
	assert_int_equal(parse_uint("4", 1, 64, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(parse_uint("0", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("65", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("2x", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("-2", 0, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("+2", 0, 64, &v), -EINVAL);
}

static int parse(struct config *c, const char **args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"pollvm";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return config_parse(c, argc, argv);
}

static void test_config_ok(void **state)
{
	struct config c;
	(void)state;
	const char *a1[] = { "--kernel", "vmlinux", "--mem=512M", "--cpus", "2", "--timeout=1.5",
			     "--cmdline", "console=ttyS0", "--boot", "pvh", NULL };
	assert_int_equal(parse(&c, a1), 0);
	assert_string_equal(c.kernel, "vmlinux");
	assert_int_equal(c.mem, 512ULL << 20);
	assert_int_equal(c.cpus, 2);
	assert_true(c.timeout > 1.49 && c.timeout < 1.51);
	assert_string_equal(c.cmdline, "console=ttyS0");
	assert_int_equal(c.boot, BOOT_PREF_PVH);

	const char *a2[] = { "--kernel=k", NULL };
	assert_int_equal(parse(&c, a2), 0);
	assert_int_equal(c.mem, 256ULL << 20);
	assert_int_equal(c.cpus, 1);
	assert_null(c.cmdline);
	assert_int_equal(c.timeout, 0);
	assert_int_equal(c.machine_desc, MACHINE_DESC_CMDLINE);
	assert_null(c.dump_dtb);

	const char *a3[] = { "--kernel=k", "--machine-desc=fdt", "--dump-dtb", "t.dtb", NULL };
	assert_int_equal(parse(&c, a3), 0);
	assert_int_equal(c.machine_desc, MACHINE_DESC_FDT);
	assert_string_equal(c.dump_dtb, "t.dtb");
}

static void test_config_bad(void **state)
{
	struct config c;
	(void)state;
	const char *bad[][6] = {
		{ NULL },                                   /* no --kernel */
		{ "--kernel", "k", "--mem", "lots", NULL },
		{ "--kernel", "k", "--mem", "16M", NULL },  /* below the minimum */
		{ "--kernel", "k", "--mem", "67108865", NULL }, /* not page sized */
		{ "--kernel", "k", "--cpus", "0", NULL },
		{ "--kernel", "k", "--cpus", "65", NULL },
		{ "--kernel", "k", "--timeout", "0", NULL },
		{ "--kernel", "k", "--timeout", "nan", NULL },
		{ "--kernel", "k", "--boot", "uefi", NULL },
		{ "--kernel", "k", "--frobnicate", NULL },
		{ "--kernel", "k", "stray", NULL },
		{ "--kernel", NULL },                       /* missing value */
		{ "--kernel", "k", "--machine-desc", "acpi", NULL },
		{ "--kernel", "k", "--dump-dtb", "", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pv_fail_reset();
		int r = parse(&c, bad[i]);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(pv_fail_status("parsing", r), EXIT_BAD_INPUT);
	}
}

/* iothread=ID+ID...: one disk's queues spread over IOThreads, round-robin. */
static void test_config_disk_iothreads(void **state)
{
	struct config c;
	(void)state;
	/* parse_kv_list writes into its argument: writable copies. */
	char d1[] = "path=a.img,num-queues=4,iothread=io0+io1";
	char t0[] = "id=io0", t1[] = "id=io1";
	const char *ok[] = { "--kernel", "k", "--disk", d1, "--iothread", t0, "--iothread", t1, NULL };
	assert_int_equal(parse(&c, ok), 0);
	assert_int_equal(c.disks[0].nr_iothread_ids, 2);
	assert_string_equal(c.disks[0].iothread_ids[0], "io0");
	assert_string_equal(c.disks[0].iothread_ids[1], "io1");
	assert_string_equal(c.disks[0].iothread, "io0+io1");

	char d2[] = "path=a.img,iothread=io0";
	char t2[] = "id=io0";
	const char *one[] = { "--kernel", "k", "--disk", d2, "--iothread", t2, NULL };
	assert_int_equal(parse(&c, one), 0);
	assert_int_equal(c.disks[0].nr_iothread_ids, 1);

	static const char *const bad_disk[] = {
		"path=a.img,num-queues=2,iothread=io0+io0",   /* twice */
		"path=a.img,num-queues=2,iothread=io0+",      /* empty id */
		"path=a.img,num-queues=2,iothread=+io0",
		"path=a.img,num-queues=2,iothread=io0++io1",
		"path=a.img,num-queues=2,iothread=io0+i/o",   /* bad character */
		"path=a.img,iothread=io0+io1",                /* 2 IOThreads, 1 queue */
		"path=a.img,num-queues=2,iothread=io0+nope",  /* no such --iothread */
	};
	for (size_t i = 0; i < sizeof(bad_disk) / sizeof(bad_disk[0]); i++) {
		char d[128], a[] = "id=io0", b[] = "id=io1";
		snprintf(d, sizeof(d), "%s", bad_disk[i]);
		const char *args[] = { "--kernel", "k", "--disk", d, "--iothread", a, "--iothread", b, NULL };
		pv_fail_reset();
		assert_int_equal(parse(&c, args), -EINVAL);
		assert_int_equal(pv_fail_status("parsing", -EINVAL), EXIT_BAD_INPUT);
	}
}

/* Each --disk value is refused as bad input. */
static void expect_bad_disks(const char *const *bad, size_t n)
{
	struct config c;

	for (size_t i = 0; i < n; i++) {
		char d[128];
		snprintf(d, sizeof(d), "%s", bad[i]);
		const char *args[] = { "--kernel", "k", "--disk", d, NULL };
		pv_fail_reset();
		assert_int_equal(parse(&c, args), -EINVAL);
		assert_int_equal(pv_fail_status("parsing", -EINVAL), EXIT_BAD_INPUT);
	}
}

/* The guest's geometry and the stop bound. */
static void test_config_geometry_and_stop(void **state)
{
	struct config c;
	(void)state;
	char d0[] = "path=a.img";
	const char *dflt[] = { "--kernel", "k", "--disk", d0, NULL };
	assert_int_equal(parse(&c, dflt), 0);
	assert_int_equal(c.disks[0].logical_block_size, 512);
	assert_int_equal(c.disks[0].physical_block_size, 0);
	assert_true(c.stop_timeout == CONFIG_STOP_TIMEOUT_DEFAULT);

	char d1[] = "path=a.img,logical-block-size=4096,physical-block-size=65536";
	const char *ok[] = { "--kernel", "k", "--disk", d1, "--stop-timeout", "0.5", NULL };
	assert_int_equal(parse(&c, ok), 0);
	assert_int_equal(c.disks[0].logical_block_size, 4096);
	assert_int_equal(c.disks[0].physical_block_size, 65536);
	assert_true(c.stop_timeout > 0.49 && c.stop_timeout < 0.51);

	static const char *const bad_disk[] = {
		"path=a.img,logical-block-size=1024",     /* 512 or 4096 only */
		"path=a.img,logical-block-size=",
		"path=a.img,physical-block-size=3000",    /* not a power of two */
		"path=a.img,physical-block-size=256",
		"path=a.img,physical-block-size=131072",
		"path=a.img,logical-block-size=4096,physical-block-size=512", /* below logical */
	};
	expect_bad_disks(bad_disk, sizeof(bad_disk) / sizeof(bad_disk[0]));
	const char *bad_stop[] = { "--kernel", "k", "--stop-timeout", "0", NULL };
	pv_fail_reset();
	assert_int_equal(parse(&c, bad_stop), -EINVAL);
}

/* null=on,size=SIZE: a disk with no file; size and read-zeroes belong to it alone. */
static void test_config_null_disk(void **state)
{
	struct config c;
	(void)state;
	char d0[] = "null=on,size=1G,read-zeroes=on", d1[] = "null=on,size=4M", d2[] = "path=a.img";
	const char *ok[] = { "--kernel", "k", "--disk", d0, "--disk", d1, "--disk", d2, NULL };
	assert_int_equal(parse(&c, ok), 0);
	assert_int_equal(c.nr_disks, 3);
	assert_true(c.disks[0].null && c.disks[0].read_zeroes);
	assert_null(c.disks[0].path);
	assert_int_equal(c.disks[0].size, 1ULL << 30);
	assert_true(c.disks[1].null && !c.disks[1].read_zeroes);
	assert_int_equal(c.disks[1].size, 4ULL << 20);
	assert_false(c.disks[2].null);
	assert_int_equal(c.disks[2].size, 0);

	static const char *const bad_disk[] = {
		"null=on",                              /* no size */
		"null=on,size=0",
		"null=on,size=1000",                    /* not whole sectors */
		"null=on,size=1G,path=a.img",           /* a null disk has no file */
		"null=maybe,size=1G",
		"null=on,size=1G,read-zeroes=sometimes",
		"null=on,size=1536,logical-block-size=4096", /* not whole logical blocks */
		"path=a.img,size=1G",                   /* size is the file's own */
		"path=a.img,read-zeroes=on",
		"null=off,size=1G",
		"size=1G",
	};
	expect_bad_disks(bad_disk, sizeof(bad_disk) / sizeof(bad_disk[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_config_ok),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test(test_config_disk_iothreads),
		cmocka_unit_test(test_config_geometry_and_stop),
		cmocka_unit_test(test_config_null_disk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
