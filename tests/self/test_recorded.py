"""Recorded inputs (grading/recorded.py): a course is graded on the same inputs and answers, whatever is installed.

The figure that matters is the last test: a second virtualenv with another hypothesis release
draws other inputs from the same seed, yet grades a class on the course's recording to the
very same grade book as this one does, and says that its environment differs.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grading import pins, recorded
from grading.cases import record_all
from kit.cli import main
from kit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[2]
CH1 = [eid for eid, e in EXERCISES.items() if e.module == "ch1_sensitivity"]
OTHER_HYPOTHESIS = "6.140.0"  # within pyproject's range, thirty releases before the pinned one


def seed_file(folder: Path) -> Path:
    path = folder / "grading-seed"
    path.write_text(secrets.token_hex(16) + "\n")
    path.chmod(0o600)
    return path


def seed_of(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A recording of chapter 1, its seed file and its seed."""
    folder = tmp_path_factory.mktemp("recording")
    path = seed_file(folder)
    out = folder / "inputs"
    recorded.record(out, CH1, seed_of(path), jobs=1, cache=None)
    return out, path, seed_of(path)


def same(a, b) -> bool:
    return a.inputs.__repr__() == b.inputs.__repr__() and a.expected.__repr__() == b.expected.__repr__()


def test_a_recording_reads_back_as_the_drawn_cases(recording):
    out, _, seed = recording
    cases, notes = recorded.load(out, CH1, seed)
    drawn = record_all(CH1, 1, None, seed)
    assert notes == []
    for eid in CH1:
        assert same(cases[eid], drawn[eid]), eid
        assert cases[eid].examples == len(EXERCISES[eid].examples)
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in out.iterdir())


def test_the_manifest_names_the_environment_and_never_the_seed(recording):
    out, path, seed = recording
    text = (out / recorded.MANIFEST).read_text()
    manifest = json.loads(text)
    assert seed.hex() not in text and path.read_text().strip() not in text
    for eid in CH1:
        entry = manifest["exercises"][eid]
        assert entry["environment"] == pins.environment()
        assert entry["sha256"] == hashlib.sha256((out / f"{eid}.cases").read_bytes()).hexdigest()


def copy(out: Path, to: Path) -> Path:
    to.mkdir(mode=0o700)
    for p in out.iterdir():
        (to / p.name).write_bytes(p.read_bytes())
        (to / p.name).chmod(0o600)
    return to


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / recorded.MANIFEST).read_text())
    change(manifest)
    (folder / recorded.MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage, words", [
    (lambda f: (f / f"{CH1[0]}.cases").write_bytes((f / f"{CH1[0]}.cases").read_bytes()[:-1] + b"x"),
     "is not the file recorded.json recorded"),
    (lambda f: (f / f"{CH1[0]}.cases").unlink(), "cannot read"),
    (lambda f: (f / recorded.MANIFEST).write_text("{not json"), "is not JSON"),
    (lambda f: (f / recorded.MANIFEST).write_text('{"format": 2, "exercises": {}}'), "is not a recording"),
    (lambda f: (f / recorded.MANIFEST).write_text("[]"), "is not a recording"),
    (lambda f: edit_manifest(f, lambda m: m["exercises"].pop(CH1[1])), "has no recorded inputs for"),
    (lambda f: edit_manifest(f, lambda m: m.update(seed="0" * 64)), "another grading seed"),
    (lambda f: f.chmod(0o777), "writable by group or others"),
    (lambda f: (f / f"{CH1[0]}.cases").chmod(0o666), "writable by group or others"),
    (lambda f: os.symlink(f / f"{CH1[1]}.cases", f / "link") or os.replace(f / "link", f / f"{CH1[0]}.cases"),
     "refusing the recorded inputs"),
    (lambda f: (f / recorded.MANIFEST).write_bytes(b" " * (recorded.MAX_MANIFEST + 1)), "larger than"),
], ids=["changed-file", "missing-file", "bad-json", "other-format", "not-an-object", "missing-exercise",
        "other-seed", "open-folder", "open-file", "symlink", "huge-manifest"])
def test_a_recording_that_must_not_be_believed_is_refused(recording, tmp_path, damage, words):
    out, _, seed = recording
    folder = copy(out, tmp_path / "inputs")
    damage(folder)
    with pytest.raises(recorded.RecordedError, match=words):
        recorded.load(folder, CH1, seed)


def test_a_case_file_of_another_exercise_is_refused_even_with_its_hash(recording, tmp_path):
    out, _, seed = recording
    folder = copy(out, tmp_path / "inputs")
    os.replace(folder / f"{CH1[1]}.cases", folder / f"{CH1[0]}.cases")
    edit_manifest(folder, lambda m: m["exercises"][CH1[0]].update(sha256=m["exercises"][CH1[1]]["sha256"]))
    with pytest.raises(recorded.RecordedError, match="another exercise"):
        recorded.load(folder, CH1, seed)


def test_another_environment_and_changed_sources_are_said(recording, tmp_path):
    out, _, seed = recording
    folder = copy(out, tmp_path / "inputs")

    def older(manifest):
        for entry in manifest["exercises"].values():
            entry["environment"] = {**entry["environment"], "hypothesis": "6.139.0", "python": "3.12"}
        manifest["exercises"][CH1[0]]["sources"] = "0" * 32
    edit_manifest(folder, older)
    cases, notes = recorded.load(folder, CH1, seed)
    assert len(notes) == 2
    assert f"hypothesis 6.139.0 there, {pins.environment()['hypothesis']} here" in notes[0]
    assert "python 3.12 there" in notes[0] and "grades are the recording's" in notes[0]
    assert "ch1_sensitivity changed" in notes[1]
    fresh, _ = recorded.load(out, CH1, seed)
    assert all(same(cases[eid], fresh[eid]) for eid in CH1)  # graded on the recording all the same


def test_the_course_recording_is_made_on_first_use_and_gains_what_it_lacks(tmp_path):
    path = seed_file(tmp_path)
    folder = recorded.course_folder(path)
    assert folder == tmp_path / "grading-seed.inputs"
    first, _ = recorded.course(folder, CH1[:1], seed_of(path))
    assert sorted(json.loads((folder / recorded.MANIFEST).read_text())["exercises"]) == CH1[:1]
    before = (folder / f"{CH1[0]}.cases").read_bytes()
    both, notes = recorded.course(folder, CH1, seed_of(path))
    assert sorted(json.loads((folder / recorded.MANIFEST).read_text())["exercises"]) == sorted(CH1)
    assert (folder / f"{CH1[0]}.cases").read_bytes() == before and notes == []
    assert same(first[CH1[0]], both[CH1[0]])
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_record_inputs_refuses_a_folder_it_would_overwrite(tmp_path, capsys):
    path = seed_file(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    assert main(["record-inputs", "--out", str(tmp_path / "full"), "--only", "1", "--seed-file", str(path)]) == 2
    assert "is not an empty folder" in capsys.readouterr().err
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"
    assert main(["record-inputs", "--out", str(tmp_path / "r"), "--only", "nosuch", "--seed-file", str(path)]) == 2
    assert main(["record-inputs", "--only", "1", "--seed-file", str(path), "-j", "1"]) == 0
    assert (tmp_path / "grading-seed.inputs" / recorded.MANIFEST).is_file()


# ---- whole classes -------------------------------------------------------------------------------

WRONG = textwrap.dedent("""
    def scale_sensitivity(x, k):
        return float(k * x)

    def numeric_sensitivity(f, x, h=1e-5):
        return (f(x + h) - f(x - h)) / (2 * h)
    """)


def make_class(root: Path) -> Path:
    solution = (ROOT / "solutions" / "ch1_sensitivity.py").read_text()
    for student, source in {"right": solution, "half": WRONG, "empty": ""}.items():
        (root / student).mkdir(parents=True)
        if source:
            (root / student / "ch1_sensitivity.py").write_text(source)
    return root


def grade(python: str, submissions: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "kit.cli", "grade", str(submissions), "--out", str(out), "--only", "1",
                           "-q", "-j", "1", *options], capture_output=True, text=True, timeout=600)


def test_kit_grade_refuses_bad_inputs_before_grading(recording, tmp_path):
    out, path, _ = recording
    submissions = make_class(tmp_path / "class")
    (tmp_path / "other").mkdir()
    other = seed_file(tmp_path / "other")
    done = grade(sys.executable, submissions, tmp_path / "o1", "--inputs", str(out), "--seed-file", str(other))
    assert done.returncode == 2 and "another grading seed" in done.stderr and not (tmp_path / "o1").exists()
    done = grade(sys.executable, submissions, tmp_path / "o2", "--inputs", str(tmp_path / "nowhere"),
                 "--seed-file", str(path))
    assert done.returncode == 2 and "--inputs" in done.stderr and "cannot read" in done.stderr


@pytest.fixture(scope="module")
def other_venv(tmp_path_factory):
    """A virtualenv with the kit and the pinned versions, but another hypothesis release."""
    folder = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    wanted = {name: version for name, version in pins.pinned().items() if name != "hypothesis"}
    subprocess.run(pip + [f"{name}=={version}" for name, version in wanted.items()], check=True, timeout=900)
    subprocess.run(pip[:-1] + [f"hypothesis=={OTHER_HYPOTHESIS}"], check=True, timeout=900)  # and what it needs
    subprocess.run(pip + ["--no-build-isolation", str(ROOT)], check=True, timeout=900)
    python = str(folder / "bin" / "python")
    version = subprocess.run([python, "-c", "import hypothesis; print(hypothesis.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == OTHER_HYPOTHESIS
    return python


def test_another_hypothesis_grades_the_class_the_same_on_the_recording(recording, tmp_path, other_venv):
    out, path, _ = recording
    submissions = make_class(tmp_path / "class")
    here = grade(sys.executable, submissions, tmp_path / "here", "--inputs", str(out), "--seed-file", str(path))
    there = grade(other_venv, submissions, tmp_path / "there", "--inputs", str(out), "--seed-file", str(path))
    assert here.returncode == 0, here.stderr
    assert there.returncode == 0, there.stderr
    assert "note: this environment differs" not in here.stderr
    assert f"hypothesis {pins.environment()['hypothesis']} there, {OTHER_HYPOTHESIS} here" in there.stderr
    rows = [list(csv.reader((tmp_path / name / "grades.csv").open())) for name in ("here", "there")]
    assert rows[0] == rows[1]
    assert {r[0]: r[1] for r in rows[0][1:]} == {"right": "2", "half": "1", "empty": "0"}
    for student in ("right", "half", "empty"):
        statuses = [json.loads((tmp_path / name / "students" / student / "results.json").read_text())
                    for name in ("here", "there")]
        assert [t["status"] for t in statuses[0]["tests"]] == [t["status"] for t in statuses[1]["tests"]]

    # the other release really draws other inputs from the same seed: the recording is what keeps them
    drawn = tmp_path / "drawn"
    subprocess.run([other_venv, "-m", "kit.cli", "record-inputs", "--out", str(drawn), "--only", "1",
                    "--seed-file", str(path), "-j", "1"], check=True, capture_output=True, timeout=600)
    theirs = json.loads((drawn / recorded.MANIFEST).read_text())["exercises"]
    ours = json.loads((out / recorded.MANIFEST).read_text())["exercises"]
    assert any(theirs[eid]["sha256"] != ours[eid]["sha256"] for eid in CH1)
