# shellcheck shell=bash
# The whole-VM test runner's library (sourced): how each test runs and
# reports, and what the runner does about the nested test host's known
# faults (docs/testing.md, "Retries and giving up"). Two halves:
#   in a test host: tests/integration/vm-tests calls runner_init, then
#     run_test for each test and finish at the end;
#   on this machine: tests/integration/run calls nested_run, which starts
#     the nested test host again for the tests that had not reported when
#     one died, wedged or gave a test up.
# The halves speak through vm-tests' output and exit status: "ok - NAME
# (N s)", "skip - NAME", "FAIL - NAME: reason", "integration: give up -
# NAME: ..." with status 125, and the closing "integration: N passed, N
# failed, N skipped" (which CI reads too).
# tests/integration/test-lib tests both halves with fake tests and fake test
# hosts.

# ---- in a test host ----
# What a test gets from the runner: $T_TMP, a scratch directory its files go
# in, named after the test ($T_TMP/NAME.*: shown when it fails); T_WHY, the
# reason it failed ("skip": it did not run here, said on stderr), which fail
# sets; teardown_add for what it set up outside its files.

# runner_init: the scratch directory, the time limit, the counts and the
# traps of a vm-tests run.
runner_init() {
	T_PASS=0 T_FAIL=0 T_SKIP=0 T_FAILED=() T_RETRIED=()
	# Scratch files (disk images among them) on a local file system: inside
	# the nested test host /tmp is the host's, over 9p, which is slow for
	# disk images and has wedged a run; L1's /dev/shm is its own tmpfs.
	local base=/tmp
	[ -n "${POLLVM_NESTED_L1:-}" ] && [ -d /dev/shm ] && base=/dev/shm
	T_TMP=$(mktemp -d "$base/pollvm-itest.XXXXXX")
	trap 'teardown_run; rm -rf "$T_TMP"' EXIT
	# Each test runs in a subshell that leads its own process group, under a
	# time limit (POLLVM_TEST_LIMIT seconds, 240 by default: the slowest
	# test takes ~45 s in the nested host): a test that hangs fails alone,
	# showing what was still running, and everything it started is killed,
	# instead of one hang eating the whole run's budget.
	T_LIMIT=${POLLVM_TEST_LIMIT:-240}
	T_RUNNING=
	trap '[ -n "$T_RUNNING" ] && kill -KILL -- -"$T_RUNNING" 2>/dev/null; exit 130' INT TERM
}

fail() { T_WHY="$*"; return 1; }

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

# group_ps PGID: the processes of a process group, oldest first.
group_ps() {
	ps -eo pgid=,pid=,etime=,args= | awk -v g="$1" '$1 == g { $1 = ""; print "   " $0 }'
}

# run_once NAME: run test NAME once in its own process group; its status,
# with T_WHY set.
run_once() {
	local name=$1 why=$T_TMP/.why pid timer first st
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
	wait -n -p first $pid $timer
	st=$?
	if [ "$first" = "$timer" ]; then
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
# guest's vCPUs were (pollvm's "at stop" lines), and nested_run runs it
# first in a new test host.  A test that hangs by itself hangs there too,
# and then the run fails.  With a real /dev/kvm a timeout fails.
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

run_test() { # NAME: run test NAME, print its result line and count it
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

finish() { # the closing line; fails when a test failed
	echo "integration: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped${T_FAILED:+ (failed: ${T_FAILED[*]})}${T_RETRIED:+; retried after the nested test host fault: ${T_RETRIED[*]}}"
	[ "$T_FAIL" -eq 0 ]
}

# ---- on this machine: the nested test host ----
# The nested test host is an emulated machine, and now and then its kernel
# dies under a test (seen: "corrupted stack end detected inside scheduler"
# in a vCPU thread of L1; the same with QEMU microvm as the L2 VMM).  Then
# the tests that had not reported yet run again in a new L1, at most twice,
# and only while each new L1 gets further than the last: what one test host
# did report stands, a test that fails still fails the run, and a test that
# kills L1 every time fails it too.
# A wedged L1 (seen before nested-kvm-hold.c: a CPU spinning on a lock)
# enforces no test's time limit and prints nothing: when no test has
# reported for the limit plus 3 minutes, L1 is stopped and counts as dead.
# A test that ran out of time in L1 gets no result there (run_test, "give
# up"): vm-tests stops with status 125 and the test runs again first thing
# in the new L1; if it gives that one up too, the new L1 got no further and
# the run fails.

nested_host() { scripts/nested-host "$@"; } # test-lib puts a fake in its place

nested_part() { # dir timeout-secs done-list vm-tests-args...: nested-host's status, 124 when it went quiet
	local d=$1 left=$2 done_list=$3 pid tick first size last=0 t_last=$SECONDS quiet=$((${POLLVM_TEST_LIMIT:-240} + 180)) st wedged=0
	shift 3
	rm -f "$d/pid" "$d/status"
	{
		POLLVM_ITEST_DONE=$done_list nested_host --timeout "$left" -- \
			tests/integration/vm-tests "$@" &
		echo $! >"$d/pid"
		st=0; wait $! || st=$?
		echo $st >"$d/status"
	} | tee "$d/log" &
	pid=$!
	# Every 5 s, until the test host has ended: has it printed anything?
	while :; do
		sleep 5 &
		tick=$!
		first=
		wait -n -p first $pid $tick || true
		if [ "$first" != "$tick" ]; then
			kill -KILL $tick 2>/dev/null
			wait $tick 2>/dev/null
			break
		fi
		size=$(stat -c %s "$d/log")
		if [ "$size" != "$last" ]; then
			last=$size t_last=$SECONDS
		elif ((SECONDS - t_last > quiet && !wedged)); then
			echo "integration: no test reported for $quiet s: the nested test host is wedged, stopping it"
			wedged=1
			kill -TERM "$(cat "$d/pid")" 2>/dev/null
		fi
	done
	wait $pid 2>/dev/null || true
	st=$(cat "$d/status" 2>/dev/null || echo 125)
	((wedged)) && st=124
	return "$st"
}

nested_run() { # vm-tests-args...: run the tests in the nested test host, in as many as it takes
	local d part=0 st ended done_list="" reported pass=0 fail=0 skip=0 budget=1800 t0=$SECONDS left
	local given_up gave_up="" first_give_up
	d=$(mktemp -d "${TMPDIR:-/tmp}/pollvm-itest-run.XXXXXX")
	# Without job control a background job ignores SIGINT: pass our end on.
	trap 'kill -TERM "$(cat "$d/pid" 2>/dev/null)" 2>/dev/null; wait; rm -rf "$d"; exit 130' INT TERM
	while :; do
		part=$((part + 1))
		left=$((budget - (SECONDS - t0)))
		((left >= 300)) || left=300
		st=0
		nested_part "$d" "$left" "$done_list" "$@" || st=$?
		pass=$((pass + $(grep -c '^ok - ' "$d/log" || true)))
		fail=$((fail + $(grep -c '^FAIL - ' "$d/log" || true)))
		skip=$((skip + $(grep -c '^skip - ' "$d/log" || true)))
		reported=$(sed -n 's/^\(ok\|FAIL\|skip\) - \(t_[A-Za-z0-9_]*\).*/\2/p' "$d/log" | tr '\n' ' ')
		done_list="$done_list $reported"
		# vm-tests printed its summary line: the tests ran to the end.
		ended=0; grep -q '^integration: .* passed' "$d/log" && ended=1
		# A test given up for the first time is progress too; twice is not.
		given_up=$(sed -n 's/^integration: give up - \(t_[A-Za-z0-9_]*\):.*/\1/p' "$d/log")
		first_give_up=0
		[ -n "$given_up" ] && [[ " $gave_up " != *" $given_up "* ]] && first_give_up=1
		[ $first_give_up = 1 ] && gave_up="$gave_up $given_up"
		# 124: L1 wedged or timed out; 125: it died, could not run the tests
		# or gave one up.
		if { [ $st = 124 ] || [ $st = 125 ]; } && [ $ended = 0 ] && [ $part -le 2 ] &&
			{ [ -n "$reported" ] || [ $first_give_up = 1 ]; }; then
			echo "integration: the nested test host died (status $st${given_up:+; it gave up $given_up})," \
				"$(wc -w <<<"$reported") tests reported:" \
				"the rest run in a new one (restart $part of 2)"
			continue
		fi
		break
	done
	if [ "$st" != 0 ] && [ $ended = 0 ]; then
		echo "integration: FAIL - the nested test host died (status $st) before the tests ended" \
			"($((part - 1)) restarts${given_up:+; it gave up $given_up})"
	fi
	trap - INT TERM
	rm -rf "$d"
	if [ $part -gt 1 ]; then
		echo "integration: in all: $pass passed, $fail failed, $skip skipped, in $part test hosts${gave_up:+; given up in a test host (out of time there) and run again in a new one:$gave_up}"
		[ "$st" = 0 ] && [ $fail = 0 ]
		return
	fi
	return "$st"
}
