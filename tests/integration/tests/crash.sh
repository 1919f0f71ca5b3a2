# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# crash consistency: a power cut, not only a killed process.

# The disk is a dm-log-writes device (over two loop devices on tmpfs) that
# records every write and FLUSH the way they reached "stable storage".
# blkbench crash=on writes sectors 0..N-1, FLUSHes, reports the
# acknowledgement, writes N..2N-1 without a flush and waits; we SIGKILL
# pollvm (no exit-time fdatasync), then cut the power by replaying the log
# up to its last FLUSH, and only the FUA writes after it
# (tests/integration/log-writes-check): every sector written before the
# acknowledged FLUSH must be there.  The same run with
# POLLVM_DEBUG_IGNORE_FLUSH=1 (FLUSH a no-op) must fail the check.
# Then a guest that negotiates no FLUSH (flush=off): the device is
# write-through, so the zeroes of an acknowledged WRITE_ZEROES with UNMAP
# must survive (dm-log-writes cannot punch: pollvm falls back to zeroing
# the range), and so must every acknowledged write, the last ones with no
# sync after them.  The same guest setting
# writeback=1 through CONFIG_WCE gets a volatile cache it cannot flush:
# that run must fail the check.
CRASH_N=2048
crash_once() { # name guest-opts check-opts [env...]: 0 when every durable sector survived, 1 when not, 2 on set-up error
	local name=$1 gopts=$2 copts=$3; shift 3
	local out=$T_TMP/$name.out dir=/dev/shm/pollvm-crash.$$ ld ll dm pid i st
	mkdir -p "$dir" && truncate -s 8M "$dir/data" && truncate -s 64M "$dir/log" || return 2
	ld=$(losetup -f --show "$dir/data") && ll=$(losetup -f --show "$dir/log") || return 2
	echo "0 $((8 << 11)) log-writes $ld $ll" | DM_DISABLE_UDEV=1 dmsetup create "pvmcrash$$" || {
		losetup -d "$ld" "$ll"; return 2; }
	dm=/dev/$(basename "$(dirname "$(dirname "$(grep -lx "pvmcrash$$" /sys/block/dm-*/dm/name)")")")
	: >"$out"
	env "$@" "$POLLVM" --kernel "$BB" --disk "path=$dm" --timeout 300 \
		--cmdline "crash=on crash_sectors=$CRASH_N $gopts tsc_khz=$(tsc_khz)" >"$out" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q "waiting for the power cut" "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
	DM_DISABLE_UDEV=1 dmsetup remove "pvmcrash$$"; losetup -d "$ld" "$ll"
	grep -q "waiting for the power cut" "$out" || { rm -rf "$dir"; return 2; }
	# shellcheck disable=SC2086 # no option or one
	tests/integration/log-writes-check $copts "$dir/log" $CRASH_N >>"$out" 2>&1
	st=$?
	echo "$name${*:+ ($*)}: $(tail -1 "$out")" >&2
	rm -rf "$dir"
	return $st
}
crash_usable() { # NAME: can dm-log-writes run here? (else the test is skipped)
	{ modprobe -q dm-log-writes 2>/dev/null || [ -d /sys/module/dm_log_writes ]; } &&
		[ -c /dev/mapper/control ] && command -v dmsetup >/dev/null && losetup -f >/dev/null 2>&1 &&
		return 0
	echo "$1: no device-mapper log-writes target or loop devices here" \
		"(runs in the nested test host: scripts/nested-host loads dm-log-writes)" >&2
	return 1
}
t_crash_consistency() {
	# shellcheck disable=SC2034 # T_WHY: for run_test (runner.sh)
	crash_usable t_crash_consistency || { T_WHY=skip; return 0; }
	local st
	crash_once t_crash_consistency "" ""
	st=$?
	[ $st = 0 ] || { fail "flushed sectors missing after the power cut (check $st)"; return 1; }
	expect_grep "flush acknowledged" "$T_TMP/t_crash_consistency.out" || return 1
	crash_once t_crash_consistency.ignore_flush "" "" POLLVM_DEBUG_IGNORE_FLUSH=1
	st=$?
	[ $st = 1 ] || { fail "with FLUSH a no-op the check did not fail (status $st): the test cannot see lost data"; return 1; }
	expect_grep "POLLVM_DEBUG_IGNORE_FLUSH=1" "$T_TMP/t_crash_consistency.ignore_flush.out"
}
t_crash_consistency_no_flush() {
	# shellcheck disable=SC2034 # T_WHY: for run_test (runner.sh)
	crash_usable t_crash_consistency_no_flush || { T_WHY=skip; return 0; }
	local st
	crash_once t_crash_consistency_no_flush "flush=off" "--zeroed"
	st=$?
	[ $st = 0 ] || { fail "without FLUSH negotiated, acknowledged writes or zeroes missing after the power cut (check $st)"; return 1; }
	expect_grep "write zeroes acknowledged without FLUSH" "$T_TMP/t_crash_consistency_no_flush.out" || return 1
	crash_once t_crash_consistency_no_flush.writeback "flush=off writeback=1" "--zeroed"
	st=$?
	[ $st = 1 ] || { fail "a volatile cache without FLUSH (writeback=1) did not fail the check (status $st): the test cannot see lost data"; return 1; }
	expect_grep "writeback byte 1" "$T_TMP/t_crash_consistency_no_flush.writeback.out"
}
