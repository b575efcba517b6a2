"""Checking what a notebook defines: `kit.check(square_grad)`, the check pytest runs, in a cell.

    kit.check(square_grad)                        the exercise named like the function
    kit.check(my_try, "ch3_power_rule.square_grad")   a function by another name: say which exercise
    kit.check("ch7_engine.add")                   an exercise, its function or class taken from the notebook
    kit.check(Value)                              a class: every exercise of it (chapter 7's engine)
    kit.check()                                   everything of the curriculum the notebook defines, and the progress
    kit.check(..., timeout=SECONDS)               the time limit of one call (default 5 s; 0: none)

An exercise is named as everywhere in the kit (kit/names.py: an id, a function name, a chapter).
The check is kit.check's own (kit/check.py), on the same inputs, with the learner's profile of
hypothesis (kit/profiles.py): the same verdict, message, nudge and diagnosis as pytest's, and
the report's picture. What a check returns shows itself in the cell (kit/notebook/show.py).

The notebook's objects are called through `Cells`, an Implementation (kit/implementation.py)
whose "module" is the notebook's namespace: so the time limit, the autograd block of a learner's
run (kit/autograd/learner.py) and the messages are those of pytest. The learner's files, for the
time limit and for the tracebacks, are those the notebook's cells are compiled to (ipykernel
gives each cell a file of its own, all in one folder). Cells replaces only Implementation's
`module` and `path`. Before a check runs anything, the scan reads the cells' definitions
(kit/notebook/scan.py) and refuses an exercise that uses autograd, as pytest's run does. A call
that nothing can stop (C code that never returns) ends the kernel, as it ends pytest's process,
after its message in the cell.
"""
from __future__ import annotations

import contextlib
import io
import sys
import types
from functools import partial
from pathlib import Path
from typing import Any

from kit.implementation import Implementation, LearnerError, learner_time_limit
from kit.notebook import scan
from kit.notebook.scan import code_file
from kit.statuses import Status

HERE = "this notebook"  # how messages name the place of the learner's code
MISSING_ADVICE = "Run the cell that defines it first, then this check again."
PICTURED = (Status.PASSED, Status.WRONG, Status.ERROR)  # a picture of code that ran (the others would not)
TIMEOUT_ADVICE = "In a notebook: kit.check(..., timeout=SECONDS), 0 for no limit."


class Cells(Implementation):
    """An Impl (kit.protocols) whose every curriculum module is the notebook's namespace, with
    `given` ({attribute: object}: what kit.check was handed) in front of it."""

    def __init__(self, namespace: dict, given: dict | None = None, time_limit: float | None = None,
                 names: tuple[str, ...] = ()):
        self.namespace = namespace
        self.given = dict(given or {})
        found = [*self.given.values(), *(namespace[n] for n in names if n in namespace)]
        super().__init__(_cells_folder(found), time_limit=time_limit, on_stuck=_tell_cell)
        self.view = Namespace(namespace, self.given)

    def __repr__(self) -> str:
        return f"Cells({HERE})"

    def path(self, module: str) -> Path:
        return Path(HERE)

    def module(self, name: str) -> types.ModuleType:
        return self.view


class Namespace(types.ModuleType):
    """The notebook's namespace as a module: `given` first, then the notebook's globals."""

    def __init__(self, namespace: dict, given: dict):
        super().__init__("__notebook__")
        self.__dict__["_namespace"] = namespace
        self.__dict__["_given"] = given

    def __getattr__(self, name: str) -> Any:
        given, namespace = self.__dict__["_given"], self.__dict__["_namespace"]
        if name in given:
            return given[name]
        try:
            return namespace[name]
        except KeyError:
            raise AttributeError(name) from None


def _cells_folder(objects: list) -> Path:
    """The folder of the files the learner's code was compiled from (ipykernel: /tmp/ipykernel_<pid>/):
    that of the first of `objects` (the exercises' functions and classes) compiled from a file; else
    an empty folder (not the working one, whose chN_*.py files the autograd scan would read). Not
    that of any function of the namespace: IPython puts its own there (`open`)."""
    global _EMPTY
    for found in objects:
        filename = code_file(found)
        if filename:
            return Path(filename).resolve().parent
    if _EMPTY is None:
        import tempfile

        _EMPTY = Path(tempfile.mkdtemp(prefix="kit-notebook-"))
    return _EMPTY


_EMPTY: Path | None = None


def _tell_cell(text: str) -> None:
    """A stuck call's last words (the process ends after them): in the cell, and in the kernel's log."""
    for stream in (sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.write(text)
            stream.flush()


# ---- which exercises -----------------------------------------------------------------------------

def caller_namespace() -> dict:
    """The globals of the code that called into the kit: a notebook's namespace (IPython's user_ns)."""
    frame = sys._getframe(1)
    while frame is not None and _kit_frame(frame):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def _kit_frame(frame) -> bool:
    name = frame.f_globals.get("__name__", "")
    return name == "kit" or name.startswith("kit.")


def exercises_of(what, exercise: str | None) -> list:
    """The exercises that kit.check(what, exercise) checks; kit.names.UnknownName when none."""
    from kit.names import UnknownName, select
    from kit.registry import EXERCISES

    if exercise is not None:
        return select(exercise)
    if isinstance(what, str):
        return select(what)
    name = getattr(what, "__name__", None)
    if not isinstance(name, str):
        raise UnknownName(f"kit.check takes a function or class of the curriculum, or an exercise's name; "
                          f"not {type(what).__name__} {what!r}")
    if isinstance(what, type):
        found = [e for e in EXERCISES.values() if e.symbol == name]
    else:
        found = [e for e in EXERCISES.values() if not e.symbol and e.name == name]
    if len({e.module for e in found}) > 1:
        ids = ", ".join(e.id for e in found)
        raise UnknownName(f"{name} is in several chapters; say which: kit.check({name}, \"{found[0].id}\") "
                          f"(one of {ids})")
    if not found:
        raise UnknownName(f"{name} is not an exercise of the curriculum{_nearest(name, isinstance(what, type))}; "
                          f"define it under the exercise's own name, or say which: "
                          f"kit.check({name}, \"ch3_power_rule.square_grad\")")
    return found


def _nearest(name: str, is_class: bool) -> str:
    import difflib

    from kit.registry import EXERCISES

    names = sorted({e.symbol if is_class else e.name for e in EXERCISES.values() if bool(e.symbol) == is_class})
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def defined(namespace: dict) -> list:
    """The exercises whose function or class the namespace defines, in curriculum order: functions and
    classes of Python code (not torch's `sigmoid`, imported under an exercise's name)."""
    from kit.registry import EXERCISES

    return [e for e in EXERCISES.values() if code_file(namespace.get(e.attribute)) is not None and
            (isinstance(namespace[e.attribute], type) == bool(e.symbol))]


# ---- the check -----------------------------------------------------------------------------------

def check(what=None, exercise: str | None = None, *, timeout: float | None = None, namespace: dict | None = None):
    """Check a function or class of the notebook against torch.autograd, as pytest does.

    what: the function or class (its exercise found by its name), or an exercise's name
    (kit/names.py: "ch3_power_rule.square_grad", "square_grad", "ch3"); None: every exercise the
    notebook defines. exercise: which exercise `what` answers, when its name does not say.
    timeout: seconds for one call of your code (default 5; 0: no limit). namespace: where the
    notebook's functions live (default: the caller's globals, a notebook's namespace).
    Returns a Result (one exercise) or a Results (several); both show themselves in the cell.
    """
    from kit.notebook.show import Results

    namespace = caller_namespace() if namespace is None else namespace
    if what is None and exercise is None:
        chosen = defined(namespace)
        given = {}
        whole = True
    else:
        chosen = exercises_of(what, exercise)
        given = {} if what is None or isinstance(what, str) else {e.attribute: what for e in chosen}
        if len(given) > 1:  # kit.check(fn, "ch3"): one function for several exercises
            from kit.names import UnknownName

            raise UnknownName(f"{exercise!r} names {len(chosen)} exercises; name the one that "
                              f"{getattr(what, '__name__', 'it')} answers ({', '.join(e.id for e in chosen)})")
        whole = False
    impl = Cells(namespace, given, time_limit=learner_time_limit(timeout), names=tuple(e.attribute for e in chosen))
    cells = scan.cell_sources(namespace, impl.folder)
    results = [run(e, impl, cells) for e in chosen]
    if len(results) == 1 and not whole:
        return results[0]
    return Results(results, summary=whole)


def run(exercise, impl: Cells, cells: list[tuple[str, str]] = ()):
    """One exercise against torch, as pytest's test of it: a Result (kit/notebook/show.py).
    cells: the notebook's cells (kit/notebook/scan.py), for the scan that refuses autograd unrun."""
    import kit.profiles  # noqa: F401  (the learner's profile)
    from kit.autograd.learner import as_graded
    from kit.check import ExerciseFailure
    from kit.check import check as check_exercise
    from kit.fixtures import Printed
    from kit.notebook.show import Result

    refused = scan.refusals(exercise.module, list(cells)).get(exercise.id) if cells else None
    if refused is not None:  # as pytest's run: not run at all
        return Result(exercise, Status.AUTOGRAD, as_graded(refused))

    printed = Printed(impl)
    failure = None
    try:
        check_exercise(exercise, printed, learner_settings())
    except ExerciseFailure as raised:
        failure = raised
    output = printed.report(exercise, failure)
    status = Status.PASSED if failure is None else failure.status
    picture = _picture(exercise, impl) if status in PICTURED else ""
    if failure is None:
        return Result(exercise, Status.PASSED, "", output, picture)
    message = _in_notebook(failure.message, failure.status)
    return Result(exercise, failure.status, message, output, picture)


_DATABASE = None


def learner_settings():
    """The learner's profile, remembering its failing inputs for the kernel's life (not in a folder:
    a notebook's working folder, Colab's /content, is not the kit's)."""
    global _DATABASE
    from hypothesis import settings
    from hypothesis.database import InMemoryExampleDatabase

    if _DATABASE is None:
        _DATABASE = InMemoryExampleDatabase()
    return settings(settings.get_profile("learner"), database=_DATABASE)


def _in_notebook(message: str, status: Status) -> str:
    """A message as the notebook reads it: its cells by their names (Cell In[3]), and the advice of
    the notebook where the terminal's is given."""
    message = cell_names(message)
    if status == Status.MISSING:
        message += f"\n{MISSING_ADVICE}"
    elif status == Status.TIMEOUT:
        message += f"\n  {TIMEOUT_ADVICE}"
    return message


def cell_names(text: str) -> str:
    """`File "/tmp/ipykernel_1/123.py", line 4` as IPython names it: `Cell In[3], line 4`."""
    import re

    shell = _ipython()
    if shell is None or not hasattr(getattr(shell, "compile", None), "format_code_name"):
        return text

    def named(found):
        try:
            kind = shell.compile.format_code_name(found.group(1))
        except Exception:
            kind = None
        return f"{kind[0]} {kind[1]}" if kind else found.group(0)
    return re.sub(r'File "([^"]+)"', named, text)


def _ipython():
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:
        return None


def _picture(exercise, impl: Cells) -> str:
    """The exercise's picture, as the report shows it (an HTML fragment, inline SVG), or ""."""
    import html

    from kit import pictures

    picture = exercise.picture or (partial(pictures.scalar_curve, exercise) if exercise.curve else None)
    if picture is None:
        return ""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return picture(impl) or ""
    except LearnerError as error:
        return f"<p>No picture: {html.escape(error.text.splitlines()[0] if error.text else '')[:300]}</p>"
    except Exception as error:  # the learner's broken code must not break the check's cell
        return f"<p>No picture: {html.escape(str(error))[:300]}</p>"
