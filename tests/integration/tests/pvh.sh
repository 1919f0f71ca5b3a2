# shellcheck shell=bash
# Whole-VM tests, the t_* functions (tests/integration/vm-tests sources them):
# kernel-less PVH guests (tests/guests/mini.S): every way a VM ends, SMP
# start-up, the boot marker and --stats.

t_exit_port() {
	pv "$T_TMP/t_exit_port.out" --kernel "$MINI/mini-exit-port.elf" --timeout 30
	expect_status 67 $? && expect_grep "pollvm-mini: hello" "$T_TMP/t_exit_port.out"
}
t_exit_mmio() {
	pv "$T_TMP/t_exit_mmio.out" --kernel "$MINI/mini-exit-mmio.elf" --timeout 30
	expect_status 11 $?
}
t_reset_i8042() {
	pv "$T_TMP/t_reset_i8042.out" --kernel "$MINI/mini-i8042.elf" --timeout 30
	expect_status 0 $? && expect_grep "guest reset (i8042)" "$T_TMP/t_reset_i8042.out"
}
# SVM hands us a shutdown with the vCPU already reset (state lost): there a
# deliberate triple fault cannot be told from a crash, and pollvm says so.
svm_like() { case $(scripts/kvm-mode --kind) in svm | nested) return 0 ;; esac; return 1; }
t_reset_triple_fault_empty_idt() {
	local out=$T_TMP/t_reset_triple_fault_empty_idt.out
	pv "$out" --kernel "$MINI/mini-reboot-t.elf" --timeout 30
	local st=$?
	if svm_like; then
		expect_status 4 $st && expect_grep "KVM reset the vCPU before reporting it" "$out"
	else
		expect_status 0 $st && expect_grep "guest reset" "$out"
	fi
}
t_triple_fault() {
	local out=$T_TMP/t_triple_fault.out
	pv "$out" --kernel "$MINI/mini-triple.elf" --timeout 30
	expect_status 4 $? || return 1
	if svm_like; then
		expect_grep "triple fault on vCPU 0 (KVM reset the vCPU" "$out"
	else
		expect_grep "triple fault on vCPU 0, RIP 0x10" "$out"
	fi
}
t_timeout() {
	local out=$T_TMP/t_timeout.out loop rip
	pv "$out" --kernel "$MINI/mini-hang.elf" --timeout 0.5
	expect_status 124 $? && expect_grep "timeout" "$out" || return 1
	# pollvm says where the hung vCPU was: in mini.S's two-instruction
	# spin at exit_port ("pause" is 2 bytes), nowhere else.
	loop=$(nm "$MINI/mini-hang.elf" | sed -n 's/^0*\([0-9a-f]*\) t exit_port$/\1/p')
	rip=$(sed -n 's/^pollvm: vcpu0 at stop: rip=0x\([0-9a-f]*\) .* mp_state=runnable$/\1/p' "$out")
	[ -n "$loop" ] && [ -n "$rip" ] || { fail "no exit_port symbol or no 'vcpu0 at stop' line"; return 1; }
	[ $((16#$rip)) = $((16#$loop)) ] || [ $((16#$rip)) = $((16#$loop + 2)) ] ||
		fail "vcpu0 stopped at 0x$rip, not in the spin at 0x$loop"
}
t_marker_and_stats() {
	pv "$T_TMP/t_marker_and_stats.out" --kernel "$MINI/mini-marker.elf" --timeout 30 --stats "$T_TMP/stats.json"
	expect_status 1 $? && expect_grep "guest init reached after" "$T_TMP/t_marker_and_stats.out" &&
		expect_grep '"init_marker_ms": [0-9]' "$T_TMP/stats.json" &&
		expect_grep '"io": 2[0-9]' "$T_TMP/stats.json"
}
t_sigterm_stops_cleanly() {
	"$POLLVM" --kernel "$MINI/mini-hang.elf" --timeout 30 >"$T_TMP/t_sigterm_stops_cleanly.out" 2>&1 </dev/null &
	local pid=$! st
	# Once the guest runs (its first line is out), SIGTERM must stop it cleanly.
	for _ in $(seq 300); do
		grep -qs "pollvm-mini: hello" "$T_TMP/t_sigterm_stops_cleanly.out" && break
		sleep 0.1
	done
	kill -TERM $pid
	wait $pid; st=$?
	expect_status 0 $st && expect_grep "stopped by SIGTERM" "$T_TMP/t_sigterm_stops_cleanly.out"
}
t_pvh_smp_mptable() {
	# Two vCPUs: the APs wait for INIT/SIPI; the BSP alone runs and ends the VM.
	pv "$T_TMP/t_pvh_smp_mptable.out" --kernel "$MINI/mini-exit-port.elf" --cpus 4 --timeout 30
	expect_status 67 $?
}
