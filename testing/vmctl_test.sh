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

# A guest that hangs fails its case (status 124 from timeout, SIGTERM) and
# lets the plan go on; every image here ends in seconds, even in Bochs.
TMO="timeout 300"

# both ARGS...: vmctl run ARGS on minivisor, then on KVM; leaves the output
# in $T/out, stderr in $T/err, the status in $rc.
both() {
	$TMO $V run "$@" > $T/out 2> $T/err
	rc=$?
	echo "# minivisor: status $rc"
	sed 's/^/#   /' $T/out $T/err
	/init on-kvm $TMO $V run --dev /dev/kvm "$@" > $T/kvm.out 2> $T/kvm.err
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


# ---- vmctl bench --quick: the figures each mode must produce

BENCH_HEADER=config,workload,variant,metric,median,min,max,runs
# the variants of --quick
BENCH_QUICK="faults/4k faults/2m ctxsw/k2-pcid ctxsw/k2-nopcid ctxsw/k16-pcid
ctxsw/k16-nopcid churn/map gups/4k gups/2m exit/cpuid exit/pio exit/mmio
exit/hlt"
bench_bad=0

# bench_run CSV ARGS...: vmctl bench --quick ARGS, its output as comments
bench_run() {
	csv=$1
	shift
	"$@" --quick --out "$csv" > $T/out 2> $T/err
	rc=$?
	echo "# $*: status $rc"
	sed 's/^/#   /' $T/out
	grep -v '^\[' $T/err | sed 's/^/#   /'
	sed 's/^/#   csv: /' "$csv" 2>/dev/null
	[ "$rc" = 0 ] || fail "vmctl bench: status $rc"
	[ "$(head -n 1 "$csv")" = "$BENCH_HEADER" ] || fail "not the CSV header"
}

# bench_val W V METRIC: the median; 0 if absent (a counter that never moved)
bench_val() {
	awk -F, -v w="$1" -v v="$2" -v m="$3" \
		'$2 == w && $3 == v && $4 == m { print $5; f = 1 }
		 END { if (!f) print 0 }' "$csv"
}

# bench_skipped W/V: the variant was skipped (the CPU has no PCID)
bench_skipped() {
	grep -qx "vmctl: ${1%%/*} ${1#*/}: skipped (.*)" $T/err
}

# bench_check W/V METRIC OP VALUE: the median of METRIC compares so
bench_check() {
	x=$(bench_val "${1%%/*}" "${1#*/}" "$2")
	if awk -v x="$x" -v op="$3" -v y="$4" 'BEGIN {
		x += 0; y += 0
		if (op == "==") ok = x == y; else if (op == "<=") ok = x <= y
		else if (op == ">=") ok = x >= y; else if (op == "<") ok = x < y
		else ok = x > y
		exit !ok }'; then
		echo "# ok: $1 $2 = $x ($3 $4)"
	else
		echo "# FAIL: $1 $2 = $x, not $3 $4"
		bench_bad=1
	fi
}

# bench_common LABEL: every --quick variant there, the config column, the
# exit costs every hypervisor must have
bench_common() {
	for wv in $BENCH_QUICK; do
		bench_skipped "$wv" && continue
		grep -q "^$1,${wv%%/*},${wv#*/},ns_per_op,[0-9.]*,[0-9.]*,[0-9.]*,3\$" \
			"$csv" || fail "no ns_per_op of 3 runs for $wv"
		grep -q "^$1,${wv%%/*},${wv#*/},exits_per_op," "$csv" ||
			fail "no exits_per_op for $wv"
		bench_check "$wv" ns_per_op ">" 0
	done
	[ "$(sed 1d "$csv" | cut -d, -f1 | sort -u)" = "$1" ] ||
		fail "a config other than $1 in the CSV"
	bench_check exit/cpuid exits_per_op ">=" 1
	bench_check exit/cpuid exits_per_op "<" 1.5
	bench_check exit/pio io_exits_per_op == 1
	bench_check exit/pio exits_per_op "<" 1.5
	bench_check exit/mmio mmio_exits_per_op == 1
	bench_check exit/mmio exits_per_op "<" 1.5
	bench_check exit/hlt halt_exits_per_op == 1
	bench_check exit/hlt exits_per_op "<" 1.5
}

# bench_ran W/V: the CSV has the variant (it was not skipped)
bench_ran() {
	grep -q "^[^,]*,${1%%/*},${1#*/},ns_per_op," "$csv"
}

# ctxsw revisits on shadow paging with the root cache: nothing re-faults,
# no shadow page is made, each CR3 load finds its root
bench_ctxsw_cached() {
	for wv in ctxsw/k2-nopcid ctxsw/k16-nopcid ctxsw/k2-pcid ctxsw/k16-pcid; do
		bench_ran "$wv" || continue
		bench_check "$wv" shadow_faults_per_op == 0
		bench_check "$wv" shadow_pages_created_per_op == 0
		bench_check "$wv" root_cache_misses_per_op == 0
		bench_check "$wv" root_cache_hits_per_op == 1
		bench_check "$wv" exits_per_op ">=" 1
	done
}

bench_shadow() {
	bench_common minivisor-shadow
	bench_ctxsw_cached
	# first touches: one shadow fault each under guest 4 KiB pages; under
	# guest 2 MiB pages at most one (one per 2 MiB where the host backs
	# them with a 2 MiB page and a 2 MiB shadow leaf maps them)
	bench_check faults/4k shadow_faults_per_op ">=" 1
	bench_check faults/4k shadow_faults_per_op "<" 1.1
	bench_check faults/2m shadow_faults_per_op ">" 0
	bench_check faults/2m shadow_faults_per_op "<=" 1
	bench_check faults/4k tdp_faults_per_op == 0
	# a region touched before: no fault
	bench_check gups/4k shadow_faults_per_op == 0
	bench_check gups/2m shadow_faults_per_op == 0
	# three INVLPGs an operation, and writes to a shadowed table
	bench_check churn/map exits_per_op ">=" 3
}

bench_tdp() {
	bench_common minivisor-tdp
	# at most one second-level fault per 4 KiB touched
	bench_check faults/4k tdp_faults_per_op "<=" 1
	bench_check faults/4k tdp_faults_per_op ">" 0
	bench_check faults/2m tdp_faults_per_op "<=" 1
	bench_check faults/2m tdp_faults_per_op ">" 0
	bench_check faults/4k shadow_faults_per_op == 0
	# nothing the guest does to its own tables exits
	for wv in ctxsw/k2-nopcid ctxsw/k16-nopcid ctxsw/k2-pcid \
		ctxsw/k16-pcid gups/4k gups/2m churn/map; do
		bench_skipped "$wv" && continue
		bench_check "$wv" tdp_faults_per_op == 0
		bench_check "$wv" exits_per_op "<" 0.5
	done
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
	$TMO $V run --mmu shadow $G/hello.bin > $T/out 2>&1
	rc=$?
	expect 0 $T/out "Hello from a guest of minivisor, in real mode."
	$TMO $V run --mmu shadow $G/hello64.elf > $T/out 2>&1
	rc=$?
	expect 0 $T/out \
		"Hello from a 64-bit ELF guest of minivisor, in long mode."
	$TMO $V run --mmu shadow --append shadow $G/multiboot.elf > $T/out 2>&1
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
bench)
	# minivisor in MMU mode $2, when this host has it
	$V info | sed -n 's/^mmu modes://p' | grep -qw "$2" ||
		{ echo "# no $2 paging here"; exit 77; }
	bench_run "$T/bench-$2.csv" $V bench --mmu "$2"
	if [ "$2" = shadow ]; then
		bench_shadow
	else
		bench_tdp
	fi
	[ $bench_bad = 0 ] || fail "figures not what $2 paging must produce"
	;;
bench-kvm)
	# KVM in MMU mode $2 (npt= or ept=): it runs, the exit costs are right
	param=npt
	[ "$MV_BACKEND" = vmx ] && param=ept
	on=1
	[ "$2" = shadow ] && on=0
	export MV_KVM_PARAMS="$param=$on"
	bench_run "$T/bench-kvm-$2.csv" \
		/init on-kvm $V bench --dev /dev/kvm
	bench_common "kvm-$2"
	[ $bench_bad = 0 ] || fail "figures not what KVM must produce"
	;;
bench-root-cache-off)
	# the check of the root cache fails without it: revisits re-fault
	$V info | sed -n 's/^mmu modes://p' | grep -qw shadow ||
		{ echo "# no shadow paging here"; exit 77; }
	$V bench --quick --mmu shadow --no-root-cache \
		--only ctxsw/k2-nopcid,ctxsw/k16-nopcid \
		--out $T/nocache.csv > $T/out 2> $T/err
	rc=$?
	csv=$T/nocache.csv
	sed 's/^/#   /' $T/out
	[ "$rc" = 0 ] || fail "vmctl bench: status $rc"
	bench_ctxsw_cached
	[ $bench_bad = 1 ] || fail "revisits without the root cache re-faulted nothing"
	bench_bad=0
	bench_check ctxsw/k16-nopcid shadow_faults_per_op ">=" 1
	bench_check ctxsw/k16-nopcid root_cache_misses_per_op == 1
	[ $bench_bad = 0 ] || fail "revisits without the root cache: not one miss each"
	;;
*)
	fail "no case '$1'"
	;;
esac
exit 0
