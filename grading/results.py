"""What grading gives: a `Result` per exercise of a student, and the student's `StudentResult`.

Made by the grader (grading/student_grader.py, grading/grader.py), read by the grade book
(grading/reports.py) and by `kit grade`'s progress (graded as each exercise is done).
"""
from __future__ import annotations

from dataclasses import dataclass, field


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
