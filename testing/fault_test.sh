#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Kernel allocation failures in minivisor's paths, in the QEMU machine
# (its KASAN kernel has FAILSLAB and FAIL_PAGE_ALLOC; elsewhere: exit 77).
#
#   fault_test.sh HELPER [nth MAX | random ROUNDS]...
#
# For each MMU mode, HELPER (selftests/fault_helper) builds and runs a
# guest step by step with failures injected: every fault site of every
# step in turn through /proc/thread-self/fail-nth ("nth"), then
# failslab and fail_page_alloc at a probability for the helper's task
# only (task-filter, /proc/self/make-it-fail: "random").  Sleeping
# allocations fail too (ignore-gfp-wait=N); nothing is printed per
# failure (verbose=0: the run's kernel log stays judgeable).  Afterwards
# minivisor must hold no module reference and no VM (debugfs virt users
# 0), and kmemleak must find nothing allocated by minivisor.

helper=${1:?usage: fault_test.sh HELPER [nth MAX] [random ROUNDS]}
shift
[ $# -gt 0 ] || set -- nth 400 random 40

dbg=/sys/kernel/debug
if [ ! -d $dbg/failslab ] || [ ! -d $dbg/fail_page_alloc ] ||
   [ ! -e /proc/self/make-it-fail ]; then
	echo "no failslab/fail_page_alloc in this kernel"
	exit 77
fi

set_attr() {	# dir probability
	echo 0 > "$1/verbose"
	echo N > "$1/ignore-gfp-wait"
	echo Y > "$1/task-filter"
	echo 1 > "$1/interval"
	echo -1 > "$1/times"
	echo 0 > "$1/space"
	echo "$2" > "$1/probability"
}

disarm() {
	set_attr $dbg/failslab 0
	set_attr $dbg/fail_page_alloc 0
}

set_attr $dbg/failslab 0
set_attr $dbg/fail_page_alloc 0
echo 0 > $dbg/fail_page_alloc/min-order
echo N > $dbg/fail_page_alloc/ignore-gfp-highmem
trap 'disarm; echo MV-FAULT-INJECT-END > /dev/kmsg' EXIT

# The kernel reports some injected failures (warn_alloc: "vmalloc error",
# "page allocation failure", with a stack dump); testing/mvtest expects
# such reports between these lines only.
echo "MV-FAULT-INJECT-BEGIN" > /dev/kmsg
status=0
modes="tdp shadow"
while [ $# -gt 0 ]; do
	kind=$1 arg=$2
	shift 2
	for mode in $modes; do
		if [ "$kind" = random ]; then
			set_attr $dbg/failslab 10
			set_attr $dbg/fail_page_alloc 5
		fi
		"$helper" -m $mode "$kind" "$arg" > /tmp/fault.out 2>&1
		rc=$?
		disarm
		sed "s/^/[$mode $kind] /" /tmp/fault.out
		if [ $rc -ne 0 ]; then
			echo "fault_helper -m $mode $kind $arg: exit status $rc"
			status=1
		fi
	done
done

disarm
echo "MV-FAULT-INJECT-END" > /dev/kmsg
trap - EXIT

# no reference, no VM left behind
refs=$(cat /sys/module/minivisor/refcnt 2>/dev/null)
if [ "${refs:-0}" != 0 ]; then
	echo "minivisor still has $refs references"
	status=1
fi
i=0
while [ $i -lt 10 ] && [ -r $dbg/minivisor/virt ] &&
      ! grep -qx 'users 0' $dbg/minivisor/virt; do
	sleep 1		# a VM's last reference may go a little later
	i=$((i + 1))
done
if [ -r $dbg/minivisor/virt ] &&
   ! grep -qx 'users 0' $dbg/minivisor/virt; then
	echo "minivisor/virt:"
	cat $dbg/minivisor/virt
	status=1
fi
if [ -w $dbg/kmemleak ]; then
	# kmemleak reports only objects older than a few seconds
	sleep 6
	echo scan > $dbg/kmemleak
	echo scan > $dbg/kmemleak
	if grep -q minivisor $dbg/kmemleak; then
		echo "kmemleak:"
		cat $dbg/kmemleak
		status=1
	fi
fi
exit $status
