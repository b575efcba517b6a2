"""The one exercise-name grammar (kit/names.py), and that every command that takes names reads it.

`kit check`, `kit hint`, `kit grade --only` and `kit export --only` must accept the same names
and refuse the same ones, with a message that says what names look like.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from kit.names import GRAMMAR, UnknownName, chapter_module, select
from kit.registry import CHAPTERS, EXERCISES

MODULES = list(CHAPTERS)


def ids(names) -> list[str]:
    return [e.id for e in select(names)]


@pytest.mark.parametrize("number, module", list(enumerate(MODULES, start=1)))
def test_a_chapter_by_number_tag_or_module(number, module):
    tag = module.split("_")[0]
    chapter = [eid for eid, e in EXERCISES.items() if e.module == module]
    assert chapter and ids(str(number)) == ids(tag) == ids(module) == chapter
    assert chapter_module(tag) == chapter_module(str(number)) == module


def test_ranges_lists_and_order():
    assert ids("1-3") == [eid for eid, e in EXERCISES.items() if e.module in MODULES[:3]]
    assert ids(f"1-{len(MODULES)}") == list(EXERCISES)
    assert ids("3,1") == ids("1,3") == ids(["1", "3"]) == ids(" 1 , 3 ")  # curriculum order, spaces ignored
    first = next(iter(EXERCISES))
    assert ids(f"{first},{first},1") == ids("1")  # each once


def test_an_exercise_by_id_by_tagged_id_or_by_a_unique_name():
    for eid, exercise in EXERCISES.items():
        assert ids(eid) == [eid]
        assert ids(f"{exercise.module.split('_')[0]}.{exercise.name}") == [eid]
        if sum(e.name == exercise.name for e in EXERCISES.values()) == 1:
            assert ids(exercise.name) == [eid]


def test_a_name_in_several_chapters_asks_which():
    shared = [n for n in {e.name for e in EXERCISES.values()}
              if sum(e.name == n for e in EXERCISES.values()) > 1]
    for name in shared:
        with pytest.raises(UnknownName, match="several chapters"):
            select(name)


@pytest.mark.parametrize("name, says", [
    ("0", "no chapter 0"), (str(len(MODULES) + 1), f"no chapter {len(MODULES) + 1}"), ("3-1", "no chapters 3-1"),
    ("1-99", "no chapters 1-99"), ("ch99", "no exercise or chapter"), ("sigmoid_grd", "did you mean sigmoid_grad"),
    ("ch6_functions.nope", "the exercises of ch6_functions are sigmoid, sigmoid_grad"),
    ("ch99.sigmoid_grad", "no chapter 'ch99'"),
    ("", "no names given"), (",", "no names given"), ("ch6_functions.", "no exercise"), ("-1", "no exercise"),
])
def test_unknown_names_say_what_names_look_like(name, says):
    with pytest.raises(UnknownName) as error:
        select(name)
    assert says in str(error.value)


def kit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kit.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["6", "ch6", "ch6_functions", "sigmoid_grad", "ch6.sigmoid_grad", "1-2,6"])
def test_hint_and_grade_only_read_the_same_grammar(name):
    from grading.cli import select as grade_only

    hint = kit("hint", name)
    assert hint.returncode == 0, hint.stderr
    assert [line.split(":")[0] for line in hint.stdout.splitlines()] == ids(name) == grade_only(name)


@pytest.mark.parametrize("name", ["99", "sigmoid_grd", "ch6_functions.nope"])
def test_every_command_refuses_the_same_names_clearly(name):
    from grading.cli import UsageError
    from grading.cli import select as grade_only

    for command in (["hint", name], ["check", name]):
        done = kit(*command)
        said = ("names are", "did you mean", "no chapter", "the exercises of")
        assert done.returncode != 0 and any(s in done.stderr for s in said), (command, done.stderr)
        assert "Traceback" not in done.stderr
    with pytest.raises(UsageError, match="--only"):
        grade_only(name)


def test_the_grammar_is_stated_once():
    assert "6" in GRAMMAR and "1-3" in GRAMMAR and "ch6_functions.sigmoid_grad" in GRAMMAR
