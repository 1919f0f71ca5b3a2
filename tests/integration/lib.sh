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
trap 'rm -rf "$T_TMP"' EXIT

# pv OUTFILE ARGS...: run pollvm, stdout+stderr to OUTFILE, return its status.
pv() {
	local out=$1; shift
	"$POLLVM" "$@" >"$out" 2>&1 </dev/null
}

fail() { T_WHY="$*"; return 1; }
expect_status() { # expected actual
	[ "$1" = "$2" ] || fail "exit status $2, expected $1"
}
expect_grep() { # pattern file
	grep -q -- "$1" "$2" || fail "no '$1' in output"
}

run_test() {
	local name=$1 t0=$SECONDS
	T_WHY=""
	if "$name"; then
		if [ "$T_WHY" = skip ]; then
			echo "skip - $name"; T_SKIP=$((T_SKIP + 1))
		else
			echo "ok - $name ($((SECONDS - t0)) s)"; T_PASS=$((T_PASS + 1))
		fi
	else
		echo "FAIL - $name: $T_WHY"
		for f in "$T_TMP"/"$name".*; do
			[ -f "$f" ] && { echo "---- $f (last 30 lines)"; tail -30 "$f"; echo "----"; }
		done
		T_FAIL=$((T_FAIL + 1)); T_FAILED+=("$name")
	fi
}

finish() {
	echo "integration: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped${T_FAILED:+ (failed: ${T_FAILED[*]})}"
	[ "$T_FAIL" -eq 0 ]
}
