"""Hypothesis profiles, registered once on import.

- learner (default for `pytest`): quick, remembers failing inputs in .hypothesis/ so the
  next run tries them first.
- grading (`--hypothesis-profile grading`, and the self-tests): thorough, derandomized and
  database-free, so every run tries the same inputs: a learner's rehearsal of grading.
  `kit grade` draws with these settings from the instructor's seed instead (grading/cases.py):
  the graded inputs are the same in every run, yet not the ones this profile shows.
"""
from hypothesis import HealthCheck, Verbosity, settings

_common = dict(
    deadline=None,  # a learner's print() or first torch call must not fail a test
    report_multiple_bugs=False,  # one clear failure per exercise
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

settings.register_profile("learner", max_examples=40, **_common)
settings.register_profile("grading", max_examples=150, derandomize=True, database=None,
                          verbosity=Verbosity.quiet, **_common)
