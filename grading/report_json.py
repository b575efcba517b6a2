"""Each student's results.json, in Gradescope's format: a test per exercise, the kit's status in extra_data.

The texts are JSON-escaped (json.dumps does the controls), with lone surrogates (bytes of a name
that are not UTF-8) shown as `printable` shows them, so that the file is valid UTF-8.
Standard library only (with grading.text): `kit grade --progress-log` writes `test_entry` lines.
"""
from __future__ import annotations

import json
import re

from grading.gradebook import MAX_FEEDBACK, MAX_PRINTED, clip, number
from grading.text import visible
from kit.statuses import Status


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


def results_json(student) -> dict:
    """Gradescope's results.json: a test per exercise (`test_entry`)."""
    tests = [test_entry(r) for r in student.results]
    summary = f"{number(student.score)} of {number(student.max_score)} points"
    if student.problem:
        summary += f". {clip(student.problem, 500)}"
    return {"score": number(student.score), "max_score": number(student.max_score),
            "output": _unicode(summary), "tests": tests}


def results_text(student) -> str:
    """The file's text."""
    return json.dumps(results_json(student), indent=2, ensure_ascii=False) + "\n"
