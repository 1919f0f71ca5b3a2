# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# IOThread polling on and off (blkbench and the Linux guest), Linux's
# virtio-blk poll queues, an IOThread cpu= the process may not use.

# The same verified QD1 job with the IOThread polling and not.
# Counters that must differ, not timings: polling drains requests without a
# kick and suppresses kicks (the guest sends fewer than one per request);
# not polling, every request comes by kick.  poll-max-ns=1s: a window longer
# than any wait grows and never shrinks, so polling catches requests however
# slow or loaded the test machine is (with the default 32 us a loaded
# machine's I/O can take longer, and the policy rightly stops polling);
# poll-contention=off for the same reason.
t_blkbench_poll_on_off() {
	local img=$T_TMP/bbp.img on=$T_TMP/t_blkbench_poll_on_off.json off=$T_TMP/t_blkbench_poll_on_off.off.json
	truncate -s 16M "$img"
	blkbench t_blkbench_poll_on_off "path=$img,iothread=p" "rw=randread qd=1 ios=2000 size=2m verify=on" \
		"--iothread id=p,poll-max-ns=1000000000,poll-contention=off" || return 1
	expect_grep '"poll_drains": [1-9]' "$on" && expect_grep '"poll_windows": [1-9]' "$on" &&
		expect_grep '"err_io": 0' "$on" || return 1
	grep -q 'kicks_per_io=1.000' "$T_TMP/t_blkbench_poll_on_off.out" &&
		{ fail "polling on: the guest still kicked for every request"; return 1; }
	blkbench t_blkbench_poll_on_off.off "path=$img,iothread=p" "rw=randread qd=1 ios=2000 size=2m verify=on prefill=off" \
		"--iothread id=p,poll-max-ns=0" || return 1
	expect_grep '"poll_drains": 0' "$off" && expect_grep '"poll_windows": 0,' "$off" &&
		expect_grep 'kicks_per_io=1.000' "$T_TMP/t_blkbench_poll_on_off.off.out"
}
t_blkbench_poll_bad_cpu() {
	pv "$T_TMP/t_blkbench_poll_bad_cpu.out" --kernel "$BB" --iothread id=p,cpu=4095 --disk path=/dev/null,iothread=p
	expect_status 2 $? && [ "$(wc -l <"$T_TMP/t_blkbench_poll_bad_cpu.out")" = 1 ] &&
		expect_grep "cpu" "$T_TMP/t_blkbench_poll_bad_cpu.out"
}
t_linux_fio_poll_on_off() {
	# fio verify in the Linux guest through an IOThread that polls (a 1 s
	# window, contention back-off off so a busy machine cannot veto it) and
	# through one that never polls.  Polling on: the ring was polled with
	# kicks turned off (poll_windows) and requests were taken by polling, not
	# by a kick (poll_drains).  Off: neither ever happens.  Data verified both
	# times.
	local img=$T_TMP/poll.img on=$T_TMP/poll-on.json off=$T_TMP/poll-off.json
	truncate -s 64M "$img"
	gfio t_linux_fio_poll_on_off verify --iothread id=p,poll-max-ns=1000000000,poll-contention=off \
		--disk "path=$img,iothread=p" --stats "$on"
	expect_status 0 $? && expect_grep "pollvm-guest: fio status=0" "$T_TMP/t_linux_fio_poll_on_off.out" &&
		expect_grep '"poll_windows": [1-9]' "$on" && expect_grep '"poll_drains": [1-9]' "$on" &&
		expect_grep '"err_io": 0' "$on" || return 1
	gfio t_linux_fio_poll_on_off.off verify --iothread id=p,poll-max-ns=0 --disk "path=$img,iothread=p" --stats "$off"
	expect_status 0 $? && expect_grep "pollvm-guest: fio status=0" "$T_TMP/t_linux_fio_poll_on_off.off.out" &&
		expect_grep '"poll_windows": 0,' "$off" && expect_grep '"poll_drains": 0,' "$off" &&
		expect_grep '"err_io": 0' "$off"
}
t_linux_fio_poll_queue() {
	# Linux's virtio-blk poll queues end to end: the guest is told
	# virtio_blk.poll_queues=1 (and possible_cpus=2, so one vCPU still
	# gets one: scripts/guest-cmdline), the disk has two queues.  verify
	# runs interrupt-driven on queue 0, then verify-poll's hipri I/O
	# (io_uring IOPOLL) on queue 1, which has no callback: Linux never
	# writes its used_event, so it stays 0 and pollvm may interrupt for
	# that queue only when its used index passes 0: once at its first
	# completion, once per 2^16 after.  Both jobs verify their data.
	local img=$T_TMP/pq.img st=$T_TMP/pq.json out=$T_TMP/t_linux_fio_poll_queue.out why
	truncate -s 64M "$img"
	gfio t_linux_fio_poll_queue verify,verify-poll --poll-queues 1 \
		--disk "path=$img,num-queues=2" --stats "$st"
	expect_status 0 $? && expect_grep "pollvm-guest: fio status=0" "$out" &&
		expect_grep "pollvm-guest: vda queues default/read/poll 1/0/1" "$out" || return 1
	# Each job writes and reads back 32 MiB, at least 2048 requests even
	# if the block layer merged some; a queue that served fewer did not
	# get that job's I/O.
	why=$(jq -r '.disks[0].queues as $q | [
		(if ($q | length) != 2 then "\($q | length) queues, not 2" else empty end),
		($q[] | . as $x | select([to_entries[] | select(.key | startswith("err_")) | .value] | add > 0) |
			"q\($x.index) has request errors"),
		($q[] | select(.popped != .pushed) | "q\(.index): \(.popped) requests popped, \(.pushed) completed"),
		($q[] | select(.kicks > .requests) | "q\(.index): \(.kicks) kicks for \(.requests) requests"),
		($q[] | select(.requests < 2048) | "q\(.index) served \(.requests) requests, not the job'"'"'s"),
		($q[0] | select(.irqs < 1) | "the interrupt-driven q0 raised no interrupt"),
		($q[1] | select(.irqs * 65536 > 65536 + .requests) |
			"the poll queue q1 raised \(.irqs) interrupts for \(.requests) requests (at most 1 + requests/65536)"),
		(.disks[0].transport | select(.needs_reset > 0) | "DEVICE_NEEDS_RESET set")
		] | join("; ")' "$st")
	[ -z "$why" ] || fail "$why"
}
