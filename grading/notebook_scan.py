"""The autograd scan of a notebook submission, in the trusted grader: of the code the student's process took out.

The grader never parses a notebook (grading/notebooks.py does, in the student's process). For
the static autograd scan (kit/autograd/scan/), the grader's first request to a notebook
submission's process is ("sources",), answered before any line of the submission has run there:
for each chapter served by notebooks, each cell's kept statements (the definitions that will
run), as text, at the cell's own lines. The grader reads that reply as plain data (strings, at
most SOURCES_LIMIT bytes), parses each cell as Python, as it parses a .py module for the scan,
and scans them with the .py modules. What it gets there can only zero exercises; a lie (which
would need the parser itself subverted) could only hide autograd from the static scan, and the
run-time block (kit/autograd/block.py) still stops it.
"""
from __future__ import annotations

import ast
from pathlib import Path

from kit.autograd.scan import _Program
from kit.autograd.scan.program import module_trees
from kit.registry import CHAPTERS

SOURCES_LIMIT = 80 << 20  # bytes of the reply: the kept code of every notebook (at most 64 MB of them)


def trees(folder: Path, sources) -> dict[str, ast.Module]:
    """{chapter: syntax tree} of the .py modules in `folder` and of the chapters the reply
    `sources` ({chapter: [[cell label, text], ...]}) says notebooks serve (never one with a module)."""
    found = module_trees(folder)
    if type(sources) is not dict:
        return found
    for chapter, cells in sources.items():
        if chapter not in CHAPTERS or chapter in found or type(cells) is not list:
            continue
        body = []
        for cell in cells:
            if type(cell) is not list or len(cell) != 2 or not all(type(c) is str for c in cell):
                continue
            try:
                body += ast.parse(cell[1], filename=cell[0]).body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
        found[chapter] = ast.Module(body=body, type_ignores=[])
    return found


def scan(folder: Path, sources) -> dict[str, str]:
    """{exercise id: why it scores zero}, as kit.autograd.scan.scan, with the notebooks' code."""
    return _Program(trees(folder, sources)).findings()
