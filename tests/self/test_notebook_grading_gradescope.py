"""Gradescope's runtime with a notebook in /autograder/submission: graded as the same modules are.

The zip is `kit export gradescope --only 1-2`, run as Gradescope runs it (tests/self/test_export.py's
run_autograder); the student's submission is one notebook, under the name Colab gave it.
"""
from __future__ import annotations

import pytest
from test_export import assert_valid_results, run_autograder, unzip
from test_notebook_grading import CH1, CH2, NOISE, notebook

from kit.cli import main

WRONG_CH1 = CH1.replace("return float(k)", "return float(k * x)")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("gradescope-notebook")
    bundle = base / "autograder.zip"
    assert main(["export", "gradescope", "--out", str(bundle), "--only", "1-2"]) == 0
    root = base / "autograder"
    unzip(bundle, root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    return root


def test_run_autograder_grades_a_notebook_as_the_same_modules(exported):
    handed_in = {"Copy of Backprop_homework.ipynb": notebook(*NOISE[:3], WRONG_CH1, *NOISE[3:], CH2)}
    document, _ = run_autograder(exported, handed_in)
    assert_valid_results(document)
    tests = {t["name"].split(" ", 1)[1]: t for t in document["tests"]}
    assert {n: t["extra_data"]["kit_status"] for n, t in tests.items()} == {
        "scale_sensitivity": "wrong", "numeric_sensitivity": "passed", "chain_forward": "passed",
        "chain_sensitivity": "passed"}
    twin, _ = run_autograder(exported, {"ch1_sensitivity.py": WRONG_CH1, "ch2_chain_rule.py": CH2})
    assert document["score"] == twin["score"] == 3
    assert [(t["score"], t["output"]) for t in document["tests"]] == [(t["score"], t["output"]) for t in twin["tests"]]


def test_run_autograder_says_why_a_broken_notebook_scores_nothing(exported):
    document, _ = run_autograder(exported, {"homework.ipynb": notebook(CH1, CH2)[:-30]})
    assert_valid_results(document)
    assert document["score"] == 0
    assert all("homework.ipynb could not be read: it is not valid JSON" in t["output"] for t in document["tests"])
