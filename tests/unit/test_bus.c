/* SPDX-License-Identifier: MIT */
/* The PIO/MMIO bus and guest memory bounds: overlaps, edges, wrap-around. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "../../vmm/bus.h"
#include "../../vmm/guest_mem.h"

struct rec {
	uint64_t off;
	unsigned len;
	uint32_t val;
	int reads, writes;
};

static void rec_read(void *o, uint64_t off, void *data, unsigned len)
{
	struct rec *r = o;
	r->off = off;
	r->len = len;
	r->reads++;
	memset(data, 0x5a, len);
}

static void rec_write(void *o, uint64_t off, const void *data, unsigned len)
{
	struct rec *r = o;
	r->off = off;
	r->len = len;
	r->val = 0;
	memcpy(&r->val, data, len > 4 ? 4 : len);
	r->writes++;
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };

static void test_register_overlap(void **state)
{
	struct bus b;
	struct rec r = { 0 };
	(void)state;
	bus_init(&b, "t");
	assert_int_equal(bus_register(&b, 0x100, 0x10, &rec_ops, &r, "a"), 0);
	assert_int_equal(bus_register(&b, 0x110, 0x10, &rec_ops, &r, "adjacent above"), 0);
	assert_int_equal(bus_register(&b, 0xf0, 0x10, &rec_ops, &r, "adjacent below"), 0);
	assert_int_equal(bus_register(&b, 0x10f, 1, &rec_ops, &r, "inside"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x80, 0x71, &rec_ops, &r, "tail overlaps"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x11f, 0x10, &rec_ops, &r, "head overlaps"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x0, 0x1000, &rec_ops, &r, "covers all"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x200, 0, &rec_ops, &r, "empty"), -EINVAL);
	assert_int_equal(bus_register(&b, UINT64_MAX - 3, 8, &rec_ops, &r, "wraps"), -EINVAL);
	assert_int_equal(bus_register(&b, UINT64_MAX - 7, 8, &rec_ops, &r, "last bytes"), 0);
	assert_int_equal(b.nr, 4);
	for (unsigned i = 1; i < b.nr; i++)
		assert_true(b.r[i - 1].base < b.r[i].base);
	bus_destroy(&b);
}

static void test_dispatch(void **state)
{
	struct bus b;
	struct rec r1 = { 0 }, r2 = { 0 };
	uint32_t v = 0x11223344, out = 0;
	(void)state;
	bus_init(&b, "t");
	assert_int_equal(bus_register(&b, 0x3f8, 8, &rec_ops, &r1, "uart"), 0);
	assert_int_equal(bus_register(&b, 0xd0000000, 0x1000, &rec_ops, &r2, "mmio"), 0);

	assert_true(bus_write(&b, 0x3fd, &v, 1));
	assert_int_equal(r1.off, 5);
	assert_int_equal(r1.val, 0x44);
	assert_true(bus_write(&b, 0xd0000ffc, &v, 4));
	assert_int_equal(r2.off, 0xffc);
	assert_int_equal(r2.val, 0x11223344);
	assert_true(bus_read(&b, 0x3f8, &out, 2));
	assert_int_equal(out & 0xffff, 0x5a5a);

	/* An access straddling the end of a range belongs to nobody. */
	r2.writes = 0;
	assert_false(bus_write(&b, 0xd0000ffe, &v, 4));
	assert_int_equal(r2.writes, 0);
	/* Unclaimed reads float high. */
	out = 0;
	assert_false(bus_read(&b, 0x2f8, &out, 4));
	assert_int_equal(out, 0xffffffff);
	assert_null(bus_find(&b, 0x3f7, 1));
	assert_null(bus_find(&b, 0x400, 1));
	assert_null(bus_find(&b, 0x3f8, 0));
	assert_non_null(bus_find(&b, 0x3ff, 1));
	assert_null(bus_find(&b, 0x3ff, 2));
	bus_destroy(&b);
}

static void test_gmem(void **state)
{
	static uint8_t low[0x10000], high[0x1000];
	struct guest_mem m = { 0 };
	(void)state;
	assert_int_equal(gmem_add(&m, 0, sizeof(low), low), 0);
	assert_int_equal(gmem_add(&m, 0x100000000ULL, sizeof(high), high), 0);
	assert_int_equal(gmem_add(&m, 0x8000, 0x10000, low), -EINVAL);      /* overlap */
	assert_int_equal(gmem_add(&m, UINT64_MAX - 10, 0x100, low), -EINVAL); /* wraps */
	assert_ptr_equal(gmem_ptr(&m, 0, sizeof(low)), low);
	assert_ptr_equal(gmem_ptr(&m, 0xfff0, 0x10), low + 0xfff0);
	assert_null(gmem_ptr(&m, 0xfff0, 0x11));          /* one byte past RAM */
	assert_null(gmem_ptr(&m, 0x10000, 1));            /* the hole */
	assert_ptr_equal(gmem_ptr(&m, 0x100000fffULL, 1), high + 0xfff);
	assert_null(gmem_ptr(&m, 0x100000fffULL, 2));
	/* Lengths that would wrap the address space never match. */
	assert_null(gmem_ptr(&m, 0x10, UINT64_MAX));
	assert_null(gmem_ptr(&m, UINT64_MAX, 2));
	assert_null(gmem_ptr(&m, 0x100000000ULL, UINT64_MAX - 0xffffffffULL + 1));
	assert_int_equal(gmem_total(&m), sizeof(low) + sizeof(high));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_overlap),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_gmem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
