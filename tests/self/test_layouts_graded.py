"""`kit grade` on each platform's bulk download, end to end: the layout detected, the roster applied,
and every student's identity and grade in grades.csv, canvas.csv and moodle.csv.

Three classes, graded once each (chapter 1 only): Gradescope's export as its zip, Canvas's
download as its zip, Moodle's download unzipped (tests/self/test_layouts.py reads every form of
each without grading). Right modules are copies of solutions/; a wrong one breaks
numeric_sensitivity, so it scores 1 of 2.
"""
from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import pytest
from test_layouts import (
    CH1,
    WRONG_CH1,
    canvas_class,
    canvas_download,
    canvas_name,
    gradescope_export,
    moodle_class,
    moodle_download,
)

from kit.cli import main

OPTIONS = ["--only", "1", "--timeout", "5", "-j", "2", "-q", "--format", "canvas", "--format", "moodle"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


def grade(base: Path, download: Path, roster: str, *options: str):
    """kit grade on the download with the roster: (exit status, OUT, what it said on stderr)."""
    (base / "roster.csv").write_text(roster)
    out = base / "out"
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        status = main(["grade", str(download), "--out", str(out), "--roster", str(base / "roster.csv"),
                       *OPTIONS, *options])
    return status, out, said.getvalue()


def table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def scores(out: Path) -> dict[str, str]:
    return {row["student"]: row["score"] for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


# ---- Gradescope -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gradescope(tmp_path_factory, cache):
    base = tmp_path_factory.mktemp("gradescope")
    download = gradescope_export(base / "download", {
        101: ([{"name": "Ada Lovelace", "sid": "1815", "email": "Ada@Uni.edu"}], {"ch1_sensitivity.py": CH1}),
        102: ([{"name": "Bob Babbage", "sid": "1791", "email": "bob@uni.edu"}, {"name": "Cy Clerk", "sid": "1800"}],
              {"exercises/ch1_sensitivity.py": WRONG_CH1}),
        103: ([{"name": "Zed", "sid": "9", "email": "zed@uni.edu"}], {"ch1_sensitivity.py": CH1}),
        104: ([{"name": "Dee Dee", "email": "dee@uni.edu"}], None),
    }, zipped=True)
    roster = ("submission,name,login,sis_id,email\n"
              "ada@uni.edu,Ada Lovelace,alovelace,S1815,ada@uni.edu\n1791,Bob Babbage,bbabbage,S1791,bob@uni.edu\n"
              "1800,Cy Clerk,cclerk,S1800,cy@uni.edu\ndee@uni.edu,Dee Dee,ddee,S4,dee@uni.edu\n"
              "eve@uni.edu,Eve,eve,S5,eve@uni.edu\n")
    return grade(base, download, roster)


def test_gradescope_grades_every_submitter(gradescope):
    status, out, said = gradescope
    assert status == 1  # graded, but submission_104 has no folder
    assert "kit grade: assignment_4242_export.zip/assignment_4242_export/: 4 submissions, read as Gradescope's " \
           "Export Submissions (--layout gradescope; name another with --layout)" in said.splitlines()
    assert "kit grade: ddee scored zero: submission_104: submission_metadata.yml lists this submission, but the " \
           "export has no folder submission_104/" in said.splitlines()
    assert scores(out) == {"alovelace": "2", "bbabbage": "1", "cclerk": "1", "ddee": "0", "eve": "0",
                           "zed@uni.edu": "2"}  # a group's two members, each a row; zed is not in the roster
    header, points, *students = table(out / "canvas.csv")
    assert header[-1] == "backprop-kit ch1" and points[-1] == "2"
    assert students == [["Ada Lovelace", "", "S1815", "alovelace", "", "2"],
                        ["Bob Babbage", "", "S1791", "bbabbage", "", "1"],
                        ["Cy Clerk", "", "S1800", "cclerk", "", "1"], ["Dee Dee", "", "S4", "ddee", "", "0"],
                        ["Eve", "", "S5", "eve", "", "0"], ["Zed", "", "", "zed@uni.edu", "", "2"]]
    assert [row[:3] for row in table(out / "moodle.csv")] == [
        ["email", "backprop-kit ch1", "feedback"], ["ada@uni.edu", "2", "2 of 2 points; 2 of 2 exercises passed"],
        ["bob@uni.edu", "1", "1 of 2 points; 1 of 2 exercises passed"],
        ["cy@uni.edu", "1", "1 of 2 points; 1 of 2 exercises passed"],
        ["dee@uni.edu", "0", "0 of 2 points; 0 of 2 exercises passed"], ["eve@uni.edu", "0", "no submission"],
        ["zed@uni.edu", "2", "2 of 2 points; 2 of 2 exercises passed"]]
    pages = {p.parent.name for p in (out / "students").glob("*/report.html")}
    assert {"alovelace", "bbabbage", "cclerk", "ddee", "eve"} <= pages and len(pages) == 6


# ---- Canvas ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def canvas_graded(tmp_path_factory, cache):
    base = tmp_path_factory.mktemp("canvas")
    files = {k: v for k, v in canvas_class().items() if not k.startswith(("anon", "LATE_anon"))}
    files[canvas_name("Nobody, Zed", 99, 9100, "ch1_sensitivity.py")] = CH1
    download = canvas_download(base / "download", files, zipped=True)
    roster = ("submission,name,login,sis_id,section\n4211,\"Lovelace, Ada\",alovelace,S1,A\n"
              "17,\"Babbage, Bob\",bbabbage,S2,A\n5,\"Clerk, Cy\",cclerk,S3,B\n9,\"Knuth, Don\",dknuth,S4,B\n"
              "300,Eve,eve,S5,B\n")
    return grade(base, download, roster, "--assignment", "Homework 1")


def test_canvas_grades_by_user_id(canvas_graded):
    status, out, said = canvas_graded
    assert status == 0
    assert scores(out) == {"alovelace": "2", "bbabbage": "1", "cclerk": "2", "dknuth": "0", "eve": "0", "99": "2"}
    header, points, *students = table(out / "canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 1"]
    assert students == [["99", "99", "", "", "", "2"], ["Lovelace, Ada", "4211", "S1", "alovelace", "A", "2"],
                        ["Babbage, Bob", "17", "S2", "bbabbage", "A", "1"],
                        ["Clerk, Cy", "5", "S3", "cclerk", "B", "2"],
                        ["Knuth, Don", "9", "S4", "dknuth", "B", "0"], ["Eve", "", "S5", "eve", "B", "0"]]
    moodle = table(out / "moodle.csv")
    assert moodle[0] == ["username", "Homework 1", "feedback"] and len(moodle) == 6  # 99 has no login: left out
    assert "kit grade: moodle.csv: no username (no roster row gives it), so left out" in said
    assert "kit grade: roster: not in the roster, so graded and listed under their own key (1): 99" in said
    page = (out / "students" / "alovelace" / "report.html").read_text()
    assert "ch1_sensitivity.py (an earlier upload; ch1_sensitivity-1.py is graded)" in page


# ---- Moodle ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def moodle_graded(tmp_path_factory, cache):
    base = tmp_path_factory.mktemp("moodle")
    download = moodle_download(base / "download", moodle_class("folders"), zipped=False)
    roster = ("Identifier,Full name,Email address,Username\nParticipant 678,Ada Lovelace,ada@uni.edu,alovelace\n"
              "Participant 679,Bob Babbage,bob@uni.edu,bbabbage\nParticipant 12,Cy Clerk,cy@uni.edu,cclerk\n"
              "Participant 700,Dee Dee,dee@uni.edu,ddee\nParticipant 999,Frank,frank@uni.edu,frank\n"
              ).replace("Identifier", "submission")
    return grade(base, download, roster)


def test_moodle_grades_by_participant(moodle_graded):
    status, out, said = moodle_graded
    assert "roster: no submission, so a zero row \"no submission\" (1): frank" in said
    assert status == 0
    assert scores(out) == {"alovelace": "2", "bbabbage": "1", "cclerk": "2", "ddee": "0", "frank": "0"}
    assert [row[:3] for row in table(out / "moodle.csv")] == [
        ["username", "email", "backprop-kit ch1"], ["alovelace", "ada@uni.edu", "2"],
        ["bbabbage", "bob@uni.edu", "1"], ["cclerk", "cy@uni.edu", "2"], ["ddee", "dee@uni.edu", "0"],
        ["frank", "frank@uni.edu", "0"]]
    assert table(out / "canvas.csv")[2] == ["Ada Lovelace", "", "", "alovelace", "", "2"]
