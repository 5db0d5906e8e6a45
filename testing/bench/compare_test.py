#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host test of "vmctl bench --compare", TAP on stdout.

    python3 testing/bench/compare_test.py tools/vmctl/vmctl

Runs the built vmctl on the fixtures beside this file: four configs' raw
results (kvm-shadow lacks ctxsw/k16-pcid), a malformed file and one with a
wrong header.  Checks the text table against expected-table.txt, the CSV
against what this test computes from the fixtures itself, the SVG's bars,
labels and scale, and the errors and exit statuses of bad input.  "mvtest
compare" builds vmctl and runs it.
"""

import csv
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = ["minivisor-shadow", "minivisor-tdp", "kvm-shadow", "kvm-tdp"]
HEADER = "config,workload,variant,metric,median,min,max,runs"
SVG = "{http://www.w3.org/2000/svg}"

tests = []


def test(fn):
    tests.append(fn)
    return fn


def fixture(name):
    return os.path.join(HERE, name)


def vmctl(*args, stdin=None):
    p = subprocess.run([VMCTL, "bench"] + list(args), input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_status(got, want, err):
    check(got == want, "exit status %d, expected %d; stderr: %s"
          % (got, want, err.strip()))


def raw_results(names):
    """The fixtures' rows: {(config, workload, variant, metric): fields}"""
    rows = {}
    for n in names:
        with open(fixture(n + ".csv")) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#") or line == HEADER:
                    continue
                r = line.split(",")
                rows[tuple(r[:4])] = r
    return rows


def expected_csv(names):
    """The wide CSV computed here from the fixtures, in vmctl's row order."""
    configs = [c for c in CONFIGS if c in names]
    # minivisor-shadow, read first, names every variant in vmctl's order
    raw = raw_results(configs)
    head = ["workload", "variant", "metric"]
    for c in configs:
        head += [c, c + "_ratio", c + "_min", c + "_max"]
    out = [head]
    metrics = ["ns_per_op", "exits_per_op"]
    metrics += sorted({k[3] for k in raw} - set(metrics))
    rows = []
    for k in raw:
        if (k[1], k[2]) not in rows:
            rows.append((k[1], k[2]))
    wl = ["faults", "ctxsw", "churn", "gups", "exit"]
    rows.sort(key=lambda r: wl.index(r[0]))
    for m in metrics:
        for wlname, var in rows:
            cells = {c: raw.get((c, wlname, var, m)) for c in configs}
            present = [float(r[4]) for r in cells.values() if r]
            if not present:
                continue
            best = min(present)
            line = [wlname, var, m]
            for c in configs:
                r = cells[c]
                if not r:
                    line += ["-"] * 4
                    continue
                v = float(r[4])
                ratio = ("%.2f" % (v / best) if best else
                         "1.00" if v == 0 else "inf")
                line += [r[4], ratio, r[5], r[6]]
            out.append(line)
    return out


def run_all(names, *extra):
    with tempfile.TemporaryDirectory() as d:
        out_csv = os.path.join(d, "out.csv")
        out_svg = os.path.join(d, "out.svg")
        files = [fixture(n + ".csv") for n in names]
        rc, out, err = vmctl("--compare", *files, "--csv", out_csv,
                             "--svg", out_svg, *extra)
        expect_status(rc, 0, err)
        with open(out_csv) as f:
            table = list(csv.reader(f))
        svg = ET.parse(out_svg).getroot()
    return out, table, svg


# Files in no particular order: the columns come out in the preferred one.
SHUFFLED = ["kvm-tdp", "minivisor-tdp", "kvm-shadow", "minivisor-shadow"]


@test
def text_table():
    out, _, _ = run_all(SHUFFLED)
    with open(fixture("expected-table.txt")) as f:
        want = f.read()
    if out != want:
        for i, (a, b) in enumerate(zip(out.splitlines(), want.splitlines())):
            if a != b:
                raise AssertionError("line %d: got %r, expected %r"
                                     % (i + 1, a, b))
        raise AssertionError("%d lines, expected %d"
                             % (len(out.splitlines()), len(want.splitlines())))


@test
def text_table_any_file_order_and_stdin():
    with open(fixture("expected-table.txt")) as f:
        want = f.read()
    cat = "".join(open(fixture(n + ".csv")).read() for n in reversed(SHUFFLED))
    rc, out, err = vmctl("--compare", "-", stdin=cat)
    expect_status(rc, 0, err)
    check(out == want, "concatenated on stdin, the table differs")


@test
def text_table_columns_aligned():
    out, _, _ = run_all(SHUFFLED)
    blocks = out.split("\n\n")
    for b in blocks[:2]:
        lines = b.splitlines()[1:]
        check(len({len(line) for line in lines}) == 1,
              "rows of unequal width: %s" % lines)
        # the header's names end where every row's right-aligned cells do
        head = lines[0]
        ends = [i for i in range(1, len(head) + 1)
                if head[i - 1] != " " and (i == len(head) or head[i] == " ")]
        check(len(ends) == 5, "header %r" % head)
        for line in lines:
            check(line[0] != " " and
                  all(line[e - 1] != " " and (e == len(line) or
                                              line[e] == " ")
                      for e in ends[1:]),
                  "%r not aligned with %r" % (line, head))
    check("ctxsw/k16-pcid    61.0 us (x20.00)  3.50 us (x1.15)"
          "                -  3.05 us (x1.00)" in out,
          "the missing kvm-shadow cell is not '-'")


@test
def csv_wide():
    _, table, _ = run_all(SHUFFLED)
    want = expected_csv(SHUFFLED)
    check(table[0] == want[0], "header %s, expected %s" % (table[0], want[0]))
    check(len(table) == len(want), "%d lines, expected %d"
          % (len(table), len(want)))
    for got, exp in zip(table, want):
        check(got == exp, "row %s, expected %s" % (got, exp))


@test
def csv_missing_cell_and_ratio():
    _, table, _ = run_all(SHUFFLED)
    head = table[0]
    row = next(r for r in table
               if r[:3] == ["ctxsw", "k16-pcid", "ns_per_op"])
    check(row[head.index("kvm-shadow")] == "-", "kvm-shadow not '-'")
    check(row[head.index("kvm-tdp_ratio")] == "1.00", "best not x1.00")
    row = next(r for r in table if r[:3] == ["faults", "4k", "ns_per_op"])
    check(row[head.index("minivisor-shadow_ratio")] == "53.33",
          "faults/4k minivisor-shadow ratio %s"
          % row[head.index("minivisor-shadow_ratio")])
    check(row[head.index("minivisor-shadow_min")] == "465600" and
          row[head.index("minivisor-shadow_max")] == "504000",
          "spread not the file's min and max")


def bars(svg):
    return [r for r in svg.iter(SVG + "rect") if r.get("class") == "bar"]


@test
def svg_bars_log2():
    _, _, svg = run_all(SHUFFLED)
    b = bars(svg)
    # 9 variants x 4 configs, less kvm-shadow's ctxsw/k16-pcid
    check(len(b) == 35, "%d bars, expected 35" % len(b))
    groups = [g for g in svg.iter(SVG + "g") if g.get("class") == "group"]
    check(len(groups) == 9, "%d groups, expected 9" % len(groups))
    texts = list(svg.iter(SVG + "text"))
    missing = [t for t in texts if t.get("class") == "missing"]
    check(len(missing) == 1, "%d missing marks, expected 1" % len(missing))
    labels = [t.text for t in texts if t.get("class") == "ratio"]
    check(len(labels) == 35 and "x53.33" in labels and
          labels.count("x1.00") == 9, "ratio labels %s" % labels)
    axis = [g for g in svg.iter(SVG + "g") if g.get("class") == "axis"]
    check(len(axis) == 1 and axis[0].get("data-scale") == "log2",
          "ratios up to 53: not a log2 axis")
    legend = [t.text for g in svg.iter(SVG + "g") if g.get("class") == "legend"
              for t in g.iter(SVG + "text")]
    check(legend == CONFIGS, "legend %s" % legend)
    heights = {r.find(SVG + "title").text.split(":")[0]: float(r.get("height"))
               for r in b}
    check(heights["minivisor-shadow faults/4k"] >
          heights["kvm-shadow faults/4k"] >
          heights["minivisor-tdp faults/4k"] >
          heights["kvm-tdp faults/4k"] > 0,
          "bar heights not in the order of the ratios")


@test
def svg_linear():
    _, _, svg = run_all(["minivisor-tdp", "kvm-tdp"])
    check(len(bars(svg)) == 18, "%d bars, expected 18" % len(bars(svg)))
    axis = [g for g in svg.iter(SVG + "g") if g.get("class") == "axis"]
    check(axis[0].get("data-scale") == "linear",
          "ratios up to 2.33: not a linear axis")


def bad_input(text, want_rc, *want_err):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "in.csv")
        with open(path, "w") as f:
            f.write(text)
        rc, _, err = vmctl("--compare", path)
    expect_status(rc, want_rc, err)
    for w in want_err:
        check(w.replace("FILE", path) in err, "stderr %r lacks %r"
              % (err.strip(), w.replace("FILE", path)))


@test
def malformed_file():
    rc, out, err = vmctl("--compare", fixture("kvm-tdp.csv"),
                         fixture("malformed.csv"))
    expect_status(rc, 1, err)
    check(fixture("malformed.csv") + ":5: 7 fields" in err,
          "no file:line for the short line: %r" % err)
    check(out == "", "a table printed despite bad input")


@test
def header_mismatch():
    rc, _, err = vmctl("--compare", fixture("bad-header.csv"))
    expect_status(rc, 1, err)
    check(fixture("bad-header.csv") + ":1: not the header" in err,
          "no file:line for the header: %r" % err)


@test
def missing_file():
    rc, _, err = vmctl("--compare", fixture("kvm-tdp.csv"),
                       fixture("nosuch.csv"))
    expect_status(rc, 1, err)
    check(fixture("nosuch.csv") + ": No such file or directory" in err,
          "no message naming the missing file: %r" % err)


@test
def bad_values():
    row = "kvm-tdp,exit,cpuid,ns_per_op,%s\n"
    cases = [
        ("-5,1,6,3", "the median '-5'"),
        ("5,1,6,0", "the runs '0'"),
        ("5,6,7,3", "not min <= median <= max"),
        ("nan,1,6,3", "the median 'nan'"),
        ("0x10,1,20,3", "the median '0x10'"),
        ("5,1,6,3,9", "9 fields"),
    ]
    for values, msg in cases:
        bad_input(HEADER + "\n" + row % values, 1, "FILE:2: " + msg)
    bad_input(HEADER + "\n" + ",exit,cpuid,ns_per_op,5,1,6,3\n", 1,
              "FILE:2: the config '' is empty")
    bad_input("# only a comment\n", 1, "FILE: no header line")
    bad_input(HEADER + "\n", 1, "no results")
    bad_input(HEADER + "\n" + row % "5,1,6,3" + "\n" + row % "7,1,8,3", 1,
              "FILE:4: a second result for kvm-tdp exit/cpuid ns_per_op "
              "(the first: FILE:2)")


@test
def crlf_comments_and_repeated_header():
    text = ("# comment\r\n" + HEADER + "\r\n" +
            "kvm-tdp,exit,cpuid,ns_per_op,5,1,6,3\r\n\r\n" + HEADER + "\r\n" +
            "kvm-shadow,exit,cpuid,ns_per_op,10,9,11,3\r\n")
    rc, out, err = vmctl("--compare", "-", stdin=text)
    expect_status(rc, 0, err)
    check("exit/cpuid        10.0 ns (x2.00)  5.00 ns (x1.00)" in out,
          "table: %r" % out)


@test
def usage():
    for args in [["--compare"], ["--compare", "--bogus",
                                     fixture("kvm-tdp.csv")],
                 ["--compare", fixture("kvm-tdp.csv"), "--csv"]]:
        rc, _, err = vmctl(*args)
        expect_status(rc, 2, err)
    rc, _, err = vmctl("--compare", fixture("kvm-tdp.csv"),
                       "--csv", "/nonexistent/dir/out.csv")
    expect_status(rc, 1, err)
    check("/nonexistent/dir/out.csv: No such file" in err, err)


def main():
    global VMCTL
    if len(sys.argv) != 2:
        sys.exit("usage: compare_test.py PATH/TO/vmctl")
    VMCTL = os.path.abspath(sys.argv[1])
    print("TAP version 13")
    print("1..%d" % len(tests))
    failed = 0
    for i, t in enumerate(tests, 1):
        try:
            t()
            print("ok %d %s" % (i, t.__name__))
        except Exception as e:  # a crash of the test is a failure too
            failed += 1
            why = ("%s: %s" % (type(e).__name__, e)).splitlines()
            for line in why:
                print("# " + line)
            print("not ok %d %s # %s" % (i, t.__name__, why[0][:160]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
