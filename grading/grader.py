"""Grading a whole class in the trusted process: zygotes, cases and workers, one thread per job, every student.

`grade_submissions` prepares each entry's folder (grading/submissions.py), starts a zygote per
thread (grading/isolation.py), draws or loads the cases (grading/cases.py) and grades each
student on a grading thread (grading/student_grader.py); at the end every child is dead and
every prepared folder removed. Whatever goes wrong while one student is graded (the grader's
own fault included) costs that student only: `grade_one` turns it into a reason in their
report.
"""
from __future__ import annotations

import gc
import os
import queue
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from grading import cases as cases_module
from grading import forkserver, wire
from grading.cgroups import Cgroups
from grading.class_run import ClassRun, Worker, plan, start_zygote, target
from grading.isolation import Setting, SettingError, Zygote
from grading.limits import Limits
from grading.processes import become_subreaper, clock_ticks, sweep_orphans
from grading.progress import Progress
from grading.results import Result, StudentResult
from grading.sandbox import Sandbox
from grading.student_grader import StudentGrader
from grading.submissions import Submission, prepare, remove_tree
from kit.messages import sandbox as said  # the sentences a student reads
from kit.registry import EXERCISES
from kit.statuses import Status

__all__ = ["Progress", "Result", "StudentResult", "grade_one", "grade_submissions", "grader_fault", "own"]


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
    text = said.GRADER_FAULT.format(last=wire.short(last, 300))
    results = [Result(eid, Status.GRADER_FAULT, 0, run.points[eid], text, label=Status.GRADER_FAULT)
               for eid in run.cases]
    return StudentResult(submission.student, submission.source, text, results, submission.skipped)


def grade_submissions(submissions: list[Submission], points: dict, limits: Limits, jobs: int,
                      progress: Progress | None = None, cache: Path | None = None,
                      exercises: list[str] | None = None, setting: Setting | None = None,
                      graded=None, seed: bytes | None = None, recorded=None) -> list[StudentResult]:
    """Grade every submission (already discovered, not yet prepared); results in their order.
    `cache`: the folder of drawn inputs (grading/cases.py), None to draw them afresh;
    `exercises`: the ids graded, in curriculum order (default: all);
    `setting`: where students' code runs (default: what this machine gives, Setting.detect());
    `graded(student, Result)`: called as each exercise is graded (from the grading threads);
    `seed`: the course's grading seed (default: grading.cases.load_seed());
    `recorded(ids, drawing) -> {id: Cases}`: the recorded cases to grade on (grading/recorded.py), instead of
    drawing them here."""
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
        drawing = progress.drawing if progress else None  # a line, and a count, while the inputs are drawn
        cases = recorded(exercises, drawing) if recorded is not None else \
            cases_module.record_all(exercises, jobs, cache, seed, drawing=drawing)
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
