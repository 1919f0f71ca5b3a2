/* SPDX-License-Identifier: MIT */
#include "loader.h"
#include "log.h"
#include "../firmware/layout.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* boot.rst offsets into a bzImage's real-mode header. */
#define BZ_SETUP_SECTS   0x1f1
#define BZ_BOOT_FLAG     0x1fe
#define BZ_JUMP_END      0x201   /* byte: length of the header beyond 0x202 */
#define BZ_HEADER        0x202
#define BZ_VERSION       0x206
#define BZ_INITRD_MAX    0x22c
#define BZ_XLOADFLAGS    0x236
#define BZ_INIT_SIZE     0x260
#define BZ_HDR_MIN_LEN   0x264
#define BZ_LOAD_ADDR     HIMEM_START /* protected-mode code at 1 MiB */
#define BZ_ENTRY64_OFF   0x200       /* startup_64 = load address + 0x200 */
#define XLF_KERNEL_64    0x1

/* Xen public/elfnote.h: the PVH entry note. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* Without a header telling us, an initrd may sit anywhere below 2 GiB. */
#define DEFAULT_INITRD_MAX 0x7fffffffULL

/* A file pollvm cannot boot (the user's to fix): one line naming it, -EINVAL. */
#define fail(path, fmt, ...) \
	(pv_err(PV_INPUT, "--kernel %s: " fmt, path, ##__VA_ARGS__), -EINVAL)

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* [off, off + n) inside [0, len) without overflow. */
static bool in_file(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* A uniform view of ELF32 and ELF64 program headers. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
	const uint8_t *img;
	size_t len;
	bool is64;
	uint64_t entry;
	uint64_t phoff;
	unsigned phnum, phentsize;
};

static void get_phdr(const struct elf_view *e, unsigned i, struct phdr *ph)
{
	const uint8_t *p = e->img + e->phoff + (uint64_t)i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr h;
		memcpy(&h, p, sizeof(h));
		*ph = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
	} else {
		Elf32_Phdr h;
		memcpy(&h, p, sizeof(h));
		*ph = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
	}
}

static int elf_open(const char *path, const uint8_t *img, size_t len, struct elf_view *e)
{
	memset(e, 0, sizeof(*e));
	e->img = img;
	e->len = len;
	if (len < EI_NIDENT || img[EI_DATA] != ELFDATA2LSB)
		return fail(path, "ELF kernel is not little-endian");
	if (img[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;
		if (len < sizeof(h))
			return fail(path, "ELF kernel truncated in its header");
		memcpy(&h, img, sizeof(h));
		if (h.e_machine != EM_X86_64)
			return fail(path, "ELF kernel is not for x86-64 (e_machine %u)", h.e_machine);
		if (h.e_phentsize != sizeof(Elf64_Phdr))
			return fail(path, "ELF kernel has a bad program header size");
		e->is64 = true;
		e->entry = h.e_entry;
		e->phoff = h.e_phoff;
		e->phnum = h.e_phnum;
		e->phentsize = h.e_phentsize;
	} else if (img[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;
		if (len < sizeof(h))
			return fail(path, "ELF kernel truncated in its header");
		memcpy(&h, img, sizeof(h));
		if (h.e_machine != EM_386 && h.e_machine != EM_X86_64)
			return fail(path, "ELF kernel is not for x86 (e_machine %u)", h.e_machine);
		if (h.e_phentsize != sizeof(Elf32_Phdr))
			return fail(path, "ELF kernel has a bad program header size");
		e->entry = h.e_entry;
		e->phoff = h.e_phoff;
		e->phnum = h.e_phnum;
		e->phentsize = h.e_phentsize;
	} else {
		return fail(path, "ELF kernel has an unknown class %u", img[EI_CLASS]);
	}
	if (e->phnum == 0 || !in_file(len, e->phoff, (uint64_t)e->phnum * e->phentsize))
		return fail(path, "ELF kernel's program headers lie outside the file");
	return 0;
}

/* Walk the notes of one PT_NOTE segment (ELF spec "Note Section"). */
static void elf_scan_notes(const uint8_t *p, uint64_t n, struct kernel_info *ki, uint64_t *pvh_entry)
{
	uint64_t off = 0;

	while (n - off >= 12) {
		uint32_t namesz = rd32(p + off), descsz = rd32(p + off + 4), type = rd32(p + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ULL);
		uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ULL);

		if (desc_off > n || next > n)
			return;
		if (namesz == 6 && !memcmp(p + name_off, "Linux", 6))
			ki->has_linux_note = true;
		if (namesz == 4 && !memcmp(p + name_off, "Xen", 4) &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
			uint64_t v = 0;
			memcpy(&v, p + desc_off, descsz);
			ki->has_pvh_note = true;
			*pvh_entry = v;
		}
		off = next;
	}
}

static int probe_elf(const char *path, const uint8_t *img, size_t len, enum boot_pref pref,
		     struct kernel_info *ki)
{
	struct elf_view e;
	uint64_t pvh_entry = 0, lo = UINT64_MAX, hi = 0;
	unsigned nload = 0;
	int r = elf_open(path, img, len, &e);

	if (r)
		return r;
	for (unsigned i = 0; i < e.phnum; i++) {
		struct phdr ph;
		get_phdr(&e, i, &ph);
		if (ph.type != PT_LOAD && ph.type != PT_NOTE)
			continue;
		if (!in_file(len, ph.offset, ph.filesz))
			return fail(path, "ELF segment %u lies outside the file", i);
		if (ph.type == PT_NOTE) {
			elf_scan_notes(img + ph.offset, ph.filesz, ki, &pvh_entry);
			continue;
		}
		if (ph.filesz > ph.memsz)
			return fail(path, "ELF segment %u has filesz > memsz", i);
		if (ph.paddr + ph.memsz < ph.paddr)
			return fail(path, "ELF segment %u wraps the address space", i);
		if (ph.memsz == 0)
			continue;
		if (ph.paddr < HIMEM_START)
			return fail(path, "ELF segment %u loads at 0x%llx, below 1 MiB where the boot tables live",
				    i, (unsigned long long)ph.paddr);
		lo = ph.paddr < lo ? ph.paddr : lo;
		hi = ph.paddr + ph.memsz > hi ? ph.paddr + ph.memsz : hi;
		nload++;
	}
	if (nload == 0)
		return fail(path, "ELF kernel has nothing to load");

	ki->format = IMAGE_ELF;
	ki->load_start = lo;
	ki->load_end = hi;
	ki->initrd_max = DEFAULT_INITRD_MAX;

	bool linux64 = e.is64 && ki->has_linux_note;
	if (pref == BOOT_PREF_PVH || (pref == BOOT_PREF_AUTO && !linux64)) {
		if (!ki->has_pvh_note)
			return fail(path, "%s", pref == BOOT_PREF_PVH ?
				    "ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)" :
				    "ELF file is neither a Linux vmlinux nor a PVH kernel (no PHYS32_ENTRY note)");
		if (pvh_entry >= LOW_RAM_END)
			return fail(path, "PVH entry 0x%llx is outside low RAM", (unsigned long long)pvh_entry);
		ki->boot = BOOT_PVH;
		ki->entry = pvh_entry;
		return 0;
	}
	if (!linux64)
		return fail(path, "ELF kernel is not a 64-bit Linux vmlinux (no \"Linux\" note)");
	/* vmlinux links ENTRY(phys_startup_64): e_entry is already physical. */
	if (e.entry < lo || e.entry >= hi)
		return fail(path, "vmlinux entry 0x%llx is outside its loaded segments",
			    (unsigned long long)e.entry);
	ki->boot = BOOT_LINUX64;
	ki->entry = e.entry;
	return 0;
}

static int probe_bzimage(const char *path, const uint8_t *img, size_t len, enum boot_pref pref,
			 struct kernel_info *ki)
{
	uint16_t version = rd16(img + BZ_VERSION);
	unsigned setup_sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	uint64_t pm_off = ((uint64_t)setup_sects + 1) * 512;
	size_t hdr_len = (size_t)(BZ_HEADER + img[BZ_JUMP_END]) - BZ_SETUP_SECTS;

	if (pref == BOOT_PREF_PVH)
		return fail(path, "a bzImage has no PVH entry; boot its vmlinux instead");
	if (version < 0x020c)
		return fail(path, "bzImage boot protocol %u.%02u is older than 2.12 (no 64-bit entry)",
			    version >> 8, version & 0xff);
	if (!(img[BZ_XLOADFLAGS] & XLF_KERNEL_64))
		return fail(path, "bzImage has no 64-bit entry point (XLF_KERNEL_64 clear)");
	if (pm_off >= len)
		return fail(path, "bzImage truncated: setup is %llu bytes, the file %zu",
			    (unsigned long long)pm_off, len);
	if (hdr_len > len - BZ_SETUP_SECTS)
		return fail(path, "bzImage header runs past the end of the file");

	uint64_t pm_size = len - pm_off;
	uint64_t init_size = rd32(img + BZ_INIT_SIZE);
	ki->format = IMAGE_BZIMAGE;
	ki->boot = BOOT_LINUX64;
	ki->entry = BZ_LOAD_ADDR + BZ_ENTRY64_OFF;
	ki->load_start = BZ_LOAD_ADDR;
	/* The decompressor works in place and needs init_size bytes from the load address. */
	ki->load_end = BZ_LOAD_ADDR + (init_size > pm_size ? init_size : pm_size);
	ki->initrd_max = rd32(img + BZ_INITRD_MAX);
	ki->setup_hdr = img + BZ_SETUP_SECTS;
	ki->setup_hdr_len = hdr_len;
	return 0;
}

int loader_probe(const char *path, const uint8_t *img, size_t len, enum boot_pref pref,
		 struct kernel_info *ki)
{
	memset(ki, 0, sizeof(*ki));
	if (len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG))
		return probe_elf(path, img, len, pref, ki);
	if (len >= BZ_HDR_MIN_LEN && rd16(img + BZ_BOOT_FLAG) == 0xaa55 &&
	    rd32(img + BZ_HEADER) == 0x53726448 /* "HdrS" */)
		return probe_bzimage(path, img, len, pref, ki);
	return fail(path, "not a kernel pollvm can boot (neither ELF nor a bzImage)");
}

int loader_load(const char *path, const uint8_t *img, size_t len, const struct kernel_info *ki,
		const struct guest_mem *gm)
{
	if (!gmem_ptr(gm, ki->load_start, ki->load_end - ki->load_start)) {
		pv_err(PV_INTERNAL, "kernel needs guest RAM 0x%llx-0x%llx; raise --mem",
		       (unsigned long long)ki->load_start, (unsigned long long)ki->load_end);
		return -EFAULT;
	}
	if (ki->format == IMAGE_BZIMAGE) {
		unsigned setup_sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
		uint64_t pm_off = ((uint64_t)setup_sects + 1) * 512;
		memcpy(gmem_ptr(gm, BZ_LOAD_ADDR, len - pm_off), img + pm_off, len - pm_off);
		return 0;
	}

	struct elf_view e;
	int r = elf_open(path, img, len, &e);
	if (r)
		return r;
	for (unsigned i = 0; i < e.phnum; i++) {
		struct phdr ph;
		get_phdr(&e, i, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		/* probe_elf checked the file range, filesz <= memsz, and no wrap. */
		uint8_t *dst = gmem_ptr(gm, ph.paddr, ph.memsz);
		if (!dst) {
			pv_err(PV_INTERNAL, "ELF segment %u (0x%llx+0x%llx) is outside guest RAM; raise --mem",
			       i, (unsigned long long)ph.paddr, (unsigned long long)ph.memsz);
			return -EFAULT;
		}
		memcpy(dst, img + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
	}
	return 0;
}
