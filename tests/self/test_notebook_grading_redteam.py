"""The red team's attacks (tests/self/test_redteam.py), handed in as notebook cells: contained the same way.

A notebook's top-level calls never run (grading/notebooks.py), so each attack runs where a
notebook's code does run: in the exercise's function, when the grader calls it, and, for some,
in a class body, while the notebook is loaded. Honest classmates hand in notebooks (and one a
module) with a mark the thieves look for.
"""
from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest
from test_notebook_grading import NOISE, notebook
from test_redteam import (
    CLASSMATE_MARK,
    HEAD,
    SECRET,
    SECRET_ENV,
    SOLUTION,
    STUB,
    Listener,
    attackers,
    everything_said,
    grade_in_process,
)

from grading.isolation import UID_BASE, Setting
from grading.processes import zygote_processes

ATTACKS = ("forge_passed", "forge_many", "reach", "thief", "writer", "killer", "linger", "fork_hog", "fork_bomb")
NUMERIC_STUB = "def numeric_sensitivity(f, x, h=1e-5):\n    raise NotImplementedError\n"
CLASSMATE_NOTEBOOK = '''
attempt("classmate-notebook", lambda: read(os.path.join(os.path.dirname(here), "s*", "nb-01.ipynb")))
def append_to_notebooks():
    written = 0
    for i in range(40):
        try:
            written += open(os.path.join(os.path.dirname(here), f"s{i:05d}", "nb-01.ipynb"), "a").write("x")
        except OSError:
            pass
    return written > 0 or False
attempt("classmate-notebook-write", append_to_notebooks)
'''


def in_cells(source: str, name: str) -> str:
    """The attack's notebook: its body run once, in scale_sensitivity's first call; the body also
    as a cell of its own, whose calls never run."""
    body = textwrap.dedent(source[len(HEAD):-len(textwrap.dedent(STUB))])
    if name in ("thief", "writer"):
        body += CLASSMATE_NOTEBOOK
    call = ("DONE = []\n\ndef scale_sensitivity(x, k):\n    if not DONE:\n        DONE.append(1)\n"
            "        print('ATTACKED', flush=True)\n" + textwrap.indent(body, "        ") +
            "\n    raise NotImplementedError\n")
    return notebook(NOISE[0], HEAD, body + '\nattempt("top-level", lambda: True)\n', call, NUMERIC_STUB, NOISE[4])


def make_class(root: Path, out: Path, cache: Path, listener: Listener) -> Path:
    submissions = root / "class"
    sources = attackers(out, cache, listener.tcp.getsockname()[1], listener.udp.getsockname()[1])
    students = {name: in_cells(sources[name], name) for name in ATTACKS}
    for name in ("engine", "references"):  # their own functions: run as they are, when called
        students[name] = notebook(NOISE[0], sources[name], NOISE[5])
    students["load_killer"] = notebook(HEAD, "class Loaded:\n    attempt('kill-all', lambda: os.kill(-1, 9))\n"
                                             "    attempt('kill-parent', lambda: os.kill(os.getppid(), 9))\n"
                                             "    print('LOADED', flush=True)\n", STUB)
    mark = f"\n# {CLASSMATE_MARK}\n"
    students["honest"] = notebook(NOISE[0], SOLUTION + mark, *NOISE[3:])
    students["honest_too"] = notebook(SOLUTION.replace("return float(k)", "return k * 1.0") + mark, NOISE[5])
    for student, text in students.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / f"{student} work.ipynb").write_text(text)
    (submissions / "honest_module").mkdir()
    (submissions / "honest_module" / "ch1_sensitivity.py").write_text(SOLUTION + mark)
    return submissions


HONEST = ("honest", "honest_too", "honest_module")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    setting = Setting.detect()
    root = tmp_path_factory.mktemp("notebook-redteam")
    out, cache = root / "out", root / "cache"
    out.mkdir()
    cache.mkdir()
    listener = Listener()
    submissions = make_class(root, out, cache, listener)
    os.environ[SECRET_ENV] = SECRET
    started = time.monotonic()
    try:
        first = grade_in_process(submissions, setting, cache)
    finally:
        del os.environ[SECRET_ENV]
        time.sleep(0.5)
        listener.close()
    return {"setting": setting, "first": first, "root": root, "out": out, "cache": cache,
            "received": listener.received, "submissions": submissions, "seconds": time.monotonic() - started}


def by_student(graded) -> dict:
    return {r.student: r for r in graded["first"]}


def test_every_attack_in_a_cell_scores_zero_and_nothing_escaped(graded):
    for result in graded["first"]:
        said = everything_said(result)
        assert "ESCAPED" not in said, (result.student, said[:2000])
        if result.student not in HONEST:
            assert result.score == 0, (result.student, [(r.exercise, r.status, r.feedback[:300])
                                                        for r in result.results])
    students = by_student(graded)
    for student in ("reach", "thief", "writer", "killer"):  # the attack did run, in the call
        assert "ATTACKED" in everything_said(students[student]), (student, everything_said(students[student])[:500])
    assert "LOADED" in everything_said(students["load_killer"])  # and in a class body, at load
    print(f"graded the notebook red team in {graded['seconds']:.1f} s")


def test_honest_notebooks_keep_every_point(graded):
    students = by_student(graded)
    for student in HONEST:
        assert students[student].score == 2, [(r.exercise, r.status, r.feedback[:300])
                                              for r in students[student].results]


def test_forged_replies_from_a_cell_are_not_believed(graded):
    students = by_student(graded)
    for student in ("forge_passed", "forge_many"):
        assert "passed" not in {r.status for r in students[student].results}, student


def test_autograd_and_the_kits_references_from_cells_score_nothing(graded):
    students = by_student(graded)
    assert {r.status for r in students["engine"].results} == {"autograd"}, \
        [(r.status, r.feedback[:300]) for r in students["engine"].results]
    assert {r.status for r in students["references"].results} <= {"autograd", "error", "crashed", "wrong",
                                                                 "not attempted"}


def test_no_secret_or_classmate_reaches_a_report_and_nothing_reached_loopback(graded):
    for result in graded["first"]:
        said = everything_said(result)
        assert SECRET not in said, result.student
        if result.student not in HONEST:
            assert CLASSMATE_MARK not in said, result.student
            assert "Reference solutions" not in said, result.student
    assert graded["received"] == []
    if graded["setting"].root:
        said = everything_said(by_student(graded)["reach"])
        assert int(said.split("UID ", 1)[1].split()[0]) >= UID_BASE


def test_nothing_was_written_and_nothing_outlives_the_grader(graded):
    assert list(graded["out"].iterdir()) == []
    assert not (graded["cache"] / "evil").exists()
    assert not Path("/tmp/evil-tmp").exists() and not Path("/dev/shm/evil").exists()
    for student in ("honest", "honest_too"):
        text = (graded["submissions"] / student / f"{student} work.ipynb").read_text()
        assert CLASSMATE_MARK in text and json.loads(text)["nbformat"] == 4  # never appended to
    assert zygote_processes() == []
