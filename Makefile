# SPDX-License-Identifier: GPL-2.0
#
# minivisor: build the module and the userspace, and run the tests.
#
#   make                      module (against KDIR), vmctl, selftests
#   make check                everything, in both emulated machines
#   make check MACHINE=svm TESTS=dev_test,kunit:minivisor_cpufeat
#   make check FULL=1         and the long tier: testing/full.plan (over 10^6
#                             fuzzed ioctls under KASAN), the emulator fuzzed
#                             for 15 minutes
#   make lint                 W=1, sparse, checkpatch, stock-header builds
#   make demo                 boot the SVM machine and meet /dev/minivisor
#   make udev_install         udev/60-minivisor.rules (group kvm, 0660)
#   make bench [QUICK=1] [MACHINE=svm|vmx]
#                             shadow vs TDP, minivisor vs KVM, in each machine;
#                             tables and charts in build/bench/<machine>/
#
# KDIR is the kernel build tree to build the module against; KSRC a kernel
# source tree whose tools/testing/selftests holds kselftest_harness.h.

KDIR ?= /lib/modules/$(shell uname -r)/build
KSRC ?= $(firstword $(wildcard $(KDIR)/source/tools/testing/selftests/kselftest_harness.h))
ifneq ($(KSRC),)
KSRC := $(abspath $(dir $(KSRC))/../../..)
endif
MVTEST := testing/mvtest
MVTEST_ARGS := $(if $(MACHINE),--machine $(MACHINE)) $(if $(TESTS),--tests $(TESTS)) \
	$(if $(FULL),--full)

.PHONY: all modules userspace vmctl selftests clean check lint demo bench \
	modules_install udev_install

all: modules userspace

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

udev_install:
	DESTDIR=$(DESTDIR) sh udev/install.sh

userspace: vmctl selftests

vmctl:
	$(MAKE) -C tools/vmctl

selftests:
ifneq ($(KSRC),)
	$(MAKE) -C selftests KSRC=$(KSRC)
else
	@echo "selftests: skipped, no KSRC with tools/testing/selftests"
endif

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	$(MAKE) -C tools/vmctl clean
	$(MAKE) -C selftests clean

check:
	$(MVTEST) check $(MVTEST_ARGS)

lint:
	$(MVTEST) lint

demo:
	$(MVTEST) demo

bench:
	$(MVTEST) bench $(if $(MACHINE),--machine $(MACHINE)) $(if $(QUICK),--quick)
