"""What the kit knows about one exercise: its id, domain, torch reference, points and hint.

Every field is given by keyword, so that a declaration reads as what it is (`domain=...`,
`hint=...`). Each chapter module (or a chapter package's `declarations` module) starts with
`EXERCISES: list[Exercise] = []` and declares each exercise right after its torch reference:
the reference's `def`, then `EXERCISES.append(Exercise(module=..., name=..., reference=...,
inputs=..., examples=..., domain=..., hint=..., ...))`, in curriculum order.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from hypothesis.strategies import SearchStrategy

from kit.drivers import call_function


@functools.cache
def _parameter_names(function) -> tuple[str, ...]:  # inspect.signature is slow, and asked often
    return tuple(inspect.signature(function).parameters)


@dataclass(frozen=True, kw_only=True)
class Exercise:
    module: str  # "ch6_functions"
    name: str  # "sigmoid_grad"
    inputs: SearchStrategy  # draws the argument tuple
    reference: Callable[..., Any]  # torch.autograd on the same arguments; its parameter names are the contract's
    examples: tuple  # argument tuples always tried first: the worked numbers and the edge cases
    domain: str  # the inputs' domain in words, as the learner's page states it
    hint: str  # one sentence that points at the idea, not at the answer
    tolerance: str = "derivative"  # a row of kit.compare.TOLERANCES
    points: int = 1
    # the share of the profile's max_examples drawn for this exercise (at least one input): an
    # exercise whose reference is heavy (a GPT trained for some steps) draws fewer, so that the
    # learner's run and grading keep their pace
    draws: float = 1.0
    more: str = ""  # a second, more direct hint (`kit hint --more`)
    misconceptions: tuple = ()  # kit.diagnosis.Misconception: classic wrong answers, named on a match
    estimate: Callable[..., Any] | None = None  # args -> a central-difference estimate of the answer
    # for a scalar exercise, (low, high, t -> args): the report plots yours and torch's for t in [low, high]
    curve: tuple | None = None
    reference_name: str = "torch"  # how messages name the reference
    # a tuple answer's parts, as the contract names them, in order: ("dx", "dW", "db"); () for an
    # answer of another kind (a dict's keys are its names; a list's items are counted)
    answer_names: tuple[str, ...] = ()
    # the methods of `symbol`'s class that this exercise grades, for the message when one is
    # missing (ch7: add grades "__add__" and "__radd__"); () for a function
    methods: tuple[str, ...] = ()
    symbol: str = ""  # the module attribute the driver needs, when it is not `name` (ch7: "Value")
    # optional: (impl) -> an HTML fragment (inline SVG) for the pytest-html report, e.g. loss curves
    picture: Callable[[Any], str] | None = None
    # how the learner's code is driven; it runs where the learner's code runs, and returns plain data
    run: Callable[[ModuleType, str, tuple], Any] = field(default=call_function)

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def chapter(self) -> str:
        return self.module

    @property
    def attribute(self) -> str:
        return self.symbol or self.name

    def parameter_names(self) -> list[str]:
        return list(_parameter_names(self.reference))

    def __str__(self) -> str:
        return self.id
