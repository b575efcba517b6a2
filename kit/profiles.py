"""Hypothesis profiles, registered once, on import: a parent and the three derived from it.

- kit: the parent, what every draw of the kit shares (below). Its own parent is the profile in
  effect when this module is imported: hypothesis' "default", or its "ci" on a CI machine.
- learner (default for `pytest`): quick, 20 drawn inputs an exercise after its worked examples
  (40 for the 43 exercises of chapters 1 to 9, 25 and then 20 as chapters 10 to 13 came: the
  whole run stays within 4x the import floor, benchmarks/learner.py, where drawing the inputs
  is most of the time), and remembers failing inputs in .hypothesis/ so the next run tries
  them first.
- grading (`--hypothesis-profile grading`, and the self-tests): thorough, derandomized and
  database-free, so every run tries the same inputs: a learner's rehearsal of grading.
  `kit grade` draws with these settings from the instructor's seed instead (grading/cases.py):
  the graded inputs are the same in every run, yet not the ones this profile shows.
- diagnosis: the few inputs kit.diagnosis tries a wrong answer on (kit.diagnosis.sample_inputs):
  derandomized, generated only (nothing to shrink: they never fail), with no health check.
"""
from hypothesis import HealthCheck, Phase, Verbosity, settings

settings.register_profile(
    "kit",
    deadline=None,  # a learner's print() or first torch call must not fail a test
    report_multiple_bugs=False,  # one clear failure per exercise
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("learner", parent=settings.get_profile("kit"), max_examples=20)
settings.register_profile("grading", parent=settings.get_profile("kit"), max_examples=150, derandomize=True,
                          database=None, verbosity=Verbosity.quiet)
settings.register_profile("diagnosis", parent=settings.get_profile("kit"), max_examples=8, derandomize=True,
                          database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
