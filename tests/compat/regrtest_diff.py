"""regrtest_diff.py OFF_LOG ON_LOG [RERUN_LOG]: which CPython tests pass
without the shim and do not pass with it.

Reads two outputs of `python3 -m test -v` and finds each test's result in
the verbose lines "test_x (test.test_mod.Class.test_x) ... ok".  A result
may come on a later line when the test printed something first; the
"FAIL: test_x (...)" and "ERROR: test_x (...)" headers of the final report
settle those.  A test that passed without the shim and is missing from the
run with it (its module crashed or timed out) counts as not passing.

RERUN_LOG is a second run under the shim of the tests that regressed,
one at a time: a test that passes there is reported as "flaky" and does
not count (a test that fails once in two runs under load fails now and
then without the shim too).

Prints one summary line per run, then "regressed: ID" per test; exits 1
when a test regressed or when the run without the shim passed no test at
all (the suite did not run).
"""
import re
import sys

TEST_LINE = re.compile(r"^(\w+) \(((?:test|unittest)\.[\w.]+)\)(?: \[.*?\])?(?: \.\.\. ?(.*))?$")
HEADER = re.compile(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (\w+) \(([\w.]+)\)")
STATUS = re.compile(r"(ok|FAIL|ERROR|skipped|expected failure|unexpected success)\b")
PENDING_STATUS = re.compile(r"(?:^| \.\.\. )(ok|FAIL|ERROR|skipped|expected failure|unexpected success)(?:$| )")


def results(path):
    """{test id: status} for one log."""
    status = {}
    pending = None
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            m = TEST_LINE.match(line)
            if m:
                test_id = m.group(2)
                rest = (m.group(3) or "").strip()
                s = STATUS.match(rest) if rest else None
                if s:
                    status[test_id] = s.group(1)
                    pending = None
                else:
                    pending = test_id
                continue
            h = HEADER.match(line)
            if h:
                status[h.group(3)] = "FAIL" if h.group(1) != "ERROR" else "ERROR"
                continue
            if pending:
                # A docstring line "Checks x ... ok", or the status alone
                # after whatever the test printed.
                s = PENDING_STATUS.search(line)
                if s:
                    status.setdefault(pending, s.group(1))
                    pending = None
    return status


def summary(name, status):
    counts = {}
    for s in status.values():
        counts[s] = counts.get(s, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"{name}: {len(status)} tests ({parts})"


def main():
    off, on = results(sys.argv[1]), results(sys.argv[2])
    print(summary("without shim", off))
    print(summary("with shim", on))
    regressed = sorted(t for t, s in off.items() if s == "ok" and on.get(t) != "ok")
    if len(sys.argv) > 3:
        rerun = results(sys.argv[3])
        for t in [t for t in regressed if rerun.get(t) == "ok"]:
            print(f"flaky: {t} ({on.get(t, 'missing')}, then ok when run again)")
            regressed.remove(t)
    for t in regressed:
        print(f"regressed: {t} ({on.get(t, 'missing')})")
    passed_off = sum(1 for s in off.values() if s == "ok")
    if passed_off == 0:
        print("the run without the shim passed no test")
        return 1
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())
