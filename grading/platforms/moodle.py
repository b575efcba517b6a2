"""Moodle: `kit grade --format moodle` writes moodle.csv, for Moodle's "Import grades: CSV file".

Moodle's CSV import (grade/import/csv) reads any columns: on its mapping page the instructor maps
one column to the user ("Identify user by": username, useridnumber or useremail), the grade
column to a grade item ("new grade item" makes one titled as the column: the assignment's name,
`kit grade --assignment`) and the feedback column to that item's feedback. Moodle stops the
whole import at a row whose user it cannot find, so every row of moodle.csv is identified:

- without identities (no roster, a layout that gives none), a `username` column: the student id;
- with them (`kit grade --roster`: login, sis_id, email; Gradescope's email), the columns
  `username`, `idnumber`, `email` that every row has; if none does, the one most rows have,
  and the rows without it are left out of moodle.csv, with a note (they are in grades.csv).

Cells follow grading/report_csv.py's rule: one line, never a formula.
"""
from __future__ import annotations

from grading.gradebook import number
from grading.platforms import GradeBookContext
from grading.report_csv import cell, table
from kit.statuses import Status

NAME = "moodle"
HELP = "Moodle's CSV grade import"
FILE = "moodle.csv"
COLUMNS = (("username", "login"), ("idnumber", "sis_id"), ("email", "email"))  # Moodle's user fields


def grade_book(students, context: GradeBookContext | None = None) -> str:
    context = context or GradeBookContext()
    who = {s.student: context.identities.get(s.student) for s in students}
    values = {column: {s.student: getattr(who[s.student], field, "") if who[s.student] else "" for s in students}
              for column, field in COLUMNS}
    if not any(v for column in values.values() for v in column.values()):
        columns, values = ["username"], {"username": {s.student: s.student for s in students}}
    else:
        columns = [c for c, _ in COLUMNS if all(values[c].values())]
        if not columns:
            columns = [max((c for c, _ in COLUMNS), key=lambda c: sum(map(bool, values[c].values())))]
            left = [s.student for s in students if not values[columns[0]][s.student]]
            context.notes.append(f"moodle.csv: no {columns[0]} (no roster row gives it), so left out: Moodle "
                                 f"stops an import at a user it cannot find ({len(left)}): "
                                 + ", ".join(left[:10]) + (" ..." if len(left) > 10 else ""))
    rows = [[*(cell(values[c][s.student]) for c in columns), number(s.score), _feedback(s)]
            for s in students if all(values[c][s.student] for c in columns)]
    return table([*columns, context.assignment, "feedback"], rows)


def _feedback(s) -> str:
    if s.problem == "no submission":
        return "no submission"
    return (f"{number(s.score)} of {number(s.max_score)} points; "
            f"{sum(r.status == Status.PASSED for r in s.results)} of {len(s.results)} exercises passed")
