"""The words a grade book uses for how an exercise ended, in one place.

kit.check reports the learner's own statuses ("wrong", "error", "missing", "not attempted");
the grader adds what the sandbox saw. A student's process may report only the statuses in
CHILD_STOPS, and each of them scores zero: nothing a child sends can make an exercise pass
(grading/verdict.py). This module imports nothing, so a grading child can load it.
"""

PASSED = "passed"
WRONG, ERROR, MISSING, NOT_ATTEMPTED = "wrong", "error", "missing", "not attempted"
TIMEOUT, OUT_OF_MEMORY, CRASHED, EXITED, OUTPUT_LIMIT, AUTOGRAD = (
    "timeout", "out of memory", "crashed", "exited", "output limit", "autograd")
UNREADABLE = "unreadable"  # the entry could not be read: no code of it ran
GRADER_FAULT = "grader fault"  # the grader failed on this student; the student is not blamed

LEARNER_STATUSES = (ERROR, MISSING, NOT_ATTEMPTED)  # kit.check's, beside WRONG
CHILD_STOPS = LEARNER_STATUSES + (AUTOGRAD, OUT_OF_MEMORY, EXITED, CRASHED)  # what a child may report
