"""Grading one submission, and a whole class, in the trusted process.

For each exercise, the student's process gets the whole list of inputs in one message and
sends back every answer; a checker process (grading/checker.py) compares them with torch's
answers (kit.compare, with a torch no submission touched). Only when an answer is wrong or
raises does the grader run `kit.check.check` against the student's process (`RemoteImpl`),
so hypothesis shrinks the input and the student reads the very message `pytest --impl` gives.
"""
from __future__ import annotations

import gc
import queue
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from kit import messages
from kit.check import ExerciseFailure, attempt, check
from kit.implementation import LearnerError
from kit.registry import EXERCISES
from grading import cases as cases_module
from grading import forkserver, scan, verdict, wire
from grading.checker import Checker
from grading.sandbox import (AUTOGRAD, CRASHED, Breach, Limits, Sandbox, become_subreaper, clock_ticks,
                             sweep_orphans)
from grading.submissions import Submission, prepare
from grading.verdict import LEARNER_STATUSES, PASSED, failure_label

UNREADABLE = "unreadable"
MAX_OUTPUT = 4000

_hypothesis = threading.Lock()  # hypothesis runs one test at a time in a process


@dataclass
class Result:
    """One exercise of one student."""

    exercise: str  # id
    status: str  # "passed", or why not: kit.check's statuses and the sandbox's
    score: float
    max_score: float
    feedback: str = ""  # the learner's message; "" when passed
    output: str = ""  # what the code printed while it ran (truncated)
    label: str = ""  # the kind of failure, for the class summary: "wrong value", "error: KeyError"


@dataclass
class StudentResult:
    student: str
    source: str
    problem: str
    results: list[Result]
    skipped: tuple = ()
    import_output: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


class _Abort(BaseException):
    """Stops a `check` against the student's process (a limit was hit, or the budget spent).

    A BaseException, so hypothesis lets it through instead of shrinking it."""


class RemoteImpl:
    """`kit.check`'s implementation interface, answered by the student's process."""

    def __init__(self, sandbox: Sandbox, budget: float):
        self.sandbox, self.deadline = sandbox, time.monotonic() + budget

    def call(self, exercise, args):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Abort()
        try:
            reply = self.sandbox.request("call", exercise.id, wire.pickle_arguments((args,)),
                                        timeout=min(left, self.sandbox.limits.timeout))
            answers, stop = verdict.answers(reply)
        except Exception:  # a breach, or a reply the grader cannot read
            raise _Abort() from None
        if stop:
            if stop["status"] in LEARNER_STATUSES:
                raise learner_error(stop)
            raise _Abort()
        answer, changed = answers[0]
        return answer, changed


def learner_error(stop: dict) -> LearnerError:
    error = LearnerError(stop["status"], stop["text"])
    error.in_call = stop["in_call"]  # raised by the exercise's function, not while importing
    return error


class _Known:
    """An implementation whose answer to the one input asked about is already known."""

    def __init__(self, answer=None, changed=None, error: LearnerError | None = None):
        self.answer, self.changed, self.error = answer, changed, error

    def call(self, exercise, args):
        if self.error is not None:
            raise self.error
        return self.answer, self.changed


class StudentGrader:
    def __init__(self, submission: Submission, work: Path, cases: dict, points: dict, limits: Limits,
                 checker: Checker):
        self.submission, self.cases, self.points, self.limits = submission, cases, points, limits
        self.checker = checker
        self.sandbox = Sandbox(submission.folder, work / f"{submission.folder.name}.out", limits)
        self.module_stop: dict[str, tuple[str, str, str]] = {}  # module -> (status, text, label)
        self.import_output: dict[str, str] = {}

    def grade(self) -> StudentResult:
        start = time.monotonic()
        sub = self.submission
        static = scan.scan(sub.folder) if not sub.problem else {}
        results = []
        try:
            for eid, cases in self.cases.items():
                exercise = cases.exercise
                points = self.points[eid]
                if sub.problem:
                    results.append(Result(eid, UNREADABLE, 0, points, sub.problem, label=UNREADABLE))
                elif eid in static:
                    results.append(Result(eid, AUTOGRAD, 0, points, static[eid], label=AUTOGRAD))
                else:
                    results.append(self._exercise(exercise, points))
        finally:
            self.sandbox.close()
        for r in results:
            r.feedback, r.output = self._clean(r.feedback), self._clean(r.output)
        printed = {module: self._clean(text) for module, text in self.import_output.items()}
        return StudentResult(sub.student, sub.source, sub.problem, results, sub.skipped,
                             printed, time.monotonic() - start)

    def _clean(self, text: str) -> str:
        """The grader's temporary folder named as the student knows it: their entry."""
        shown = self.submission.source.rstrip("/") or self.submission.entry.name
        return text.replace(str(self.submission.folder), shown) if text else text

    def _exercise(self, exercise, points) -> Result:
        module = exercise.module
        if module not in self.sandbox.loaded and module not in self.module_stop:
            self._load(module)
        if module in self.module_stop:
            status, text, label = self.module_stop[module]
            return Result(exercise.id, status, 0, points, text, label=label)
        cases = self.cases[exercise.id]
        try:
            body = self.sandbox.request_raw("batch", exercise.id, cases.pickled)
            output = self.sandbox.output()
        except Breach as breach:
            text = f"{exercise.id}: the code {breach.text}."
            return Result(exercise.id, breach.status, 0, points, text, self.sandbox.output()[:MAX_OUTPUT],
                          label=breach.status)
        status, label, index = self.checker.judge(exercise.id, body, self.sandbox.seq)
        if status == PASSED:
            return Result(exercise.id, PASSED, points, points, "", output[:MAX_OUTPUT])
        if status == verdict.MALFORMED:
            self.sandbox.kill()
            text = f"{exercise.id}: {label if index < 0 else 'the code sent the grader a reply that is not its answers'}."
            return Result(exercise.id, status, 0, points, text, output[:MAX_OUTPUT], label=status)
        answers, stop = verdict.answers(verdict.parse(body, self.sandbox.seq))  # read by the checker already
        if index < len(answers):
            actual, changed = answers[index]
            status, text = self._learner_message(exercise, cases.inputs[index], _Known(actual, changed))
        elif status in LEARNER_STATUSES:
            status, text = self._learner_message(exercise, cases.inputs[index], _Known(error=learner_error(stop)))
        else:  # the sandbox's verdict: autograd, out of memory, exited, ...
            text = self._sandbox_message(exercise, status, stop["text"])
        return Result(exercise.id, status, 0, points, text, output[:MAX_OUTPUT], label)

    @staticmethod
    def _sandbox_message(exercise, status: str, text: str) -> str:
        if status == AUTOGRAD:
            return (f"{exercise.id}: the code called torch's autograd while it ran. Exercises derive "
                    f"gradients by hand; code that uses autograd scores zero.\n{text}")
        return f"{exercise.id}: {text or 'the code sent the grader a reply that is not its answers'}."

    def _load(self, module: str) -> None:
        """Import a module in the student's process on its own, so a hang or a crash on import
        is charged to that module's exercises once, not once per exercise."""
        try:
            reply = self.sandbox.request("load", module)
            stop = verdict.stop_record(reply.get("stop"))
        except Breach as breach:
            self.module_stop[module] = (breach.status, f"{module}.py: importing it {breach.text}.", breach.status)
            stop = None
        except wire.WireError as error:
            self.sandbox.kill()
            self.module_stop[module] = (CRASHED, f"{module}.py: the grader could not read the reply ({error}).",
                                        CRASHED)
            stop = None
        output = self.sandbox.output()
        if output:
            self.import_output[module] = output[:MAX_OUTPUT]
        if stop:
            text = stop["text"] if stop["status"] in LEARNER_STATUSES else \
                f"{module}.py: importing it, {stop['text']}."  # autograd, out of memory, exited...
            self.module_stop[module] = (stop["status"], text, failure_label(stop["status"], stop["text"]))
        elif module not in self.module_stop:
            self.sandbox.loaded.add(module)

    def _learner_message(self, exercise, args, known: _Known) -> tuple[str, str]:
        """(status, message) as `pytest --impl` would report it: kit.check.check against the
        student's process, so hypothesis shrinks the input and the diagnosis runs. When the
        process breaks a limit meanwhile or the budget (three timeouts) runs out, the message
        for the first failing input, as kit.check.attempt words it."""
        with _hypothesis:
            try:
                check(exercise, RemoteImpl(self.sandbox, 3 * self.limits.timeout), cases_module.grading_settings())
            except ExerciseFailure as failure:
                return failure.status, failure.message
            except _Abort:
                pass
            else:
                return "wrong", messages.inconsistent(exercise)
        try:
            attempt(exercise, known, args)
        except ExerciseFailure as failure:
            return failure.status, failure.message
        return "wrong", messages.inconsistent(exercise)


def grade_one(submission: Submission, work: Path, cases: dict, points: dict, limits: Limits,
              checkers: queue.Queue, since: int) -> StudentResult:
    checker = checkers.get()  # one per thread: as many checkers as threads
    try:
        result = StudentGrader(submission, work, cases, points, limits, checker).grade()
    finally:
        checkers.put(checker)
    sweep_orphans(since)
    return result


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line now and then elsewhere."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.every = max(1, total // 10)

    def step(self, student: str, score: float, max_score: float) -> None:
        self.done += 1
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"grading [{bar}] {self.done}/{self.total} students, {time.monotonic() - self.start:.1f} s "
                f"(last: {student}, {_number(score)}/{_number(max_score)})")
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r" + line[:width].ljust(width))
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done % self.every == 0 or self.done == self.total:
            self.stream.write(line + "\n")
        self.stream.flush()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def grade_submissions(submissions: list[Submission], points: dict, limits: Limits, jobs: int,
                      progress: Progress | None = None, cache: Path | None = None,
                      exercises: list[str] | None = None) -> list[StudentResult]:
    """Grade every submission (already discovered, not yet prepared); results in their order.
    `cache`: the folder of drawn inputs (grading/cases.py), None to draw them afresh;
    `exercises`: the ids graded, in curriculum order (default: all)."""
    exercises = list(exercises or EXERCISES)
    Sandbox.stopping = False
    since = clock_ticks()
    forkserver.start()  # started already by `kit grade`; the forkserver imports torch meanwhile
    become_subreaper()
    work = Path(tempfile.mkdtemp(prefix="kit-grade-"))
    try:
        for i, submission in enumerate(submissions):
            prepare(submission, work / f"s{i:05d}")
        cases = cases_module.record_all(exercises, jobs, cache)
        gc.freeze()  # the cases and every module: the collector need not walk them again
        results: dict[int, StudentResult] = {}
        jobs = max(1, min(jobs, len(submissions)))
        checkers: queue.Queue = queue.Queue()
        for _ in range(jobs):
            checkers.put(Checker(cases))
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kit-grade")
        try:
            futures = {pool.submit(grade_one, s, work, cases, points, limits, checkers, since): i
                       for i, s in enumerate(submissions)}
            for future in as_completed(futures):
                result = future.result()
                results[futures[future]] = result
                if progress:
                    progress.step(result.student, result.score, result.max_score)
        except BaseException:  # Ctrl-C, or a fault of the grader itself: stop every child now
            pool.shutdown(wait=False, cancel_futures=True)
            Sandbox.kill_all()
            raise
        finally:
            pool.shutdown(wait=True)
            while not checkers.empty():
                checkers.get().close()
            sweep_orphans(since)
        return [results[i] for i in range(len(submissions))]
    finally:
        shutil.rmtree(work, ignore_errors=True)
