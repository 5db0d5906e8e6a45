# SPDX-License-Identifier: GPL-2.0
"""Unit tests of mvtest's judge: TAP counting and kernel-log verdicts.

Run by "mvtest check" (section "runner") or alone:
    python3 -m unittest testing/test_mvtest.py
"""

import importlib.machinery
import importlib.util
import os
import tempfile
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader(
    "mvtest", os.path.join(_HERE, "mvtest"))
_spec = importlib.util.spec_from_loader("mvtest", _loader)
mvtest = importlib.util.module_from_spec(_spec)
_loader.exec_module(mvtest)
mvtest.log = lambda msg: None


def statuses(results):
    return [(name, status) for _, name, status, _ in results.rows]


class ParseGroup(unittest.TestCase):
    def parse(self, text, rc=0):
        r = mvtest.Results()
        mvtest.parse_group(r, "m", "g", text.splitlines(), rc)
        return r

    def test_kselftest_pass_fail_skip(self):
        r = self.parse("TAP version 13\n1..3\n# Starting\n"
                       "ok 1 a.one\nnot ok 2 a.two\n"
                       "ok 3 a.three # SKIP no module\n", rc=1)
        self.assertEqual(statuses(r), [("g/a.one", "pass"),
                                       ("g/a.two", "fail"),
                                       ("g/a.three", "skip")])

    def test_missing_plan_fails(self):
        r = self.parse("ok 1 a\n")
        self.assertIn(("g", "fail"), statuses(r))

    def test_short_output_fails(self):
        r = self.parse("1..3\nok 1 a\nok 2 b\n")
        self.assertEqual(r.counts()["fail"], 1)
        self.assertEqual(r.counts()["pass"], 2)

    def test_crash_without_failure_line_fails(self):
        r = self.parse("1..1\nok 1 a\n", rc=139)
        self.assertIn(("g", "fail"), statuses(r))

    def test_unfinished_group_fails(self):
        r = self.parse("1..1\nok 1 a\n", rc=None)
        self.assertIn(("g", "fail"), statuses(r))

    def test_kunit_counts_leaves(self):
        text = ("KTAP version 1\n1..1\n"
                "    KTAP version 1\n    # Subtest: suite\n    1..2\n"
                "        KTAP version 1\n        # Subtest: param_test\n"
                "        ok 1 first\n        not ok 2 second\n"
                "    not ok 1 param_test\n"
                "    ok 2 plain_test\n"
                "not ok 1 suite\n")
        r = self.parse(text, rc=0)
        self.assertEqual(statuses(r), [("g/first", "pass"),
                                       ("g/second", "fail"),
                                       ("g/plain_test", "pass")])


class Judge(unittest.TestCase):
    def judge(self, tap, console):
        d = tempfile.mkdtemp()
        m = mvtest.QemuSvm("bz", "initrd", "", d)
        with open(m.tap, "w") as f:
            f.write(tap)
        with open(m.console, "w") as f:
            f.write(console)
        r = mvtest.Results()
        mvtest.judge(r, m, "ended")
        return r

    TAP = ("MV-TESTS-BEGIN backend=svm\nMV-GROUP-BEGIN selftest:t\n"
           "1..1\nok 1 x\nMV-GROUP-END selftest:t rc=0\nMV-TESTS-END\n")

    def test_clean_run_passes(self):
        r = self.judge(self.TAP, "[ 1.0] WARNING: boot noise\n"
                                 "[ 2.0] minivisor-test: MV-TESTS-BEGIN\n"
                                 "[ 3.0] all quiet\n")
        self.assertEqual(r.counts()["fail"], 0)
        self.assertIn(("kernel-log-clean", "pass"), statuses(r))

    def test_splat_after_begin_fails(self):
        for splat in ["WARNING: CPU: 1 PID: 7 at kmod/virt.c:10",
                      "BUG: sleeping function called from invalid context",
                      "WARNING: possible circular locking dependency",
                      "unreferenced object 0xffff888 (size 64):"]:
            r = self.judge(self.TAP, "[ 2.0] MV-TESTS-BEGIN\n[ 3.0] %s\n"
                           % splat)
            self.assertIn(("kernel-log-clean", "fail"), statuses(r), splat)

    def test_injected_allocation_failure_report(self):
        report = ("[ 4.0] fault_helper: vmalloc error: size 1152, vm_struct"
                  " allocation failed, mode:0xdc0(GFP_KERNEL|__GFP_ZERO)\n"
                  "[ 4.1] CPU: 0 UID: 0 PID: 54 Comm: fault_helper\n"
                  "[ 4.2] Tainted: [O]=OOT_MODULE\n"
                  "[ 4.3] Call Trace:\n")
        inside = ("[ 2.0] MV-TESTS-BEGIN\n[ 3.0] MV-FAULT-INJECT-BEGIN\n" +
                  report + "[ 5.0] MV-FAULT-INJECT-END\n")
        r = self.judge(self.TAP, inside)
        self.assertIn(("kernel-log-clean", "pass"), statuses(r))
        # its frames may name lockdep's (or KASAN's) own functions
        frames = report + ("[ 4.4]  <TASK>\n"
                           "[ 4.5]  ? lockdep_hardirqs_on_prepare+0x331/0x350\n"
                           "[ 4.6]  mv_vcpu_create+0x4ee/0x820 [minivisor]\n")
        r = self.judge(self.TAP, inside.replace(report, frames))
        self.assertIn(("kernel-log-clean", "pass"), statuses(r))
        # outside the fault-injection window it is a splat
        r = self.judge(self.TAP, "[ 2.0] MV-TESTS-BEGIN\n" + report)
        self.assertIn(("kernel-log-clean", "fail"), statuses(r))
        # inside, a trace of anything else is one too
        r = self.judge(self.TAP, "[ 2.0] MV-TESTS-BEGIN\n"
                       "[ 3.0] MV-FAULT-INJECT-BEGIN\n"
                       "[ 4.0] WARNING: CPU: 0 PID: 5 at kmod/vm.c:1\n"
                       "[ 4.1] Call Trace:\n")
        self.assertIn(("kernel-log-clean", "fail"), statuses(r))

    def test_no_boot_fails(self):
        r = self.judge("", "Kernel panic - not syncing\n")
        self.assertIn(("boot", "fail"), statuses(r))

    def test_lost_end_fails(self):
        r = self.judge(self.TAP.replace("MV-TESTS-END\n", ""),
                       "MV-TESTS-BEGIN\n")
        self.assertIn(("tests-end", "fail"), statuses(r))


class Budget(unittest.TestCase):
    """A machine still running when the check's budget is spent."""

    class Stuck(mvtest.Machine):
        name = "stuck"
        timeout = 600

        def command(self):
            with open(self.tap, "w") as f:
                f.write("MV-TESTS-BEGIN backend=svm\n"
                        "MV-GROUP-BEGIN selftest:hangs\n1..1\n")
            return ["sleep", "600"]

    def test_stopped_and_failed_in_time(self):
        m = self.Stuck("bz", "initrd", "", tempfile.mkdtemp())
        m.deadline = mvtest.time.time() + 2
        began = mvtest.time.time()
        status = m.boot(progress=False)
        self.assertLess(mvtest.time.time() - began, 30)
        self.assertIn("budget", status)
        r = mvtest.Results()
        mvtest.judge(r, m, status)
        self.assertIn(("selftest:hangs", "fail"), statuses(r))
        self.assertIn(("tests-end", "fail"), statuses(r))


class Emul(unittest.TestCase):
    """mvtest's host step for the emulator's userspace test."""

    def emul(self, build_rc, out, rc, fuzz=(0, "Done 200000 runs\n")):
        class P:
            def __init__(self, returncode, stdout):
                self.returncode, self.stdout = returncode, stdout
        calls = []

        def fake_run(cmd, **kw):
            calls.append(cmd)
            if cmd[0] == "make" and "fuzz-run" in cmd:
                return P(*fuzz)
            if cmd[0] == "make":
                return P(build_rc, "emulate.c:1: error: oops\n")
            return P(rc, out)
        real = mvtest.run
        mvtest.run = fake_run
        try:
            with tempfile.TemporaryDirectory() as d:
                saved, mvtest.OUT = mvtest.OUT, d
                try:
                    r = mvtest.Results()
                    mvtest.cmd_emul(r)
                finally:
                    mvtest.OUT = saved
        finally:
            mvtest.run = real
        return r, calls

    def test_counts_each_result(self):
        r, _ = self.emul(0, "TAP version 13\n1..2\nok 1 - mov\n"
                            "not ok 2 - host: add\n# why\n# 1 passed\n", 1)
        self.assertEqual(statuses(r), [("emulate_test/mov", "pass"),
                                       ("emulate_test/host: add", "fail"),
                                       ("libFuzzer, 200000 inputs", "pass")])
        self.assertEqual(r.rows[0][0], "emulator")

    def test_fuzz_crash_fails(self):
        r, _ = self.emul(0, "TAP version 13\n1..1\nok 1 - mov\n", 0,
                         fuzz=(1, "emulate_fuzz: a memory access out of its "
                                  "page (0x1, 0x2)\n==1== ERROR: libFuzzer: "
                                  "deadly signal\n"))
        self.assertEqual(r.rows[-1][2], "fail")
        self.assertIn("out of its page", r.rows[-1][3])

    def test_build_failure_fails(self):
        r, calls = self.emul(2, "", 0)
        self.assertEqual(r.counts()["fail"], 1)
        self.assertEqual(len(calls), 1)


if __name__ == "__main__":
    unittest.main()


class BenchRows(unittest.TestCase):
    def test_only_result_lines(self):
        with tempfile.NamedTemporaryFile("w", suffix=".log",
                                         delete=False) as f:
            f.write("MV-GROUP-BEGIN cmd:kvm_tdp\n1..1\n"
                    "# kvm-tdp  faults 4k  1234 ns\n"
                    "# MV-CSV config,workload,variant,metric,median,min,"
                    "max,runs\n"
                    "# MV-CSV kvm-tdp,faults,4k,ns_per_op,1234,1200,1300,5\r\n"
                    "# MV-CSV kvm-tdp,faults,4k,exits_per_op,1,1,1,5\n"
                    "ok 1 kvm_tdp\n")
        try:
            rows = mvtest.bench_rows(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(rows, ["kvm-tdp,faults,4k,ns_per_op,1234,1200,1300,5",
                                "kvm-tdp,faults,4k,exits_per_op,1,1,1,5"])

    def test_missing_log_has_no_rows(self):
        self.assertEqual(mvtest.bench_rows("/nonexistent/tap.log"), [])


class SelftestsRunTests(unittest.TestCase):
    """selftests/Makefile's run_tests fails when any test fails."""

    def run_tests(self, progs):
        import subprocess
        d = tempfile.mkdtemp()
        for name, rc in progs.items():
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexit %d\n" % rc)
            os.chmod(path, 0o755)
        mk = os.path.join(_HERE, "..", "selftests", "Makefile")
        p = subprocess.run(["make", "-s", "-f", mk, "run_tests",
                            "TEST_GEN_PROGS=", "RUN_PROGS=" + " ".join(progs)],
                           cwd=d, capture_output=True, text=True)
        return p.returncode, p.stdout

    def test_a_failure_before_the_last_fails(self):
        rc, out = self.run_tests({"t1": 0, "t2": 1, "t3": 0})
        self.assertNotEqual(rc, 0)
        self.assertIn("failed: t2", out)

    def test_passes_and_skips_pass(self):
        rc, _ = self.run_tests({"t1": 0, "t2": 4})
        self.assertEqual(rc, 0)
