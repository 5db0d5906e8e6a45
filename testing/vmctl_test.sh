#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# vmctl's tests, run in the test machine by the plan's cmd lines:
#
#   sh /mv/vmctl_test.sh CASE
#
# Most cases run an image on /dev/minivisor and then the same command on
# KVM (/init on-kvm, --dev /dev/kvm), check minivisor's output and status,
# and check that KVM's are the same.  Exit status 0 passes.

# vmctl's UART reads stdin: never the caller's
exec < /dev/null

V=/mv/vmctl
G=/mv/guests
T=/tmp/vmctl_test
mkdir -p $T

fail() {
	echo "FAIL: $*"
	exit 1
}

# The RTC's time differs from run to run.
same_time() {
	sed 's/^RTC: .*/RTC: (the time)/' "$1"
}

# both ARGS...: vmctl run ARGS on minivisor, then on KVM; leaves the output
# in $T/out, stderr in $T/err, the status in $rc.
both() {
	$V run "$@" > $T/out 2> $T/err
	rc=$?
	echo "# minivisor: status $rc"
	sed 's/^/#   /' $T/out $T/err
	/init on-kvm $V run --dev /dev/kvm "$@" > $T/kvm.out 2> $T/kvm.err
	kvm_rc=$?
	echo "# KVM: status $kvm_rc"
	sed 's/^/#   /' $T/kvm.out $T/kvm.err
	[ "$rc" = "$kvm_rc" ] || fail "status $rc on minivisor, $kvm_rc on KVM"
	same_time $T/out > $T/out.cmp
	same_time $T/kvm.out > $T/kvm.out.cmp
	cmp -s $T/out.cmp $T/kvm.out.cmp ||
		fail "the guest printed something else on KVM"
}

# expect STATUS FILE LINE...: the status is STATUS, FILE has each LINE
expect() {
	[ "$rc" = "$1" ] || fail "status $rc, not $1"
	file=$2
	shift 2
	for line in "$@"; do
		grep -qxF -- "$line" "$file" || fail "no line '$line' in $file"
	done
}

multiboot() {
	both --append "console=ttyS0 mv.test=1" "$G/$1"
	expect 67 $T/out \
		"Hello from a Multiboot kernel on minivisor, in protected mode." \
		"loader: vmctl" \
		"cmdline: $G/$1 console=ttyS0 mv.test=1" \
		"memory: lower 639K, upper 15360K" \
		"mmap: 0x000000000-0x00009fbff available" \
		"mmap: 0x00009fc00-0x00009ffff reserved" \
		"mmap: 0x0000f0000-0x0000fffff reserved" \
		"mmap: 0x000100000-0x000ffffff available"
	[ "$(wc -l < $T/out)" -eq 8 ] || fail "more than 8 lines"
}

case "$1" in
flat)
	both $G/hello.bin
	expect 0 $T/out "Hello from a guest of minivisor, in real mode."
	both --mmu tdp $G/hello.bin
	expect 0 $T/out "Hello from a guest of minivisor, in real mode."
	;;
exit)
	both $G/exit42.bin
	expect 85 $T/out
	;;
elf64)
	both $G/hello64.elf
	expect 0 $T/out \
		"Hello from a 64-bit ELF guest of minivisor, in long mode." \
		"EFER: 0x0500 (LMA)"
	# the guest read the date from the RTC: today's (UTC)
	grep -q "^RTC: $(date -u +%Y-%m-%d) [0-2][0-9]:[0-5][0-9]:[0-5][0-9]\$" \
		$T/out || fail "the RTC line is not today's date"
	;;
multiboot)
	multiboot multiboot.elf
	;;
multiboot-aout)
	multiboot multiboot-aout.bin
	;;
triple-fault)
	both $G/triple.bin
	expect 4 $T/err "vmctl: the guest shut down (triple fault); its registers:"
	grep -q "^  rip " $T/err || fail "no registers"
	;;
unknown)
	both --mem 1M --trace $G/unknown.bin
	expect 33 $T/err \
		"vmctl: unhandled port 0x1234 (in), ignored" \
		"vmctl: unhandled MMIO 0x100000 (read), ignored"
	[ "$(grep -c unhandled $T/err)" -eq 2 ] || fail "logged more than once"
	;;
trace)
	both --trace $G/hello.bin
	expect 0 $T/err "vmctl: flat image $G/hello.bin, entry 0x1000" \
		"vmctl: exit io out port 0x3f8 size 1 count 1" "vmctl: exit hlt"
	[ "$(grep -c 'exit io' $T/err)" -eq 47 ] || fail "not 47 io exits"
	;;
mmu)
	# minivisor: each format on shadow paging (MV_CAP_MMU_MODE)
	$V run --mmu shadow $G/hello.bin > $T/out 2>&1
	rc=$?
	expect 0 $T/out "Hello from a guest of minivisor, in real mode."
	$V run --mmu shadow $G/hello64.elf > $T/out 2>&1
	rc=$?
	expect 0 $T/out \
		"Hello from a 64-bit ELF guest of minivisor, in long mode."
	$V run --mmu shadow --append shadow $G/multiboot.elf > $T/out 2>&1
	rc=$?
	expect 67 $T/out "cmdline: $G/multiboot.elf shadow"
	# KVM offers no choice: tdp is its default, shadow is refused
	both --mmu tdp $G/hello.bin
	expect 0 $T/out "Hello from a guest of minivisor, in real mode."
	/init on-kvm $V run --dev /dev/kvm --mmu shadow $G/hello.bin \
		> $T/out 2>&1
	rc=$?
	expect 1 $T/out \
		"vmctl: --mmu shadow: this device offers no way to choose the MMU mode (only its default, tdp)"
	;;
stdin)
	# the UART receives vmctl's stdin; the guest echoes a line
	printf 'typed on stdin\n' | timeout 60 $V run $G/echo.bin > $T/out 2>&1
	rc=$?
	sed 's/^/# /' $T/out
	expect 0 $T/out "typed on stdin"
	printf 'typed on stdin\n' |
		/init on-kvm timeout 60 $V run --dev /dev/kvm $G/echo.bin \
		> $T/out 2>&1
	rc=$?
	sed 's/^/# KVM: /' $T/out
	expect 0 $T/out "typed on stdin"
	;;
stats)
	$V run --stats $G/hello.bin > $T/out 2> $T/err
	rc=$?
	sed 's/^/# /' $T/err
	if grep -q "^vmctl: vm stats:" $T/err; then
		expect 0 $T/err "vmctl: vcpu 0 stats:" "  io_exits = 47" \
			"  halt_exits = 1"
	else
		expect 0 $T/err "vmctl: exits = 48" "vmctl: exits.io = 47" \
			"vmctl: exits.hlt = 1"
	fi
	# KVM has binary stats: every one printed
	/init on-kvm $V run --dev /dev/kvm --stats $G/hello.bin > $T/out 2> $T/err
	rc=$?
	sed 's/^/# KVM: /' $T/err
	expect 0 $T/err "vmctl: vm stats:" "vmctl: vcpu 0 stats:" \
		"  io_exits = 47" "  halt_exits = 1"
	;;
errors)
	$V run $T/none.bin > $T/out 2>&1
	rc=$?
	expect 1 $T/out "vmctl: $T/none.bin: No such file or directory"
	: > $T/empty.bin
	$V run $T/empty.bin > $T/out 2>&1
	rc=$?
	expect 1 $T/out "vmctl: $T/empty.bin: bad image: not a non-empty file"
	head -c 100 $G/hello64.elf > $T/short.elf
	$V run $T/short.elf > $T/out 2>&1
	rc=$?
	expect 1 $T/out "vmctl: $T/short.elf: bad image: truncated ELF headers"
	$V run --dev /dev/none $G/hello.bin > $T/out 2>&1
	rc=$?
	expect 1 $T/out \
		"vmctl: /dev/none: No such file or directory (no such device node: is the module loaded?)"
	$V run --dev /dev/null $G/hello.bin > $T/out 2>&1
	rc=$?
	expect 1 $T/out \
		"vmctl: /dev/null: not a KVM device: Inappropriate ioctl for device"
	$V run --mmu nested $G/hello.bin > $T/out 2>&1
	rc=$?
	expect 1 $T/out "vmctl: --mmu nested: not shadow or tdp"
	$V run --cpus 2 $G/hello.bin > $T/out 2>&1
	rc=$?
	expect 2 $T/out "vmctl: --cpus 2: only 1 vCPU until SMP lands"
	;;
*)
	fail "no case '$1'"
	;;
esac
exit 0
