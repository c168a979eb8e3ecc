"""Reads the test runs' result files (pytest's JUnit XML, VSTest's .trx, or a script's log whose last
line is `N passed, N failed` or `skipped: REASON`) and prints, per suite, its
counts, every skip with its reason and every failure's name, then one closing line over all of them:
`N passed, N failed, N skipped`. A suite whose result file is missing counts as one failure.

    summarize.py RESULTS_DIR SUITE [SUITE ...]     (SUITE: NAME=FILE, FILE relative to RESULTS_DIR)
"""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TRX = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"


def read_junit(path):
    passed, failed, skipped = 0, [], []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name')}"
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        skip = case.find("skipped")
        if problem is not None:
            failed.append(name)
        elif skip is not None:
            skipped.append((name, skip.get("message", "no reason given")))
        else:
            passed += 1
    return passed, failed, skipped


def read_trx(path):
    passed, failed, skipped = 0, [], []
    for result in ET.parse(path).getroot().iter(f"{TRX}UnitTestResult"):
        name, outcome = result.get("testName"), result.get("outcome")
        if outcome == "Passed":
            passed += 1
        elif outcome in ("NotExecuted", "Inconclusive", "Skipped"):
            message = result.find(f"{TRX}Output/{TRX}ErrorInfo/{TRX}Message")
            reason = message.text.strip() if message is not None and message.text else "no reason given"
            skipped.append((name, reason))
        else:
            failed.append(name)
    return passed, failed, skipped


def read_log(path):
    """A checking script's output: its last line counts (`N passed, N failed`, or `skipped: REASON`)."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if last.startswith("skipped:"):
        return 0, [], [(path.stem, last[len("skipped:"):].strip())]
    match = re.fullmatch(r"(\d+) passed, (\d+) failed", last)
    if not match:
        return 0, [f"{path.stem}: no closing count line (last line: {last[:120]!r})"], []
    failed = [line for line in lines if line.startswith("FAIL")] or [f"{path.stem}: see its log"]
    return int(match[1]), failed[: int(match[2])] if int(match[2]) else [], []


READERS = {".trx": read_trx, ".xml": read_junit, ".txt": read_log}


def main():
    results, suites = Path(sys.argv[1]), [arg.split("=", 1) for arg in sys.argv[2:]]
    total_passed = total_failed = total_skipped = 0
    print("\n== summary")
    for name, file in suites:
        path = results / file
        if not path.is_file():
            print(f"{name}: no results ({file} missing): the suite did not run to the end")
            total_failed += 1
            continue
        passed, failed, skipped = READERS[path.suffix](path)
        if passed + len(failed) + len(skipped) == 0:
            print(f"{name}: ran no test")
            total_failed += 1
            continue
        print(f"{name}: {passed} passed, {len(failed)} failed, {len(skipped)} skipped")
        for test in failed:
            print(f"  FAILED  {test}")
        for test, reason in skipped:
            print(f"  SKIPPED {test}: {reason}")
        total_passed, total_failed = total_passed + passed, total_failed + len(failed)
        total_skipped += len(skipped)
    print(f"{total_passed} passed, {total_failed} failed, {total_skipped} skipped")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
