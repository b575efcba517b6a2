"""The one registry of exercises, in the curriculum's order (CURRICULUM.md is its readable page).

Each chapter in kit/chapters/ (a module, or a package when it outgrows one file) declares its
exercises beside their references: `EXERCISES.append(Exercise(module=..., name=..., ...))`;
tests, grading, hints and reports all read them from here.
"""
from __future__ import annotations

import importlib

from kit.exercise import Exercise

CHAPTERS: dict[str, str] = {
    "ch1_sensitivity": "Sensitivity",
    "ch2_chain_rule": "The chain rule",
    "ch3_power_rule": "The power rule",
    "ch4_product_rule": "The product rule",
    "ch5_backprop_by_hand": "Backprop by hand",
    "ch6_functions": "Important functions",
    "ch7_engine": "An autograd engine",
    "ch8_tensors": "Tensors",
    "ch9_training": "Training",
    "ch10_convolution": "Convolution",
    "ch11_recurrence": "Recurrence",
    "ch12_attention": "Attention",
    "ch13_gpt": "A tiny GPT",
}


def _load() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for chapter in CHAPTERS:
        for exercise in importlib.import_module(f"kit.chapters.{chapter}").EXERCISES:
            assert exercise.module == chapter, f"{exercise.id} is declared in {chapter}"
            found[exercise.id] = exercise
    return found


EXERCISES: dict[str, Exercise] = _load()


def file_order(name: str) -> tuple[int, str]:
    """A sort key that puts the files of chapters (ch10_convolution.py, test_ch10_convolution.py,
    ch10_convolution.ipynb) in the curriculum's order, where sorting by name would put ch10 before
    ch1; any other name comes after them, by name."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0].removeprefix("test_")
    return (list(CHAPTERS).index(stem) if stem in CHAPTERS else len(CHAPTERS), name)


def chapter(module: str) -> list[Exercise]:
    return [e for e in EXERCISES.values() if e.module == module]


def get(exercise_id: str) -> Exercise:
    try:
        return EXERCISES[exercise_id]
    except KeyError:
        raise KeyError(f"no exercise {exercise_id!r}; known: {', '.join(EXERCISES)}") from None
