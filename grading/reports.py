"""The grade book `write_all` writes to OUT: grades.csv, index.html, a folder per student, and the LMS files asked for.

Each file has its module: grading/report_csv.py (grades.csv, and the cell rule of every CSV),
grading/report_json.py (results.json), grading/report_html.py (the pages, from
grading/templates/), grading/platforms/ (canvas.csv, moodle.csv: `kit grade --format`); what
they share (points as shown, clipped text, each student's folder: `student_folder`) is in
grading/gradebook.py.

Everything is written from the grader's own results. Every text that came from a student
(ids, which are file names and may hold any character but '/' and NUL; messages quoting their
exceptions and values; their printed output; file names) is inert wherever it lands:
- in the pages, escaped with html.escape, its control characters shown (`printable`), truncated
  (the templates' `text` filter; jinja2's autoescape for anything else); links point to folders
  named by `student_folder`, never to a student's text;
- in the CSV files, on one line (`printable`) and never a formula (grading.report_csv.cell);
- in results.json, JSON-escaped, with lone surrogates (bytes of a name that are not UTF-8) shown;
- on the terminal (grading/cli.py, the progress bar), through `printable` (grading/text.py).
The pages are self-contained (inline CSS and SVG).
"""
from __future__ import annotations

from pathlib import Path

from grading.gradebook import STUDENTS_FOLDER, clip, number, student_folder
from grading.platforms import GradeBookContext, grade_books
from grading.report_csv import grades_csv
from grading.report_html import index_html, student_html
from grading.report_json import results_text, test_entry
from grading.results import StudentResult
from kit.registry import EXERCISES

__all__ = ["write_all", "graded", "student_folder", "test_entry", "clip", "number", "STUDENTS_FOLDER"]


def write_all(out: Path, students: list[StudentResult], formats: tuple[str, ...] = (),
              context: GradeBookContext | None = None) -> None:
    """Every file of the grade book, into the (empty) folder `out`; `formats` adds LMS imports
    (grading.platforms' grade books, by name; "csv" is grades.csv, always written), written with
    `context`: the assignment's column title and who each student is (default: their id)."""
    out.mkdir(parents=True, exist_ok=True)
    context = context or GradeBookContext()
    ids = graded(students)
    (out / "grades.csv").write_text(grades_csv(students, ids), encoding="utf-8")
    books = grade_books()
    for name in formats:
        if name in books:
            (out / books[name].file).write_text(books[name].grade_book(students, context), encoding="utf-8")
    for student in students:
        folder = out / STUDENTS_FOLDER / student_folder(student.student)
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(results_text(student), encoding="utf-8")
        (folder / "report.html").write_text(student_html(student), encoding="utf-8")
    (out / "index.html").write_text(index_html(students, ids), encoding="utf-8")


def graded(students: list[StudentResult]) -> list[str]:
    """The exercise ids of the grade book, in curriculum order."""
    ids = {r.exercise for s in students for r in s.results}
    return [eid for eid in EXERCISES if eid in ids]
