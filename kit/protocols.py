"""The `Impl` protocol: what kit.check asks of an implementation under test, and all it asks.

Two kinds of object satisfy it: a folder of the learner's modules loaded in this process
(kit.implementation.Implementation) and a submission's sandboxed worker (the grader's).
This module imports only the standard library.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kit.exercise import Exercise


class Impl(Protocol):
    def call(self, exercise: Exercise, args: tuple[Any, ...]) -> tuple[Any, str | None]:
        """(answer, changed): the answer of the exercise's function to `args`, and the name of
        the first argument it changed in place (None when it changed none). The learner's code
        failing to load or raising is a kit.implementation.LearnerError."""
        ...
