"""The grade book's pages: index.html for the class, report.html for each student, from jinja2 templates.

The templates (grading/templates/*.html.j2, their style report.css) are rendered with autoescape;
every text that may come from a student goes through the `text` filter (grading/render.py):
control characters shown, truncated, html.escape'd. Links point to folders named by
`student_folder`, never to a student's text. The pages are self-contained (inline CSS and SVG).
This module lays out the numbers; the templates hold the markup.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from urllib.parse import quote

from grading.gradebook import MAX_FEEDBACK, MAX_PRINTED, STUDENTS_FOLDER, student_folder
from grading.render import read, render
from kit.registry import CHAPTERS, EXERCISES
from kit.statuses import Status

LIMITS = {"max_feedback": MAX_FEEDBACK, "max_printed": MAX_PRINTED}


def student_html(student) -> str:
    chapters = []
    for chapter, title in CHAPTERS.items():
        rows = [r for r in student.results if EXERCISES[r.exercise].module == chapter]
        if rows:
            chapters.append({
                "module": chapter, "title": title, "rows": rows,
                "names": [EXERCISES[r.exercise].name for r in rows],
                "earned": sum(r.score for r in rows), "total": sum(r.max_score for r in rows),
                "printed": student.import_output.get(chapter)})
    return render("templates/report.html.j2", css=read("templates/report.css"), student=student,
                  chapters=chapters, passed=Status.PASSED, **LIMITS)


def histogram(scores: list[float], maximum: float, bins: int = 10) -> dict:
    """The score distribution as an SVG bar chart's geometry: ten ranges of the maximum, each
    labelled by its range (0–9%, ..., 90–99%), and a bar of its own for full marks (100%)."""
    counts = [0] * (bins + 1)
    for s in scores:
        full = maximum > 0 and (s >= maximum or math.isclose(s, maximum, rel_tol=1e-9))
        counts[bins if full else min(bins - 1, int(bins * s / maximum)) if maximum else 0] += 1
    top = max(counts) or 1
    w, h, pad, head = 48, 140, 20, 16
    step = 100 // bins
    bars = []
    for i, c in enumerate(counts):
        bh = (h - pad - head) * c / top
        x = i * w
        label = "100%" if i == bins else f"{step * i}–{step * (i + 1) - 1}%"
        bars.append({"x": x + 4, "y": f"{h - pad - bh:.1f}", "width": w - 8, "height": f"{bh:.1f}", "count": c,
                     "label": label, "title": "full marks" if i == bins else f"{label} of the points",
                     "middle": x + w / 2, "above": f"{h - pad - bh - 3:.1f}", "under": h - 5,
                     "full": i == bins})
    return {"width": (bins + 1) * w, "height": h, "bars": bars}


def index_html(students, ids: list[str]) -> str:
    """The class's page: the score distribution, each exercise of `ids` (in this order), each student."""
    maximum = max((s.max_score for s in students), default=0)
    scores = [s.score for s in students]
    summary = None
    if scores:
        summary = {"mean": f"{statistics.mean(scores):.2f}", "median": statistics.median(scores),
                   "best": max(scores), "lowest": min(scores), "maximum": maximum,
                   "histogram": histogram(scores, maximum)}
    exercises = []
    for eid in ids:
        results = [r for s in students for r in s.results if r.exercise == eid]
        passed = sum(r.status == Status.PASSED for r in results)
        failures = Counter(r.label or r.status for r in results if r.status != Status.PASSED)
        exercises.append({"id": eid, "passed": passed, "count": len(results),
                          "percent": f"{100 * (passed / len(results) if results else 0):.0f}",
                          "failure": failures.most_common(1)[0] if failures else None})
    rows = [{"student": s, "passed": sum(r.status == Status.PASSED for r in s.results),
             "href": f"{STUDENTS_FOLDER}/{quote(student_folder(s.student), safe='')}/report.html"}
            for s in students]
    return render("templates/index.html.j2", css=read("templates/report.css"), count=len(students),
                  summary=summary, exercises=exercises, rows=rows)
