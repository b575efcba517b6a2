"""Exercise.draws: a heavy exercise draws a share of the profile's examples, in the learner's run,
under any hypothesis settings, and under a grading seed alike."""
import dataclasses

import pytest
from hypothesis import settings

from grading.seed import grading_settings
from kit.check import check
from kit.registry import EXERCISES

EXERCISE = EXERCISES["ch3_power_rule.square_grad"]


class Counting:
    """An Impl that answers as torch does and counts the drawn inputs it is called on."""

    def __init__(self, exercise):
        self.exercise, self.calls = exercise, 0

    def call(self, exercise, args):
        self.calls += 1
        return exercise.reference(*args), None


def drawn(share: float, given=None, seed: bytes | None = None) -> int:
    exercise = dataclasses.replace(EXERCISE, draws=share, examples=())
    counting = Counting(exercise)
    check(exercise, counting, grading_settings(exercise, seed) if seed else given)
    return counting.calls


@pytest.mark.parametrize(("share", "count"), [(1.0, 40), (0.25, 10), (0.1, 4), (0.001, 1)])
def test_a_share_of_the_settings_examples_is_drawn(share, count):
    assert drawn(share, settings(settings.get_profile("grading"), max_examples=40)) == count


def test_the_loaded_profile_is_scaled_when_no_settings_are_given():
    assert drawn(0.25, None) == round(settings.default.max_examples * 0.25)


def test_a_grading_seed_keeps_its_seed_and_draws_its_share():
    every, share = drawn(1.0, seed=b"a seed"), drawn(0.1, seed=b"a seed")
    assert every == settings.get_profile("grading").max_examples
    assert share == round(every * 0.1)
    scaled = grading_settings(EXERCISE, b"a seed").scaled(0.1)
    assert scaled.seed == grading_settings(EXERCISE, b"a seed").seed
