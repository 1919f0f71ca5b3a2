/* SPDX-License-Identifier: MIT */
/* Kernel images for the tests, built in memory. */
#ifndef POLLVM_TESTS_FAKE_KERNEL_H
#define POLLVM_TESTS_FAKE_KERNEL_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A synthetic ELF: header, two phdrs (PT_LOAD, PT_NOTE), payload, notes. */
struct fake_elf {
	uint8_t b[8192];
	size_t len;
};

#define LOAD_OFF  0x400
#define NOTE_OFF  0x800
#define PAYLOAD   "\x90\x90\xf4"

static inline size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t off = 12;
	memcpy(p, &namesz, 4);
	memcpy(p + 4, &descsz, 4);
	memcpy(p + 8, &type, 4);
	memcpy(p + off, name, namesz);
	off += (namesz + 3) & ~3U;
	memcpy(p + off, desc, descsz);
	off += (descsz + 3) & ~3U;
	return off;
}

static inline void make_elf64(struct fake_elf *f, bool linux_note, bool pvh_note, uint64_t paddr)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { 0 };
	size_t nlen = 0;

	memset(f, 0, sizeof(*f));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_machine = EM_X86_64;
	eh.e_entry = paddr;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	if (linux_note)
		nlen += put_note(f->b + NOTE_OFF + nlen, "Linux", 6, "salt", 4);
	if (pvh_note) {
		uint64_t entry = paddr + 1;
		nlen += put_note(f->b + NOTE_OFF + nlen, "Xen", 18, &entry, 8);
	}
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = LOAD_OFF, .p_paddr = paddr,
			      .p_filesz = 3, .p_memsz = 0x1000 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = nlen };
	memcpy(f->b, &eh, sizeof(eh));
	memcpy(f->b + sizeof(eh), ph, sizeof(ph));
	memcpy(f->b + LOAD_OFF, PAYLOAD, 3);
	f->len = NOTE_OFF + nlen + 16;
}

#endif
