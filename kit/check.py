"""Checking one exercise against torch.autograd: the worked examples first, then hypothesis.

`check(exercise, impl)` returns when every tried input matches torch, and raises
`ExerciseFailure` with the learner's message for the smallest failing input hypothesis found.
`impl` is a kit.protocols.Impl, anything with `call(exercise, args) -> (answer,
changed_argument_or_None)`: a folder loaded in this process (kit.implementation) or a
sandboxed worker (grading).
"""
from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING

import hypothesis
from hypothesis import given
from hypothesis.errors import Flaky

from kit import messages
from kit.compare import Mismatch, all_match, compare, differences
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

    def __init__(self, exercise: Exercise, status: Status, message: str, inputs: tuple | None = None,
                 explain: bool = True):
        super().__init__(message)
        self.exercise = exercise
        self.status = status
        self.message = message
        self.inputs = inputs  # the arguments of a wrong value, for the nudge and the diagnosis
        # False when the message already says all there is (float32 rounding, an input changed in
        # place, a method missing): check() then adds no diagnosis
        self.explain = explain


def attempt(exercise: Exercise, impl: Impl, args: tuple) -> None:
    """One input: the learner's answer against torch's, or an ExerciseFailure saying why not."""
    expected = exercise.reference(*args)
    try:
        actual, changed = impl.call(exercise, args)
    except LearnerError as error:
        missing = _missing_method(exercise, args, error)
        if missing:
            raise ExerciseFailure(exercise, error.status, missing, explain=False) from None
        text = messages.raised(exercise, args, error.text) if error.in_call else error.text
        raise ExerciseFailure(exercise, error.status, text) from None
    found = fault(exercise, expected, actual, changed)
    if isinstance(found, Mismatch):
        every = differences(expected, actual, exercise.tolerance) or [found]  # each part that differs
        worded = messages.wrong(exercise, args, expected, actual, every)
        wrong_value = any(m.kind == "value" and not m.float32 for m in every)
        raise ExerciseFailure(exercise, Status.WRONG, worded, args if wrong_value else None,
                              explain=not all(m.float32 for m in every))
    if found:
        raise ExerciseFailure(exercise, Status.WRONG, messages.changed_input(exercise, args, found), explain=False)


def _missing_method(exercise: Exercise, args: tuple, error: LearnerError) -> str | None:
    """The message for a call that failed only because the learner's class (exercise.symbol, chapter
    7's Value) lacks a method the curriculum asks for; None for any other failure."""
    if not (error.in_call and exercise.symbol):
        return None
    found = messages.missing_member(exercise.symbol, error.text)
    if found is None:
        return None
    method, needed_by = found
    from kit.registry import chapter  # here: importing kit.check need not load every chapter

    graded_by = next((e for e in chapter(exercise.module) if method in e.methods), None)
    if graded_by is None:  # not one of the curriculum's methods: the learner's own helper, say
        return None
    return messages.missing_method(exercise, args, exercise.symbol, method, needed_by, graded_by, error.text)


def fault(exercise: Exercise, expected: object, actual: object, changed: str | None) -> Mismatch | str | None:
    """Why one answer fails: how it differs from torch's (a Mismatch), else the name of the argument
    it changed in place; None when it passes. The one rule, for the learner's run and the grader's
    verdict (grading/verdict.py) alike."""
    return compare(expected, actual, exercise.tolerance) or changed or None


def all_pass(exercise: Exercise, expected: tuple, found: list[tuple[object, str | None]]) -> bool:
    """Whether `fault` is None for every (answer, changed) of `found` against `expected`, one
    for one: the same rule, with the numbers checked all at once (kit.compare.all_match). The
    grader's quick verdict on a whole batch; where it is False, `fault` finds the first failure."""
    return len(found) == len(expected) and all(changed is None for _, changed in found) and \
        all_match(zip(expected, (actual for actual, _ in found)), exercise.tolerance)


def check(exercise: Exercise, impl: Impl, settings: Settings | None = None) -> None:
    try:
        _search(exercise, impl, settings)
    except ExerciseFailure as failure:
        if failure.status in (Status.WRONG, Status.ERROR) and failure.explain:  # measure the slope, name the idea
            wrong_value = failure.inputs is not None and exercise.estimate is not None
            estimate = exercise.estimate(*failure.inputs) if wrong_value else None
            failure.message = messages.explained(failure.message, estimate, diagnose(exercise, impl))
        raise


def _sized(settings: Settings | None, share: float) -> Settings | None:
    """`settings` drawing `share` of its max_examples (Exercise.draws). None means the profile
    loaded (pytest's); a decorator that is not a hypothesis.settings scales itself (`scaled`)."""
    if share == 1:
        return settings
    if settings is None or isinstance(settings, hypothesis.settings):
        base = settings if settings is not None else hypothesis.settings()
        return hypothesis.settings(base, max_examples=max(1, round(base.max_examples * share)))
    return settings.scaled(share)  # type: ignore[union-attr]


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
    sized = _sized(settings, exercise.draws)
    if sized is not None:
        drawn = sized(drawn)
    try:
        drawn()
    except Flaky:
        raise ExerciseFailure(exercise, Status.WRONG, messages.inconsistent(exercise)) from None


# ---- `kit.check(...)` in a notebook ---------------------------------------------------------------
# This module is also what a notebook calls: `import kit; kit.check(square_grad)`. The package's
# attribute `kit.check` is this module (Python sets it on import), so the module itself is made
# callable; `from kit.check import check, ExerciseFailure` is unchanged. The call is
# kit/notebook/checks.py's `check`, imported only then.

class _CallableModule(types.ModuleType):
    def __call__(self, what=None, exercise=None, **options):
        """kit.check(fn), kit.check(fn, "ch3_power_rule.square_grad"), kit.check("ch7_engine.add"),
        kit.check(): kit/notebook/checks.py's check (timeout=SECONDS, namespace=DICT)."""
        import importlib

        # by name, not `from kit.notebook... import`: grading/case_cache.py hashes the kit modules this
        # file imports, for its cache of inputs, and the notebook's side is no part of the inputs

        return importlib.import_module("kit.notebook.checks").check(what, exercise, **options)


if __name__ in sys.modules:  # (always, when imported)
    sys.modules[__name__].__class__ = _CallableModule
