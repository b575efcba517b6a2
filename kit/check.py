"""Checking one exercise against torch.autograd: the worked examples first, then hypothesis.

`check(exercise, impl)` returns when every tried input matches torch, and raises
`ExerciseFailure` with the learner's message for the smallest failing input hypothesis found.
`impl` is a kit.protocols.Impl, anything with `call(exercise, args) -> (answer,
changed_argument_or_None)`: a folder loaded in this process (kit.implementation) or a
sandboxed worker (grading).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import hypothesis
from hypothesis import given
from hypothesis.errors import Flaky

from kit import messages
from kit.compare import Mismatch, compare
from kit.diagnosis import diagnose
from kit.implementation import LearnerError
from kit.protocols import Impl
from kit.statuses import Status

if TYPE_CHECKING:
    from kit.exercise import Exercise

# what check() applies to the @given test it builds: a hypothesis.settings, or another decorator
# (grading/cases.py seeds the grading profile with one)
Settings = hypothesis.settings | Callable[[Callable[[], None]], Callable[[], None]]


class ExerciseFailure(AssertionError):
    """An exercise did not pass. `status`: Status.WRONG or one of statuses.LEARNER_STATUSES."""

    def __init__(self, exercise: Exercise, status: Status, message: str, inputs: tuple | None = None):
        super().__init__(message)
        self.exercise = exercise
        self.status = status
        self.message = message
        self.inputs = inputs  # the arguments of a wrong value, for the nudge and the diagnosis


def attempt(exercise: Exercise, impl: Impl, args: tuple) -> None:
    """One input: the learner's answer against torch's, or an ExerciseFailure saying why not."""
    expected = exercise.reference(*args)
    try:
        actual, changed = impl.call(exercise, args)
    except LearnerError as error:
        text = messages.raised(exercise, args, error.text) if error.in_call else error.text
        raise ExerciseFailure(exercise, error.status, text) from None
    found = fault(exercise, expected, actual, changed)
    if isinstance(found, Mismatch):
        inputs = args if found.kind == "value" else None
        raise ExerciseFailure(exercise, Status.WRONG, messages.wrong(exercise, args, expected, actual, found), inputs)
    if found:
        raise ExerciseFailure(exercise, Status.WRONG, messages.changed_input(exercise, args, found))


def fault(exercise: Exercise, expected: object, actual: object, changed: str | None) -> Mismatch | str | None:
    """Why one answer fails: how it differs from torch's (a Mismatch), else the name of the argument
    it changed in place; None when it passes. The one rule, for the learner's run and the grader's
    verdict (grading/verdict.py) alike."""
    return compare(expected, actual, exercise.tolerance) or changed or None


def check(exercise: Exercise, impl: Impl, settings: Settings | None = None) -> None:
    try:
        _search(exercise, impl, settings)
    except ExerciseFailure as failure:
        if failure.status in (Status.WRONG, Status.ERROR):  # measure the slope, and name the idea if we can
            wrong_value = failure.inputs is not None and exercise.estimate is not None
            estimate = exercise.estimate(*failure.inputs) if wrong_value else None
            failure.message = messages.explained(failure.message, estimate, diagnose(exercise, impl))
        raise


def _search(exercise: Exercise, impl: Impl, settings: Settings | None) -> None:
    for args in exercise.examples:  # already minimal: reported as they are
        attempt(exercise, impl, args)

    @given(exercise.inputs)
    def drawn(args):
        attempt(exercise, impl, args)

    # one database key per exercise, and under derandomize one stream of inputs per exercise,
    # although every exercise shares this inner function. Hypothesis has no public way to give a
    # @given test its key (its own pytest plugin sets this attribute for parametrized tests):
    # pyproject.toml bounds hypothesis' version, and tests/self/test_hypothesis_keys.py checks,
    # through hypothesis' public database interface, that two exercises get distinct keys.
    drawn.hypothesis.inner_test._hypothesis_internal_add_digest = exercise.id.encode()
    if settings is not None:
        drawn = settings(drawn)
    try:
        drawn()
    except Flaky:
        raise ExerciseFailure(exercise, Status.WRONG, messages.inconsistent(exercise)) from None
