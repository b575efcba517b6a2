"""Moodle: `kit grade --format moodle` writes moodle.csv, for Moodle's "Import grades: CSV file".

An identity column to map to the username, a grade column to map to the grade item, and a
feedback column. Cells follow grading/report_csv.py's rule: one line, never a formula.
"""
from __future__ import annotations

from grading.gradebook import number
from grading.platforms import ASSIGNMENT
from grading.report_csv import cell, table
from kit.statuses import Status

NAME = "moodle"
HELP = "Moodle's CSV grade import"
FILE = "moodle.csv"


def grade_book(students) -> str:
    rows = [[cell(s.student), number(s.score),
             f"{number(s.score)} of {number(s.max_score)} points; "
             f"{sum(r.status == Status.PASSED for r in s.results)} of {len(s.results)} exercises passed"]
            for s in students]
    return table(["username", ASSIGNMENT, "feedback"], rows)
