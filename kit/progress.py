"""Where the learner stands: each exercise done, failing or not attempted, and what to do next.

`summary` writes the lines that end a learner's run (kit/plugin.py: the terminal and the report):
a line per chapter, the count and the next step. A run in which nothing is attempted yet (the
untouched stubs) gets the welcome instead: what the kit is, the chapters, where to begin; a
next exercise whose module does not import points at the file and line to fix, not at a hint.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from kit.registry import CHAPTERS, EXERCISES
from kit.statuses import Status

MARKS = {"done": "✔", "failing": "✘", "not attempted": "·"}
WHAT = "backprop-kit: you derive gradients by hand, checked against torch.autograd."


def status_of(outcome: str, failure_status: str | None) -> str:
    """A test's outcome ("passed"/"failed") and the ExerciseFailure status, as progress."""
    if outcome == "passed":
        return "done"
    return "not attempted" if failure_status == Status.NOT_ATTEMPTED else "failing"


def next_exercise(statuses: dict[str, str]) -> str | None:
    """The first exercise, in curriculum order, that is not done yet."""
    return next((eid for eid in EXERCISES if eid in statuses and statuses[eid] != "done"), None)


def default_file(module: str) -> str:
    return f"exercises/{module}.py"


def summary(statuses: dict[str, str], verbosity: int = 0, broken: Mapping[str, Mapping] | None = None,
            files: Callable[[str], str] = default_file) -> list[str]:
    """The progress lines: a line per chapter (not with -q), the count, the next exercise and its hint.

    `broken`: the modules that do not import, each to {"file", "line", "error"} (any may be
    missing); `files`: a module's file as the learner opens it (default exercises/<module>.py).
    """
    if not statuses or verbosity < -1:
        return []
    if all(s == "not attempted" for s in statuses.values()):
        return welcome(statuses, verbosity, files)
    done = sum(s == "done" for s in statuses.values())
    lines = table(statuses) if verbosity >= 0 else []
    if verbosity >= 0:
        lines.append(f"{MARKS['done']} done  {MARKS['failing']} failing  {MARKS['not attempted']} not attempted")
    upcoming = next_exercise(statuses)
    if upcoming is None:
        lines.append(f"{done} of {len(statuses)} done: every exercise in this run passes.")
        return lines
    module = EXERCISES[upcoming].module
    if broken and module in broken:
        lines.extend(fix_the_file(statuses, done, module, broken[module], files))
    else:
        lines.append(f"{done} of {len(statuses)} done. Next: {upcoming} ({statuses[upcoming]})")
        lines.append(f"  Hint: {EXERCISES[upcoming].hint}")
    return lines


def chapters(statuses: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    """The chapters of the run, in order: each module, its title and its exercises' statuses."""
    found = []
    for module, title in CHAPTERS.items():
        ids = [eid for eid in EXERCISES if eid in statuses and EXERCISES[eid].module == module]
        if ids:
            found.append((module, title, [statuses[eid] for eid in ids]))
    return found


def table(statuses: dict[str, str]) -> list[str]:
    """A line per chapter of the run: its module, title, a mark per exercise and the count."""
    lines = []
    for module, title, of_chapter in chapters(statuses):
        marks = "".join(MARKS[s] for s in of_chapter)
        lines.append(f"{module:22} {title:22} {marks:12} {of_chapter.count('done')}/{len(of_chapter)}")
    return lines


def welcome(statuses: dict[str, str], verbosity: int, files: Callable[[str], str]) -> list[str]:
    """A run of untouched stubs (the first one): what the kit is, the chapters, how to begin."""
    first = EXERCISES[next(eid for eid in EXERCISES if eid in statuses)]
    begin = [f"Begin: open {files(first.module)} and write {first.name}",
             "(`kit hint` gives its hint), then run pytest again."]
    if verbosity < 0:
        return [f"0 of {len(statuses)} done. Begin: write {first.name} in {files(first.module)}",
                "  (`kit hint` gives its hint), then run pytest again."]
    return [WHAT, *table(statuses),
            f"0 of {len(statuses)} done: {MARKS['not attempted']} not attempted, "
            "each stub still raises NotImplementedError.", *begin]


def fix_the_file(statuses: dict[str, str], done: int, module: str, where: Mapping,
                 files: Callable[[str], str]) -> list[str]:
    """The next step when the next exercise's module does not import: the file and line to fix."""
    path = where.get("file") or files(module)
    at = f"{path}, line {where['line']}" if where.get("line") else path
    count = sum(EXERCISES[eid].module == module for eid in statuses)
    error = where.get("error", "")
    lines = [f"{done} of {len(statuses)} done. Next: fix {at}"]
    if error:
        lines.append(f"  {error}")
    lines.append(f"  ({files(module)} does not import: none of its {count} exercises could be checked)")
    return lines
