# shellcheck shell=bash
# The whole-VM tests' library (sourced by tests/integration/vm-tests after
# tests/integration/runner.sh, which gives each test $T_TMP, fail and
# teardown_add): running pollvm, its guests and their checks.

POLLVM=${POLLVM:-$PWD/build/pollvm}

# pv OUTFILE ARGS...: run pollvm, stdout+stderr to OUTFILE, return its
# status; PV_PID is its process id (for sigsys_note).
pv() {
	local out=$1; shift
	"$POLLVM" "$@" >"$out" 2>&1 </dev/null &
	PV_PID=$!
	wait $PV_PID
}

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

# ---- the test guests ----
# The kernel-less ones (make guests-mini; make blkbench); the Linux guest's
# files come in the environment (tests/integration/run sets them).
# shellcheck disable=SC2034 # the tests' (tests/integration/tests/)
MINI=build/guests
BB=build/guests/blkbench.elf
# The TSC rate blkbench is told, looked up once per run (scripts/tsc-khz
# may read the kernel log, which took 10 s in the nested test host).
TSC_KHZ=$(scripts/tsc-khz 2>/dev/null || true)
tsc_khz() {
	if [ -n "$TSC_KHZ" ]; then echo "$TSC_KHZ"; else scripts/tsc-khz; fi
}
blkbench() { # name disk-options job-options [pollvm-options]: run, expect success and verify=pass
	local name=$1 out=$T_TMP/$1.out
	# shellcheck disable=SC2086
	pv "$out" --kernel $BB --disk "$2" ${4:-} --timeout 120 --stats "$T_TMP/$name.json" \
		--cmdline "$3 tsc_khz=$(tsc_khz)"
	expect_status 1 $? "$PV_PID" && expect_grep "^blkbench: .*verify=pass" "$out" && return 0
	T_WHY="$name: $T_WHY$(guest_errors "$out")$(err_counts "$T_TMP/$name.json")"
	return 1
}
guest_errors() { # OUT: "; the guest: " and blkbench's first error lines, if it printed any
	local l
	l=$(grep -E '^blkbench(-hostile)?: (error|I/O error|verify: read|.* FAIL)' "$1" | head -3 | paste -sd ';')
	[ -z "$l" ] || echo "; the guest: $l"
}
err_counts() { # JSON: "; pollvm counted " and the request errors it counted (README "Counters"), if any
	local l
	l=$(grep -o '"err_[a-z_]*": [1-9][0-9]*' "$1" 2>/dev/null | tr -d '"' | sort | uniq | paste -sd ',')
	[ -z "$l" ] || echo "; pollvm counted $l"
}

# fio in the Linux guest (scripts/guest-fio) with the jobs of this directory.
# shellcheck disable=SC2034 # the tests'
FIOJ=tests/integration/fio
gfio() { # name jobs [guest-fio args]: run, keep the console in $T_TMP/name.out
	local name=$1; shift
	scripts/guest-fio "$@" >"$T_TMP/$name.out" 2>&1 </dev/null
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
	# shellcheck disable=SC2034 # the tests' (tests/integration/tests/)
	D4K=$dir
}
dio4k_umount() { # DIR: unmount, waiting a little for processes of a killed test to let go
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		umount "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	umount -l "$1"
}

# dio_counters NAME JSON COUNTER...: the disk was opened O_DIRECT, no
# request failed, and each io_uring COUNTER (bounces: copied through bounce
# memory; rmw: widened to whole host blocks) is above 0 (README "Counters").
dio_counters() {
	local name=$1 json=$2 why
	shift 2
	[ -s "$json" ] || { fail "$name: no --stats file: pollvm did not exit normally"; return 1; }
	# One jq (python3 over the nested host's 9p share took tens of seconds).
	why=$(jq -r --args '
		def what: {bounces: "copied through bounce memory",
			   rmw: "widened to whole host blocks by read-modify-write"}[.];
		.disks[0] as $d | [.iothreads[].io_uring] as $rings |
		[ (if $d.o_direct != true then "o_direct is \($d.o_direct): the image was not opened O_DIRECT, so none of this was tested" else empty end),
		  ([$d.queues[].err_io] | add) as $e | (if $e > 0 then "err_io is \($e)" else empty end),
		  ($ARGS.positional[] as $k |
		   if any($rings[]; has($k) | not) then "pollvm'"'"'s --stats has no io_uring.\($k) counter: requests \($k | what) are not counted"
		   elif ([$rings[][$k]] | add) == 0 then "io_uring.\($k) is 0: no request was \($k | what)"
		   else empty end) ] | join("; ")' "$@" <"$json" 2>&1) ||
		{ fail "$name: cannot read $json: $why"; return 1; }
	[ -z "$why" ] || fail "$name: $why"
}
