# shellcheck shell=bash
# Helpers shared by the scripts that boot the test guest (sourced, bash).
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pollvm_scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# guest_for_pollvm [POLLVM-ARGS...]
# Sets guest_vmlinux and guest_initrd to the test guest that pollvm with
# these arguments can boot, from scripts/build-guest (built the first time):
#   --machine-desc=fdt   the fdt kernel variant (guest/linux-fdt.config): the
#                        default kernel cannot read a device tree, so it
#                        finds no disk there (no MP table, no
#                        virtio_mmio.device= in that mode)
#   otherwise            the default kernel
#   --kernel FILE        the caller's own kernel: guest_vmlinux is empty (add
#                        no --kernel: pollvm refuses a second) and only the
#                        initramfs is looked up, beside the default kernel
#                        (no kernel build for a kernel nobody boots)
# POLLVM_GUEST_VMLINUX and POLLVM_GUEST_INITRD, when both are set, are the
# guest instead (the integration tests pass the one they built; inside the
# nested test host nothing is built).
# Options count as pollvm spells them in full, --opt VAL or --opt=VAL.
# Returns 1, with a message on stderr, when build-guest gave no guest.
guest_for_pollvm() {
	local variant=default own_kernel=0 out
	while (($#)); do
		case $1 in
		--kernel | --kernel=*) own_kernel=1 ;;
		--machine-desc=*) variant=${1#*=} ;;
		--machine-desc) variant=${2:-} ;;
		esac
		shift
	done
	# cmdline, or a value pollvm itself refuses, boots the default kernel.
	[[ $variant == fdt ]] || variant=default
	if ((own_kernel)); then
		variant=default
	fi

	if [[ -n ${POLLVM_GUEST_VMLINUX:-} && -n ${POLLVM_GUEST_INITRD:-} ]]; then
		guest_vmlinux=$POLLVM_GUEST_VMLINUX guest_initrd=$POLLVM_GUEST_INITRD
	else
		out=$("$pollvm_scripts/build-guest" --variant "$variant") || return 1
		guest_vmlinux=$(sed -n 's/^vmlinux=//p' <<<"$out")
		guest_initrd=$(sed -n 's/^initramfs=//p' <<<"$out")
		[[ -n $guest_vmlinux && -n $guest_initrd ]] ||
			{ echo "scripts/build-guest --variant $variant named no vmlinux/initramfs" >&2; return 1; }
	fi
	if ((own_kernel)); then
		guest_vmlinux=
	fi
}

# fio_job_names: the jobs in guest/fio/, by name (without .fio), space-separated.
fio_job_names() {
	local f names=()
	for f in "$pollvm_scripts"/../guest/fio/*.fio; do
		[[ -e $f ]] || continue
		f=${f##*/}
		names+=("${f%.fio}")
	done
	echo "${names[*]}"
}
