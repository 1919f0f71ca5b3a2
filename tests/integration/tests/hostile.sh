# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# hostile guests (blkbench hostile=...): malformed chains, rings and
# register sequences; reads far bigger than the guest's RAM into one
# misaligned buffer.

t_blkbench_hostile() {
	# Malformed chains from guest user mode (guest/blkbench/hostile.c): the
	# VMM answers each (a bad request whose status byte is writable: IOERR or
	# UNSUPP; a broken ring or no status byte: DEVICE_NEEDS_RESET), stays up,
	# counts each kind, writes nothing outside the request's buffers and
	# nothing to the disk that a valid request did not write.
	local out=$T_TMP/t_blkbench_hostile.out json=$T_TMP/t_blkbench_hostile.json
	# cache=writeback: 512-byte logical blocks whatever the file system's
	# O_DIRECT alignment (tmpfs and 9p ask 4096), which the cases assume.
	local img=$T_TMP/hostile.img want=$T_TMP/hostile.want
	truncate -s 1M "$img"
	# What the valid requests write: 0xa5 over sectors 0..63, the rest zero.
	{ head -c 32768 /dev/zero | tr '\0' '\245'; head -c $((1048576 - 32768)) /dev/zero; } >"$want"
	pv "$out" --kernel "$BB" --disk "path=$img,cache=writeback" --timeout 120 --stats "$json" \
		--cmdline "hostile=all tsc_khz=$(tsc_khz)"
	expect_status 1 $? || return 1
	expect_grep "^blkbench-hostile: [0-9]* passed, 0 failed" "$out" || return 1
	! grep -q "^blkbench-hostile: .* FAIL" "$out" || { fail "a case failed"; return 1; }
	[ "$(grep -c '^blkbench-hostile: [a-z_0-9]* *pass:' "$out")" -ge 30 ] ||
		{ fail "fewer than 30 lines (29 cases + verify) passed"; return 1; }
	# Every kind of refusal was counted (README "Counters").
	local k
	for k in err_buf err_header err_range err_len unsupported err_no_status err_ring \
		err_buf_addr err_buf_order err_avail_idx err_head err_next err_chain_len \
		err_indirect err_indirect_nested err_ring_addr needs_reset bad_writes; do
		grep -q "\"$k\": [1-9]" "$json" || { fail "stats: $k is not > 0"; return 1; }
	done
	cmp -s "$img" "$want" || fail "the backing file differs from what the valid requests wrote"
}

# The bounce memory one IOThread may hold, at most (README "Disks").
BOUNCE_POOL_MIB=64
# big_bounce_run NAME IMG ARGS: blkbench hostile=big_bounce (3 reads at
# once into one buffer 8 bytes past a page, then ordinary I/O) with ARGS;
# sets HWM to pollvm's peak RSS in kB, read while the guest idles after its
# cases.  An address-space limit of 1 GiB (pollvm needs a few hundred MiB:
# guest RAM, thread stacks, malloc arenas) turns a backend that would
# allocate per request into I/O errors instead of gigabytes of RSS on the
# test machine.
big_bounce_run() {
	local name=$1 img=$2 out=$T_TMP/$1.out pid st hwm peak oom
	HWM=
	: >"$out"
	( ulimit -v $((1 << 20)) && exec "$POLLVM" --kernel "$BB" --mem 32M --disk "path=$img" --timeout 200 \
		--stats "$T_TMP/$name.json" \
		--cmdline "hostile=big_bounce big_reqs=3 $3 buf_offset=8 idle=600 tsc_khz=$(tsc_khz)" ) \
		>"$out" 2>&1 </dev/null &
	pid=$!
	while kill -0 $pid 2>/dev/null && ! grep -q "^blkbench: idle:" "$out"; do sleep 0.2; done
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/$pid/status 2>/dev/null)
	peak=$(sed -n 's/^VmPeak:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/$pid/status 2>/dev/null)
	kill -TERM $pid 2>/dev/null
	wait $pid
	st=$?
	if [ -z "$hwm" ]; then
		oom=$(dmesg 2>/dev/null | grep -m1 "Killed process $pid ")
		fail "$name ($3): pollvm ended before the guest was done, exit status $(status_text $st $pid)" \
			"${oom:+(the OOM killer: $oom)}$(guest_errors "$out")"
		return 1
	fi
	echo "# $name ($3): pollvm's VmHWM $((hwm >> 10)) MiB, VmPeak $((peak >> 10)) MiB" >&2
	expect_status 0 $st $pid && expect_grep "stopped by SIGTERM" "$out" ||
		{ T_WHY="$name ($3), stopped by SIGTERM as the guest idled: $T_WHY"; return 1; }
	grep -q "^blkbench-hostile: [0-9]* passed, 0 failed" "$out" ||
		{ fail "$name ($3): a case failed$(guest_errors "$out")$(err_counts "$T_TMP/$name.json")"; return 1; }
	HWM=$hwm
}
t_hostile_big_bounce() {
	# Reads far bigger than the guest's RAM, all into one misaligned buffer,
	# on a file opened O_DIRECT: pollvm must serve them with bounded memory
	# and without a system call its sandbox forbids, and go on serving.
	local name=t_hostile_big_bounce img base r limit=$(((BOUNCE_POOL_MIB + 32) << 10))
	dio4k_fs $name 64M; case $? in 1) return 0 ;; 2) return 1 ;; esac
	img=$D4K/big.img
	truncate -s 1G "$img"   # sparse: the reads cover holes
	# The same guest with 4 KiB reads: pollvm's RSS with next to no bounce memory.
	big_bounce_run $name.control "$img" "big_len=4k big_rounds=2" || return 1
	base=$HWM
	# Two rounds of 16 MiB reads: once the first round's buffers are freed,
	# glibc raises its mmap threshold, so a malloc'ed bounce buffer for the
	# second round comes from the IOThread's arena, and trimming that arena
	# afterwards opens /proc/sys/vm/overcommit_memory (forbidden: SIGSYS).
	# Then 3 x 256 MiB at once, 64 segments of 4 MiB each: four times
	# the bounce pool per request (the nested host copies ~1 GiB in a
	# minute; 3 x 1016 MiB, SEG_MAX x SIZE_MAX, took most of the time limit).
	for r in "big_len=16m big_rounds=2" "big_len=256m big_rounds=1"; do
		big_bounce_run $name "$img" "$r" || return 1
		[ $((HWM - base)) -le $limit ] || {
			fail "$r: pollvm's peak RSS grew by $(((HWM - base) >> 10)) MiB over the run with 4 KiB" \
				"reads, more than its IOThread's $BOUNCE_POOL_MIB MiB of bounce memory + 32 MiB"
			return 1
		}
		dio_counters "$name ($r)" "$T_TMP/$name.json" bounces || return 1
	done
}
