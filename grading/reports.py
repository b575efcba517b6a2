"""The grade book: grades.csv, index.html for the class, students/<folder>/results.json and
report.html per student (the folder: `student_folder`), canvas.csv and moodle.csv if asked for.

Everything is written from the grader's own results. Every text that came from a student
(ids, which are file names and may hold any character but '/' and NUL; messages quoting their
exceptions and values; their printed output; file names) is inert wherever it lands:
- in the pages, escaped with html.escape, its control characters shown (`printable`), truncated;
  links point to folders named by `student_folder`, never to a student's text;
- in the CSV files, on one line (`printable`) and never a formula (`_cell`);
- in results.json, JSON-escaped, with lone surrogates (bytes of a name that are not UTF-8) shown;
- on the terminal (grading/cli.py, the progress bar), through `printable` (grading/text.py).
The pages are self-contained (inline CSS and SVG).
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import statistics
import unicodedata
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from kit.registry import CHAPTERS, EXERCISES
from grading.grader import StudentResult
from kit.statuses import Status
from grading.text import printable, visible

MAX_FEEDBACK = 3000
MAX_PRINTED = 2000


def number(value: float):
    """Points as the grade book shows them: 3, not 3.0; 1.5 stays 1.5."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters)"


def esc(text: str, limit: int = 300, keep: str = "\n\t") -> str:
    """Student text for a page: control characters shown (`keep`: those that stay), truncated, escaped."""
    return html.escape(clip(printable(str(text), keep), limit))


STUDENTS_FOLDER = "students"  # OUT/students/<folder>/: beside the grade book's own files there is no student's
_DEVICES = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?")  # names Windows (and so SMB, NTFS) refuses


def student_folder(student: str) -> str:
    """The name of a student's folder under OUT/students/, from the id alone.

    A plain id (lowercase ASCII letters, digits, . _ -; a letter or digit first, no "." last; up
    to 64; not a Windows device name like "con") is its own folder: students/ada/. Any other id
    (".", "..", "Ada", "José", "x\\rbob", a long one) is its ASCII letters and digits, "~" and 16
    hex digits of its SHA-256: students/Jos_~24c2ab65b7adab7e/. No plain name holds "~", two
    hashed ones differ in their hash, plain names are lowercase: no two ids share a folder, even
    on a file system blind to case, and every folder name is valid on any file system."""
    if (re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", student) and not student.endswith(".")
            and not _DEVICES.fullmatch(student)):
        return student
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9]+', '_', student)[:40]}~{digest}"


def write_all(out: Path, students: list[StudentResult], formats: tuple[str, ...] = ()) -> None:
    """Every file of the grade book, into the (empty) folder `out`; `formats` adds LMS imports."""
    out.mkdir(parents=True, exist_ok=True)
    ids = graded(students)
    (out / "grades.csv").write_text(grades_csv(students, ids), encoding="utf-8")
    for name in formats:
        if name in LMS_EXPORTS:
            (out / f"{name}.csv").write_text(LMS_EXPORTS[name](students), encoding="utf-8")
    for student in students:
        folder = out / STUDENTS_FOLDER / student_folder(student.student)
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(results_json(student), indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        (folder / "report.html").write_text(student_html(student), encoding="utf-8")
    (out / "index.html").write_text(index_html(students), encoding="utf-8")


def graded(students: list[StudentResult]) -> list[str]:
    """The exercise ids of the grade book, in curriculum order."""
    ids = {r.exercise for s in students for r in s.results}
    return [eid for eid in EXERCISES if eid in ids]


def _cell(text: str) -> str:
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


def grades_csv(students: list[StudentResult], ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *ids])
    for s in students:
        cells = {r.exercise: number(r.score) for r in s.results}
        writer.writerow([_cell(s.student), number(s.score), number(s.max_score), *(cells[e] for e in ids)])
    return buffer.getvalue()


ASSIGNMENT = "backprop-kit"  # the grade column's title in an LMS


def _rows(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


def canvas_csv(students: list[StudentResult]) -> str:
    """Canvas' gradebook import (Grades > Import): its identity columns, a "Points Possible" row,
    and one assignment column (a new column creates the assignment). Students are matched by
    SIS Login ID: name each submission after the student's login."""
    maximum = max((s.max_score for s in students), default=0)
    rows = [["    Points Possible", "", "", "", "", number(maximum)]]
    rows += [[_cell(s.student), "", "", _cell(s.student), "", number(s.score)] for s in students]
    return _rows(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT], rows)


def moodle_csv(students: list[StudentResult]) -> str:
    """Moodle's "Import grades: CSV file": an identity column to map to the username, a grade
    column to map to the grade item, and a feedback column."""
    rows = [[_cell(s.student), number(s.score),
             f"{number(s.score)} of {number(s.max_score)} points; "
             f"{sum(r.status == Status.PASSED for r in s.results)} of {len(s.results)} exercises passed"]
            for s in students]
    return _rows(["username", ASSIGNMENT, "feedback"], rows)


LMS_EXPORTS = {"canvas": canvas_csv, "moodle": moodle_csv}  # "csv" is grades.csv, always written


def _feedback(result) -> str:
    text = result.feedback or "passed"
    if result.output:
        text += "\n\nprinted output:\n" + clip(result.output, MAX_PRINTED)
    return clip(text, MAX_FEEDBACK + MAX_PRINTED)


def _unicode(text: str) -> str:
    """Text a UTF-8 file can hold: a lone surrogate shown as `printable` shows it, the rest as it is
    (JSON escapes the controls itself)."""
    return re.sub("[\ud800-\udfff]", lambda match: visible(match[0]), text)


def test_entry(r) -> dict:
    """One exercise as a test of Gradescope's results.json; the kit's status in extra_data."""
    return {
        "name": r.exercise,
        "score": number(r.score),
        "max_score": number(r.max_score),
        "status": "passed" if r.status == Status.PASSED else "failed",
        "output": _unicode(_feedback(r)),
        "extra_data": {"kit_status": r.status},
    }


def results_json(student: StudentResult) -> dict:
    """Gradescope's results.json: a test per exercise (`test_entry`)."""
    tests = [test_entry(r) for r in student.results]
    summary = f"{number(student.score)} of {number(student.max_score)} points"
    if student.problem:
        summary += f". {clip(student.problem, 500)}"
    return {"score": number(student.score), "max_score": number(student.max_score),
            "output": _unicode(summary), "tests": tests}


CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}
pre{white-space:pre-wrap;word-break:break-word;background:#f8f8f8;padding:.5em;margin:.2em 0;font-size:.85em}
.passed{color:#17692e}.failed{color:#a4161a}.status{font-weight:600;white-space:nowrap}
.bar{background:#e8e8e8;height:1em;width:12em;display:inline-block;vertical-align:middle}
.bar span{background:#3a7d44;height:100%;display:block}
.num{text-align:right;white-space:nowrap}.muted{color:#666;font-size:.9em}
"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def student_html(student: StudentResult) -> str:
    name = esc(student.student, 100, keep="")
    parts = [f"<h1>{name}: {number(student.score)} / {number(student.max_score)} points</h1>"]
    if student.source:
        parts.append(f"<p class=\"muted\">Graded the modules in {esc(student.source, 200)}.</p>")
    if student.problem:
        parts.append(f"<p class=\"failed\">{esc(student.problem, 1000)}</p>")
    if student.skipped:
        shown = ", ".join(esc(s, 100) for s in student.skipped[:20])
        parts.append(f"<p class=\"muted\">Not graded, never imported: {shown}</p>")
    for chapter, title in CHAPTERS.items():
        rows = [r for r in student.results if EXERCISES[r.exercise].module == chapter]
        if not rows:
            continue
        earned, total = sum(r.score for r in rows), sum(r.max_score for r in rows)
        parts.append(f"<h2>{esc(title)} <span class=\"muted\">({chapter}: {number(earned)} / {number(total)})</span></h2>")
        if chapter in student.import_output:
            parts.append(f"<p class=\"muted\">Printed on import:</p><pre>{esc(student.import_output[chapter], MAX_PRINTED)}</pre>")
        parts.append("<table><tr><th>exercise</th><th>status</th><th class=\"num\">points</th><th>feedback</th></tr>")
        for r in rows:
            css = "passed" if r.status == Status.PASSED else "failed"
            feedback = f"<pre>{esc(r.feedback, MAX_FEEDBACK)}</pre>" if r.feedback else ""
            if r.output:
                feedback += f"<div class=\"muted\">printed output:</div><pre>{esc(r.output, MAX_PRINTED)}</pre>"
            parts.append(f"<tr><td>{esc(EXERCISES[r.exercise].name)}</td><td class=\"status {css}\">{esc(r.status)}</td>"
                         f"<td class=\"num\">{number(r.score)} / {number(r.max_score)}</td><td>{feedback}</td></tr>")
        parts.append("</table>")
    parts.append("<p class=\"muted\"><a href=\"../../index.html\">the whole class</a></p>")
    return _page(f"{clip(printable(student.student), 100)}: backprop-kit grades", "\n".join(parts))


def _histogram(scores: list[float], maximum: float, bins: int = 10) -> str:
    """The score distribution as an inline SVG bar chart, percent of the maximum in ten bins."""
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, int(bins * s / maximum)) if maximum else 0] += 1
    top = max(counts) or 1
    w, h, pad, head = 44, 140, 20, 16
    bars = []
    for i, c in enumerate(counts):
        bh = (h - pad - head) * c / top
        x = i * w
        bars.append(f"<rect x=\"{x + 4}\" y=\"{h - pad - bh:.1f}\" width=\"{w - 8}\" height=\"{bh:.1f}\" fill=\"#3a7d44\">"
                    f"<title>{c} students at {10 * i}–{10 * (i + 1)}%</title></rect>"
                    f"<text x=\"{x + w / 2}\" y=\"{h - pad - bh - 3:.1f}\" font-size=\"11\" text-anchor=\"middle\">{c or ''}</text>"
                    f"<text x=\"{x + w / 2}\" y=\"{h - 5}\" font-size=\"10\" text-anchor=\"middle\">{10 * i}%</text>")
    return (f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{bins * w}\" height=\"{h}\" role=\"img\" "
            f"aria-label=\"score distribution\">{''.join(bars)}</svg>")


def index_html(students: list[StudentResult]) -> str:
    n = len(students)
    maximum = max((s.max_score for s in students), default=0)
    scores = [s.score for s in students]
    parts = [f"<h1>backprop-kit: {n} student{'s' if n != 1 else ''}</h1>"]
    if scores:
        parts.append(f"<p>Mean {statistics.mean(scores):.2f}, median {number(statistics.median(scores))}, "
                     f"best {number(max(scores))}, lowest {number(min(scores))} of {number(maximum)} points.</p>")
        parts.append(f"<h2>Score distribution</h2>{_histogram(scores, maximum)}")
    parts.append("<h2>Exercises</h2><table><tr><th>exercise</th><th>passed</th><th></th>"
                 "<th>most common failure</th></tr>")
    for eid in graded(students):
        results = [r for s in students for r in s.results if r.exercise == eid]
        passed = sum(r.status == Status.PASSED for r in results)
        rate = passed / len(results) if results else 0
        failures = Counter(r.label or r.status for r in results if r.status != Status.PASSED)
        common = ""
        if failures:
            label, count = failures.most_common(1)[0]
            common = f"{esc(label, 120)} <span class=\"muted\">({count} student{'s' if count != 1 else ''})</span>"
        parts.append(f"<tr><td>{esc(eid)}</td><td class=\"num\">{passed} / {len(results)}</td>"
                     f"<td><span class=\"bar\"><span style=\"width:{100 * rate:.0f}%\"></span></span> {100 * rate:.0f}%</td>"
                     f"<td>{common}</td></tr>")
    parts.append("</table><h2>Students</h2><table><tr><th>student</th><th class=\"num\">score</th>"
                 "<th class=\"num\">passed</th><th>note</th></tr>")
    for s in students:
        passed = sum(r.status == Status.PASSED for r in s.results)
        href = f"{STUDENTS_FOLDER}/{quote(student_folder(s.student), safe='')}/report.html"
        parts.append(f"<tr><td><a href=\"{html.escape(href)}\">{esc(s.student, 100, keep='')}</a></td>"
                     f"<td class=\"num\">{number(s.score)} / {number(s.max_score)}</td>"
                     f"<td class=\"num\">{passed} / {len(s.results)}</td><td>{esc(s.problem, 200)}</td></tr>")
    parts.append("</table>")
    return _page("backprop-kit: class grades", "\n".join(parts))
