"""Grading one student, in the trusted process: the scan, each exercise's batch, and pytest's message for a failure.

For each exercise, the student's process gets the whole list of inputs in one message and
sends back every answer; the worker's checker (grading/checker.py) compares them with torch's
answers. Only when an answer is wrong or raises does `StudentGrader` run `kit.check.check`
against the student's process (`RemoteImpl`), so hypothesis shrinks the input and the student
reads the very message `pytest --impl` gives. What it says of the sandbox is
kit/messages/sandbox.py's.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

from grading import notebook_scan, verdict, wire
from grading.child import Spec
from grading.class_run import ClassRun, Plan, Worker
from grading.results import Result, StudentResult
from grading.sandbox import Breach, Sandbox
from grading.submissions import Submission
from grading.verdict import failure_label
from kit import messages
from kit.autograd import scan
from kit.check import ExerciseFailure, attempt, check
from kit.implementation import LearnerError
from kit.messages import sandbox as said  # the sentences a student reads
from kit.statuses import LEARNER_STATUSES, Status

MAX_OUTPUT = 4000

_hypothesis = threading.Lock()  # hypothesis runs one test at a time in a process
# one scan at a time: CPython's parser, deep in a hostile module in two threads at once, once
# raised SystemError (and a scan is milliseconds)
_scanning = threading.Lock()


class _Abort(BaseException):
    """Stops a `check` against the student's process (a limit was hit, or the budget spent).

    A BaseException, so hypothesis lets it through instead of shrinking it."""


class RemoteImpl:
    """`kit.check`'s implementation interface, answered by the student's process."""

    def __init__(self, sandbox: Sandbox, plan: Plan, budget: float):
        self.sandbox, self.plan, self.deadline = sandbox, plan, time.monotonic() + budget

    def call(self, exercise, args):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Abort()
        try:
            reply = self.sandbox.request("call", exercise.id, wire.pickle_arguments((args,)), self.plan.sources,
                                         timeout=min(left, self.sandbox.limits.timeout), limit=self.plan.call_limit)
            answers, stop = verdict.answers(reply)
        except Exception:  # a breach, or a reply the grader cannot read
            raise _Abort() from None
        if stop:
            if stop["status"] in LEARNER_STATUSES:
                raise learner_error(stop)
            raise _Abort()
        if len(answers) != 1 or answers[0][1] not in (None, *exercise.parameter_names()):
            raise _Abort()  # not the one answer asked for: the child is not to be believed
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
    def __init__(self, submission: Submission, index: int, run: ClassRun, worker: Worker, graded=None):
        self.submission, self.index, self.run = submission, index, run
        self.graded = graded  # called with (student, Result) as each exercise is graded
        self.cases, self.points, self.limits = run.cases, run.points, run.limits
        self.checker = worker.checker
        self.cgroup = None
        if run.cgroups is not None and not submission.problem:
            self.cgroup = run.cgroups.student(f"s{index:05d}", run.limits.memory, run.limits.processes)
        spec = Spec(str(submission.folder), run.targets, run.policy(index, submission.folder),
                    notebooks=submission.notebooks)
        capture = run.work / "captures" / f"s{index:05d}.out"
        self.sandbox = Sandbox(worker.zygote, spec, capture, run.limits, self.cgroup)
        self.module_stop: dict[str, tuple[str, str, str]] = {}  # module -> (status, text, label)
        self.import_output: dict[str, str] = {}

    def grade(self) -> StudentResult:
        start = time.monotonic()
        sub = self.submission
        results = []
        try:
            static = self._scan() if not sub.problem else {}
            for eid, cases in self.cases.items():
                exercise = cases.exercise
                points = self.points[eid]
                if sub.problem:
                    results.append(Result(eid, Status.UNREADABLE, 0, points, sub.problem, label=Status.UNREADABLE))
                elif eid in static:
                    results.append(Result(eid, Status.AUTOGRAD, 0, points, static[eid], label=Status.AUTOGRAD))
                else:
                    results.append(self._exercise(exercise, points))
                if self.graded is not None:
                    last = results[-1]
                    self.graded(sub.student, replace(last, feedback=self._clean(last.feedback),
                                                     output=self._clean(last.output)))
        finally:
            try:
                self.sandbox.close()
            finally:
                if self.cgroup is not None:
                    self.cgroup.remove()
        for r in results:
            r.feedback, r.output = self._clean(r.feedback), self._clean(r.output)
        printed = {module: self._clean(text) for module, text in self.import_output.items()}
        return StudentResult(sub.student, sub.source, sub.problem, results, sub.skipped,
                             printed, time.monotonic() - start)

    def _scan(self) -> dict[str, str]:
        """The static autograd scan: of the .py modules, and of the notebooks' code as the
        student's process took it from them (grading/notebook_scan.py)."""
        if not self.submission.notebooks:
            with _scanning:
                return scan.scan(self.submission.folder)
        try:
            sources = self.sandbox.request("sources", limit=notebook_scan.SOURCES_LIMIT).get("sources")
        except (Breach, wire.WireError):
            self.sandbox.kill()
            sources = {}  # the load will say what went wrong, in a new process
        with _scanning:
            return notebook_scan.scan(self.submission.folder, sources)

    def _clean(self, text: str) -> str:
        """The grader's temporary folder named as the student knows it: their entry."""
        shown = self.submission.source.rstrip("/") or self.submission.entry.name
        return text.replace(str(self.submission.folder), shown) if text else text

    def _exercise(self, exercise, points) -> Result:
        try:
            return self._graded(exercise, points)
        finally:
            if self.run.plans[exercise.id].isolated:
                self.sandbox.kill()  # the driver knew answers: no other exercise runs beside it

    def _graded(self, exercise, points) -> Result:
        module = exercise.module
        if module not in self.sandbox.loaded and module not in self.module_stop:
            self._load(module)
        if module in self.module_stop:
            status, text, label = self.module_stop[module]
            return Result(exercise.id, status, 0, points, text, label=label)
        cases, plan = self.cases[exercise.id], self.run.plans[exercise.id]
        try:
            body = self.sandbox.request_raw("batch", exercise.id, cases.pickled, plan.sources, limit=plan.batch_limit)
            output = self.sandbox.output()
        except Breach as breach:
            text = said.BREACH.format(exercise=exercise.id, text=breach.text)
            return Result(exercise.id, breach.status, 0, points, text, self.sandbox.output()[:MAX_OUTPUT],
                          label=breach.status)
        status, label, index = self.checker.judge(exercise.id, body, self.sandbox.seq)
        if status == Status.PASSED:
            return Result(exercise.id, Status.PASSED, points, points, "", output[:MAX_OUTPUT])
        if status == verdict.MALFORMED:
            self.sandbox.kill()
            text = said.STOPPED.format(exercise=exercise.id, text=label if index < 0 else said.NOT_ANSWERS)
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
        if status == Status.AUTOGRAD:
            return said.USED_AUTOGRAD.format(exercise=exercise.id, text=text)
        return said.STOPPED.format(exercise=exercise.id, text=text or said.NOT_ANSWERS)

    def _load(self, module: str) -> None:
        """Import a module in the student's process on its own, so a hang or a crash on import
        is charged to that module's exercises once, not once per exercise."""
        try:
            reply = self.sandbox.request("load", module)
            stop = verdict.stop_record(reply.get("stop"))
        except Breach as breach:
            text = said.IMPORT_BREACH.format(module=module, text=breach.text)
            self.module_stop[module] = (breach.status, text, breach.status)
            stop = None
        except wire.WireError as error:
            self.sandbox.kill()
            text = said.IMPORT_UNREADABLE.format(module=module, error=error)
            self.module_stop[module] = (Status.CRASHED, text, Status.CRASHED)
            stop = None
        output = self.sandbox.output()
        if output:
            self.import_output[module] = output[:MAX_OUTPUT]
        if stop:
            text = stop["text"] if stop["status"] in LEARNER_STATUSES else \
                said.IMPORT_STOPPED.format(module=module, text=stop["text"])  # autograd, out of memory, exited...
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
                check(exercise, RemoteImpl(self.sandbox, self.run.plans[exercise.id], 3 * self.limits.timeout),
                      self.cases[exercise.id].settings)  # the recorded inputs, from the course's seed
            except ExerciseFailure as failure:
                return failure.status, failure.message
            except _Abort:
                pass
            else:
                return Status.WRONG, messages.inconsistent(exercise)
        try:
            attempt(exercise, known, args)
        except ExerciseFailure as failure:
            return failure.status, failure.message
        return Status.WRONG, messages.inconsistent(exercise)
