#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the minivisor test initramfs.  Runs a plan (/mv/tests.plan), one
# group a line, and writes TAP to the second serial port (ttyS1) between markers
# the runner (testing/mvtest) reads:
#
#   MV-TESTS-BEGIN
#   MV-GROUP-BEGIN <kind>:<name>
#   ...the group's own TAP...
#   MV-GROUP-END <kind>:<name> rc=<exit status>
#   MV-TESTS-END
#
# The kernel's console stays on ttyS0; the same markers go to the kernel log
# so that the runner judges only what the kernel printed during the tests.
# mv.tests=a,b,c on the kernel command line keeps only those groups;
# mv.plan=NAME runs /mv/NAME.plan instead of /mv/tests.plan.
# mv.full=1 runs /mv/full.plan after it: the long tier of make check FULL=1.
#
# "/init on-kvm CMD ARGS..." (for the plan's cmd lines) runs CMD against KVM:
# minivisor unloaded, kvm and kvm_amd/kvm_intel loaded (with $MV_KVM_PARAMS),
# MV_DEV=/dev/kvm; afterwards KVM is unloaded and minivisor loaded again.

# The KVM modules of $MV_KVM_MODULES, the vendor's (the last) with the
# parameters in $MV_KVM_PARAMS (e.g. npt=0); kvm_unload undoes what it loaded.
kvm_load() {
	kvm_loaded=""
	for ko in $(echo "$MV_KVM_MODULES" | tr ':' ' '); do
		params=""
		case "$ko" in
		*/kvm_amd.ko|*/kvm_intel.ko) params=$MV_KVM_PARAMS ;;
		esac
		# shellcheck disable=SC2086 # the parameters are words
		insmod "$ko" $params ||
			{ echo "# insmod $ko $params failed"; return 1; }
		kvm_loaded="$(basename "$ko" .ko) $kvm_loaded"
	done
}

# A test the kselftest harness killed on its timeout is not waited for: it
# can still be exiting, its files open, when the harness has ended.  So a
# module still in use is waited for, a minute at most, before rmmod fails
# (and says why): with KVM left loaded every later minivisor group fails.
rmmod_wait() {
	tries=0
	until rmmod "$1" 2>/dev/null; do
		tries=$((tries + 1))
		# not loaded at all: nothing to wait for
		if [ $tries -ge 60 ] || ! grep -q "^$1 " /proc/modules; then
			echo "# rmmod $1 failed after $tries tries:"
			rmmod "$1"
			return 1
		fi
		sleep 1
	done
}

kvm_unload() {
	unload_rc=0
	for mod in $kvm_loaded; do
		rmmod_wait "$mod" || unload_rc=1
	done
	kvm_loaded=""
	return $unload_rc
}

if [ "$1" = on-kvm ]; then
	shift
	rmmod_wait minivisor || exit 1
	kvm_load && MV_DEV=/dev/kvm "$@"
	status=$?
	kvm_unload || status=1
	insmod "$MINIVISOR_KO" || status=1
	exit $status
fi

/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null

tap() { echo "$*" >&3; }
klog() { echo "minivisor-test: $*" > /dev/kmsg; }

if grep -qw vmx /proc/cpuinfo; then
	MV_BACKEND=vmx
	kvm_vendor=kvm_intel
elif grep -qw svm /proc/cpuinfo; then
	MV_BACKEND=svm
	kvm_vendor=kvm_amd
else
	MV_BACKEND=none
	kvm_vendor=none
fi
export MV_BACKEND
# A VM exit costs milliseconds in Bochs: the same tests, smaller counts.
if [ "$MV_BACKEND" = vmx ]; then
	# the VMX machine is Bochs (fuzz_test keeps its guests' IF set there)
	export MV_EMULATOR=bochs
	export MV_EXITS=2000
	export MV_MIGRATIONS=2000
	export MV_FUZZ_SEEDS=1
	export MV_FUZZ_OPS=500
	# with two CPUs, each VM's VMXON/VMXOFF round costs seconds
	if [ "$(grep -c ^processor /proc/cpuinfo)" -gt 1 ]; then
		export MV_VM_ROUNDS=50
	fi
fi
export MINIVISOR_KO=/mv/minivisor.ko
export MV_KVM_VENDOR=$kvm_vendor
export MV_KVM_MODULES=/mv/kvm/irqbypass.ko:/mv/kvm/kvm.ko:/mv/kvm/$kvm_vendor.ko

only=$(sed -n 's/.*mv\.tests=\([^ ]*\).*/\1/p' /proc/cmdline)
plan=$(sed -n 's/.*mv\.plan=\([^ ]*\).*/\1/p' /proc/cmdline)
plan=/mv/${plan:-tests}.plan
if grep -qw 'mv\.full=1' /proc/cmdline; then
	cat "$plan" /mv/full.plan > /tmp/run.plan
	plan=/tmp/run.plan
fi
wanted() {
	[ -z "$only" ] && return 0
	case ",$only," in
	*",$1,"*|*",${1#*:},"*) return 0 ;;
	esac
	return 1
}

# A one-result group in TAP, for the steps init itself performs.
step() {
	name=$1
	shift
	tap "MV-GROUP-BEGIN sys:$name"
	tap "TAP version 13"
	tap "1..1"
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/# /' >&3
	if [ $rc -eq 0 ]; then
		tap "ok 1 $name"
	else
		tap "not ok 1 $name # exit status $rc"
	fi
	tap "MV-GROUP-END sys:$name rc=$rc"
}

run_kunit() {
	suite=$1
	ko=$2
	insmod "/mv/$ko" || return 1
	if [ -r "/sys/kernel/debug/kunit/$suite/results" ]; then
		cat "/sys/kernel/debug/kunit/$suite/results" >&3
	else
		tap "1..1"
		tap "not ok 1 $suite # no results in debugfs"
	fi
	rmmod "${ko%.ko}"
}

run_on_kvm() {
	prog=$1
	shift
	kvm_load
	(cd /mv/tests && MV_DEV=/dev/kvm "./$prog" "$@")
	status=$?
	kvm_unload || status=1
	return $status
}

kmemleak_check() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	if grep -q minivisor /sys/kernel/debug/kmemleak; then
		cat /sys/kernel/debug/kmemleak
		return 1
	fi
	return 0
}

klog "MV-TESTS-BEGIN backend=$MV_BACKEND"
tap "MV-TESTS-BEGIN backend=$MV_BACKEND"

step load_minivisor insmod /mv/minivisor.ko

while read -r kind name arg; do
	case "$kind" in
	''|'#'*) continue ;;
	esac
	wanted "$kind:$name" || continue
	klog "group $kind:$name"
	tap "MV-GROUP-BEGIN $kind:$name"
	case "$kind" in
	selftest)
		# the argument, if any: the program's options (split on spaces)
		(cd /mv/tests && "./$name" $arg) >&3 2>&1
		rc=$?
		;;
	shadow-selftest)
		# the same selftest, its VMs on shadow paging (MV_CAP_MMU_MODE)
		(cd /mv/tests && MV_MMU=shadow "./$name" $arg) >&3 2>&1
		rc=$?
		;;
	kvm-selftest)
		# the same selftest against the reference, KVM, on /dev/kvm
		run_on_kvm "$name" $arg >&3 2>&1
		rc=$?
		;;
	kunit)
		run_kunit "$name" "$arg"
		rc=$?
		;;
	cmd)
		# a shell command; exit status 0 passes, 77 skips; its stdin
		# is not the plan
		tap "1..1"
		sh -c "$arg" > /tmp/out 2>&1 < /dev/null
		rc=$?
		sed 's/^/# /' /tmp/out >&3
		if [ $rc -eq 0 ]; then
			tap "ok 1 $name"
		elif [ $rc -eq 77 ]; then
			tap "ok 1 $name # SKIP"
			rc=0
		else
			tap "not ok 1 $name # exit status $rc"
		fi
		;;
	*)
		tap "1..1"
		tap "not ok 1 $name # unknown kind $kind"
		rc=1
		;;
	esac
	tap "MV-GROUP-END $kind:$name rc=$rc"
done < "$plan"

step no_leaks kmemleak_check
step unload_minivisor rmmod minivisor

klog "MV-TESTS-END"
tap "MV-TESTS-END"
sync
poweroff -f
