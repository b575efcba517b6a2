"""`kit export`: the Gradescope autograder zip (GitHub Classroom's workflow: tests/self/test_classroom.py).

Gradescope's platform is laid out in a temporary folder as its specification describes it
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): the zip unpacked into
autograder/source, run_autograder copied to autograder/, the student's files in
autograder/submission. run_autograder runs with this virtualenv's python first on PATH
(setup.sh, which installs torch from the internet, is not run). Its results.json must follow
the specification, and score every exercise as `kit grade` does on the same submission, even
when the submission is broken and when `kit grade` or Python itself cannot run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading import pins
from grading.platforms import exporters, gradescope
from kit.cli import main
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ONLY = "1-2"  # chapters 1 and 2 only: quick to draw and to grade
TIMEOUT = "3"  # seconds per exercise, so the hanging submission costs little

# The output format of the specification ("Output format", "Controlling Test Case Visibility",
# "Test case status"), written here from the page, independently of grading/platforms/gradescope.py.
SPEC_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
SPEC_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
SPEC_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def assert_valid_results(document: dict) -> None:
    """results.json as the specification defines it, with the fields the kit always writes."""
    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    assert isinstance(document, dict) and set(document) <= SPEC_TOP, set(document) - SPEC_TOP
    assert number(document["score"]) and document["score"] >= 0
    assert isinstance(document["output"], str) and document["output"]
    assert document["visibility"] in SPEC_VISIBILITY
    assert isinstance(document.get("execution_time", 0), int)
    assert isinstance(document["tests"], list)
    for test in document["tests"]:
        assert set(test) <= SPEC_TEST, set(test) - SPEC_TEST
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test), test
        assert isinstance(test["name"], str) and isinstance(test["output"], str) and test["output"]
        assert number(test["score"]) and number(test["max_score"]) and 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
        assert test["visibility"] in SPEC_VISIBILITY
        assert isinstance(test.get("extra_data", {}), dict)
    assert document["score"] == sum(t["score"] for t in document["tests"])


def test_kit_export_offers_the_registrys_platforms():
    from kit.cli import parser

    commands = parser()._subparsers._group_actions[0].choices
    targets = commands["export"]._subparsers._group_actions[0].choices
    assert list(targets) == list(exporters()) == ["gradescope", "github-classroom"]
    for name, platform in exporters().items():
        assert targets[name].description == platform.description


# ---- Gradescope ----------------------------------------------------------------------------------

def solution(module: str) -> str:
    return (ROOT / "solutions" / f"{module}.py").read_text()


# student -> {module file: source}; expected kit statuses follow in EXPECTED
SUBMISSIONS = {
    "correct": {"ch1_sensitivity.py": solution("ch1_sensitivity"), "ch2_chain_rule.py": solution("ch2_chain_rule")},
    "wrong": {"ch1_sensitivity.py": solution("ch1_sensitivity").replace("return float(k)", "return float(k * x)"),
              "ch2_chain_rule.py": solution("ch2_chain_rule")},
    "broken": {"ch1_sensitivity.py": "raise RuntimeError('boom while importing')\n" + solution("ch1_sensitivity"),
               "ch2_chain_rule.py": solution("ch2_chain_rule") + "\n\ndef chain_forward(x, ks):\n    while True:\n"
                                                                 "        pass\n"},
    "empty": {},
}
EXPECTED = {  # student -> kit status per exercise (extra_data.kit_status)
    "correct": {"scale_sensitivity": "passed", "numeric_sensitivity": "passed",
                "chain_forward": "passed", "chain_sensitivity": "passed"},
    "wrong": {"scale_sensitivity": "wrong", "numeric_sensitivity": "passed",
              "chain_forward": "passed", "chain_sensitivity": "passed"},
    "broken": {"scale_sensitivity": "error", "numeric_sensitivity": "error",
               "chain_forward": "timeout", "chain_sensitivity": "passed"},
    "empty": {"scale_sensitivity": "missing", "numeric_sensitivity": "missing",
              "chain_forward": "missing", "chain_sensitivity": "missing"},
}


def unzip(bundle: Path, into: Path) -> None:
    """Extract with the modes stored in the zip (zipfile alone drops the executable bit)."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, into))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """Gradescope's /autograder, in a temporary folder, from `kit export gradescope`."""
    base = tmp_path_factory.mktemp("gradescope")
    bundle = base / "autograder.zip"
    assert main(["export", "gradescope", "--out", str(bundle), "--only", ONLY]) == 0
    root = base / "autograder"
    unzip(bundle, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope's image build does
    return bundle, root


def run_autograder(root: Path, files: dict, **environ) -> tuple[dict, str]:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    for name, text in files.items():
        (submission / name).write_text(text)
    env = {**os.environ, "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "AUTOGRADER_ROOT": str(root), "KIT_GRADE_OPTIONS": f"--timeout {TIMEOUT}", **environ}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


@pytest.fixture(scope="module")
def graded(platform):
    """Each submission through run_autograder, and the same class through `kit grade` directly."""
    _, root = platform
    klass, out = root.parent / "class", root.parent / "direct"
    for student, files in SUBMISSIONS.items():
        (klass / student).mkdir(parents=True)
        for name, text in files.items():
            (klass / student / name).write_text(text)
    direct_run = subprocess.Popen([PYTHON, "-m", "kit.cli", "grade", str(klass), "--out", str(out), "--only", ONLY,
                                   "--timeout", TIMEOUT, "-q"], stderr=subprocess.PIPE, text=True)  # meanwhile:
    through_gradescope = {student: run_autograder(root, files, **({"KIT_VISIBILITY": "after_published"}
                                                                  if student == "empty" else {}))
                          for student, files in SUBMISSIONS.items()}
    _, errors = direct_run.communicate(timeout=300)
    assert direct_run.returncode == 0, errors
    direct = {student: json.loads((out / "students" / student / "results.json").read_text())
              for student in SUBMISSIONS}
    return through_gradescope, direct


def test_the_zip_has_the_scripts_at_its_root_and_the_kit_without_answers(platform):
    bundle, root = platform
    with zipfile.ZipFile(bundle) as archive:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    tops = {name.split("/")[0] for name in modes}
    assert tops == {"setup.sh", "run_autograder", "kit-gradescope.json", "pyproject.toml", "README.md", "kit",
                    "grading", "grading-seed", "requirements.txt", "inputs"}
    assert modes["grading-seed"] == 0o600  # the course's seed: whoever reads it can predict the graded inputs
    graded = [eid for eid, e in EXERCISES.items() if e.module in ("ch1_sensitivity", "ch2_chain_rule")]  # ONLY
    assert sorted(n for n in modes if n.startswith("inputs/")) == sorted(
        ["inputs/recorded.json", *(f"inputs/{eid}.cases" for eid in graded)])  # the recording, for what it grades
    assert all(mode == 0o600 for name, mode in modes.items() if name.startswith("inputs/"))  # answers inside
    for package in ("kit", "kit/chapters", "grading", "grading/platforms"):
        for source in (ROOT / package).glob("*.py"):
            if source.relative_to(ROOT).as_posix() != "grading/scaffold.py":
                assert source.relative_to(ROOT).as_posix() in modes, source
    assert "grading/rubric.toml" in modes
    for data in [*(ROOT / "grading" / "templates").iterdir(), *(ROOT / "grading" / "platforms" / "files").iterdir()]:
        assert data.relative_to(ROOT).as_posix() in modes, data  # the pages' templates: kit grade writes them
    assert not any("__pycache__" in name or "sample_class" in name for name in modes)
    # the instructor's scaffold edits the repository: it grades nothing, and is not shipped
    assert not any("scaffold" in name for name in modes), [name for name in modes if "scaffold" in name]
    assert not any(name.split("/")[0] in ("solutions", "tests", "exercises") for name in modes)
    setup = (root / "source" / "setup.sh").read_text()
    pinned = pins.pinned()
    torch = f'"$VENV/bin/pip" install --no-deps torch=={pinned["torch"]} --index-url https://download.pytorch.org/whl/cpu'
    assert torch in setup
    assert '"$VENV/bin/pip" install --no-deps -r "$SOURCE/requirements.txt"' in setup
    assert '"$VENV/bin/pip" install --no-deps --no-build-isolation "$SOURCE"' in setup
    assert '"$VENV/bin/pip" check' in setup and f"PYTHON=python{pins.python()}" in setup
    assert (root / "source" / "requirements.txt").read_text() == pins.requirements_text(pinned)
    assert "chmod -R go-rwx" in setup  # the recorded answers stay root's
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0, script
        command = {"setup.sh": "warm-up", "run_autograder": "run"}[script]  # each calls its half
        assert f"-m grading.platforms.gradescope {command}" in (root / "source" / script).read_text(), script
        assert "{{" not in (root / "source" / script).read_text() and "{%" not in (root / "source" / script).read_text()


def test_the_bundled_sources_are_enough_to_grade(platform):
    """The unpacked source imports on its own: the registry, every chapter, the grader and its rubric."""
    _, root = platform
    source = root / "source"
    probe = ("import kit, kit.registry, grading.cli, grading.grader, grading.rubric as r, grading.reports, "
             "grading.platforms.gradescope as g; from grading.render import read; "
             "print(kit.__file__); print(len(r.load()), len(kit.registry.EXERCISES)); print(g.__file__); "
             "print(len(read('templates/report.css')) > 0)")
    done = subprocess.run([PYTHON, "-c", probe], cwd=root.parent, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(source)})
    assert done.returncode == 0, done.stderr
    where, counts, runtime, css = done.stdout.split("\n")[:4]
    assert Path(where).is_relative_to(source) and Path(runtime).is_relative_to(source)
    assert counts == f"{len(EXERCISES)} {len(EXERCISES)}"
    assert css == "True"


def test_results_follow_gradescopes_format(graded):
    through_gradescope, _ = graded
    for student, (document, _) in through_gradescope.items():
        assert_valid_results(document)
        visibility = "after_published" if student == "empty" else "visible"  # KIT_VISIBILITY replaces the export's
        assert {document["visibility"]} | {t["visibility"] for t in document["tests"]} == {visibility}, student
        assert [t["extra_data"]["kit_exercise"] for t in document["tests"]] == \
            [e for e in EXERCISES if EXERCISES[e].module in list(CHAPTERS)[:2]], student


def test_each_exercise_scores_as_kit_grade_scores_it(graded):
    through_gradescope, direct = graded
    for student, (document, _) in through_gradescope.items():
        ours = {t["extra_data"]["kit_exercise"]: (t["score"], t["max_score"], t["status"]) for t in document["tests"]}
        theirs = {t["name"]: (t["score"], t["max_score"], t["status"]) for t in direct[student]["tests"]}
        assert ours == theirs, student
        statuses = {t["name"].split(" ")[1]: t["extra_data"]["kit_status"] for t in document["tests"]}  # "1.1 name"
        assert statuses == EXPECTED[student], student
        assert document["score"] == direct[student]["score"]
    assert through_gradescope["correct"][0]["score"] == 4 and through_gradescope["empty"][0]["score"] == 0


def test_a_broken_submission_is_told_why(graded):
    through_gradescope, _ = graded
    tests = {t["extra_data"]["kit_exercise"]: t for t in through_gradescope["broken"][0]["tests"]}
    assert "boom while importing" in tests["ch1_sensitivity.scale_sensitivity"]["output"]
    assert tests["ch2_chain_rule.chain_forward"]["score"] == 0
    assert f"within {TIMEOUT} s" in tests["ch2_chain_rule.chain_forward"]["output"]  # the time limit
    empty = through_gradescope["empty"][0]["tests"]
    assert all("missing" in t["output"] and t["score"] == 0 for t in empty)


def test_when_kit_grade_fails_the_student_still_gets_results(platform):
    _, root = platform
    document, log = run_autograder(root, SUBMISSIONS["correct"], KIT_GRADE_OPTIONS="--timeout 0")
    assert_valid_results(document)
    assert document["score"] == 0 and document["tests"] == []
    assert "kit grade could not grade" in document["output"] and "status 2" in document["output"]
    assert "--timeout: must be more than 0" in document["output"] and "--timeout 0" in log


def test_when_python_cannot_run_the_student_still_gets_results(platform):
    _, root = platform
    document, log = run_autograder(root, SUBMISSIONS["correct"], KIT_PYTHON=str(root / "no-such-python"))
    assert_valid_results(document)
    assert document["score"] == 0 and "autograder itself failed" in document["output"]
    assert "failed with status" in log


def test_export_refuses_bad_options_and_an_existing_zip(platform, tmp_path, capsys):
    bundle, _ = platform
    assert main(["export", "gradescope", "--out", str(bundle)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["export", "gradescope", "--out", str(tmp_path / "a.zip"), "--only", "99"]) == 2
    assert "--only" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[chapters]\nch99_nothing = 1\n")
    assert main(["export", "gradescope", "--out", str(tmp_path / "b.zip"), "--rubric", str(bad)]) == 2
    assert "ch99_nothing" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists() and not (tmp_path / "b.zip").exists()


def test_kit_grade_logs_each_exercise_as_it_is_graded(tmp_path):
    """--progress-log: a line per exercise, the same test results.json holds at the end."""
    submissions = tmp_path / "class"
    (submissions / "ada").mkdir(parents=True)
    (submissions / "ada" / "ch1_sensitivity.py").write_text((ROOT / "solutions" / "ch1_sensitivity.py").read_text()
                                                            .replace("return float(k)", "return float(k) + 1"))
    out, log = tmp_path / "out", tmp_path / "progress.jsonl"
    assert main(["grade", str(submissions), "--out", str(out), "--only", "1", "-j", "1", "-q",
                 "--progress-log", str(log)]) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    final = json.loads((out / "students" / "ada" / "results.json").read_text())["tests"]
    assert [line.pop("student") for line in lines] == ["ada", "ada"]
    assert lines == final
    assert [t["score"] for t in lines] == [0, 1]


def test_a_deadline_keeps_the_scores_of_what_was_graded(tmp_path):
    log = tmp_path / "progress.jsonl"
    tests = [{"name": eid, "score": s, "max_score": 1, "status": "passed" if s else "failed", "output": "",
              "extra_data": {"kit_status": "passed" if s else "wrong"}}
             for eid, s in zip(list(EXERCISES)[:3], (1, 0, 1))]
    log.write_text("".join(json.dumps({"student": "submission", **t}) + "\n" for t in tests)
                   + '{"student": "submission", "name": "ch2_cha')  # the line the stop cut
    document = gradescope.gradescope_results(gradescope.partial_results(log, 120.0), "visible")
    assert document["score"] == 2
    assert [t["extra_data"]["kit_exercise"] for t in document["tests"]] == list(EXERCISES)[:3]
    assert "ran out after 3 exercises" in document["output"] and "120 s" in document["output"]
    assert "not graded" in document["output"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(gradescope.GradingFailed, match="before a single exercise was graded"):
        gradescope.partial_results(empty, 120.0)


def warm_up(root: Path, **environ) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "KIT_GRADE_OPTIONS": f"--timeout {TIMEOUT}", **environ}
    return subprocess.run([PYTHON, "-m", "grading.platforms.gradescope", "warm-up"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_warm_up_grades_an_empty_submission_and_a_failure_fails_the_image_build(platform):
    _, root = platform
    setup = (root / "source" / "setup.sh").read_text()
    line = next(s for s in setup.splitlines() if "gradescope warm-up" in s)
    assert "|| true" not in line and "set -e" in setup  # a failed warm-up stops setup.sh
    done = warm_up(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warm-up graded" in done.stdout and "graded inputs are cached" in done.stdout
    broken = warm_up(root, KIT_GRADE_OPTIONS="--only 99")  # kit grade refuses: nothing is graded
    assert broken.returncode == 1 and "the warm-up could not grade an empty submission" in broken.stderr, \
        broken.stdout + broken.stderr
    assert "Traceback" not in broken.stderr


def test_the_limits_given_to_the_export_reach_kit_grade_exactly():
    import argparse

    from grading import limits

    parser = argparse.ArgumentParser()
    limits.add_options(parser)
    given = parser.parse_args(["--timeout", "12.3456789", "--memory", "768M", "--processes", "8"])
    options = limits.as_options(given)
    assert options == ["--timeout", "12.3456789", "--memory", str(768 << 20), "--processes", "8"]
    assert limits.from_options(parser.parse_args(options)) == limits.from_options(given)


def test_the_pinned_requirements_resolve_to_exactly_those_versions(platform, tmp_path):
    """requirements.txt names every distribution the kit runs with, each at the version installed
    here; pip resolves each pin to that release (a dry run, nothing installed)."""
    _, root = platform
    lines = [line for line in (root / "source" / "requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    wanted = dict(line.split("==") for line in lines)
    assert set(wanted) | {"torch"} == set(pins.pinned()) and {"hypothesis", "numpy", "pytest"} <= set(wanted)
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                           "-q", "--report", str(report), "-r", str(root / "source" / "requirements.txt")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    chosen = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
              for item in json.loads(report.read_text())["install"]}
    assert chosen == wanted
