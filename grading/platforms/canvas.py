"""Canvas: `kit grade --format canvas` writes canvas.csv, a file Canvas' gradebook import (Grades > Import) takes as is.

The columns Canvas's importer reads (canvas-lms app/models/gradebook_importer.rb): Student, ID,
SIS User ID, SIS Login ID, Section, then the assignment's column, titled with the assignment's
name (`kit grade --assignment`: a title that is no assignment's yet creates one; an existing
assignment of that title gets the grades), and a "Points Possible" row. Canvas matches each
row's student by ID (its user id), else SIS User ID, else SIS Login ID, else the name in Student:
`kit grade --roster` gives them (name, canvas_id, sis_id, login, section), and the canvas layout
gives the user id itself. A student with none of them (no roster) is named by their id, as their
SIS Login ID: name each submission after the student's login. Cells follow
grading/report_csv.py's rule: one line, never a formula.
"""
from __future__ import annotations

from grading.gradebook import number
from grading.platforms import GradeBookContext
from grading.report_csv import cell, table

NAME = "canvas"
HELP = "Canvas' gradebook import"
FILE = "canvas.csv"
HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def grade_book(students, context: GradeBookContext | None = None) -> str:
    context = context or GradeBookContext()
    maximum = max((s.max_score for s in students), default=0)
    rows = [["    Points Possible", "", "", "", "", number(maximum)]]
    unknown = []
    for s in students:
        who = context.identities.get(s.student)
        if who is not None and (who.canvas_id or who.sis_id or who.login):
            identity = [who.name or s.student, who.canvas_id, who.sis_id, who.login, who.section]
        else:
            identity = [who.name if who is not None and who.name else s.student, "", "", s.student,
                        who.section if who is not None else ""]
            unknown.append(s.student)
        rows.append([*(cell(text) for text in identity), number(s.score)])
    if unknown and (context.layout != "folders" or any(w.listed for w in context.identities.values())):
        context.notes.append(f"canvas.csv: no Canvas identity (no roster row with canvas_id, sis_id or login), so "
                             f"their id is their SIS Login ID ({len(unknown)}): {_some(unknown)}")
    return table([*HEADER, context.assignment], rows)


def _some(names: list[str]) -> str:
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
