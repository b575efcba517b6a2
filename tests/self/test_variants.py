"""The tests must reject the mistakes learners make, and accept right answers written differently.

Every exercise has at least two WRONG variants, each of which the exercise's check must fail
(with a wrong answer or an error, never "not attempted"), and at least one RIGHT variant,
which must pass. Variants live in tests/self/variants/<module>.py.

From chapter 10 on, every WRONG variant is also diagnosed (a misconception names it), and the
variants of those chapters are checked again on the inputs of other grading seeds, as
`kit grade` draws them for a course: a variant caught or passed only on the derandomized
profile's inputs would be luck.
"""
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import settings

from grading.seed import grading_settings
from kit.check import ExerciseFailure, check
from kit.diagnosis import diagnose
from kit.implementation import Implementation
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = Implementation(ROOT / "solutions")
VARIANTS = Implementation(Path(__file__).parent / "variants")
GRADING = settings.get_profile("grading")
ALWAYS_DIAGNOSED = ("ch10_convolution", "ch11_recurrence", "ch12_attention", "ch13_gpt")
SEEDS = (b"a course's seed", b"another course's seed")


class Patched(Implementation):
    """The reference solutions with some attributes replaced."""

    def __init__(self, overrides: dict):
        super().__init__(SOLUTIONS.folder)
        self.overrides = overrides

    def module(self, name):
        return SimpleNamespace(**{**vars(SOLUTIONS.module(name)), **self.overrides})


def variants(kind: str, chapters=CHAPTERS) -> list:
    found = []
    for module in chapters:
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


@pytest.mark.parametrize("seed", SEEDS, ids=("seed 1", "seed 2"))
@pytest.mark.parametrize(("exercise", "overrides"), variants("WRONG", ALWAYS_DIAGNOSED))
def test_wrong_variant_is_caught_on_other_seeds(exercise, overrides, seed):
    with pytest.raises(ExerciseFailure) as failure:
        check(exercise, Patched(overrides), grading_settings(exercise, seed))
    assert failure.value.status in ("wrong", "error"), failure.value.message


@pytest.mark.parametrize("seed", SEEDS, ids=("seed 1", "seed 2"))
@pytest.mark.parametrize(("exercise", "overrides"), variants("RIGHT", ALWAYS_DIAGNOSED))
def test_right_variant_passes_on_other_seeds(exercise, overrides, seed):
    check(exercise, Patched(overrides), grading_settings(exercise, seed))


@pytest.mark.parametrize(("exercise", "overrides"), variants("WRONG", ALWAYS_DIAGNOSED))
def test_every_wrong_variant_of_the_later_chapters_is_diagnosed(exercise, overrides):
    assert diagnose(exercise, Patched(overrides)) is not None
