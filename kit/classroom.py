"""GitHub Classroom's grading step, in the student's repository: `python -m kit.classroom`.

    python -m kit.classroom [--points FILE] [--timeout MINUTES] [--report FILE] [-- PYTEST OPTIONS]

The workflow that `kit export github-classroom` writes runs this once per push: one pytest run
over every chapter's tests (the derandomized `grading` profile, report.html as in any run), then
a result per *runner*, in the format GitHub Classroom's reporter action
(classroom-resources/autograding-grading-reporter@v1) reads, written to $GITHUB_OUTPUT as
`<runner>=<base64 of the JSON>`. The workflow hands each to the reporter as <RUNNER>_RESULTS.

What the reporter does with a result (read in its source, src/main.js, src/notify-classroom.js,
src/console-results.js, src/aggregate-results.js and src/helpers/test-helpers.js):

- the result is `{"version", "status", "max_score", "tests": [...]}`; each test has `name`,
  `status` ("pass", "fail" or "error"), `score`, `message`, `line_no`, `test_code`, ...;
- the grade it sends to Classroom (two notice annotations, "Points X/Y" and the JSON
  `{"totalPoints", "maxPoints"}`) is, over the runners whose max_score is not 0, the sum of every
  test's `score` out of the sum of the max_scores: a test without a number for `score` makes the
  total NaN, and a runner without max_score counts for nothing. Scores are added as JavaScript
  numbers, so fractions are kept (Classroom's own Python grader gives each test max_score / n);
- the log it prints counts differently: per runner, (tests passed / tests) x max_score, which is
  the same sum only when every test of the runner is worth the same. So each runner here holds
  exercises of equal points: one runner per chapter (`ch6`), split (`ch8a`, `ch8b`) when a rubric
  gives a chapter's exercises different points;
- it prints ✅ or ❌ and the name for a passed or failed test, ` - line N` when line_no is not 0
  (so it is always 0 here), "Error: <message>" (the message only) for an errored one, and
  `test_code` under "Test code:" when there is one: here, for an exercise not passed, the command
  that checks it again (`kit check ID`);
- any runner with status "fail" (or else "error") fails the job: the run is red until every
  exercise passes, as with Classroom's own graders.

An exercise that passes scores its points; one that fails (a wrong answer, an error in the
student's code, a stub not attempted) scores 0, status "fail", with the first line of the kit's
message; one that never got a verdict (its tests were not collected, the run was stopped at
--timeout, or pytest itself died) scores 0, status "error", with the reason. The step then
exits 0, so that report.html is uploaded and the reporter runs; it exits 2 (and writes no result)
only when the points file cannot be read.

The points come from FILE (default .github/classroom/points.json), written at export time from
the instructor's rubric: `{"version": 1, "runners": [{"id", "title", "exercises": {id: points}}]}`.
The student can edit it, as they can edit the tests and the workflow itself: that is GitHub
Classroom's own model (the workflow that grades lives in the student's repository), not
something this module can close. Use Classroom's score as feedback; grades to trust come from
`kit grade` on the collected repositories, or from Gradescope.

The child run's pytest plugin is kit/classroom_log.py (`-p kit.classroom_log`): it records each
test's outcome, a JSON line at a time, so that a run stopped at --timeout still tells what it graded.
It imports only the standard library (the registry, and with it torch, only in `runners`, for the
export), and never grading/: a student's repository has none.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kit.classroom_log import LOG

ROOT = Path(__file__).resolve().parents[1]  # the repository: tests/ and exercises/ live here
POINTS = Path(".github/classroom/points.json")  # in the student's repository, written by the export
REPORT = "report.html"  # pytest-html's file, relative to the folder the step runs in (the repository)
TIMEOUT = 10  # minutes for the whole run, by default
VERSION = 1  # of the points file
RESULT_VERSION = 1  # of the reporter's result, as Classroom's command and I/O graders write it
RUNNER_ID = re.compile(r"[a-z0-9]+")  # the reporter reads a runner's result from <ID>_RESULTS
EXERCISE_ID = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*")  # "ch6_functions.sigmoid_grad"


class PointsError(ValueError):
    """The points file is missing or not as the export writes it."""


# ---- the runners, from the rubric's points (used by `kit export github-classroom`) -----------------

def runners(points: dict[str, float]) -> list[dict]:
    """The points file's runners: per chapter, in curriculum order, a runner for each distinct value
    of points among its exercises (`ch6`; `ch8a`, `ch8b` when they differ), so that every runner
    holds tests of equal worth and the reporter's two ways of counting agree."""
    from kit.registry import CHAPTERS, EXERCISES

    found = []
    for number, (module, title) in enumerate(CHAPTERS.items(), start=1):
        tag = module.split("_")[0] if RUNNER_ID.fullmatch(module.split("_")[0]) else f"ch{number}"
        groups: dict[float, dict[str, float]] = {}
        for eid, exercise in EXERCISES.items():
            if exercise.module == module:
                groups.setdefault(points[eid], {})[eid] = _plain(points[eid])
        for index, group in enumerate(groups.values()):
            suffix = "abcdefghijklmnopqrstuvwxyz"[index] if len(groups) > 1 else ""
            found.append({"id": f"{tag}{suffix}", "title": f"Chapter {number}: {title}", "exercises": group})
    return found


def points_document(points: dict[str, float]) -> str:
    """The text of the points file for `points` ({exercise id: points})."""
    return json.dumps({"version": VERSION, "runners": runners(points)}, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> list[dict]:
    """The runners of a points file, checked; PointsError with the reason. (Without the registry,
    which imports torch: an id that is no exercise is found as one whose test was not collected.)"""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PointsError(f"cannot read the points file {path}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise PointsError(f"the points file {path} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION \
            or not isinstance(document.get("runners"), list) or not document["runners"]:
        raise PointsError(f"the points file {path} is not one `kit export github-classroom` writes "
                          f"(version {VERSION}, a list of runners)")
    seen_runners, seen = set(), set()
    for runner in document["runners"]:
        if not isinstance(runner, dict) or not isinstance(runner.get("id"), str) \
                or not RUNNER_ID.fullmatch(runner["id"]) or runner["id"] in seen_runners \
                or not isinstance(runner.get("title", ""), str) or not isinstance(runner.get("exercises"), dict):
            raise PointsError(f"the points file {path}: a runner must have a unique id of lowercase letters "
                              f"and digits, a title and exercises: {str(runner)[:200]}")
        seen_runners.add(runner["id"])
        for eid, value in runner["exercises"].items():
            if not isinstance(eid, str) or not EXERCISE_ID.fullmatch(eid) or eid in seen:
                what = "listed twice" if eid in seen else "not an exercise id (module.function)"
                raise PointsError(f"the points file {path}: {eid!r} is {what}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise PointsError(f"the points file {path}: points for {eid} must be a number >= 0, not {value!r}")
            seen.add(eid)
    return document["runners"]


# ---- the parent: run pytest once, then a result per runner --------------------------------------------

@dataclass
class Verdict:
    """One exercise's outcome: "pass", "fail" or "error", the message, the seconds its tests took."""

    status: str
    message: str = ""
    seconds: float = 0.0
    nodes: list = field(default_factory=list)


def chapter_test_files(modules) -> list[Path]:
    return [ROOT / "tests" / f"test_{module}.py" for module in modules]


def run_tests(exercise_ids: list[str], timeout: float, report: str, pytest_args: list[str]) -> dict[str, Verdict]:
    """Every chapter's tests in one pytest run (a child process, stopped after `timeout` seconds);
    each exercise's verdict from the child's record."""
    modules = list(dict.fromkeys(_module(eid) for eid in exercise_ids))
    files = [path for path in chapter_test_files(modules) if path.is_file()]
    with tempfile.TemporaryDirectory(prefix="kit-classroom-") as folder:
        log = Path(folder) / "tests.jsonl"
        command = [sys.executable, "-m", "pytest", *map(str, files), "-p", "kit.classroom_log",
                   "-p", "no:cacheprovider",
                   "--hypothesis-profile", "grading", "--continue-on-collection-errors",
                   f"--html={report}", "--self-contained-html",
                   "-o", "generate_report_on_test=true",  # a run stopped at the timeout still leaves a report
                   *pytest_args]
        stopped = None
        child = subprocess.Popen(command, env={**os.environ, LOG: str(log)}, start_new_session=True)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stopped = f"the run was stopped after {_minutes(timeout)}: an endless loop, or code far too slow?"
            _stop(child)
        except BaseException:
            _stop(child)
            raise
        entries = _entries(log)
    if stopped is None and not any(e["event"] == "finished" for e in entries):
        stopped = f"pytest stopped before the end of the run (exit status {child.returncode})"
    return verdicts(exercise_ids, entries, files, stopped)


def _entries(log: Path) -> list[dict]:
    """The child's record; a line cut short (the child stopped while writing it) is left out."""
    entries = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "event" in entry:
            entries.append(entry)
    return entries


def _stop(child: subprocess.Popen) -> None:
    """End the child and whatever it started (its own process group), politely first."""
    if not hasattr(os, "killpg"):  # not POSIX: the child alone
        child.kill()
        child.wait()
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue
    child.wait()


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


def verdicts(exercise_ids: list[str], entries: list[dict], files: list[Path],
             stopped: str | None) -> dict[str, Verdict]:
    """Each exercise's verdict from the child's record: it passes when all its tests passed."""
    found = {eid: Verdict("error") for eid in exercise_ids}
    collected = next((e["tests"] for e in entries if e["event"] == "collected"), None)
    for nodeid, eid in (collected or {}).items():
        if eid in found:
            found[eid].nodes.append(nodeid)
    outcomes: dict[str, list[dict]] = {}
    for entry in entries:
        if entry["event"] == "test":
            outcomes.setdefault(entry["nodeid"], []).append(entry)
    present = {path.name for path in files}
    for eid, verdict in found.items():
        verdict.seconds = sum(r["duration"] for node in verdict.nodes for r in outcomes.get(node, []))
        if not verdict.nodes:
            test_file = f"test_{_module(eid)}.py"
            verdict.message = (f"{eid}: not graded: tests/{test_file} is missing" if test_file not in present
                               else f"{eid}: not graded: {stopped}" if collected is None and stopped
                               else f"{eid}: not graded: its test was not collected (see the pytest output above)")
            continue
        reports = [r for node in verdict.nodes for r in outcomes.get(node, [])]
        calls = {node: [r for r in outcomes.get(node, []) if r["when"] == "call"] for node in verdict.nodes}
        broken = [r for r in reports if r["when"] != "call" and r["outcome"] == "failed"]
        failed = [r for r in reports if r["when"] == "call" and r["outcome"] != "passed"]
        if broken:
            verdict.message = f"{eid}: not graded: {broken[0].get('message') or 'its test could not be set up'}"
        elif failed:
            verdict.status = "fail"
            reason = failed[0].get("message", "")
            verdict.message = reason if failed[0]["outcome"] == "failed" else f"skipped, so not passed: {reason}"
        elif all(calls.values()):
            verdict.status = "pass"
        else:
            verdict.message = f"{eid}: not graded: {stopped or 'its test did not run'}"
    return found


def _module(exercise_id: str) -> str:
    return exercise_id.rpartition(".")[0]


def _plain(value: float) -> float:
    return int(value) if float(value).is_integer() else value


def _points(value: float) -> str:
    return f"{_plain(value)} point{'' if value == 1 else 's'}"


def results(layout: list[dict], found: dict[str, Verdict]) -> dict[str, dict]:
    """{runner id: the reporter's result} for the verdicts."""
    documents = {}
    for runner in layout:
        tests = []
        for eid, worth in runner["exercises"].items():
            verdict = found[eid]
            test = {"name": f"{eid} ({_points(worth)})", "status": verdict.status,
                    "score": _plain(worth) if verdict.status == "pass" else 0,
                    "message": verdict.message, "test_code": "" if verdict.status == "pass" else f"kit check {eid}",
                    "filename": verdict.nodes[0].split("::")[0] if verdict.nodes else "", "line_no": 0,
                    "execution_time": f"{verdict.seconds:.2f}s"}
            tests.append(test)
        statuses = {t["status"] for t in tests}
        status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
        document = {"version": RESULT_VERSION, "status": status,
                    "max_score": _plain(sum(runner["exercises"].values())), "tests": tests}
        if status == "error":
            document["message"] = next(t["message"] for t in tests if t["status"] == "error")
        documents[runner["id"]] = document
    return documents


def encode(document: dict) -> str:
    return base64.b64encode(json.dumps(document, ensure_ascii=False).encode("utf-8")).decode("ascii")


def write_outputs(documents: dict[str, dict], output: str | None) -> None:
    """`<runner>=<base64>` lines, for the reporter's <RUNNER>_RESULTS (GitHub's step outputs file)."""
    if not output:
        return
    with open(output, "a", encoding="utf-8") as file:
        for runner, document in documents.items():
            file.write(f"{runner}={encode(document)}\n")


def summary(layout: list[dict], documents: dict[str, dict]) -> list[str]:
    """The points, exercise by exercise, as the step's log ends."""
    score = sum(t["score"] for d in documents.values() for t in d["tests"])
    total = sum(d["max_score"] for d in documents.values())
    passed = sum(t["status"] == "pass" for d in documents.values() for t in d["tests"])
    count = sum(len(d["tests"]) for d in documents.values())
    lines = [f"GitHub Classroom: {passed} of {count} exercises pass: {_plain(score)} of {_plain(total)} points"]
    for runner in layout:
        for (eid, worth), test in zip(runner["exercises"].items(), documents[runner["id"]]["tests"]):
            mark = {"pass": "✔", "fail": "✘", "error": "!"}[test["status"]]
            line = f"  {mark} {eid:40} {_plain(test['score'])}/{_plain(worth)}"
            lines.append(f"{line}  {test['message']}"[:200] if test["message"] else line)
    return lines


def step_summary(layout: list[dict], documents: dict[str, dict]) -> str:
    """A Markdown table for the run's page ($GITHUB_STEP_SUMMARY): only ids, statuses and points."""
    score = sum(t["score"] for d in documents.values() for t in d["tests"])
    total = sum(d["max_score"] for d in documents.values())
    rows = ["## Autograding: points per exercise", "", f"**{_plain(score)} of {_plain(total)} points**", "",
            "| exercise | result | points |", "|---|---|---:|"]
    words = {"pass": "✅ passed", "fail": "❌ not yet", "error": "⚠️ not graded"}
    for runner in layout:
        for (eid, worth), test in zip(runner["exercises"].items(), documents[runner["id"]]["tests"]):
            rows.append(f"| `{eid}` | {words[test['status']]} | {_plain(test['score'])} / {_plain(worth)} |")
    return "\n".join(rows) + "\n\nEvery message, and pictures, are in the `report` artifact (report.html).\n"


def parser() -> argparse.ArgumentParser:
    """`python -m kit.classroom`'s options; those after `--` go to pytest."""
    parser = argparse.ArgumentParser(
        prog="python -m kit.classroom",
        description="Run every chapter's tests once and write GitHub Classroom's result, a test per exercise "
                    "worth its points (for the workflow `kit export github-classroom` writes).",
        epilog="Options after -- go to pytest (e.g. -- --impl solutions, the kit's own check).")
    parser.add_argument("--points", type=Path, default=POINTS, metavar="FILE",
                        help="the points per exercise (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, metavar="MINUTES",
                        help="stop the run after this long (default: %(default)s)")
    parser.add_argument("--report", default=REPORT, metavar="FILE", help="pytest-html's report (default: %(default)s)")
    parser.add_argument("--output", default=os.environ.get("GITHUB_OUTPUT"), metavar="FILE",
                        help="where the results go, as `<runner>=<base64>` lines (default: $GITHUB_OUTPUT)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    pytest_args = argv[split + 1:]
    options = parser()
    args = options.parse_args(argv[:split])
    if not args.timeout > 0:
        options.error("--timeout: minutes, more than 0")
    try:
        layout = load(args.points)
    except PointsError as error:
        print(f"kit.classroom: {error}", file=sys.stderr)
        return 2
    exercise_ids = [eid for runner in layout for eid in runner["exercises"]]
    started = time.monotonic()
    found = run_tests(exercise_ids, args.timeout * 60, args.report, pytest_args)
    documents = results(layout, found)
    write_outputs(documents, args.output)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as file:
            file.write(step_summary(layout, documents))
    print("\n".join(summary(layout, documents)), flush=True)
    print(f"(graded in {time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
