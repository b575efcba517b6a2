"""Grading one submission, and a whole class, in the trusted process.

For each exercise, the student's process gets the whole list of inputs in one message and
sends back every answer; a checker process (grading/checker.py) compares them with torch's
answers (kit.compare, with a torch no submission touched). Only when an answer is wrong or
raises does the grader run `kit.check.check` against the student's process (`RemoteImpl`),
so hypothesis shrinks the input and the student reads the very message `pytest --impl` gives.

Each grading thread has a checker and a zygote of its own (grading/isolation.py) and grades
one student at a time. Whatever goes wrong while one student is graded (the grader's own
fault included) costs that student only: `grade_one` turns it into a reason in their report.
"""
from __future__ import annotations

import gc
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from kit import messages
from kit.check import ExerciseFailure, attempt, check
from kit.implementation import LearnerError
from kit.registry import EXERCISES
from grading import cases as cases_module
from grading import forkserver, lockdown, scan, verdict, wire
from grading.cgroups import Cgroups
from grading.checker import Checker
from grading.child import Spec, Target
from grading.isolation import PRELOADED_DRIVERS, Setting, SettingError, Zygote, readable_roots, source_of
from grading.processes import become_subreaper, clock_ticks, sweep_orphans
from grading.sandbox import Breach, Limits, Sandbox, reply_limit
from kit.statuses import LEARNER_STATUSES, Status
from grading.submissions import Submission, prepare, remove_tree
from grading.verdict import failure_label

MAX_OUTPUT = 4000

_hypothesis = threading.Lock()  # hypothesis runs one test at a time in a process
# one scan at a time: CPython's parser, deep in a hostile module in two threads at once, once
# raised SystemError (and a scan is milliseconds)
_scanning = threading.Lock()


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


@dataclass(frozen=True)
class Plan:
    """What the grader sends with an exercise, worked out once per class."""

    sources: tuple  # (module, source) of a driver that knows answers; () for the preloaded ones
    batch_limit: int  # the most a reply to the whole batch may weigh
    call_limit: int  # the most a reply to one input may weigh

    @property
    def isolated(self) -> bool:
        """Whether the exercise's driver knows answers: its child then runs nothing else."""
        return bool(self.sources)


def plan(cases) -> Plan:
    exercise = cases.exercise
    driver = exercise.run.__module__
    sources = () if driver in PRELOADED_DRIVERS else ((driver, source_of(driver)),)
    weights = [len(wire.dumps(wire.encode(answer))) for answer in cases.expected] or [0]
    return Plan(sources, reply_limit(sum(weights)), reply_limit(max(weights)))


def target(exercise) -> Target:
    return Target(exercise.id, exercise.module, exercise.attribute, exercise.name,
                  tuple(exercise.parameter_names()), (exercise.run.__module__, exercise.run.__name__))


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


@dataclass
class ClassRun:
    """What every student of a class is graded with: made once, read by every thread."""

    cases: dict  # exercise id -> grading.cases.Cases
    plans: dict  # exercise id -> Plan
    targets: dict  # exercise id -> Target, all the child knows of the exercises
    points: dict
    limits: Limits
    setting: Setting
    work: Path  # the prepared folders, one per student, and the capture files
    cgroups: Cgroups | None

    def policy(self, index: int, folder: Path) -> lockdown.Policy:
        """How student `index`'s processes lock themselves down."""
        uid = self.setting.uid(index)
        cpu = int(60 + 2 * self.limits.timeout * len(self.cases))  # a backstop: the grader keeps time
        return lockdown.Policy(memory=self.limits.memory, processes=self.limits.processes,
                               output=self.limits.output, cpu_seconds=cpu, uid=uid, gid=uid,
                               readable=readable_roots() + (str(folder),), writable=())


class Worker:
    """A grading thread's trusted helpers: a checker, and a zygote for its students' processes."""

    def __init__(self, run: ClassRun, zygote: Zygote):
        self.run, self.zygote = run, zygote
        self.checker = Checker(run.cases)

    def healthy(self) -> None:
        """After a student: a zygote or checker that died is replaced, so the next student is not blamed."""
        if not self.zygote.alive():
            self.zygote.close()
            self.zygote = start_zygote(self.run.setting, self.run.work, self.run.cgroups)
        if not self.checker.process.is_alive():
            self.checker.close()
            self.checker = Checker(self.run.cases)

    def close(self) -> None:
        self.checker.close()
        self.zygote.close()


class StudentGrader:
    def __init__(self, submission: Submission, index: int, run: ClassRun, worker: Worker, graded=None):
        self.submission, self.index, self.run = submission, index, run
        self.graded = graded  # called with (student, Result) as each exercise is graded
        self.cases, self.points, self.limits = run.cases, run.points, run.limits
        self.checker = worker.checker
        self.cgroup = None
        if run.cgroups is not None and not submission.problem:
            self.cgroup = run.cgroups.student(f"s{index:05d}", run.limits.memory, run.limits.processes)
        spec = Spec(str(submission.folder), run.targets, run.policy(index, submission.folder))
        capture = run.work / "captures" / f"s{index:05d}.out"
        self.sandbox = Sandbox(worker.zygote, spec, capture, run.limits, self.cgroup)
        self.module_stop: dict[str, tuple[str, str, str]] = {}  # module -> (status, text, label)
        self.import_output: dict[str, str] = {}

    def grade(self) -> StudentResult:
        start = time.monotonic()
        sub = self.submission
        with _scanning:
            static = scan.scan(sub.folder) if not sub.problem else {}
        results = []
        try:
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
            text = f"{exercise.id}: the code {breach.text}."
            return Result(exercise.id, breach.status, 0, points, text, self.sandbox.output()[:MAX_OUTPUT],
                          label=breach.status)
        status, label, index = self.checker.judge(exercise.id, body, self.sandbox.seq)
        if status == Status.PASSED:
            return Result(exercise.id, Status.PASSED, points, points, "", output[:MAX_OUTPUT])
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
        if status == Status.AUTOGRAD:
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
            self.module_stop[module] = (Status.CRASHED, f"{module}.py: the grader could not read the reply ({error}).",
                                        Status.CRASHED)
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


def start_zygote(setting: Setting, work: Path, cgroups: Cgroups | None) -> Zygote:
    return Zygote(setting, work, cgroups.bind_paths() if cgroups else [])


def grade_one(submission: Submission, index: int, run: ClassRun, workers: queue.Queue, since: int,
              graded=None) -> StudentResult:
    worker = workers.get()  # one per thread: as many workers as threads
    try:
        return StudentGrader(submission, index, run, worker, graded).grade()
    except Exception:  # the grader's own failure on this student: it costs this student only
        return grader_fault(submission, run, traceback.format_exc())
    finally:
        try:
            worker.healthy()
        finally:
            workers.put(worker)
            sweep_orphans(since)


def grader_fault(submission: Submission, run: ClassRun, trace: str) -> StudentResult:
    last = trace.strip().splitlines()[-1] if trace.strip() else "an unknown error"
    text = (f"The grader failed while grading this submission ({wire.short(last, 300)}). This is not a "
            f"verdict on the code: the instructor should grade it again.")
    results = [Result(eid, Status.GRADER_FAULT, 0, run.points[eid], text, label=Status.GRADER_FAULT) for eid in run.cases]
    return StudentResult(submission.student, submission.source, text, results, submission.skipped)


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
        from grading.text import printable  # the id is a file name: its control characters are shown
        line = (f"grading [{bar}] {self.done}/{self.total} students, {time.monotonic() - self.start:.1f} s "
                f"(last: {printable(student)}, {_number(score)}/{_number(max_score)})")
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
                      exercises: list[str] | None = None, setting: Setting | None = None,
                      graded=None, seed: bytes | None = None) -> list[StudentResult]:
    """Grade every submission (already discovered, not yet prepared); results in their order.
    `cache`: the folder of drawn inputs (grading/cases.py), None to draw them afresh;
    `exercises`: the ids graded, in curriculum order (default: all);
    `setting`: where students' code runs (default: what this machine gives, Setting.detect());
    `graded(student, Result)`: called as each exercise is graded (from the grading threads);
    `seed`: the course's grading seed (default: grading.cases.load_seed())."""
    exercises = list(exercises or EXERCISES)
    setting = setting or Setting.detect()
    problem = setting.problem()
    if problem:
        raise SettingError(problem)
    Sandbox.stopping = False
    since = clock_ticks()
    forkserver.start()  # started already by `kit grade`; the forkserver imports torch meanwhile
    become_subreaper()
    work = Path(tempfile.mkdtemp(prefix="kit-grade-"))
    cgroups = Cgroups.make(f"kit-grade-{os.getpid()}-{work.name}") if setting.cgroups else None
    workers: queue.Queue = queue.Queue()
    zygotes: list[Zygote] = []
    try:
        os.chmod(work, 0o711)  # each student's user may pass through to its own folder, and see no other
        (work / "captures").mkdir(mode=0o700)
        jobs = max(1, min(jobs, len(submissions)))
        # started first, here in the main thread (a zygote dies with the thread that started it):
        # each imports torch and blocks autograd (~3 s) while the inputs are loaded or drawn
        zygotes += [start_zygote(setting, work, cgroups) for _ in range(jobs)]
        for i, submission in enumerate(submissions):
            prepare(submission, work / f"s{i:05d}")
            if submission.folder is not None:
                own(submission.folder, setting.uid(i))
        cases = cases_module.record_all(exercises, jobs, cache, seed)
        run = ClassRun(cases, {eid: plan(c) for eid, c in cases.items()},
                       {eid: target(c.exercise) for eid, c in cases.items()}, points, limits, setting, work, cgroups)
        gc.freeze()  # the cases and every module: the collector need not walk them again
        results: dict[int, StudentResult] = {}
        every = [Worker(run, zygote) for zygote in zygotes]  # also those a thread holds, for Ctrl-C
        zygotes.clear()
        for worker in every:
            workers.put(worker)
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kit-grade")
        try:
            futures = {pool.submit(grade_one, s, i, run, workers, since, graded): i for i, s in enumerate(submissions)}
            for future in as_completed(futures):
                result = future.result()
                results[futures[future]] = result
                if progress:
                    progress.step(result.student, result.score, result.max_score)
        except BaseException:  # Ctrl-C, or a fault of the grader itself: stop every child now
            pool.shutdown(wait=False, cancel_futures=True)
            Sandbox.stop()
            for worker in every:  # its namespace, and every child of it, ends with it
                worker.zygote.process.kill()
            raise
        finally:
            pool.shutdown(wait=True)
        return [results[i] for i in range(len(submissions))]
    finally:
        while not workers.empty():
            workers.get().close()
        for zygote in zygotes:  # started, but grading stopped before a worker took it
            zygote.close()
        sweep_orphans(since)
        if cgroups is not None:
            cgroups.remove()
        left = remove_tree(work)  # any depth, links not followed, never raises
        if left:
            print(f"kit grade: could not remove {len(left)} leftovers, e.g. {left[0]}", file=sys.stderr)


def own(folder: Path, uid: int | None) -> None:
    """A student's prepared folder, readable by that student's user alone, and writable by none.

    As root: owned by root, group `uid` (the student's own), so only that user and root read it;
    otherwise the grader's user owns it and Landlock keeps other students out."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        if uid is not None:
            os.chown(path, 0, uid)
        os.chmod(path, (0o750 if uid is not None else 0o700) if path.is_dir() else
                 (0o640 if uid is not None else 0o600))
