"""The grade book's CSV: grades.csv, and the cell rule every CSV file of it follows (the LMS ones too).

A student's text in a cell is on one line (`printable`: a CR or LF in an id cannot start a row)
and never a formula (`cell`). Standard library only (with grading.text).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata

from grading.gradebook import number
from grading.text import printable


def cell(text: str) -> str:
    """A student's text as a CSV cell: on one line (`printable`: a CR or LF in an id cannot start
    a row) and never a formula, as OWASP advises against CSV injection: a ' before = + - @ at its
    start, also after spaces or quotes, or in a full-width form (＝), and so after each ',' and ';'
    in it, where a spreadsheet that splits at ';' (many locales) or a naive reader starts a cell.
    Tab and CR, OWASP's other two, are escaped by `printable`."""
    parts = re.split("([,;])", printable(text))
    return "".join("'" + part if _formula(part) else part for part in parts)


def _formula(part: str) -> bool:
    first = unicodedata.normalize("NFKC", re.sub(r"^[\s\"']+", "", part)[:1])
    return first[:1] in ("=", "+", "-", "@")


def table(header: list[str], rows: list[list]) -> str:
    """A CSV file's text: the header, then the rows, "\\n" after each."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


def grades_csv(students, ids: list[str]) -> str:
    """grades.csv: a row per student, its total, the maximum and its points for each exercise of `ids`."""
    rows = []
    for s in students:
        cells = {r.exercise: number(r.score) for r in s.results}
        rows.append([cell(s.student), number(s.score), number(s.max_score), *(cells[e] for e in ids)])
    return table(["student", "score", "max_score", *ids], rows)
