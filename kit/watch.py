"""`kit watch`: rerun the exercise being worked on whenever a module in the folder is saved.

The current exercise is the first, in curriculum order, that does not pass. Each save reruns
it (the learner profile, in this process, with the folder's modules imported afresh) and
prints the verdict and the hint; when it passes, the watch moves on to the next one.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from kit.check import ExerciseFailure, check
from kit.implementation import Implementation
from kit.registry import EXERCISES


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.py"))}


def fresh(folder: Path) -> Implementation:
    """The folder's modules imported anew, with nothing of them left from an earlier import."""
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", "") or "/").resolve().parent == folder.resolve():
            del sys.modules[name]
    return Implementation(folder)


def verdict(exercise, folder: Path) -> ExerciseFailure | None:
    try:
        check(exercise, fresh(folder))
    except ExerciseFailure as failure:
        return failure
    return None


def advance(ids: list[str], start: int, folder: Path, say) -> int:
    """From ids[start] on, the index of the first exercise that does not pass (len(ids) if none)."""
    for index in range(start, len(ids)):
        exercise = EXERCISES[ids[index]]
        failure = verdict(exercise, folder)
        if failure is None:
            say(f"✔ {exercise.id} passes")
            continue
        say(f"✘ {exercise.id}: {failure.status}")
        say(failure.message)
        say(f"Hint: {exercise.hint}")
        say(f"Watching {folder} for changes; save to rerun, Ctrl-C to stop.")
        return index
    say("✔ Every exercise passes. Well done!")
    return len(ids)


def watch(folder: Path, interval: float = 0.5, say=lambda line: print(line, flush=True)) -> None:
    from hypothesis import settings

    import kit.profiles  # noqa: F401

    settings.load_profile("learner")
    torch.set_num_threads(1)  # as in the pytest plugin: tiny tensors
    ids = list(EXERCISES)
    current = advance(ids, 0, folder, say)
    seen = snapshot(folder)
    while current < len(ids):
        time.sleep(interval)
        now = snapshot(folder)
        if now != seen:
            seen = now
            say(f"\n— change seen; rerunning {ids[current]} —")
            current = advance(ids, current, folder, say)
