# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# pollvm refusing to run: bad input (one line naming the problem,
# exit 2), no /dev/kvm (exit 2), its own failure (exit 6).

t_bad_input() {
	local out=$T_TMP/t_bad_input.out junk=$T_TMP/junk.bin big=$T_TMP/big.img
	head -c 8192 /dev/urandom >"$junk"
	truncate -s 48M "$big"
	local disk=$T_TMP/disk.img odd=$T_TMP/odd.img
	truncate -s 1M "$disk"
	truncate -s 1000 "$odd"
	local -a cases=(
		"--kernel /nonexistent/vmlinux|/nonexistent/vmlinux"
		"--kernel $junk|neither ELF nor a bzImage"
		"--kernel $T_TMP|not a regular file"
		"--kernel $MINI/mini-hang.elf --mem 12X|--mem"
		"--kernel $MINI/mini-hang.elf --cpus 0|--cpus"
		"--kernel $MINI/mini-hang.elf --initrd $big --mem 32M|does not fit"
		"--kernel $MINI/mini-hang.elf --bogus|unknown option"
		"--kernel $MINI/mini-hang.elf --boot linux|Linux"
		"--kernel $MINI/mini-hang.elf --disk path=/nonexistent.img|/nonexistent.img"
		"--kernel $MINI/mini-hang.elf --disk path=$odd|multiple of 512"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,colour=red|not a disk option"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,ro=maybe|on or off"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,cache=unsafe|none or writeback"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,num-queues=0|num-queues"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,iothread=nope|names no --iothread"
		"--kernel $MINI/mini-hang.elf --disk ro=on|needs path=FILE"
		"--kernel $MINI/mini-hang.elf --disk path=$disk --disk path=$disk|two disks"
		"--kernel $MINI/mini-hang.elf --iothread id=a --iothread id=a|given twice"
		"--kernel $MINI/mini-hang.elf --disk path=/dev/null|/dev/null"
		# sizes and numbers: range, junk, overflow, negative, fractions
		"--kernel $MINI/mini-hang.elf --mem 0|out of range"
		"--kernel $MINI/mini-hang.elf --mem 2T|out of range"
		"--kernel $MINI/mini-hang.elf --mem 31M|out of range"
		"--kernel $MINI/mini-hang.elf --mem -5M|not a size"
		"--kernel $MINI/mini-hang.elf --mem 99999999999999999999G|not a size"
		"--kernel $MINI/mini-hang.elf --mem|needs a value"
		"--kernel $MINI/mini-hang.elf --cpus 65|--cpus"
		"--kernel $MINI/mini-hang.elf --cpus 1.5|--cpus"
		"--kernel $MINI/mini-hang.elf --timeout -1|--timeout"
		"--kernel $MINI/mini-hang.elf --timeout abc|--timeout"
		"--kernel $MINI/mini-hang.elf --timeout 1e999|--timeout"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,num-queues=17|num-queues"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,num-queues=99999999999999999999|num-queues"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,serial=123456789012345678901|serial"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,iothread=|iothread"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,cache=|cache"
		"--kernel $MINI/mini-hang.elf --disk path=|is empty"
		"--kernel $MINI/mini-hang.elf --disk path=$T_TMP|Is a directory"
		"--kernel $MINI/mini-hang.elf --disk $disk|key=value"
		"--kernel $MINI/mini-hang.elf --iothread id=|--iothread id"
		"--kernel $MINI/mini-hang.elf --iothread colour=red|not an IOThread option"
		"--kernel $MINI/mini-hang.elf --iothread id=a,poll-max-ns=-1|poll-max-ns"
		"--kernel $MINI/mini-hang.elf --boot bogus|--boot"
		"--kernel $MINI/mini-hang.elf --cmdline $(head -c 3000 /dev/zero | tr '\0' a)|--cmdline"
		"--kernel $MINI/mini-hang.elf --quiet stray-argument|unexpected argument"
		"--mem 64M|--kernel FILE is required"
		# conflicting or repeated options: which one was meant?
		"--kernel $MINI/mini-hang.elf --kernel $MINI/mini-hang.elf|--kernel is given twice"
		"--kernel $MINI/mini-hang.elf --mem 64M --mem=128M|--mem is given twice"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,ro=on,ro=off|'ro' is given twice"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,path=$odd|'path' is given twice"
		"--kernel $MINI/mini-hang.elf --disk path=$disk,,ro=on|empty item"
		"--kernel $MINI/mini-hang.elf --iothread id=a,id=b|'id' is given twice"
		# --stats FILE must be writable at exit: checked at start
		"--kernel $MINI/mini-hang.elf --stats /nonexistent/dir/s.json|does not exist"
		"--kernel $MINI/mini-hang.elf --stats $T_TMP|is a directory"
	)
	for c in "${cases[@]}"; do
		local args=${c%%|*} want=${c#*|}
		# shellcheck disable=SC2086
		pv "$out" $args
		local st=$?
		[ $st = 2 ] || { fail "'$args' exited $st, expected 2"; return 1; }
		[ "$(wc -l <"$out")" = 1 ] || { fail "'$args' printed $(wc -l <"$out") lines, expected 1"; return 1; }
		grep -q -- "$want" "$out" || { fail "'$args': no '$want' in: $(cat "$out")"; return 1; }
	done
	# A read-only file with ro=off (the default): a read-only bind mount,
	# which refuses root too (chattr +i would not work on tmpfs).
	if unshare -m true 2>/dev/null; then
		mkdir -p "$T_TMP/rodir" && truncate -s 1M "$T_TMP/rodir/ro.img"
		unshare -m sh -c "mount --bind '$T_TMP/rodir' '$T_TMP/rodir' &&
			mount -o remount,ro,bind '$T_TMP/rodir' &&
			exec '$POLLVM' --kernel $MINI/mini-hang.elf --disk 'path=$T_TMP/rodir/ro.img'" >"$out" 2>&1 </dev/null
		local st=$?
		[ $st = 2 ] && [ "$(wc -l <"$out")" = 1 ] && grep -q "use ro=on" "$out" ||
			{ fail "read-only file with ro=off: status $st: $(cat "$out")"; return 1; }
	fi
}

t_no_dev_kvm() {
	# Hide /dev in a private mount namespace: pollvm must say so and exit 2.
	# shellcheck disable=SC2034 # T_WHY: for run_test (runner.sh)
	unshare -m true 2>/dev/null || { T_WHY=skip; return 0; }
	unshare -m sh -c "mount -t tmpfs none /dev && exec '$POLLVM' --kernel $MINI/mini-hang.elf" \
		>"$T_TMP/t_no_dev_kvm.out" 2>&1 </dev/null
	expect_status 2 $? && expect_grep "/dev/kvm does not exist" "$T_TMP/t_no_dev_kvm.out"
}

# pollvm's own failure is not the user's: out of file descriptors (a limit
# below what any VM needs, and fds 3 and 4 closed so the limit is what
# bites), it exits 6 with one line saying why, not 2 ("bad input").
t_internal_error() {
	local out=$T_TMP/t_internal_error.out
	( ulimit -n 5 && exec "$POLLVM" --kernel "$MINI/mini-hang.elf" --timeout 30 ) 3>&- 4>&- >"$out" 2>&1 </dev/null
	expect_status 6 $? && expect_grep "Too many open files" "$out" || return 1
	[ "$(wc -l <"$out")" = 1 ] || fail "not one line: $(cat "$out")"
}
