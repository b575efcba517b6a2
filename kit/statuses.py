"""How an exercise ended: the one `Status` enum that the learner's run, the grader and the reports share.

kit.check reports the learner's own statuses (wrong, error, missing, not attempted); the grader
adds what its sandbox saw. A student's process may report only the statuses in CHILD_STOPS, and
each of them scores zero: nothing a child sends can make an exercise pass (grading/verdict.py).
A Status is a str (`Status.PASSED == "passed"`), so it goes into JSON and CSV as its word.
This module imports only the standard library: a grading child loads it from source.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PASSED = "passed"
    WRONG = "wrong"  # an answer came back and is not torch's
    ERROR = "error"  # the learner's code raised, or its module could not be imported
    MISSING = "missing"  # no such module or function
    NOT_ATTEMPTED = "not attempted"  # the stub is still as shipped (NotImplementedError)
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out of memory"
    CRASHED = "crashed"  # a signal, or a malformed reply
    EXITED = "exited"  # sys.exit or os._exit
    OUTPUT_LIMIT = "output limit"
    AUTOGRAD = "autograd"  # torch's autograd was used where the exercise is to do it by hand
    UNREADABLE = "unreadable"  # the entry could not be read: no code of it ran
    GRADER_FAULT = "grader fault"  # the grader failed on this student; the student is not blamed


LEARNER_STATUSES = (Status.ERROR, Status.MISSING, Status.NOT_ATTEMPTED)  # kit.check's, beside WRONG
CHILD_STOPS = LEARNER_STATUSES + (Status.AUTOGRAD, Status.OUT_OF_MEMORY, Status.EXITED, Status.CRASHED)
