"""The notebook's code as the autograd scan reads it (kit/autograd/scan/), before a check runs it.

pytest's run refuses, without running it, an exercise whose code the scan finds using autograd
(kit/autograd/learner.py); so does a notebook's check. The scan reads one module per chapter: here
it is put together from the notebook's cells, in the order they ran (IPython's `In`; elsewhere,
the files the notebook's functions were compiled from), keeping only their definitions: imports,
functions, classes and assignments at top level. The rest of a cell (a call, a loop, a plot,
`!pip`) is a scratch line, never part of an exercise, as the grader reads a notebook too.

The scan's sentences say "at line N": N is then the line of the cell, and the cell is named
("at line 3 of Cell In[4]").
"""
from __future__ import annotations

import ast
import linecache
import re
import types
from pathlib import Path

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
               ast.AnnAssign)

_cache: dict[tuple, dict[str, str]] = {}


def cell_sources(namespace: dict, folder) -> list[tuple[str, str]]:
    """[(the cell's name, its source)] in the order they ran: IPython's history when the namespace
    is IPython's, else the files in `folder` that the namespace's functions and classes come from."""
    history = namespace.get("In")
    if isinstance(history, list) and namespace.get("get_ipython") is not None:
        return [(f"Cell In[{number}]", source) for number, source in enumerate(history) if source]
    files: list[str] = []
    for found in namespace.values():
        filename = code_file(found)
        if filename and filename not in files and _inside(filename, folder):
            files.append(filename)
    return [(Path(filename).name, "".join(linecache.getlines(filename))) for filename in files]


def refusals(module: str, cells: list[tuple[str, str]]) -> dict[str, str]:
    """{exercise id: the scan's sentence} for the module's exercises, from the cells' definitions."""
    key = (module, tuple(cells))
    if key not in _cache:
        _cache.clear()  # one notebook's latest state is all that is asked again
        _cache[key] = _scan(module, cells)
    return _cache[key]


def _scan(module: str, cells: list[tuple[str, str]]) -> dict[str, str]:
    from kit.autograd.scan.program import Program

    body, starts, offset = [], [], 0
    for name, source in cells:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # a cell that does not parse defined nothing
        ast.increment_lineno(tree, offset)
        body += [node for node in tree.body if isinstance(node, DEFINITIONS)]
        starts.append((offset, name))
        offset += source.count("\n") + 1
    try:
        found = Program({module: ast.Module(body=body, type_ignores=[])}).findings()
    except Exception:  # the scan's own failure: the block at run time still stops autograd
        return {}
    return {eid: _cell_lines(text, starts) for eid, text in found.items()}


def _cell_lines(text: str, starts: list[tuple[int, str]]) -> str:
    def named(match):
        line = int(match.group(1))
        offset, name = max((s for s in starts if s[0] < line), default=(0, ""))
        return f"at line {line - offset} of {name}" if name else match.group(0)
    return re.sub(r"at line (\d+)", named, text)


def code_file(found) -> str | None:
    if isinstance(found, types.FunctionType):
        return found.__code__.co_filename
    if isinstance(found, type):
        for member in vars(found).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, types.FunctionType):
                return member.__code__.co_filename
    return None


def _inside(filename: str, folder) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False
