"""Where the learner stands: each exercise done, failing or not attempted, and what to do next."""
from __future__ import annotations

from kit.registry import CHAPTERS, EXERCISES
from kit.statuses import Status

MARKS = {"done": "✔", "failing": "✘", "not attempted": "·"}


def status_of(outcome: str, failure_status: str | None) -> str:
    """A test's outcome ("passed"/"failed") and the ExerciseFailure status, as progress."""
    if outcome == "passed":
        return "done"
    return "not attempted" if failure_status == Status.NOT_ATTEMPTED else "failing"


def next_exercise(statuses: dict[str, str]) -> str | None:
    """The first exercise, in curriculum order, that is not done yet."""
    return next((eid for eid in EXERCISES if eid in statuses and statuses[eid] != "done"), None)


def summary(statuses: dict[str, str], verbosity: int = 0) -> list[str]:
    """The progress lines: a line per chapter (not with -q), the count, the next exercise and its hint."""
    if not statuses or verbosity < -1:
        return []
    done = sum(s == "done" for s in statuses.values())
    lines = []
    if verbosity >= 0:
        for module, title in CHAPTERS.items():
            ids = [eid for eid in EXERCISES if eid in statuses and EXERCISES[eid].module == module]
            if ids:
                marks = "".join(MARKS[statuses[eid]] for eid in ids)
                count = sum(statuses[eid] == "done" for eid in ids)
                lines.append(f"{module:22} {title:22} {marks:12} {count}/{len(ids)}")
        lines.append(f"{MARKS['done']} done  {MARKS['failing']} failing  {MARKS['not attempted']} not attempted")
    upcoming = next_exercise(statuses)
    if upcoming is None:
        lines.append(f"{done} of {len(statuses)} done: every exercise in this run passes.")
    else:
        lines.append(f"{done} of {len(statuses)} done. Next: {upcoming} ({statuses[upcoming]})")
        lines.append(f"  Hint: {EXERCISES[upcoming].hint}")
    return lines
