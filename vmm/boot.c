/* SPDX-License-Identifier: MIT */
#include "boot.h"
#include "dtb.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"
#include "../firmware/bootparams.h"
#include "../firmware/e820.h"
#include "../firmware/layout.h"
#include "../firmware/mptable.h"
#include "../firmware/pvh.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PAGE_SIZE 4096ULL

uint64_t boot_initrd_addr(uint64_t low_ram_end, uint64_t kernel_end,
			  uint64_t initrd_max, uint64_t len)
{
	/* As high as allowed, like every boot loader: away from the kernel's
	 * decompression and bss, and within the header's initrd_addr_max. */
	uint64_t top = low_ram_end;
	uint64_t floor = (kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	if (initrd_max && initrd_max < UINT64_MAX && initrd_max + 1 < top)
		top = initrd_max + 1;
	if (len == 0 || len > top)
		return 0;
	uint64_t addr = (top - len) & ~(PAGE_SIZE - 1);
	if (addr < floor || addr < HIMEM_START)
		return 0;
	return addr;
}

int boot_setup(struct vm *vm, const struct cmdline *cmdline)
{
	struct e820_entry_fw e820[E820_MAX];
	uint64_t initrd_gpa = 0, boot_arg, setup_data = 0;
	bool fdt = vm->cfg->machine_desc == MACHINE_DESC_FDT;
	int r, n;

	r = loader_load(vm->cfg->kernel, vm->kernel_img, vm->kernel_len, &vm->ki, &vm->mem);
	if (r)
		return r;

	if (vm->initrd_img) {
		initrd_gpa = boot_initrd_addr(vm->low_size, vm->ki.load_end, vm->ki.initrd_max,
					      vm->initrd_len);
		if (!initrd_gpa) {
			pv_err(PV_INTERNAL, "initrd (%zu bytes) does not fit in guest RAM above the kernel; raise --mem",
			       vm->initrd_len);
			return -ENOSPC;
		}
		memcpy(gmem_ptr(&vm->mem, initrd_gpa, vm->initrd_len), vm->initrd_img, vm->initrd_len);
	}

	memcpy(vm->ram + CMDLINE_ADDR, cmdline->buf, cmdline->len + 1);

	n = e820_build(e820, E820_MAX, vm->low_size, vm->high_size);
	if (n < 0) {
		pv_err(PV_INTERNAL, "cannot describe %llu bytes of RAM in e820", (unsigned long long)vm->ram_size);
		return n;
	}

	/*
	 * With a device tree, no MP table: Linux's x86_dtb_init() registers the
	 * LAPIC, every CPU and the IOAPIC from the tree before get_smp_config()
	 * reads an MP table, which would register each CPU a second time
	 * (generic_processor_info() does not check for duplicates) and its
	 * IOAPIC again (-EEXIST). The CE4100, the platform that code was written
	 * for, turns MP table parsing off for the same reason.
	 */
	if (!fdt) {
		r = mptable_write(vm->ram + MPTABLE_ADDR, HIMEM_START - MPTABLE_ADDR, MPTABLE_ADDR,
				  vm->nr_vcpus);
		if (r < 0) {
			pv_err(PV_INTERNAL, "MP table for %u vCPUs does not fit", vm->nr_vcpus);
			return r;
		}
	}

	if (vm->ki.boot == BOOT_PVH) {
		r = pvh_info_write(vm->ram + PVH_INFO_ADDR, ZERO_PAGE_ADDR - PVH_INFO_ADDR, PVH_INFO_ADDR,
				   CMDLINE_ADDR, initrd_gpa, vm->initrd_len, e820, (unsigned)n);
		if (r < 0) {
			pv_err(PV_INTERNAL, "PVH start info does not fit");
			return r;
		}
		boot_arg = PVH_INFO_ADDR;
	} else {
		/* vm_prepare() refused fdt with PVH: its start info has no setup_data. */
		if (fdt) {
			r = dtb_place(vm, &setup_data);
			if (r)
				return r;
		}
		struct bootparams_cfg bc = {
			.setup_hdr = vm->ki.setup_hdr,
			.setup_hdr_len = vm->ki.setup_hdr_len,
			.cmdline_gpa = CMDLINE_ADDR,
			.cmdline_size = (uint32_t)cmdline->len,
			.initrd_gpa = initrd_gpa,
			.initrd_size = vm->initrd_len,
			.setup_data_gpa = setup_data,
			.e820 = e820,
			.e820_nr = (unsigned)n,
		};
		r = bootparams_build((struct boot_params *)(vm->ram + ZERO_PAGE_ADDR), &bc);
		if (r) {
			pv_err(PV_INTERNAL, "cannot build the zero page");
			return r;
		}
		boot_arg = ZERO_PAGE_ADDR;
	}

	r = vcpu_setup_boot_regs(&vm->vcpus[0], vm->ki.entry, boot_arg);
	if (r)
		pv_err(PV_INTERNAL, "setting boot registers: %s", strerror(-r));
	return r;
}
