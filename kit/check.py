"""Checking one exercise against torch.autograd: the worked examples first, then hypothesis.

`check(exercise, impl)` returns when every tried input matches torch, and raises
`ExerciseFailure` with the learner's message for the smallest failing input hypothesis found.
`impl` is anything with `call(exercise, args) -> (answer, changed_argument_or_None)`: a folder
loaded in this process (kit.implementation) or a sandboxed worker (grading).
"""
from __future__ import annotations

import hypothesis
from hypothesis import given
from hypothesis.errors import Flaky

from kit import messages
from kit.compare import compare
from kit.diagnosis import diagnose
from kit.implementation import LearnerError
from kit.statuses import Status


class ExerciseFailure(AssertionError):
    """An exercise did not pass. `status`: Status.WRONG or one of statuses.LEARNER_STATUSES."""

    def __init__(self, exercise, status: Status, message: str, inputs: tuple | None = None):
        super().__init__(message)
        self.exercise = exercise
        self.status = status
        self.message = message
        self.inputs = inputs  # the arguments of a wrong value, for the nudge and the diagnosis


def attempt(exercise, impl, args: tuple) -> None:
    """One input: the learner's answer against torch's, or an ExerciseFailure saying why not."""
    expected = exercise.reference(*args)
    try:
        actual, changed = impl.call(exercise, args)
    except LearnerError as error:
        text = messages.raised(exercise, args, error.text) if error.in_call else error.text
        raise ExerciseFailure(exercise, error.status, text) from None
    mismatch = compare(expected, actual, exercise.tolerance)
    if mismatch:
        inputs = args if mismatch.kind == "value" else None
        raise ExerciseFailure(exercise, Status.WRONG, messages.wrong(exercise, args, expected, actual, mismatch), inputs)
    if changed:
        raise ExerciseFailure(exercise, Status.WRONG, messages.changed_input(exercise, args, changed))


def check(exercise, impl, settings: hypothesis.settings | None = None) -> None:
    try:
        _search(exercise, impl, settings)
    except ExerciseFailure as failure:
        if failure.status in (Status.WRONG, Status.ERROR):  # measure the slope, and name the idea if we can
            wrong_value = failure.inputs is not None and exercise.estimate is not None
            estimate = exercise.estimate(*failure.inputs) if wrong_value else None
            failure.message = messages.explained(failure.message, estimate, diagnose(exercise, impl))
        raise


def _search(exercise, impl, settings) -> None:
    for args in exercise.examples:  # already minimal: reported as they are
        attempt(exercise, impl, args)

    @given(exercise.inputs)
    def drawn(args):
        attempt(exercise, impl, args)

    # one database entry per exercise, although every exercise shares this inner function
    drawn.hypothesis.inner_test._hypothesis_internal_add_digest = exercise.id.encode()
    if settings is not None:
        drawn = settings(drawn)
    try:
        drawn()
    except Flaky:
        raise ExerciseFailure(exercise, Status.WRONG, messages.inconsistent(exercise)) from None
