"""Naming the idea a wrong answer got wrong: a catalogue of misconceptions per exercise.

A misconception is a sentence and the answer it would produce, computed from the inputs by
trusted code (mostly by bending torch's reference: a factor off, a sign flipped, the upstream
gradient forgotten, the forward value returned). When an answer is wrong, the learner's
function is run on a fixed, derandomized set of inputs; a misconception is named only when it
reproduces the learner's answers on every one of them, and differs from torch's on at least one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import hypothesis
import torch
from hypothesis import Phase, given

from kit.compare import compare


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
    return off_by(reference, -1.0, "Your answer has the right size but the wrong sign everywhere: "
                                   "check each minus sign in your derivation.")


def without_upstream(reference) -> Misconception:
    """A backward step that returns the local derivative alone: upstream taken as all ones."""
    def answer(*args):
        *others, upstream = args
        ones = torch.ones_like(upstream) if isinstance(upstream, torch.Tensor) else 1.0
        return reference(*others, ones)
    return Misconception("You returned the local derivative alone: a backward step multiplies it by "
                         "the upstream gradient it is given (upstream × local).", answer)


def forward_value(function, what: str) -> Misconception:
    return Misconception(f"You returned {what}, the forward value; the question is how fast it "
                         f"changes, its slope.", function)


_SAMPLES: dict[str, list[tuple]] = {}


def sample_inputs(exercise, count: int = 8) -> list[tuple]:
    """The exercise's worked examples and `count` more inputs, the same on every run."""
    if exercise.id not in _SAMPLES:
        found = list(exercise.examples)

        @hypothesis.settings(derandomize=True, database=None, max_examples=count, phases=[Phase.generate],
                             deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
        @given(exercise.inputs)
        def record(args):
            found.append(args)

        record.hypothesis.inner_test._hypothesis_internal_add_digest = exercise.id.encode()
        record()
        _SAMPLES[exercise.id] = found
    return _SAMPLES[exercise.id]


def diagnose(exercise, impl) -> str | None:
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
            return explain_error(error.text) if error.in_call else None
        if changed:
            return (f"Your function writes into its argument {changed!r} (an in-place operation such as "
                    f"+=, masked_fill_ or x[...] = ...); compute the answer in a new tensor.")
        mismatch = compare(exercise.reference(*args), answer, exercise.tolerance)
        if mismatch and mismatch.kind != "value":
            return explain_kind(mismatch)
        answers.append((args, answer))
    for misconception in exercise.misconceptions:
        try:
            predicted = [(misconception.answer(*args), actual, args) for args, actual in answers]
        except Exception:
            continue
        explains = all(compare(p, actual, exercise.tolerance) is None for p, actual, _ in predicted)
        distinct = any(compare(exercise.reference(*args), p, exercise.tolerance) for p, _, args in predicted)
        if explains and distinct:
            return misconception.sentence
    return None


ERRORS = {
    "OverflowError": "A number grew past float64's largest value (about 1.8e308), usually e to a large "
                     "power: rewrite the formula so that the exponent stays at or below 0.",
    "ZeroDivisionError": "Your formula divides by something that is 0 for some inputs in the domain; "
                         "look for a form that does not need that division.",
    "RecursionError": "Your function calls itself without end: a recursive walk needs a way to stop, "
                      "such as a set of visited nodes.",
}


def explain_error(text: str) -> str | None:
    last = text.strip().splitlines()[-1] if text.strip() else ""
    kind = last.split(":", 1)[0].strip()
    if kind in ERRORS:
        return ERRORS[kind]
    if kind == "RuntimeError" and "cannot be multiplied" in last:
        return ("The shapes of a matrix product do not fit: a transpose is missing, or one too many. "
                "Write each tensor's shape beside your formula and check that the inner sizes meet.")
    if kind == "RuntimeError" and "must match the size of tensor" in last:
        return ("Two tensors of shapes that do not broadcast met: a sum lost its keepdim=True, or a "
                "transpose is missing. Write each tensor's shape beside your formula.")
    if kind == "TypeError" and ("Tensor" in last or "tensor" in last):
        return ("A tensor met a function made for floats (math.exp and friends take one number): use "
                "the torch version (torch.exp, torch.log, ...) on tensors.")
    return None


def explain_kind(mismatch) -> str:
    expected, actual = mismatch.expected, mismatch.actual
    if mismatch.kind == "type" and isinstance(actual, torch.Tensor) and isinstance(expected, (list, tuple)):
        return (f"You returned a tensor where a {type(expected).__name__} of Python floats belongs: "
                f"collect each number with .item().")
    if mismatch.kind == "type" and isinstance(actual, torch.Tensor) and not isinstance(expected, torch.Tensor):
        return "You returned a tensor where a Python float belongs: turn a 0-d tensor into one with .item()."
    if mismatch.kind == "type" and isinstance(expected, torch.Tensor) and isinstance(actual, torch.Tensor):
        return "Your answer is still attached to autograd: compute it by hand, without requires_grad."
    if mismatch.kind == "type" and isinstance(expected, torch.Tensor):
        return ("You returned a plain number or list where a tensor belongs: a gradient has one entry "
                "per element of the input, as a float64 tensor of its shape.")
    if mismatch.kind == "dtype":
        return (f"Your tensor is {actual.dtype}: somewhere a tensor was made without dtype=torch.float64 "
                f"(or converted with .float()); keep every tensor float64.")
    if mismatch.kind == "shape" and isinstance(actual, torch.Tensor) and actual.dim() == 0:
        return ("You reduced the gradient to one number (a sum or a dot product): a gradient has the "
                "shape of the thing it is the gradient of.")
    if mismatch.kind == "shape" and isinstance(actual, torch.Tensor) and actual.shape == expected.shape[::-1]:
        return "Your answer is transposed: a gradient has the shape of the thing it is the gradient of."
    if mismatch.kind == "shape":
        return "A gradient has the shape of the thing it is the gradient of; compare the shapes above."
    if mismatch.kind in ("keys", "length"):
        return f"The answer's structure differs from the contract's: {mismatch.detail}."
    return f"The answer is of the wrong kind: {mismatch.detail}."
