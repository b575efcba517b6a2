"""Points per exercise: the rubric file (TOML), over the exercises' own defaults.

    [chapters]                              # every exercise of a chapter, unless listed below
    ch9_training = 3
    [points]                                # one exercise, by its id
    "ch8_tensors.mlp_backward" = 4

An exercise in neither table is worth its `Exercise.points`. Points are non-negative numbers;
an unknown chapter or exercise id, another table, or a malformed file is a `RubricError`
that names the problem. The default rubric is grading/rubric.toml.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

from kit.registry import CHAPTERS, EXERCISES

DEFAULT = Path(__file__).with_name("rubric.toml")


class RubricError(ValueError):
    pass


def load(path: Path | str | None = None) -> dict[str, float]:
    """{exercise id: points} for every exercise of the registry, in curriculum order."""
    path = Path(path) if path is not None else DEFAULT
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RubricError(f"cannot read the rubric {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RubricError(f"the rubric {path} is not valid TOML: {error}") from None
    return resolve(table, str(path))


def resolve(table: dict, name: str = "the rubric") -> dict[str, float]:
    unknown = sorted(set(table) - {"chapters", "points"})
    if unknown:
        raise RubricError(f"{name}: unknown table(s) {', '.join(unknown)}; a rubric has [chapters] and [points]")
    chapters = _section(table, "chapters", CHAPTERS, "chapter", name)
    points = _section(table, "points", EXERCISES, "exercise id", name)
    return {eid: points.get(eid, chapters.get(e.module, _number(e.points, f"{eid} (its default)", name)))
            for eid, e in EXERCISES.items()}


def _section(table: dict, key: str, known, what: str, name: str) -> dict[str, float]:
    section = table.get(key, {})
    if not isinstance(section, dict):
        raise RubricError(f"{name}: [{key}] must be a table of {what} = points")
    unknown = [k for k in section if k not in known]
    if unknown:
        raise RubricError(f"{name}: unknown {what}(s) in [{key}]: {', '.join(map(repr, unknown))}; "
                          f"known: {', '.join(known)}")
    return {k: _number(v, k, name) for k, v in section.items()}


def _number(value, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RubricError(f"{name}: points for {where} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise RubricError(f"{name}: points for {where} must be a finite number >= 0, not {value!r}")
    return value
