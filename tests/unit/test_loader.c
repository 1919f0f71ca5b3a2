/* SPDX-License-Identifier: MIT */
/* Kernel loaders: what they accept, where they load, and every way a file is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>

#include "../../firmware/layout.h"
#include "../../vmm/boot.h"
#include "../../vmm/loader.h"
#include "../lib/pv_capture.h"
#include "fake_kernel.h"

static Elf64_Phdr *phdr(struct fake_elf *f, int i)
{
	return (Elf64_Phdr *)(f->b + sizeof(Elf64_Ehdr)) + i;
}

static int probe(struct fake_elf *f, enum boot_pref pref, struct kernel_info *ki)
{
	return loader_probe("k.elf", f->b, f->len, pref, ki);
}

/* Refused as a bad --kernel file (the user's to fix), the line holding want. */
#define REFUSED(want, call) assert_int_equal(PV_FAILS(PV_INPUT, want, call), -EINVAL)

static void test_vmlinux(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	(void)state;
	make_elf64(&f, true, true, 0x1000000);
	assert_int_equal(probe(&f, BOOT_PREF_AUTO, &ki), 0);
	assert_int_equal(ki.boot, BOOT_LINUX64);
	assert_int_equal(ki.entry, 0x1000000);
	assert_int_equal(ki.load_start, 0x1000000);
	assert_int_equal(ki.load_end, 0x1001000);
	assert_true(ki.has_linux_note);
	assert_true(ki.has_pvh_note);
	/* The same vmlinux, asked to enter through PVH. */
	assert_int_equal(probe(&f, BOOT_PREF_PVH, &ki), 0);
	assert_int_equal(ki.boot, BOOT_PVH);
	assert_int_equal(ki.entry, 0x1000001);
}

static void test_pvh_only(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	(void)state;
	make_elf64(&f, false, true, 0x100000);
	assert_int_equal(probe(&f, BOOT_PREF_AUTO, &ki), 0);
	assert_int_equal(ki.boot, BOOT_PVH);
	assert_int_equal(ki.entry, 0x100001);
	/* Not Linux: the 64-bit zero-page entry is refused. */
	REFUSED("not a 64-bit Linux vmlinux", probe(&f, BOOT_PREF_LINUX, &ki));
}

static void test_elf_rejects(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	(void)state;

	make_elf64(&f, false, false, 0x100000);
	REFUSED("(no PHYS32_ENTRY note)", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	REFUSED("no PVH entry note", probe(&f, BOOT_PREF_PVH, &ki));

	make_elf64(&f, true, false, 0x1000000);
	f.b[EI_DATA] = ELFDATA2MSB;
	REFUSED("not little-endian", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	((Elf64_Ehdr *)f.b)->e_machine = EM_AARCH64;
	REFUSED("not for x86-64 (e_machine 183)", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	((Elf64_Ehdr *)f.b)->e_phoff = 8000;  /* phdrs past the end */
	REFUSED("program headers lie outside the file", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	((Elf64_Ehdr *)f.b)->e_phoff = UINT64_MAX - 8; /* offset + size wraps */
	REFUSED("program headers lie outside the file", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	phdr(&f, 0)->p_offset = UINT64_MAX - 1;      /* segment outside the file */
	REFUSED("segment 0 lies outside the file", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	phdr(&f, 0)->p_memsz = 2;                    /* filesz (3) > memsz */
	REFUSED("filesz > memsz", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	phdr(&f, 0)->p_paddr = UINT64_MAX - 0x10;     /* wraps */
	REFUSED("wraps the address space", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x80000);         /* over the boot tables */
	REFUSED("below 1 MiB", probe(&f, BOOT_PREF_AUTO, &ki));

	make_elf64(&f, true, false, 0x1000000);
	((Elf64_Ehdr *)f.b)->e_entry = 0x2000000;    /* entry outside the segments */
	REFUSED("outside its loaded segments", probe(&f, BOOT_PREF_AUTO, &ki));

	/* A truncated header, for every length short of the phdrs. */
	make_elf64(&f, true, false, 0x1000000);
	for (size_t n = 0; n < sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr); n++)
		REFUSED("--kernel k.elf: ", loader_probe("k.elf", f.b, n, BOOT_PREF_AUTO, &ki));

	/* A note whose size runs past its segment is ignored, not followed. */
	make_elf64(&f, false, true, 0x100000);
	uint32_t huge = 0xfffffff0;
	memcpy(f.b + NOTE_OFF + 4, &huge, 4);
	REFUSED("(no PHYS32_ENTRY note)", probe(&f, BOOT_PREF_AUTO, &ki));
}

static void test_junk(void **state)
{
	struct kernel_info ki;
	uint8_t junk[4096];
	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	REFUSED("pollvm: --kernel junk: not a kernel pollvm can boot (neither ELF nor a bzImage)\n",
		loader_probe("junk", junk, sizeof(junk), BOOT_PREF_AUTO, &ki));
	REFUSED("neither ELF nor a bzImage", loader_probe("junk", junk, 0, BOOT_PREF_AUTO, &ki));
}

static void make_bzimage(uint8_t *b, size_t len, uint16_t version, uint8_t xlf)
{
	memset(b, 0, len);
	b[0x1f1] = 4;                     /* setup_sects: pm code at 5 * 512 */
	b[0x1fe] = 0x55; b[0x1ff] = 0xaa;
	b[0x201] = 0x62;                  /* header extends to 0x264 */
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &version, 2);
	uint32_t initrd_max = 0x37ffffff, init_size = 0x800000;
	memcpy(b + 0x22c, &initrd_max, 4);
	b[0x236] = xlf;
	memcpy(b + 0x260, &init_size, 4);
	b[5 * 512] = 0xf4;
}

static void test_bzimage(void **state)
{
	static uint8_t b[16384];
	struct kernel_info ki;
	(void)state;

	make_bzimage(b, sizeof(b), 0x020f, 1);
	assert_int_equal(loader_probe("bzImage", b, sizeof(b), BOOT_PREF_AUTO, &ki), 0);
	assert_int_equal(ki.format, IMAGE_BZIMAGE);
	assert_int_equal(ki.boot, BOOT_LINUX64);
	assert_int_equal(ki.entry, 0x100200);
	assert_int_equal(ki.load_end, 0x100000 + 0x800000);
	assert_int_equal(ki.initrd_max, 0x37ffffff);
	assert_ptr_equal(ki.setup_hdr, b + 0x1f1);
	assert_int_equal(ki.setup_hdr_len, 0x264 - 0x1f1);

	make_bzimage(b, sizeof(b), 0x020b, 1);     /* too old for a 64-bit entry */
	REFUSED("2.11 is older than 2.12", loader_probe("bzImage", b, sizeof(b), BOOT_PREF_AUTO, &ki));
	make_bzimage(b, sizeof(b), 0x020f, 0);     /* 32-bit only */
	REFUSED("XLF_KERNEL_64 clear", loader_probe("bzImage", b, sizeof(b), BOOT_PREF_AUTO, &ki));
	make_bzimage(b, sizeof(b), 0x020f, 1);
	REFUSED("bzImage truncated", loader_probe("bzImage", b, 5 * 512, BOOT_PREF_AUTO, &ki));
	REFUSED("bzImage has no PVH entry", loader_probe("bzImage", b, sizeof(b), BOOT_PREF_PVH, &ki));
}

static void test_load(void **state)
{
	static uint8_t ram[32 << 20];
	struct guest_mem gm = { 0 };
	struct fake_elf f;
	struct kernel_info ki;
	(void)state;

	assert_int_equal(gmem_add(&gm, 0, sizeof(ram), ram), 0);
	make_elf64(&f, true, false, 0x1000000);
	assert_int_equal(probe(&f, BOOT_PREF_AUTO, &ki), 0);
	memset(ram + 0x1000000, 0xcc, 0x2000);
	assert_int_equal(loader_load("k.elf", f.b, f.len, &ki, &gm), 0);
	assert_memory_equal(ram + 0x1000000, PAYLOAD, 3);
	/* bss (memsz beyond filesz) is zeroed, and not one byte more. */
	for (int i = 3; i < 0x1000; i++)
		assert_int_equal(ram[0x1000000 + i], 0);
	assert_int_equal(ram[0x1001000], 0xcc);

	/* Past the end of RAM. */
	make_elf64(&f, true, false, sizeof(ram) - 0x800);
	assert_int_equal(probe(&f, BOOT_PREF_AUTO, &ki), 0);
	/* vm_prepare() checks the kernel against --mem first: here it is pollvm's failure. */
	assert_int_equal(PV_FAILS(PV_INTERNAL, "raise --mem", loader_load("k.elf", f.b, f.len, &ki, &gm)), -EFAULT);
}

static void test_initrd_placement(void **state)
{
	(void)state;
	/* As high as possible, page aligned. */
	assert_int_equal(boot_initrd_addr(256 << 20, 0x2000000, 0x7fffffff, 0x1800), (256 << 20) - 0x2000);
	/* Capped by the header's initrd_addr_max. */
	assert_int_equal(boot_initrd_addr(LOW_RAM_END, 0x2000000, 0x37ffffff, 0x1000), 0x38000000 - 0x1000);
	/* Does not fit above the kernel. */
	assert_int_equal(boot_initrd_addr(64 << 20, 60 << 20, 0x7fffffff, 8 << 20), 0);
	assert_int_equal(boot_initrd_addr(64 << 20, 0x2000000, 0x7fffffff, UINT64_MAX), 0);
	assert_int_equal(boot_initrd_addr(64 << 20, 0x2000000, 0x7fffffff, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmlinux),
		cmocka_unit_test(test_pvh_only),
		cmocka_unit_test(test_elf_rejects),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_initrd_placement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
