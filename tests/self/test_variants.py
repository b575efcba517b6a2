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
from kit.diagnosis import diagnose
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


def test_the_diagnosis_names_most_wrong_variants(capsys):
    wrong = variants("WRONG")
    unnamed = [p.id for p in wrong if diagnose(p.values[0], Patched(p.values[1])) is None]
    named = len(wrong) - len(unnamed)
    with capsys.disabled():
        print(f"\ndiagnosis: names {named} of {len(wrong)} wrong variants ({named / len(wrong):.0%}); "
              f"not named: {'; '.join(unnamed) or 'none'}")
    assert named / len(wrong) > 0.8


@pytest.mark.parametrize(("exercise", "overrides"), variants("RIGHT"))
def test_a_right_variant_is_never_diagnosed(exercise, overrides):
    assert diagnose(exercise, Patched(overrides)) is None


@pytest.mark.parametrize("exercise", EXERCISES.values(), ids=str)
def test_every_exercise_has_variants(exercise):
    def count(kind):
        return sum(name == exercise.name for name, _, _ in getattr(VARIANTS.module(exercise.module), kind))
    assert count("WRONG") >= 2, f"{exercise.id} needs at least two WRONG variants"
    assert count("RIGHT") >= 1, f"{exercise.id} needs at least one RIGHT variant"
