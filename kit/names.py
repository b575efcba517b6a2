"""The one grammar that names exercises, for `kit check`, `kit hint`, `kit grade --only` and `kit export --only`.

A list is names separated by commas; each name is one of:
    6, 1-3                       chapter numbers, or a range of them
    ch6, ch6_functions           a chapter, by its tag or its module
    sigmoid_grad                 an exercise, by its function name when only one chapter has it
    ch6_functions.sigmoid_grad   an exercise, by its id (ch6.sigmoid_grad works too)
`select` returns the exercises named, in curriculum order, each once.
"""
from __future__ import annotations

import re

from kit.exercise import Exercise
from kit.registry import CHAPTERS, EXERCISES

GRAMMAR = "chapter numbers (6, 1-3), chapters (ch6, ch6_functions), exercise names (sigmoid_grad) or ids " \
          "(ch6_functions.sigmoid_grad), separated by commas"


class UnknownName(ValueError):
    """A name that is no chapter or exercise; its message says what names look like."""


def chapter_module(tag: str) -> str | None:
    """The chapter module for "ch6", "ch6_functions" or "6"; None when there is none."""
    for number, module in enumerate(CHAPTERS, start=1):
        if tag in (module, module.split("_")[0], str(number)):
            return module
    return None


def _one(name: str) -> list[Exercise]:
    span = re.fullmatch(r"(\d+)-(\d+)", name)
    if span:
        low, high = int(span.group(1)), int(span.group(2))
        if not 1 <= low <= high <= len(CHAPTERS):
            raise UnknownName(f"no chapters {name}: chapters are numbered 1-{len(CHAPTERS)}")
        modules = list(CHAPTERS)[low - 1:high]
        return [e for e in EXERCISES.values() if e.module in modules]
    module = chapter_module(name)
    if module:
        return [e for e in EXERCISES.values() if e.module == module]
    if re.fullmatch(r"\d+", name):
        raise UnknownName(f"no chapter {name}: chapters are numbered 1-{len(CHAPTERS)}")
    chapter, dot, function = name.rpartition(".")
    if dot:
        module = chapter_module(chapter)
        if module and f"{module}.{function}" in EXERCISES:
            return [EXERCISES[f"{module}.{function}"]]
        if module:
            names = ", ".join(e.name for e in EXERCISES.values() if e.module == module)
            raise UnknownName(f"no exercise {name!r}{_close(function)}; the exercises of {module} are {names}")
        raise UnknownName(f"no exercise {name!r}: no chapter {chapter!r}; names are {GRAMMAR}")
    found = [e for e in EXERCISES.values() if e.name == name]
    if len(found) > 1:
        raise UnknownName(f"{name!r} is in several chapters; say which: {', '.join(e.id for e in found)}")
    if not found:
        raise UnknownName(f"no exercise or chapter {name!r}{_close(name)}; names are {GRAMMAR}")
    return found


def _close(name: str) -> str:
    import difflib

    names = sorted({e.name for e in EXERCISES.values()})
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def select(names: str | list[str]) -> list[Exercise]:
    """The exercises that `names` (one comma-separated list, or several) name, in curriculum order."""
    tokens = [t.strip() for text in ([names] if isinstance(names, str) else names) for t in text.split(",")]
    if not any(tokens):
        raise UnknownName(f"no names given; names are {GRAMMAR}")
    chosen = {e.id for token in tokens if token for e in _one(token)}
    return [e for eid, e in EXERCISES.items() if eid in chosen]
