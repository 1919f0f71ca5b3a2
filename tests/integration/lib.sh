# Helpers for whole-VM tests (sourced). Each test is a function; run_test
# calls it, prints ok/FAIL with the reason, and counts.
# Closing line, read by CI: "N passed, N failed".

POLLVM=${POLLVM:-$PWD/build/pollvm}
T_PASS=0 T_FAIL=0 T_SKIP=0 T_FAILED=()
# Scratch files (disk images among them) on a local file system: inside the
# nested test host /tmp is the host's, over 9p, which is slow for disk
# images and has wedged a run; L1's /dev/shm is its own tmpfs.
T_BASE=/tmp
[ -n "${POLLVM_NESTED_L1:-}" ] && [ -d /dev/shm ] && T_BASE=/dev/shm
T_TMP=$(mktemp -d "$T_BASE/pollvm-itest.XXXXXX")
trap 'teardown_run; rm -rf "$T_TMP"' EXIT

# What a test set up outside its files (a mount, a loop device) is undone
# by the runner once the test has ended however it ended, killed at its
# time limit included (a test's own traps die with it), and at exit:
# teardown_add CMD... records a command, teardown_run runs them newest
# first.
teardown_add() {
	printf '%q ' "$@" >>"$T_TMP/.teardown"
	echo >>"$T_TMP/.teardown"
}
teardown_run() {
	local f=$T_TMP/.teardown cmd
	[ -s "$f" ] || return 0
	tac "$f" | while IFS= read -r cmd; do
		eval "$cmd" || echo "integration: teardown failed: $cmd" >&2
	done
	rm -f "$f"
}

# pv OUTFILE ARGS...: run pollvm, stdout+stderr to OUTFILE, return its
# status; PV_PID is its process id (for sigsys_note).
pv() {
	local out=$1; shift
	"$POLLVM" "$@" >"$out" 2>&1 </dev/null &
	PV_PID=$!
	wait $PV_PID
}

fail() { T_WHY="$*"; return 1; }
# sigsys_note PID: what the kernel's audit log says process PID, killed by
# its seccomp filter, called (": thread T called NAME, syscall N"), if it
# says (root, and audit messages in the kernel log: Debian's default).
sigsys_note() {
	local l comm nr name
	l=$(dmesg 2>/dev/null | grep "type=1326 .* pid=$1 " | tail -1)
	[ -n "$l" ] || return 0
	comm=$(sed -n 's/.* comm="\([^"]*\)".*/\1/p' <<<"$l")
	nr=$(sed -n 's/.* syscall=\([0-9]*\) .*/\1/p' <<<"$l")
	name=$(sed -n "s/^#define __NR_\([a-z0-9_]*\) $nr\$/\1/p" /usr/include/x86_64-linux-gnu/asm/unistd_64.h 2>/dev/null)
	echo ": thread $comm called ${name:-?}, syscall $nr"
}
status_text() { # STATUS [PID]: as is, or naming the signal a status above 128 stands for
	local sig
	if [ "$1" -gt 128 ] 2>/dev/null && sig=$(kill -l $(($1 - 128)) 2>/dev/null); then
		case $sig in
		SYS) echo "$1 (SIGSYS: a system call pollvm's seccomp sandbox forbids${2:+$(sigsys_note "$2")})" ;;
		*) echo "$1 (SIG$sig)" ;;
		esac
	else
		echo "$1"
	fi
}
expect_status() { # expected actual [PID]
	[ "$1" = "$2" ] || fail "exit status $(status_text "$2" "${3:-}"), expected $1"
}
expect_grep() { # pattern file
	grep -q -- "$1" "$2" || fail "no '$1' in output"
}

# Each test runs in a subshell that leads its own process group, under a
# time limit (POLLVM_TEST_LIMIT seconds, 240 by default: the slowest test
# takes ~45 s in the nested host): a test that hangs fails alone, showing
# what was still running, and everything it started is killed, instead of
# one hang eating the whole run's budget.
T_LIMIT=${POLLVM_TEST_LIMIT:-240}
T_RUNNING=
trap '[ -n "$T_RUNNING" ] && kill -KILL -- -"$T_RUNNING" 2>/dev/null; exit 130' INT TERM

# group_ps PGID: the processes of a process group, oldest first.
group_ps() {
	ps -eo pgid=,pid=,etime=,args= | awk -v g="$1" '$1 == g { $1 = ""; print "   " $0 }'
}

# run_once NAME: run test NAME once in its own process group; its status,
# with T_WHY set.
run_once() {
	local name=$1 why=$T_TMP/.why pid timer done st
	T_WHY=""
	: >"$why"
	# The next background job leads a process group of its own. It drops the
	# runner's traps first thing: a forked child runs them on a signal until
	# it resets or execs, and the EXIT one deletes $T_TMP.
	set -m
	( set +m; trap - EXIT INT TERM; "$name"; st=$?; printf '%s' "$T_WHY" >"$why"; exit $st ) </dev/null &
	pid=$!
	set +m
	T_RUNNING=$pid
	sleep "$T_LIMIT" &
	timer=$!
	wait -n -p done $pid $timer
	st=$?
	if [ "$done" = "$timer" ]; then
		T_WHY="no result after $T_LIMIT s (POLLVM_TEST_LIMIT); still running:"$'\n'"$(group_ps $pid)"
		kill -TERM -- -$pid 2>/dev/null
		sleep 2
		kill -KILL -- -$pid 2>/dev/null
		wait $pid 2>/dev/null
		st=124
	else
		# SIGKILL: a timer only just forked may not have exec'd sleep yet and
		# would run the runner's TERM and EXIT traps (deleting $T_TMP).
		kill -KILL $timer 2>/dev/null
		wait $timer 2>/dev/null
		T_WHY=$(cat "$why")
		# Nothing a test started outlives it (a pollvm left in the
		# background would hold its disk and CPU for the next tests).
		kill -KILL -- -$pid 2>/dev/null
	fi
	T_RUNNING=
	teardown_run
	return $st
}

# ---- a file system whose O_DIRECT wants 4 KiB alignment ----
# Disk images on the nested test host's tmpfs never reach pollvm's
# O_DIRECT paths (Linux 6.1's tmpfs refuses O_DIRECT, so pollvm falls back
# to the page cache).  dio4k_fs makes a place where O_DIRECT works and
# demands more than the guest's 512-byte sectors: ext4 with 4 KiB blocks on
# a loop device with 4096-byte logical sectors (losetup --sector-size
# 4096), so a file there reports STATX_DIOALIGN offset alignment 4096.  The
# loop device does direct I/O to its backing file where that file system
# takes it (--direct-io=on); not on L1's tmpfs, which changes nothing
# above the loop device.  Before any test relies on it, dd proves the
# alignment: a 512-byte O_DIRECT write must fail with EINVAL, a 4096-byte
# one must work.
#
# dio4k_fs NAME SIZE: the file system (SIZE, sparse) mounted at $D4K.
# Returns 0 when ready; 1 when this host has no loop devices (or we are
# not root), said on stderr, with T_WHY=skip; 2 when setting it up failed
# (T_WHY says how).  Unmounted and detached by teardown_run.
dio4k_fs() {
	local name=$1 size=$2 back=$T_TMP/dio4k.$1.img dir=$T_TMP/dio4k.$1 dev err
	D4K=
	if [ "$(id -u)" != 0 ] || ! [ -e /dev/loop-control ] || ! losetup -f >/dev/null 2>&1; then
		echo "# $name: no loop devices here (root and the loop driver are needed for the 4 KiB" \
			"O_DIRECT file system): skipped" >&2
		T_WHY=skip
		return 1
	fi
	command -v mkfs.ext4 >/dev/null || { fail "mkfs.ext4 missing (scripts/deps installs e2fsprogs)"; return 2; }
	# The file system is made in the new, sparse backing file (which reads as
	# zeroes already: nothing to zero, now with lazy_*_init or later with
	# noinit_itable), not through the loop device: zeroing through a loop
	# device over a tmpfs file makes the kernel log WRITE_ZEROES errors.
	truncate -s "$size" "$back" && mkdir -p "$dir" || { fail "cannot create $back"; return 2; }
	err=$(mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard "$back" 2>&1) ||
		{ fail "mkfs.ext4 -b 4096 $back: $err"; return 2; }
	dev=$(losetup -f --show --sector-size 4096 "$back" 2>&1) ||
		{ fail "losetup --sector-size 4096 $back: $dev"; return 2; }
	teardown_add losetup -d "$dev"
	losetup --direct-io=on "$dev" 2>/dev/null ||
		echo "# $name: $dev reads its backing file through the page cache (its file system refuses O_DIRECT)" >&2
	err=$(mount -t ext4 -o noinit_itable "$dev" "$dir" 2>&1) || { fail "mounting ext4 from $dev: $err"; return 2; }
	teardown_add dio4k_umount "$dir"
	if err=$(dd if=/dev/zero of="$dir/.dio-probe" bs=512 count=1 oflag=direct status=none 2>&1); then
		fail "a 512-byte O_DIRECT write worked on the 4 KiB file system ($dev): its alignment is not 4096"
		return 2
	fi
	case $err in
	*"Invalid argument"*) ;;
	*) fail "a 512-byte O_DIRECT write failed otherwise than with EINVAL: $err"; return 2 ;;
	esac
	err=$(dd if=/dev/zero of="$dir/.dio-probe" bs=4096 count=1 oflag=direct status=none 2>&1) ||
		{ fail "a 4096-byte O_DIRECT write failed on the 4 KiB file system ($dev): $err"; return 2; }
	rm -f "$dir/.dio-probe"
	# shellcheck disable=SC2034 # the tests' (vm-tests)
	D4K=$dir
}
dio4k_umount() { # DIR: unmount, waiting a little for processes of a killed test to let go
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		umount "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	umount -l "$1"
}

show_outputs() { # NAME: the tails of the files a test wrote under its name
	local f
	for f in "$T_TMP"/"$1".*; do
		[ -f "$f" ] && { echo "---- $f (last 30 lines)"; tail -30 "$f"; echo "----"; }
	done
}

# The nested test host's own fault (docs/testing.md, its known faults): now
# and then its emulated SVM hands L2 a page fault on a page that is mapped
# and delivering it fails: a triple fault, which KVM on SVM reports with
# the vCPU already reset.  There, and only there, a test that failed that
# way runs once more; it passes only if the second run passes, and the
# summary names it.  With a real /dev/kvm nothing is retried.
T_RETRIED=()
platform_fault() { # NAME: did NAME fail by the nested host's known fault?
	[ -n "${POLLVM_NESTED_L1:-}" ] || return 1
	grep -qs "guest triple fault on vCPU [0-9]* (KVM reset the vCPU before reporting it" "$T_TMP"/"$1".*
}

# The nested test host's kernel can wedge too (seen in CI: a CPU of L1
# that no longer took interrupts, "rcu_preempt kthread timer wakeup didn't
# happen" for it, then a soft lockup of a perf waiting on it, under
# t_trace_exits_attach), and its guests can hang with L1 saying nothing
# (seen in CI: a 2-vCPU Linux guest silent after 3 s of boot, both its
# disks read once, pollvm stopping cleanly on SIGTERM; the same test
# passed 25 times in a row in one L1 afterwards; when it came back, one
# vCPU's RIP was an address in L1's kvm_amd module: docs/testing.md).  So there,
# and only there, a test that runs out of time gets no result in that
# L1: vm-tests stops with status 125, saying what L1's kernel reported
# (its first new stall line, or that it reported none) and where the
# guest's vCPUs were (pollvm's "at stop" lines), and tests/integration/run
# runs it first in a new test host.  A test that hangs by itself hangs
# there too, and then the run fails.  With a real /dev/kvm a timeout fails.
l1_kernel_log() { dmesg 2>/dev/null; }
l1_stalls() { # L1's kernel saying one of its CPUs is stuck, a line each
	l1_kernel_log | grep -E 'rcu: INFO: rcu_(preempt|sched) (detected stalls|self-detected stall)|watchdog: BUG: soft lockup'
}

vcpus_at_stop() { # NAME: pollvm's "vcpuN at stop" lines in NAME's outputs, joined
	local l
	l=$(sed -n 's/^pollvm: \(vcpu[0-9]*\) at stop: rip=\(0x[0-9a-f]*\) .* mp_state=\([a-z_]*\)$/\1: rip=\2 \3/p' \
		"$T_TMP"/"$1".* 2>/dev/null | paste -sd ',' | sed 's/,/, /g')
	echo "${l:-no pollvm stopped with its vCPUs readable}"
}

run_test() {
	local name=$1 t0=$SECONDS st=0 again="" stalls=0 new
	[ -n "${POLLVM_NESTED_L1:-}" ] && stalls=$(l1_stalls | wc -l)
	run_once "$name" || st=$?
	if [ $st = 124 ] && [ -n "${POLLVM_NESTED_L1:-}" ]; then
		# The first stall line L1 printed since the test began, if any.
		new=$(l1_stalls | sed -n "$((stalls + 1))s/^[[][^]]*[]] *//p")
		echo "integration: give up - $name: no result after $T_LIMIT s in the nested test host" \
			"(L1's kernel: ${new:-reported no stuck CPU of its own}; the guest's vCPUs:" \
			"$(vcpus_at_stop "$name")):" \
			"$name and the tests after it run in a new test host"
		show_outputs "$name" | sed 's/^/  | /'
		exit 125
	fi
	if [ $st != 0 ] && platform_fault "$name"; then
		echo "retry - $name: $T_WHY: the nested test host's guest triple fault (docs/testing.md, its known faults); first run's output:"
		show_outputs "$name" | sed 's/^/  | /'
		rm -f "$T_TMP"/"$name".*
		again=", on a retry"
		T_RETRIED+=("$name")
		st=0
		run_once "$name" || st=$?
	fi
	if [ $st = 0 ]; then
		if [ "$T_WHY" = skip ]; then
			echo "skip - $name"; T_SKIP=$((T_SKIP + 1))
		else
			echo "ok - $name ($((SECONDS - t0)) s$again)"; T_PASS=$((T_PASS + 1))
		fi
	else
		echo "FAIL - $name: $T_WHY${again:+ (on the retry too)}"
		show_outputs "$name"
		T_FAIL=$((T_FAIL + 1)); T_FAILED+=("$name")
	fi
}

finish() {
	echo "integration: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped${T_FAILED:+ (failed: ${T_FAILED[*]})}${T_RETRIED:+; retried after the nested test host fault: ${T_RETRIED[*]}}"
	[ "$T_FAIL" -eq 0 ]
}
