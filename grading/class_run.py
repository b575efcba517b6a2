"""What every student of a class is graded with, made once: cases, plans, targets, limits; and each thread's worker.

`ClassRun` is read by every grading thread (grading/grader.py makes it, grading/student_grader.py
reads it); a `Plan` is what the grader sends with an exercise, a `Target` all a student's
process knows of it; a `Worker` is a grading thread's trusted helpers, a checker and a zygote.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grading import lockdown, wire
from grading.cgroups import Cgroups
from grading.checker import Checker
from grading.child import Target
from grading.isolation import PRELOADED_DRIVERS, Setting, Zygote, readable_roots, source_of
from grading.limits import Limits
from grading.sandbox import reply_limit


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


def start_zygote(setting: Setting, work: Path, cgroups: Cgroups | None) -> Zygote:
    return Zygote(setting, work, cgroups.bind_paths() if cgroups else [])
