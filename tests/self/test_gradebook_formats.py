"""Grade books an LMS imports as they are: `kit grade --format canvas|moodle`."""
import csv
import io

from grading.grader import Result, StudentResult
from grading.platforms import canvas, grade_books, moodle
from grading.reports import write_all


def student(name, *scores):
    ids = ["ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity", "ch2_chain_rule.chain_forward"]
    results = [Result(eid, "passed" if s else "wrong", s, 1) for eid, s in zip(ids, scores)]
    return StudentResult(student=name, source=name, problem="", results=results)


CLASS = [student("ada", 1, 1, 1), student("=HYPERLINK(1)", 0, 1, 0)]


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_canvas_has_its_identity_columns_points_possible_and_one_assignment():
    header, points, ada, other = rows(canvas.grade_book(CLASS))
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "backprop-kit"]
    assert points[0].strip() == "Points Possible" and points[-1] == "3"
    assert ada == ["ada", "", "", "ada", "", "3"]
    assert other[0] == "'=HYPERLINK(1)" and other[-1] == "1"  # never run as a spreadsheet formula


def test_moodle_has_an_identity_a_grade_and_feedback_column():
    header, ada, other = rows(moodle.grade_book(CLASS))
    assert header == ["username", "backprop-kit", "feedback"]
    assert ada == ["ada", "3", "3 of 3 points; 3 of 3 exercises passed"]
    assert other[1] == "1" and other[2].startswith("1 of 3 points; 1 of 3")


def test_the_formats_asked_for_are_written_beside_grades_csv(tmp_path):
    write_all(tmp_path / "out", CLASS, ("csv", "moodle"))
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file())
    assert written == ["grades.csv", "index.html", "moodle.csv"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["students"]


def test_the_formats_are_the_registrys_grade_books_and_kit_grade_offers_them_all():
    """`kit grade --format` reads its choices and their files from grading.platforms' registry."""
    import argparse

    from grading.cli import add_parser

    books = grade_books()
    assert {name: book.file for name, book in books.items()} == {"canvas": "canvas.csv", "moodle": "moodle.csv"}
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    grade = parser._subparsers._group_actions[0].choices["grade"]
    formats = next(action for action in grade._actions if action.dest == "format")
    assert formats.choices == ("csv", *books)
    for name, book in books.items():
        assert f"{name} ({book.file}, {book.help})" in formats.help
