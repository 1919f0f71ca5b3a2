# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# the Linux test guest: booting, an ext4 root, fio on its virtio-blk
# disks.

LT=${POLLVM_LINUX_TIMEOUT:-300}

linux_boot() { # name cpus [extra pollvm args]
	local name=$1 cpus=$2; shift 2
	local out=$T_TMP/$name.out
	[ -n "${POLLVM_GUEST_VMLINUX:-}" ] || { fail "POLLVM_GUEST_VMLINUX not set"; return 1; }
	pv "$out" --kernel "$POLLVM_GUEST_VMLINUX" --initrd "$POLLVM_GUEST_INITRD" \
		--cpus "$cpus" --mem 256M --timeout "$LT" --stats "$T_TMP/$name.json" \
		--cmdline "$(scripts/guest-cmdline)" "$@"
	local st=$?
	expect_status 0 $st || return 1
	expect_grep "pollvm-guest: init reached" "$out" || return 1
	expect_grep "pollvm: guest init reached after" "$out" || return 1
	expect_grep "pollvm-guest: cpus online $((cpus))" "$out" || return 1
	expect_grep "guest reset" "$out"
}
t_linux_boot_1cpu() { linux_boot t_linux_boot_1cpu 1; }
t_linux_boot_2cpu() { linux_boot t_linux_boot_2cpu 2; }
t_linux_fio_verify_and_host_check() {
	local img=$T_TMP/pattern.img
	truncate -s 64M "$img"
	gfio t_linux_fio_verify_and_host_check "verify,$FIOJ/pattern-write.fio" \
		--disk "path=$img" --stats "$T_TMP/pattern.json"
	expect_status 0 $? || return 1
	# What the guest wrote is in the file, byte for byte (16-byte pattern x 256 Ki).
	local want got
	want=$(yes 'pollvm-pattern!!' | tr -d '\n' | head -c $((4 << 20)) | md5sum)
	got=$(head -c $((4 << 20)) "$img" | md5sum)
	[ "$want" = "$got" ] || { fail "host sees other data than the guest wrote"; return 1; }
	expect_grep '"reads": [1-9]' "$T_TMP/pattern.json" &&
		expect_grep '"err_io": 0' "$T_TMP/pattern.json"
}
t_linux_two_disks() {
	truncate -s 32M "$T_TMP/a.img" "$T_TMP/b.img"
	gfio t_linux_two_disks "$FIOJ/two-disks.fio" --disk "path=$T_TMP/a.img" \
		--disk "path=$T_TMP/b.img,cache=writeback" --stats "$T_TMP/two.json"
	expect_status 0 $? || return 1
	expect_grep '"name": "vdb"' "$T_TMP/two.json" || return 1
	# Both files were written.
	[ "$(head -c 8M "$T_TMP/a.img" | tr -d '\0' | head -c 1 | wc -c)" = 1 ] &&
		[ "$(head -c 8M "$T_TMP/b.img" | tr -d '\0' | head -c 1 | wc -c)" = 1 ] ||
		fail "a disk stayed empty"
}
t_linux_read_only_disk() {
	local img=$T_TMP/ro.img sum
	head -c 8M /dev/urandom >"$img"
	sum=$(md5sum <"$img")
	gfio t_linux_read_only_disk "$FIOJ/read-only.fio" --disk "path=$img,ro=on"
	expect_status 0 $? || { T_WHY="reads on a ro disk: $T_WHY"; return 1; }
	if gfio t_linux_read_only_disk.w "$FIOJ/write-only.fio" --disk "path=$img,ro=on"; then
		fail "a write to a ro=on disk succeeded"; return 1
	fi
	[ "$(md5sum <"$img")" = "$sum" ] || fail "the ro=on file changed"
}
t_linux_flush_reaches_backend() {
	truncate -s 16M "$T_TMP/f.img"
	gfio t_linux_flush_reaches_backend "$FIOJ/flush.fio" --disk "path=$T_TMP/f.img" \
		--stats "$T_TMP/flush.json"
	expect_status 0 $? || return 1
	expect_grep '"flushes": [1-9]' "$T_TMP/flush.json" &&
		expect_grep '"fsyncs": [1-9]' "$T_TMP/flush.json"
}
t_linux_ext4_root() {
	# A root file system on the disk: busybox and an init, no initramfs.
	local root=$T_TMP/rootfs img=$T_TMP/root.img out=$T_TMP/t_linux_ext4_root.out
	mkdir -p "$root/bin" "$root/proc" "$root/dev"
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	# shellcheck disable=SC2016 # the guest's shell expands it
	printf '#!/bin/sh\n/bin/busybox mount -t proc proc /proc\n/bin/busybox echo "rootfs: $(/bin/busybox grep -c " / ext4 " /proc/mounts) ext4 root mounted"\n/bin/busybox reboot -f\n' >"$root/init"
	chmod +x "$root/init"
	mkfs.ext4 -q -F -b 4096 -d "$root" "$img" 32M || { fail "mkfs.ext4 failed"; return 1; }
	pv "$out" --kernel "$POLLVM_GUEST_VMLINUX" --disk "path=$img" --timeout "$LT" \
		--cmdline "$(scripts/guest-cmdline root=/dev/vda rw rootfstype=ext4 init=/init)"
	expect_status 0 $? && expect_grep "rootfs: 1 ext4 root mounted" "$out"
}
