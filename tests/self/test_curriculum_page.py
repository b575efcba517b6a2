"""CURRICULUM.md ships with the project (made by kit/curriculum.py); the README names only what a clone has."""
from __future__ import annotations

import re
from pathlib import Path

from kit import curriculum
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
OURS = ("kit/", "grading/", "exercises/", "solutions/", "tests/", "benchmarks/", ".ci/")


def test_the_page_checked_in_is_the_page_the_stubs_give():
    checked_in = (ROOT / curriculum.PAGE).read_text(encoding="utf-8")
    assert checked_in == curriculum.page(), "CURRICULUM.md is stale: python -m kit.curriculum --write"


def test_every_exercise_has_its_numbered_entry_with_its_signature():
    page = curriculum.page()
    for number, module in enumerate(CHAPTERS, start=1):
        assert f"(`exercises/{module}.py`)" in page
        for position, exercise in enumerate([e for e in EXERCISES.values() if e.module == module], start=1):
            entry = page.split(f"### {number}.{position} `{exercise.name}`\n", 1)
            assert len(entry) == 2, exercise.id
            signature = entry[1].strip().splitlines()[0]
            assert signature.startswith("`") and "(" in signature, (exercise.id, signature)
            for name in [] if exercise.symbol else exercise.parameter_names():  # ch7: methods of Value
                assert name in signature, (exercise.id, name)


def test_the_page_and_the_readme_point_only_inside_the_project():
    for name in (curriculum.PAGE, "README.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "../shared" not in text and "tutorial" not in text.lower(), name
        for link in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" not in link:
                assert (ROOT / link).exists(), (name, link)
        for path in re.findall(r"`([^`\s<>*]+)`", text):
            if path.startswith(OURS) and "{" not in path:
                assert (ROOT / path.split("::")[0]).exists(), (name, path)


def test_the_readme_names_the_curriculum_page():
    assert f"]({curriculum.PAGE})" in (ROOT / "README.md").read_text(encoding="utf-8")
