"""Naming the idea a wrong answer got wrong: a catalogue of misconceptions per exercise.

A misconception is a sentence and the answer it would produce, computed from the inputs by
trusted code (mostly by bending torch's reference: a factor off, a sign flipped, the upstream
gradient forgotten, the forward value returned). When an answer is wrong, the learner's
function is run on a fixed, derandomized set of inputs; a misconception is named only when it
reproduces the learner's answers on every one of them, and differs from torch's on at least one.
A NaN reproduces a NaN (an unbiased variance over one value is NaN in the misconception and in
the learner's code alike), but a misconception must also reproduce some answer with none: one
whose answers are NaN wherever the learner's are names nothing, since any NaN would match it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from hypothesis import given, settings

import kit.profiles  # noqa: F401  (registers the diagnosis profile)
from kit.compare import compare, differences
from kit.messages import diagnosis as said
from kit.messages import part_name
from kit.protocols import Impl

if TYPE_CHECKING:
    from kit.exercise import Exercise


@dataclass(frozen=True)
class Misconception:
    sentence: str  # "you returned σ(x), the forward value; the slope is a different function"
    answer: Callable[..., Any]  # args -> the answer this misconception gives


def scale(value, factor: float):
    """A float, tensor, tuple or dict of them, times a factor."""
    if isinstance(value, tuple):
        return tuple(scale(v, factor) for v in value)
    if isinstance(value, dict):
        return {k: scale(v, factor) for k, v in value.items()}
    return value * factor


def off_by(reference, factor: float, sentence: str) -> Misconception:
    return Misconception(sentence, lambda *args: scale(reference(*args), factor))


def sign_flipped(reference) -> Misconception:
    return off_by(reference, -1.0, said.SIGN_FLIPPED)


def without_upstream(reference) -> Misconception:
    """A backward step that returns the local derivative alone: upstream taken as all ones."""
    def answer(*args):
        *others, upstream = args
        ones = torch.ones_like(upstream) if isinstance(upstream, torch.Tensor) else 1.0
        return reference(*others, ones)
    return Misconception(said.LOCAL_ALONE, answer)


def forward_value(function, what: str) -> Misconception:
    return Misconception(said.FORWARD_VALUE.format(what=what), function)


_SAMPLES: dict[str, list[tuple]] = {}


def sample_inputs(exercise: Exercise) -> list[tuple]:
    """The exercise's worked examples and the diagnosis profile's drawn inputs (kit/profiles.py),
    the same on every run."""
    if exercise.id not in _SAMPLES:
        found = list(exercise.examples)

        @settings.get_profile("diagnosis")
        @given(exercise.inputs)
        def record(args):
            found.append(args)

        # a stream of its own per exercise, as in kit.check._search (tests/self/test_hypothesis_keys.py)
        record.hypothesis.inner_test._hypothesis_internal_add_digest = exercise.id.encode()
        record()
        _SAMPLES[exercise.id] = found
    return _SAMPLES[exercise.id]


def diagnose(exercise: Exercise, impl: Impl) -> str | None:
    """One sentence naming what is wrong with impl's answers to the exercise, if we can tell.

    Facts first (an exception of a known kind, an input changed in place, a wrong kind of
    answer), then the catalogue: a misconception is named only when it reproduces the answer
    on every sampled input and torch's answer differs from it on at least one.
    """
    from kit.implementation import LearnerError

    answers = []
    for args in sample_inputs(exercise):
        try:
            answer, changed = impl.call(exercise, args)
        except LearnerError as error:
            return said.explain_error(error.text) if error.in_call else None
        if changed:
            return said.in_place(changed, dict(zip(exercise.parameter_names(), args)).get(changed))
        kinds = [m for m in differences(exercise.reference(*args), answer, exercise.tolerance) if m.kind != "value"]
        if kinds:  # every part of a wrong kind, each named
            return " ".join(dict.fromkeys(said.explain_kind(m, part_name(exercise, m.path)) for m in kinds))
        answers.append((args, answer))
    for misconception in exercise.misconceptions:
        try:
            predicted = [(misconception.answer(*args), actual, args) for args, actual in answers]
        except Exception:
            continue
        explains = all(compare(p, actual, exercise.tolerance, equal_nan=True) is None for p, actual, _ in predicted) \
            and any(compare(p, actual, exercise.tolerance) is None for p, actual, _ in predicted)
        distinct = any(compare(exercise.reference(*args), p, exercise.tolerance) for p, _, args in predicted)
        if explains and distinct:
            return misconception.sentence
    return None
