"""Each exercise has a hypothesis database key of its own (kit/check.py: _search).

Every exercise's @given test is the same inner function, and hypothesis derives a test's key
from that function; kit.check gives each exercise its own through an attribute that is not
hypothesis' public interface. These tests watch the keys through the public one, a database
(hypothesis.database.ExampleDatabase), so an upgrade of hypothesis that changes the attribute
fails here rather than letting exercises replay each other's failing inputs.
"""
import pytest
from hypothesis import settings
from hypothesis.database import InMemoryExampleDatabase

from kit.check import ExerciseFailure, check
from kit.registry import EXERCISES

FIRST, SECOND = EXERCISES["ch3_power_rule.square_grad"], EXERCISES["ch3_power_rule.power_grad"]


class Watched(InMemoryExampleDatabase):
    """An in-memory database that notes every key it is asked to save or fetch."""

    def __init__(self):
        super().__init__()
        self.saved, self.fetched = set(), set()

    def save(self, key: bytes, value: bytes) -> None:
        self.saved.add(key)
        super().save(key, value)

    def fetch(self, key: bytes):
        self.fetched.add(key)
        yield from super().fetch(key)


class WrongOnDrawnInputs:
    """Torch's answers to the worked examples (check() asks those first), then a wrong kind of
    answer: the failure is one hypothesis finds, and saves."""

    def __init__(self, exercise):
        self.examples = len(exercise.examples)

    def call(self, exercise, args):
        self.examples -= 1
        return (exercise.reference(*args) if self.examples >= 0 else None), None


def failing_keys(exercise, database: Watched) -> set[bytes]:
    database.saved.clear()
    with pytest.raises(ExerciseFailure):
        check(exercise, WrongOnDrawnInputs(exercise), settings(settings.get_profile("learner"), database=database))
    return set(database.saved)


def test_two_exercises_save_their_failures_under_distinct_keys():
    database = Watched()
    first, second = failing_keys(FIRST, database), failing_keys(SECOND, database)
    assert first and second
    assert not first & second


def test_an_exercise_fetches_its_own_key_first_on_the_next_run():
    database = Watched()
    saved = failing_keys(FIRST, database)
    database.fetched.clear()
    assert failing_keys(FIRST, database) == saved
    assert saved <= database.fetched
