"""`kit grade --roster FILE.csv` and the LMS grade books it fills: who each submission is in Canvas and
Moodle, the assignment's column, and every bad roster refused or noted before anything is graded.

No grading here: the roster is matched with the submissions read_class() gives, and the grade
books are written from made-up results (tests/self/test_layouts_graded.py grades end to end).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from test_layouts import CH1, canvas_class, canvas_download, gradescope_export, moodle_class, moodle_download

from grading.grader import Result, StudentResult
from grading.layouts import read_class
from grading.platforms import GradeBookContext, assignment_title, canvas, check_assignment, moodle
from grading.roster import Identity, RosterError, load
from kit.cli import main
from kit.names import select
from kit.registry import CHAPTERS

HEADER = "submission,name,login,sis_id,email,canvas_id,section\n"


def roster(tmp_path: Path, text: str | bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def result(student: str, *scores: float, problem: str = "") -> StudentResult:
    ids = ["ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity"]
    results = [Result(eid, "passed" if s else "wrong", s, 1) for eid, s in zip(ids, scores)]
    return StudentResult(student=student, source=student, problem=problem, results=results)


def folders(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "ch1_sensitivity.py").write_text(CH1)
    return tmp_path / "class"


# ---- reading the roster --------------------------------------------------------------------------

def test_a_roster_and_its_columns(tmp_path):
    path = roster(tmp_path, HEADER + "ada,Ada Lovelace,alovelace,S1,ada@uni.edu,4211,A\n"
                                      "bob,Bob Babbage,,S2,,,\n\n,,,,,,\n"
                                      "cy,Cy,,,cy@uni.edu,,\n")
    students = load(path).students
    assert [(s.key, s.id, s.line) for s in students] == [("ada", "alovelace", 2), ("bob", "S2", 3),
                                                         ("cy", "cy@uni.edu", 6)]
    assert students[0] == Identity("ada", "Ada Lovelace", "alovelace", "S1", "ada@uni.edu", "4211", "A", line=2)


def test_the_columns_canvas_and_moodle_exports_name(tmp_path):
    # a Canvas gradebook export with a submission column added, semicolon-separated as some locales save it
    path = roster(tmp_path, "\ufeffSubmission;Student;ID;SIS User ID;SIS Login ID;Section;Email address;Notes\n"
                            '4211;"Lovelace, Ada";4211;="00123";alovelace;A;ada@uni.edu;x\n')
    loaded = load(path)
    assert loaded.students[0] == Identity("4211", "Lovelace, Ada", "alovelace", "00123", "ada@uni.edu", "", "A",
                                          line=2)
    assert loaded.notes == ["roster: columns not used: 'ID', 'Notes'"]  # an "ID" might not be Canvas's


@pytest.mark.parametrize("encoding, note", [("utf-16", False), ("utf-8-sig", False), ("cp1252", True)])
def test_rosters_in_the_encodings_spreadsheets_save(tmp_path, encoding, note):
    path = roster(tmp_path, (HEADER.replace(",", "\t") + "jose\tJosé Ñúñez\tjnunez\t\t\t\t\n").encode(encoding))
    loaded = load(path)
    assert loaded.students[0].name == "José Ñúñez" and loaded.students[0].id == "jnunez"
    assert any("Windows-1252" in n for n in loaded.notes) == note


@pytest.mark.parametrize("text, says", [
    (None, "no such file"),
    ("", "is empty: it needs a header row"),
    ("\n\n", "is empty"),
    ("ada,Ada\nbob,Bob\n", "its first row names no `submission` column (it reads 'ada', 'Ada')"),
    ("submission,login,Login\nada,a,b\n", "the header names login twice"),
    (HEADER, "has a header row but no student"),
    ("submission,login\nada,a\nada,b\n", "lines 2 and 3 have the same submission, 'ada'"),
    ("submission,login\nada,a\nbob,a\n", "lines 2 and 3 have the same login, 'a'"),
    ("submission,email\nada,A@x.edu\nbob,a@x.EDU\n", "the same email"),
    ("submission,login\nada,bob\nbob,\n", "lines 2 and 3 would both be listed as 'bob'"),
    ("submission,name\n,Nameless\n", "line 2 has no submission key, login, email or sis_id"),
    ("submission,name\nada,\"Ada\x1b[31m\"\n", "line 2 has a cell with a control character"),
    ("submission,name\nada,\"Ada\u202eevil\"\n", "control character"),
    ("submission,name\nada,\"Ada\n", "is not valid CSV"),
    (b"submission\nada\x00\n", "NUL characters"),
    (b"\xff\xfes\x00\xd8", "starts as UTF-16 but is not"),
    ("submission,name\nada," + "x" * 400 + "\n", "a cell longer than 320 characters"),
], ids=range(17))
def test_bad_rosters_are_refused_before_grading(tmp_path, text, says):
    path = tmp_path / "missing.csv" if text is None else roster(tmp_path, text)
    with pytest.raises(RosterError, match="--roster") as error:
        load(path)
    assert says in str(error.value)


def test_a_roster_that_is_a_folder(tmp_path):
    with pytest.raises(RosterError, match="is a folder, not a CSV file"):
        load(tmp_path)


def test_formula_looking_cells_are_noted(tmp_path):
    path = roster(tmp_path, "submission,login,name\nada,=HYPERLINK(\"x\"),@Ada\nbob,-bob,Bob\n")
    loaded = load(path)
    assert loaded.notes == ["roster: cells that a spreadsheet reads as a formula are written with a leading ' in "
                            "the grade books (so the LMS may not match them): line 2 (login), line 3 (login)"]


# ---- matching the submissions --------------------------------------------------------------------

def test_listed_unlisted_and_absent_students(tmp_path):
    path = roster(tmp_path, "submission,login,name\nada,alovelace,Ada Lovelace\nbob,bbabbage,Bob\n"
                            "dee,ddee,Dee\neve,,Eve\n")
    klass = read_class(folders(tmp_path, "ada", "bob", "zed", "alovelace_x"), "folders", path)
    assert sorted(s.student for s in klass.submissions) == ["alovelace", "alovelace_x", "bbabbage", "zed"]
    assert klass.identities["alovelace"].name == "Ada Lovelace" and not klass.identities["zed"].listed
    assert [s.id for s in klass.absent] == ["ddee", "eve"]
    assert "roster: not in the roster, so graded and listed under their own key (2): alovelace_x, zed" in klass.notes
    assert "roster: no submission, so a zero row \"no submission\" (2): ddee, eve" in klass.notes
    everyone = klass.complete([result(s.student, 1, 1) for s in klass.submissions],
                              {"ch1_sensitivity.scale_sensitivity": 1, "ch1_sensitivity.numeric_sensitivity": 2},
                              ["ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity"])
    zero = {s.student: s for s in everyone}["eve"]
    assert (zero.score, zero.max_score, zero.problem) == (0, 3, "no submission")
    assert [r.status for r in zero.results] == ["missing", "missing"]


def test_an_unlisted_key_that_is_someones_login(tmp_path):
    path = roster(tmp_path, "submission,login\nada,bob\n")
    klass = read_class(folders(tmp_path, "ada", "bob"), "folders", path)
    assert sorted(klass.identities) == ["bob", "bob (not in the roster)"]


def test_gradescope_submitters_by_email_or_sid_and_groups(tmp_path):
    export = gradescope_export(tmp_path / "d", {
        1: ([{"name": "Ada", "sid": "1815", "email": "ADA@uni.edu"}], {"ch1_sensitivity.py": CH1}),
        2: ([{"name": "Bob", "sid": "1791", "email": "bob@uni.edu"}, {"name": "Cy", "sid": "1800"}],
            {"ch1_sensitivity.py": CH1})}, zipped=True)
    path = roster(tmp_path, "submission,login\nada@uni.edu,alovelace\n1791,bbabbage\n1800,cclerk\n")
    klass = read_class(export, "auto", path)
    assert sorted(s.student for s in klass.submissions) == ["alovelace", "bbabbage"]
    assert klass.groups == {"bbabbage": ("cclerk",)}
    everyone = klass.complete([result("alovelace", 1, 1), result("bbabbage", 1, 0)],
                              {"a": 1}, ["ch1_sensitivity.scale_sensitivity"])
    assert [(s.student, s.score) for s in everyone] == [("alovelace", 2), ("bbabbage", 1), ("cclerk", 1)]
    two = roster(tmp_path, "submission,login\nada@uni.edu,a\n1815,b\n", name="two.csv")  # one student, two rows
    with pytest.raises(RosterError, match="lines 2 and 3 are one student \\(ADA@uni.edu, 1815\\)"):
        read_class(export, "auto", two)


def test_moodle_participants_as_its_worksheet_names_them(tmp_path):
    download = moodle_download(tmp_path / "d", moodle_class("folders"), zipped=True)
    path = roster(tmp_path, "Identifier,Username\nParticipant 678,ada\nParticipant 679,bob\n12,cy\n"
                            .replace("Identifier", "submission"))
    klass = read_class(download, "auto", path)
    assert sorted(klass.identities) == ["700", "ada", "bob", "cy"]
    path = roster(tmp_path, "submission,login\nParticipant 678,a\n678,b\n", name="twice.csv")
    with pytest.raises(RosterError, match="name one submission"):
        read_class(download, "auto", path)


def test_canvas_user_ids(tmp_path):
    download = canvas_download(tmp_path / "d", canvas_class(), zipped=False)
    path = roster(tmp_path, HEADER + "4211,Ada Lovelace,alovelace,S1,,,A\nanon_Xy12Z,,anonymous,,,,\n")
    klass = read_class(download, "canvas", path)
    ada = klass.identities["alovelace"]
    assert (ada.canvas_id, ada.sis_id, ada.section) == ("4211", "S1", "A")  # the user id from the file name
    assert klass.identities["17"].canvas_id == "17" and not klass.identities["17"].listed


# ---- the grade books ------------------------------------------------------------------------------

def test_canvas_grade_book_identifies_students_as_canvas_matches_them():
    identities = {"alovelace": Identity("4211", "Ada Lovelace", "alovelace", "S1", "", "4211", "A"),
                  "17": Identity("17", canvas_id="17", listed=False),
                  "zed": Identity("zed", listed=False)}
    context = GradeBookContext("backprop-kit ch1", identities, "canvas")
    header, points, *students = rows(canvas.grade_book([result("alovelace", 1, 1), result("17", 1, 0),
                                                        result("zed", 0, 0)], context))
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "backprop-kit ch1"]
    assert points[0].strip() == "Points Possible" and points[-1] == "2"
    assert students == [["Ada Lovelace", "4211", "S1", "alovelace", "A", "2"], ["17", "17", "", "", "", "1"],
                        ["zed", "", "", "zed", "", "0"]]
    assert context.notes == ["canvas.csv: no Canvas identity (no roster row with canvas_id, sis_id or login), so "
                             "their id is their SIS Login ID (1): zed"]


def test_moodle_grade_book_identifies_every_row_it_writes():
    full = {"a": Identity("1", login="alovelace", email="a@x.edu"), "b": Identity("2", login="bb", email="b@x.edu")}
    context = GradeBookContext("backprop-kit ch1-3", full)
    text = moodle.grade_book([result("a", 1, 1), result("b", 0, 0, problem="no submission")], context)
    assert rows(text) == [["username", "email", "backprop-kit ch1-3", "feedback"],
                          ["alovelace", "a@x.edu", "2", "2 of 2 points; 2 of 2 exercises passed"],
                          ["bb", "b@x.edu", "0", "no submission"]]
    partial = {**full, "zed": Identity("zed", listed=False), "c": Identity("3", email="c@x.edu")}
    context = GradeBookContext("A1", partial)
    text = moodle.grade_book([result(s, 1, 0) for s in ("a", "b", "c", "zed")], context)
    assert [r[0] for r in rows(text)] == ["email", "a@x.edu", "b@x.edu", "c@x.edu"]  # the column most rows have
    assert context.notes == ["moodle.csv: no email (no roster row gives it), so left out: Moodle stops an import "
                             "at a user it cannot find (1): zed"]


def test_grade_books_without_identities_are_as_before():
    context = GradeBookContext(identities={"ada": Identity("ada", listed=False)})
    assert rows(canvas.grade_book([result("ada", 1, 1)], context))[2] == ["ada", "", "", "ada", "", "2"]
    assert rows(moodle.grade_book([result("ada", 1, 1)], context))[:2] == [["username", "backprop-kit", "feedback"],
                                                                         ["ada", "2", "2 of 2 points; 2 of 2 "
                                                                                      "exercises passed"]]
    assert context.notes == []


@pytest.mark.parametrize("only, title", [
    (None, "backprop-kit"), (f"1-{len(CHAPTERS)}", "backprop-kit"), ("1-3", "backprop-kit ch1-3"),
    ("1,3", "backprop-kit ch1, ch3"),
    ("1-2,6", "backprop-kit ch1-2, ch6"), ("1,sigmoid_grad", "backprop-kit ch1, ch6 (1 of 11)"),
])
def test_the_assignments_default_title(only, title):
    assert assignment_title([e.id for e in select(only)] if only else None) == title


@pytest.mark.parametrize("name, fine", [
    ("backprop-kit ch1-3", True), ("Homework 2: backprop", True), ("HW (3)", False), ("=1+1", False),
    ("", False), ("Final Grade", False), ("Student", False), ("a\tb", False), ("x" * 201, False), ("feedback", False),
])
def test_assignment_names_the_lms_take(name, fine):
    assert (check_assignment(name) == "") == fine


def test_kit_grade_refuses_a_bad_roster_or_assignment_before_grading(tmp_path, capsys):
    submissions = folders(tmp_path, "ada")
    assert main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--roster", str(tmp_path / "no.csv")]) == 2
    assert "kit grade: error: --roster" in capsys.readouterr().err
    assert main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--assignment", "HW (3)"]) == 2
    assert "kit grade: error: --assignment 'HW (3)': Canvas reads a trailing (number)" in capsys.readouterr().err
    assert main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--layout", "moodle"]) == 2
    assert "holds nothing named as Moodle names a submission" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
