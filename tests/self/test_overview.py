"""The class overview's score distribution (grading/report_html.py): bins named by range, full marks apart."""
from __future__ import annotations

import re

import pytest

from grading.report_html import histogram, index_html
from grading.results import Result, StudentResult
from kit.registry import EXERCISES

IDS = list(EXERCISES)[:4]


def student(name: str, passed: int) -> StudentResult:
    return StudentResult(name, "", "", [Result(eid, "passed" if i < passed else "wrong", 1.0 if i < passed else 0.0,
                                               1.0) for i, eid in enumerate(IDS)])


def counts(scores: list[float], maximum: float) -> dict[str, int]:
    return {bar["label"]: bar["count"] for bar in histogram(scores, maximum)["bars"]}


def test_the_bins_are_ranges_and_full_marks_has_its_own():
    labels = list(counts([], 4))
    assert labels == ["0–9%", "10–19%", "20–29%", "30–39%", "40–49%", "50–59%", "60–69%", "70–79%", "80–89%",
                      "90–99%", "100%"]


@pytest.mark.parametrize("scores, maximum, expected", [
    ([4, 4], 4, {"100%": 2}),  # full marks are seen as full marks
    ([3.9], 4, {"90–99%": 1}),  # 97.5%: not full marks
    ([0.1 + 0.2], 0.3, {"100%": 1}),  # float sums that are full marks
    ([0, 1, 2, 3, 4], 4, {"0–9%": 1, "20–29%": 1, "50–59%": 1, "70–79%": 1, "100%": 1}),
    ([0.9999], 10, {"0–9%": 1}),
    ([1], 10, {"10–19%": 1}),  # a range's lower edge is in it
    ([0, 0], 0, {"0–9%": 2}),  # nothing to score: no division by zero
])
def test_each_score_falls_in_its_range(scores, maximum, expected):
    found = {label: n for label, n in counts(scores, maximum).items() if n}
    assert found == expected


def test_the_page_shows_the_ranges_and_the_full_marks():
    page = index_html([student("ada", 4), student("bob", 3), student("cy", 4)], IDS)
    labels = re.findall(r'text-anchor="middle">([^<]*%)</text>', page)
    assert labels[-1] == "100%" and labels[0] == "0–9%" and "90%" not in labels
    assert "2 students with full marks" in page and "1 student with 70–79% of the points" in page
