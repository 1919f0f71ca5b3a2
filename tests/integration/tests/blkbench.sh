# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# blkbench, the data path driven from guest user mode: verify (across
# two VMs and across the two VMMs), interrupts, queues on IOThreads,
# interrupt coalescing, a disk that shrinks while the VM runs.

t_blkbench_verify() {
	truncate -s 16M "$T_TMP/bb.img"
	blkbench t_blkbench_verify_w "path=$T_TMP/bb.img" "rw=randwrite qd=8 ios=4000 verify=on" &&
		blkbench t_blkbench_verify "path=$T_TMP/bb.img" "rw=randread qd=32 ios=4000 verify=on prefill=off" &&
		expect_grep '"err_io": 0' "$T_TMP/t_blkbench_verify.json" || return 1
	# The job ended with every request completed: the exit summary's ring
	# line shows the driver's avail.idx, what we took and what we returned
	# all equal, nothing in flight.
	expect_grep '^pollvm: stats vda q0 ring: avail_idx=\([0-9]*\) last_avail=\1 used_idx=\1 inflight=0 ' \
		"$T_TMP/t_blkbench_verify.out"
}
t_blkbench_qemu_verify() {
	# The same blkbench ELF under the other VMM (QEMU microvm, as
	# scripts/bench-blk runs it): it must not depend on pollvm, and its
	# verify must pass there too (written by QEMU, read back by pollvm and
	# the other way round). Exit status 1 from both: isa-debug-exit, v=0.
	command -v qemu-system-x86_64 >/dev/null || { fail "qemu-system-x86_64 missing (scripts/deps installs it)"; return 1; }
	local img=$T_TMP/bbq.img out=$T_TMP/t_blkbench_qemu_verify.out cache=none
	truncate -s 16M "$img"
	dd if="$img" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null || cache=writeback
	qemu_bb() { # job-options
		timeout -s KILL 300 qemu-system-x86_64 -M microvm,rtc=on,acpi=off -accel kvm -m 128M \
			-nodefaults -no-user-config -display none -no-reboot -serial stdio \
			-device isa-debug-exit,iobase=0xf4,iosize=4 -global virtio-mmio.force-legacy=false \
			-kernel "$BB" -append "$1 tsc_khz=$(tsc_khz)" -object iothread,id=io0 \
			-drive "id=d0,file=$img,format=raw,if=none,cache=$cache,aio=io_uring" \
			-device virtio-blk-device,drive=d0,iothread=io0 >"$out" 2>&1 </dev/null
	}
	qemu_bb "rw=randwrite qd=8 ios=2000 size=4m verify=on"
	expect_status 1 $? && expect_grep "^blkbench: .*verify=pass" "$out" || return 1
	blkbench t_blkbench_qemu_verify_pv "path=$img" "rw=randread qd=8 ios=2000 size=4m verify=on prefill=off" || return 1
	blkbench t_blkbench_qemu_verify_pvw "path=$img" "rw=randwrite qd=8 ios=2000 size=4m verify=on seed=7" || return 1
	qemu_bb "rw=randread qd=8 ios=2000 size=4m verify=on prefill=off seed=7"
	expect_status 1 $? && expect_grep "^blkbench: .*verify=pass" "$out"
}
t_blkbench_irq_two_queues() {
	local out=$T_TMP/t_blkbench_irq_two_queues.out
	truncate -s 16M "$T_TMP/bb2.img"
	blkbench t_blkbench_irq_two_queues "path=$T_TMP/bb2.img,num-queues=2" \
		"rw=randrw qd=4 queues=2 ios=2000 verify=on completion=irq" || return 1
	# Every sleep the watchdog tick had to end with completions waiting must
	# have had its interrupt raised by pollvm (InterruptStatus set then, or
	# soon after): one it never raised is a lost interrupt.
	local r rescues isr late
	r=$(sed -n 's/.*tick_rescues=\([0-9]*\) (isr_set \([0-9]*\), late \([0-9]*\)).*/\1 \2 \3/p' "$out")
	[ -n "$r" ] || { fail "no tick_rescues in the cpl0 line"; return 1; }
	read -r rescues isr late <<<"$r"
	[ "$rescues" = $((isr + late)) ] ||
		fail "pollvm never signalled $((rescues - isr - late)) completion(s) the guest slept on: $(grep cpl0 "$out")"
}
t_blkbench_queues_on_two_iothreads() {
	# One disk's queues spread over two IOThreads (iothread=a+b): verified
	# data, and each IOThread served its own queues through its own ring.
	local json=$T_TMP/t_blkbench_queues_on_two_iothreads.json
	truncate -s 16M "$T_TMP/bb3.img"
	blkbench t_blkbench_queues_on_two_iothreads "path=$T_TMP/bb3.img,num-queues=4,iothread=a+b" \
		"rw=randrw qd=4 queues=4 ios=4000 verify=on" "--iothread id=a --iothread id=b" || return 1
	# One jq each (python3 over the nested host's 9p share takes tens of seconds).
	jq -e '.disks[0].queues as $q | (.iothreads | map({(.id): .io_uring.cqes}) | add) as $c |
		([$q[].iothread] == ["a", "b", "a", "b"]) and all($q[]; .requests > 0) and
		($c.a // 0) > 0 and ($c.b // 0) > 0 and ($c | has("default") | not) and
		$c.a >= $q[0].requests + $q[2].requests and $c.b >= $q[1].requests + $q[3].requests' \
		"$json" >/dev/null ||
		fail "queues not spread as asked: $(jq -c '[.disks[0].queues[] | [.index, .iothread, .requests]],
			[.iothreads[] | [.id, .io_uring.cqes]]' "$json" | paste -sd ' ')"
}
t_blkbench_irq_coalesce() {
	# irq-coalesce-us: interrupts wait for company, the data stays right,
	# and some interrupts were held back (and then sent: the job finished).
	local json=$T_TMP/t_blkbench_irq_coalesce.json
	truncate -s 16M "$T_TMP/bb4.img"
	blkbench t_blkbench_irq_coalesce "path=$T_TMP/bb4.img,iothread=c" \
		"rw=randrw qd=8 ios=4000 verify=on completion=irq" "--iothread id=c,irq-coalesce-us=200" || return 1
	expect_grep '"irq_delayed": [1-9]' "$json" && expect_grep '"coalesce_us": 200' "$json"
}
# A disk file that shrinks while the VM runs: the capacity was fixed at start
# (a non-zero multiple of 512, else exit 2), so reads past the new end of
# file come back as IOERR (counted in err_io), never a hang or a crash.
t_disk_shrinks_while_running() {
	local out=$T_TMP/t_disk_shrinks_while_running.out img=$T_TMP/shrink.img pid st
	truncate -s 16M "$img"
	: >"$out"   # the background job creates it later: the grep below must not race that
	"$POLLVM" --kernel "$BB" --disk "path=$img" --timeout 60 --stats "$T_TMP/shrink.json" \
		--cmdline "rw=randread qd=4 secs=4 tsc_khz=$(tsc_khz)" >"$out" 2>&1 </dev/null &
	pid=$!
	# Shrink the file once the guest's job is running (not on a timer:
	# start-up takes longer in the nested host).
	for _ in $(seq 600); do
		grep -q "^blkbench: job" "$out" && break
		sleep 0.1
	done
	sleep 0.5
	truncate -s 1M "$img"
	wait $pid; st=$?
	# blkbench reports the I/O errors (exit value 2: status 5); pollvm stayed up.
	expect_status 5 $st && expect_grep "blkbench: I/O error: read" "$out" &&
		grep -q '"err_io": [1-9]' "$T_TMP/shrink.json" || fail "no err_io counted"
}
