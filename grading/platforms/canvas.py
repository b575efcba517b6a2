"""Canvas: `kit grade --format canvas` writes canvas.csv, a file Canvas' gradebook import (Grades > Import) takes as is.

Its identity columns, a "Points Possible" row, and one assignment column (a new column creates
the assignment). Students are matched by SIS Login ID: name each submission after the
student's login. Cells follow grading/report_csv.py's rule: one line, never a formula.
"""
from __future__ import annotations

from grading.gradebook import number
from grading.platforms import ASSIGNMENT
from grading.report_csv import cell, table

NAME = "canvas"
HELP = "Canvas' gradebook import"
FILE = "canvas.csv"


def grade_book(students) -> str:
    maximum = max((s.max_score for s in students), default=0)
    rows = [["    Points Possible", "", "", "", "", number(maximum)]]
    rows += [[cell(s.student), "", "", cell(s.student), "", number(s.score)] for s in students]
    return table(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT], rows)
