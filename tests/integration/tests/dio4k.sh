# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# O_DIRECT that wants 4 KiB, with the default options.

# Disk images in a file system whose O_DIRECT takes only 4096-aligned
# offsets and lengths (lib.sh dio4k_fs), and pollvm as users run it
# (cache=none, the sandbox on): guest requests in 512-byte sectors and guest
# buffers anywhere must be served by read-modify-write of whole host blocks
# and by copies through bounce memory, from the sandboxed IOThread, and
# nothing the guest wrote may be lost.

t_linux_fio_mixed_bs_dio4k() {
	# fio in the Linux guest, O_DIRECT from buffers 512 bytes past a page,
	# every size from 512 bytes to 64 KiB (tests/integration/fio/mixed-bs-dio4k.fio),
	# verified in the guest and then by the host.
	local name=t_linux_fio_mixed_bs_dio4k job=$FIOJ/mixed-bs-dio4k.fio img rc vm
	local out=$T_TMP/t_linux_fio_mixed_bs_dio4k.out json=$T_TMP/t_linux_fio_mixed_bs_dio4k.json
	dio4k_fs $name 128M; case $? in 1) return 0 ;; 2) return 1 ;; esac
	img=$D4K/disk.img
	truncate -s 64M "$img"
	if ! gfio $name "$job" --disk "path=$img" --stats "$json"; then
		# The guest's console lines end in CR LF.
		rc=$(sed -n 's/^pollvm-guest: fio status=\([0-9]*\).*/\1/p' "$out")
		vm=$(sed -n 's/^guest-fio: pollvm exited with status \([0-9]*\).*/\1/p' "$out")
		if [ -n "$rc" ] && [ "$rc" != 0 ]; then
			fail "fio failed in the guest (status $rc):" \
				"$(grep -E 'fio: io_u error|verify: |err=' "$out" | tr -d '\r' | head -3 | paste -sd ';')$(err_counts "$json")"
		else
			fail "pollvm ended with exit status $(status_text "${vm:-?}") before fio was done in the guest"
		fi
		return 1
	fi
	dio_counters $name "$json" bounces rmw || return 1
	# What the guest wrote is in the file: fio reads it back on the host with
	# the same job and seeds (--verify_only), without O_DIRECT, which this
	# file system refuses for 512-byte blocks.
	sed 's/^direct=1$/direct=0/' "$job" >"$T_TMP/$name.host.fio"
	FIO_DEV=$img fio --verify_only "$T_TMP/$name.host.fio" >"$T_TMP/$name.host-verify.out" 2>&1 ||
		fail "the host's fio --verify_only: the image does not hold what the guest wrote:" \
			"$(grep -E 'verify: |err=' "$T_TMP/$name.host-verify.out" | head -3 | paste -sd ';')"
}

t_blkbench_bounce_sandbox() {
	# blkbench from buffers 8 bytes past a page (no O_DIRECT takes them),
	# with requests of 512-byte sectors that are not whole 4 KiB host blocks.
	local name=t_blkbench_bounce_sandbox img size=$((3584 * 64))
	dio4k_fs $name 64M; case $? in 1) return 0 ;; 2) return 1 ;; esac
	img=$D4K/bb.img
	truncate -s 16M "$img"
	# 3584-byte writes in order, 8 in flight: each starts and ends inside a
	# host block that the request before or after it, in flight at the same
	# time, writes too.  An update lost there leaves zeroes (a fresh image),
	# which the read-back through the page cache (cache=writeback: none of
	# the paths under test) finds.
	blkbench $name.3584 "path=$img" "rw=write bs=3584 qd=8 ios=64 size=$size verify=on prefill=off buf_offset=8" &&
		dio_counters $name.3584 "$T_TMP/$name.3584.json" bounces rmw &&
		blkbench $name.check "path=$img,cache=writeback" \
			"rw=read bs=3584 qd=8 ios=64 size=$size verify=on prefill=off" || return 1
	# 512-byte writes in order, 16 in flight, a new pattern (seed=7): eight
	# requests into each host block at once.  Then random 1536-byte reads
	# and writes (reads of blocks being rewritten), and the read-back.
	blkbench $name.512 "path=$img" \
		"rw=write bs=512 qd=16 ios=$((size / 512)) size=$size verify=on prefill=off buf_offset=8 seed=7" &&
		dio_counters $name.512 "$T_TMP/$name.512.json" bounces rmw &&
		blkbench $name.randrw "path=$img" \
			"rw=randrw bs=1536 qd=16 ios=300 size=$size verify=on prefill=off buf_offset=8 seed=7" &&
		dio_counters $name.randrw "$T_TMP/$name.randrw.json" bounces rmw &&
		blkbench $name.check2 "path=$img,cache=writeback" \
			"rw=read bs=3584 qd=8 ios=64 size=$size verify=on prefill=off seed=7"
}
