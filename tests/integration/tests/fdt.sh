# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# the device tree: --machine-desc=fdt with the Linux guest that reads
# it, --dump-dtb, fdt refused for a PVH kernel.

# --machine-desc=fdt: the kernel built with guest/linux-fdt.config learns its
# CPUs, IOAPIC and disks from the device tree in setup_data.
need_fdt_guest() {
	[ -n "${POLLVM_GUEST_VMLINUX_FDT:-}" ] && return 0
	echo "# $1: POLLVM_GUEST_VMLINUX_FDT is not set (tests/integration/run exports it from scripts/build-guest --variant fdt)"
	# shellcheck disable=SC2034 # T_WHY: for run_test (runner.sh)
	T_WHY=skip
	return 1
}
# 2-vCPU Linux guests under fio die now and then in the nested test host
# (a triple fault, or a CPU that stops answering: RCU stall), with either
# machine description, with either kernel, and under QEMU microvm as well
# (4 of 10 QEMU runs, docs/testing.md): a fault of the emulated platform, not
# of the VMM.  There the I/O runs on 1 vCPU; t_linux_fdt_2cpu still boots
# 2 vCPUs from the tree.
fdt_fio_cpus() {
	if [ -n "${POLLVM_NESTED_L1:-}" ]; then
		echo "# $1: nested test host: fio on 1 vCPU (2-vCPU guests under I/O are unreliable there, QEMU's too)" >&2
		echo 1
	else
		echo 2
	fi
}
t_linux_fdt_two_disks() {
	need_fdt_guest t_linux_fdt_two_disks || return 0
	local out=$T_TMP/t_linux_fdt_two_disks.out cpus
	cpus=$(fdt_fio_cpus t_linux_fdt_two_disks)
	truncate -s 32M "$T_TMP/fa.img" "$T_TMP/fb.img"
	# fdt-bound.fio fails unless both disks were bound through the tree.
	POLLVM_GUEST_VMLINUX=$POLLVM_GUEST_VMLINUX_FDT gfio t_linux_fdt_two_disks \
		"$FIOJ/two-disks.fio,$FIOJ/fdt-bound.fio" --machine-desc=fdt --cpus "$cpus" \
		--disk "path=$T_TMP/fa.img" --disk "path=$T_TMP/fb.img,cache=writeback"
	expect_status 0 $? || return 1
	expect_grep "pollvm-guest: fio status=0" "$out" &&
		# No MP table in this mode: the CPUs came from the tree.
		expect_grep "pollvm-guest: cpus online $cpus" "$out" || return 1
	[ "$(head -c 8M "$T_TMP/fa.img" | tr -d '\0' | head -c 1 | wc -c)" = 1 ] &&
		[ "$(head -c 8M "$T_TMP/fb.img" | tr -d '\0' | head -c 1 | wc -c)" = 1 ] ||
		fail "a disk stayed empty"
}
t_linux_fdt_2cpu() {
	# Two CPUs and both disks from the tree alone (no MP table, no
	# virtio_mmio.device=): the probes of fdt-bound.fio, no heavy I/O.
	need_fdt_guest t_linux_fdt_2cpu || return 0
	local out=$T_TMP/t_linux_fdt_2cpu.out
	truncate -s 1M "$T_TMP/fc.img" "$T_TMP/fd.img"
	POLLVM_GUEST_VMLINUX=$POLLVM_GUEST_VMLINUX_FDT gfio t_linux_fdt_2cpu "$FIOJ/fdt-bound.fio" \
		--machine-desc=fdt --cpus 2 --disk "path=$T_TMP/fc.img" --disk "path=$T_TMP/fd.img"
	expect_status 0 $? && expect_grep "pollvm-guest: fio status=0" "$out" &&
		expect_grep "pollvm-guest: cpus online 2" "$out"
}
t_linux_fdt_no_cmdline_devices() {
	# The guest's command line is exactly --cmdline: a 2047-byte one (the
	# limit) plus two disks boots with fdt and is refused without it, where
	# each disk would add virtio_mmio.device=512@0x...:N.
	need_fdt_guest t_linux_fdt_no_cmdline_devices || return 0
	local out=$T_TMP/t_linux_fdt_no_cmdline_devices.out long
	long="$(scripts/guest-cmdline) $(printf 'x%.0s' $(seq 1 2047))"
	long=${long:0:2047}
	truncate -s 1M "$T_TMP/na.img" "$T_TMP/nb.img"
	pv "$out" --kernel "$POLLVM_GUEST_VMLINUX_FDT" --cmdline "$long" --timeout 1 \
		--disk "path=$T_TMP/na.img" --disk "path=$T_TMP/nb.img"
	expect_status 2 $? && expect_grep "longer than the guest's" "$out" || return 1
	pv "$out" --kernel "$POLLVM_GUEST_VMLINUX_FDT" --cmdline "$long" --timeout 1 \
		--machine-desc=fdt --disk "path=$T_TMP/na.img" --disk "path=$T_TMP/nb.img"
	expect_status 124 $?
}

# --dump-dtb and --machine-desc=fdt with a PVH kernel: no guest runs (the
# tree is written and checked with dtc; a PVH kernel cannot take a tree).
t_dump_dtb() {
	local dtb=$T_TMP/t_dump_dtb.dtb dts=$T_TMP/t_dump_dtb.dts out=$T_TMP/t_dump_dtb.out
	truncate -s 1M "$T_TMP/da.img" "$T_TMP/db.img"
	pv "$out" --kernel "$MINI/mini-hang.elf" --cpus 3 --mem 4G --dump-dtb "$dtb" \
		--disk "path=$T_TMP/da.img" --disk "path=$T_TMP/db.img"
	expect_status 0 $? || return 1
	dtc -q -I dtb -O dts -o "$dts" "$dtb" || { fail "dtc cannot read the tree"; return 1; }
	local want
	for want in 'cpu@2 {' 'compatible = "intel,ce4100-ioapic";' 'compatible = "intel,ce4100-lapic";' \
		'isa@d0001000 {' 'serial@i3f8 {' 'virtio_mmio@d0001000 {' 'virtio_mmio@d0001200 {' \
		'reg = <0x00 0xd0001200 0x200>;' 'interrupts = <0x06 0x03>;' \
		'reg = <0x00 0x00 0x00 0xc0000000 0x01 0x00 0x00 0x40000000>;'; do
		expect_grep "$want" "$dts" || return 1
	done
	[ "$(grep -c 'compatible = "virtio,mmio";' "$dts")" = 2 ] || fail "not exactly 2 virtio,mmio nodes"
}
t_fdt_refused_for_pvh() {
	local out=$T_TMP/t_fdt_refused_for_pvh.out
	pv "$out" --kernel "$MINI/mini-hang.elf" --machine-desc=fdt --timeout 5
	expect_status 2 $? && expect_grep "no setup_data for the device tree" "$out" || return 1
	[ "$(wc -l <"$out")" = 1 ] || fail "not one line: $(cat "$out")"
}
