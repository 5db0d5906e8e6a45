#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# One configuration of the MMU-mode benchmark, in the test machine
# (testing/bench.plan, "make bench"):
#
#   sh /mv/bench.sh CONFIG [vmctl bench options...]
#
# CONFIG is minivisor-shadow, minivisor-tdp, kvm-shadow (kvm_amd npt=0 or
# kvm_intel ept=0) or kvm-tdp.  Prints vmctl's table, then its raw CSV with
# each line behind "MV-CSV ", which testing/mvtest collects from the TAP
# log.  "mv.bench=quick" on the kernel command line adds --quick.  Exit
# status 77 (skip) when this machine cannot run CONFIG.

exec < /dev/null

config=$1
shift
[ -n "$config" ] || { echo "usage: bench.sh CONFIG [options]"; exit 2; }
out=/tmp/bench-$config.csv
rm -f "$out"
if grep -qw mv.bench=quick /proc/cmdline; then
	set -- --quick "$@"
fi

case "$MV_KVM_VENDOR" in
kvm_amd) tdp_param=npt ;;
kvm_intel) tdp_param=ept ;;
*) echo "no SVM or VMX here"; exit 77 ;;
esac

case "$config" in
minivisor-shadow|minivisor-tdp)
	mode=${config#minivisor-}
	if ! /mv/vmctl info 2>/dev/null | grep -q "mmu.*$mode"; then
		echo "minivisor offers no $mode MMU on $MV_BACKEND"
		exit 77
	fi
	/mv/vmctl bench --mmu "$mode" --label "$config" --out "$out" "$@"
	rc=$?
	;;
kvm-shadow)
	MV_KVM_PARAMS="$tdp_param=0" /init on-kvm \
		/mv/vmctl bench --dev /dev/kvm --label "$config" --out "$out" "$@"
	rc=$?
	;;
kvm-tdp)
	MV_KVM_PARAMS="$tdp_param=1" /init on-kvm \
		/mv/vmctl bench --dev /dev/kvm --label "$config" --out "$out" "$@"
	rc=$?
	;;
*)
	echo "bench.sh: unknown configuration $config"
	exit 2
	;;
esac

[ -r "$out" ] && sed 's/^/MV-CSV /' "$out"
exit $rc
