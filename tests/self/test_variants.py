"""The tests must reject the mistakes learners make, and accept right answers written differently.

Every exercise has at least two WRONG variants, each of which the exercise's check must fail
(with a wrong answer or an error, never "not attempted"), and at least one RIGHT variant,
which must pass. Variants live in tests/self/variants/<module>.py.
"""
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import settings

from kit.check import ExerciseFailure, check
from kit.implementation import Implementation
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = Implementation(ROOT / "solutions")
VARIANTS = Implementation(Path(__file__).parent / "variants")
GRADING = settings.get_profile("grading")


class Patched(Implementation):
    """The reference solutions with some attributes replaced."""

    def __init__(self, overrides: dict):
        super().__init__(SOLUTIONS.folder)
        self.overrides = overrides

    def module(self, name):
        return SimpleNamespace(**{**vars(SOLUTIONS.module(name)), **self.overrides})


def variants(kind: str) -> list:
    found = []
    for module in CHAPTERS:
        for name, why, replacement in getattr(VARIANTS.module(module), kind):
            overrides = replacement if isinstance(replacement, dict) else {name: replacement}
            found.append(pytest.param(EXERCISES[f"{module}.{name}"], overrides, id=f"{module}.{name}: {why}"))
    return found


@pytest.mark.parametrize(("exercise", "overrides"), variants("WRONG"))
def test_wrong_variant_is_caught(exercise, overrides):
    with pytest.raises(ExerciseFailure) as failure:
        check(exercise, Patched(overrides), GRADING)
    assert failure.value.status in ("wrong", "error"), failure.value.message


@pytest.mark.parametrize(("exercise", "overrides"), variants("RIGHT"))
def test_right_variant_passes(exercise, overrides):
    check(exercise, Patched(overrides), GRADING)


@pytest.mark.parametrize("exercise", EXERCISES.values(), ids=str)
def test_every_exercise_has_variants(exercise):
    def count(kind):
        return sum(name == exercise.name for name, _, _ in getattr(VARIANTS.module(exercise.module), kind))
    assert count("WRONG") >= 2, f"{exercise.id} needs at least two WRONG variants"
    assert count("RIGHT") >= 1, f"{exercise.id} needs at least one RIGHT variant"
