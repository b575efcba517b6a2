"""How fast `kit grade` grades a class, against the naive way, on the same submissions.

    .venv/bin/python benchmarks/grading.py                      # 100 students, naive on 3
    .venv/bin/python benchmarks/grading.py --students 30 --naive 2 -j 2

The class is generated (grading/generate.py): copies of solutions/ and students who hand in
solutions/ with one self-test variant (tests/self/variants) in place, wrong ones and right ones
written differently. It is graded

1. by `kit grade` with an empty cache: every exercise's inputs are drawn (once for the class);
2. by `kit grade` again, with the inputs from the cache (what a second class, or a regrade, costs);
3. the naive way, one `pytest --impl STUDENT --hypothesis-profile grading -p no:cacheprovider`
   process per student, on --naive students spread over the class only (each run draws every
   exercise's inputs again, so the whole class would take about an hour); the class's time is
   their mean times the size of the class.

Both runs of `kit grade` must write the same grades.csv, and every copy of solutions/ must get
full marks; the script says so, and exits with status 1 when they do not. The naive runs try the
public rehearsal inputs (the `grading` profile), `kit grade` those of the course's seed, so a
variant that is wrong on some inputs only may score differently; the script counts how often.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this file is named like the package it measures: import that one, not this one
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def run(command: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def kit_grade(submissions: Path, out: Path, cache: Path, jobs: int) -> float:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "XDG_CONFIG_HOME": str(cache.parent / "config")}
    seconds, done = run([sys.executable, "-m", "kit.cli", "grade", str(submissions), "--out", str(out),
                         "-j", str(jobs), "-q"], env)
    if done.returncode != 0:
        sys.exit(f"kit grade failed ({done.returncode}):\n{done.stderr}")
    return seconds


def naive(student: Path, scratch: Path) -> tuple[float, dict[str, bool]]:
    """One pytest process for one student: seconds, and {exercise id: passed}."""
    report = scratch / f"{student.name}.xml"
    seconds, _ = run([sys.executable, "-m", "pytest", "--impl", str(student), "--hypothesis-profile", "grading",
                      "-p", "no:cacheprovider", "-q", f"--junitxml={report}", f"--html={scratch / 'report.html'}"])
    passed = {}
    for case in ElementTree.parse(report).iter("testcase"):
        exercise = case.get("name").split("[", 1)[1].rstrip("]")  # test_exercise[ch6_functions.sigmoid]
        passed[exercise] = not any(child.tag in ("failure", "error", "skipped") for child in case)
    return seconds, passed


def read(path: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100, help="size of the class (default 100)")
    parser.add_argument("--naive", type=int, default=3, help="students graded the naive way (default 3)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from grading import rubric
    from grading.generate import generate_class

    with tempfile.TemporaryDirectory(prefix="kit-grade-bench-") as tmp:
        tmp = Path(tmp)
        students = generate_class(tmp / "class", args.students)
        n = len(students)
        print(f"class: {n} students ({sum('solutions' in s for s in students)} copies of solutions/, "
              f"the others one variant each); {os.cpu_count()} cores, -j {args.jobs}, "
              f"load average before: {os.getloadavg()[0]:.1f}", flush=True)

        cold = kit_grade(tmp / "class", tmp / "cold", tmp / "cache", args.jobs)
        print(f"kit grade, empty cache: {cold:.1f} s", flush=True)
        warm = kit_grade(tmp / "class", tmp / "warm", tmp / "cache", args.jobs)
        print(f"kit grade, inputs cached: {warm:.1f} s", flush=True)
        same_twice = (tmp / "cold" / "grades.csv").read_bytes() == (tmp / "warm" / "grades.csv").read_bytes()

        points = rubric.load()
        grades = read(tmp / "cold" / "grades.csv")
        full = sum(points.values())
        solutions_full = all(abs(float(grades[s]["score"]) - full) < 1e-9 for s in students if "solutions" in s)
        naive_seconds, agree = [], True
        k = min(args.naive, n)
        spread = [students[min(n - 1, i * n // k + i)] for i in range(k)]  # solutions and variants
        for student in spread:
            seconds, passed = naive(tmp / "class" / student, tmp)
            naive_seconds.append(seconds)
            score = sum(points[e] for e, ok in passed.items() if ok)
            ours = float(grades[student]["score"])
            same = abs(score - ours) < 1e-9 and all(
                (grades[student][e] != "0") == ok for e, ok in passed.items())
            agree &= same
            print(f"naive: {student}: {seconds:.1f} s, score {score:g} ({'same as' if same else 'DIFFERS from'} "
                  f"kit grade's {ours:g})", flush=True)

    per_naive = sum(naive_seconds) / len(naive_seconds) if naive_seconds else float("nan")
    rows = [
        ("kit grade, empty cache (draws the inputs)", n, cold, cold / n),
        ("kit grade, inputs cached (a regrade)", n, warm, warm / n),
        (f"naive: pytest per student ({len(naive_seconds)} run, x{n / max(len(naive_seconds), 1):.0f})",
         n, per_naive * n, per_naive),
    ]
    print()
    print(f"| {'method':52} | students | wall time (s) | s per submission | vs naive |")
    print(f"|{'-' * 54}|---------:|--------------:|-----------------:|---------:|")
    for name, count, seconds, each in rows:
        print(f"| {name:52} | {count:8} | {seconds:13.1f} | {each:16.2f} | {per_naive / each:7.1f}x |")
    print()
    print(f"load average after: {os.getloadavg()[0]:.1f}; grades.csv identical in both kit grade runs: "
          f"{same_twice}; every copy of solutions/ at full marks: {solutions_full}; naive scores (public "
          f"inputs) equal kit grade's (the seed's): {agree}")
    return 0 if same_twice and solutions_full else 1


if __name__ == "__main__":
    sys.exit(main())
