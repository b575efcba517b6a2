"""The inputs every student is graded on, and torch's answers to them, computed once per class.

`kit.check.check` tries an exercise's examples, then the inputs the hypothesis profile
draws. Under the `grading` profile (derandomized, no database) that sequence is fixed: a
submission that passes sees exactly it, and one that fails, fails at the first input of it
where its answer is wrong. `record` runs `check` itself, with an implementation that answers
torch's answer and writes down every input it is asked about: the very sequence
`pytest --impl SUBMISSION --hypothesis-profile grading` would try, with its references.

Drawing the inputs costs about 24 s of CPU (hypothesis builds ~150 inputs per exercise, and
some references train a network), as much as grading 20 students, so `record_all`
- draws the exercises in parallel, in trusted processes forked from the grader's forkserver
  before any submission runs (they send back pickles, which the grader may trust: no
  student code ever ran in them);
- keeps the result in a cache, one file per exercise, named by a hash of the kit's sources
  (kit/, this file) and of the python, torch, numpy and hypothesis versions: any change to
  what could change an input or a reference names another file. Same sources, same inputs:
  the cache changes the time, never a grade.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import os
import pickle
import selectors
import socket
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import numpy
import torch
from hypothesis import settings

import kit
import kit.profiles  # noqa: F401  (registers the grading profile)
from kit.check import check
from kit.implementation import copy_args
from kit.registry import EXERCISES
from grading import wire


@dataclass(frozen=True)
class Cases:
    exercise: object
    inputs: tuple  # argument tuples, in the order check() tries them
    expected: tuple  # torch's answer to each
    examples: int  # how many of the first inputs are the exercise's examples
    pickled: bytes  # `inputs`, ready to send to a submission's process


def _cases(exercise, inputs: tuple, expected: tuple) -> Cases:
    return Cases(exercise, inputs, expected, len(exercise.examples), wire.pickle_arguments(inputs))


class _Recorder:
    """An implementation that gives torch's answer and remembers every question.

    check() computes the reference before it asks the implementation; `exercise` here is a
    copy of the exercise whose reference also keeps its answer, so the recorder returns it
    instead of computing it twice."""

    def __init__(self, exercise):
        self.inputs, self.expected, self.last = [], [], None
        reference = exercise.reference

        @functools.wraps(reference)
        def remembered(*args):
            self.last = reference(*args)
            return self.last

        self.exercise = dataclasses.replace(exercise, reference=remembered)

    def call(self, exercise, args):
        self.inputs.append(copy_args(args))
        self.expected.append(self.last)
        return self.last, None


def grading_settings() -> settings:
    return settings.get_profile("grading")


def record(exercise) -> Cases:
    """The inputs and references for one exercise, drawn in this process."""
    recorder = _Recorder(exercise)
    try:
        check(recorder.exercise, recorder, grading_settings())
    except Exception:
        raise RecordError(f"drawing the inputs of {exercise.id} failed:\n{traceback.format_exc()}") from None
    return _cases(exercise, tuple(recorder.inputs), tuple(recorder.expected))


# ---- the cache ------------------------------------------------------------------------------

def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backprop-kit" / "grading"


@functools.cache
def _fingerprint(module: str) -> str:
    """A hash of everything an exercise's inputs and references depend on: the versions of
    python and the libraries, this file, and the source of every kit module the chapter and
    kit.check import (transitively), so that editing one chapter keeps the others' files."""
    digest = hashlib.sha256()
    for part in (sys.version, torch.__version__, numpy.__version__, hypothesis.__version__):
        digest.update(part.encode() + b"\0")
    root = Path(kit.__file__).parent
    for path in [Path(__file__)] + sorted(_kit_sources(root, [f"kit.chapters.{module}", "kit.check",
                                                                 "kit.profiles", "kit.implementation"])):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _kit_sources(root: Path, names: list[str]) -> set[Path]:
    """The files of the named kit modules and of every kit module they import."""
    seen: set[Path] = set()
    todo = list(names)
    while todo:
        parts = todo.pop().split(".")[1:]
        for path in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if path.is_file() and path not in seen:
                seen.add(path)
                todo += _kit_imports(path)
    return seen


@functools.cache
def _kit_imports(path: Path) -> list[str]:
    """The kit modules a kit file imports (each file is parsed once, for all chapters)."""
    found = []
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kit":
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "kit"]
    return found


def _cache_file(cache: Path, exercise) -> Path:
    return cache / f"{exercise.id}.{_fingerprint(exercise.module)}.pickle"


def _load(cache: Path | None, exercise) -> Cases | None:
    if cache is None:
        return None
    try:
        inputs, expected = pickle.loads(_cache_file(cache, exercise).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return None
    return _cases(exercise, inputs, expected)


def _save(cache: Path | None, cases: Cases) -> None:
    if cache is None:
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=cache, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_pickle_cases(cases.inputs, cases.expected))
        os.replace(temporary, _cache_file(cache, cases.exercise))
    except OSError:
        pass  # a cache that cannot be written only costs time


def _pickle_cases(*parts) -> bytes:
    """Tensors as their bytes (grading/wire.py): torch's own pickling of the ~12,000 small
    tensors of a class's cases takes seconds to load, this a twentieth of that."""
    return wire.pickle_arguments(parts)


# ---- drawing in parallel -------------------------------------------------------------------

class RecordError(RuntimeError):
    """The kit itself failed to draw an exercise's inputs or compute a reference."""


def record_all(ids: list[str], jobs: int = 1, cache: Path | None = None) -> dict[str, Cases]:
    """Cases for the exercises `ids`: from the cache, else drawn (in parallel)."""
    found: dict[str, Cases] = {}
    todo = []
    for eid in ids:
        exercise = EXERCISES[eid]
        cached = _load(cache, exercise)
        if cached is not None:
            found[eid] = cached
        else:
            todo.append(eid)
    if len(todo) > 1 and jobs > 1:
        drawn = _record_in_workers(todo, jobs)
    else:
        drawn = {eid: record(EXERCISES[eid]) for eid in todo}
    for eid in todo:
        _save(cache, drawn[eid])
        found[eid] = drawn[eid]
    return {eid: found[eid] for eid in ids}


def _record_in_workers(todo: list[str], jobs: int) -> dict[str, Cases]:
    from grading.forkserver import context

    queue = list(reversed(todo))  # the later chapters draw the larger inputs: start with them
    drawn, workers = {}, []
    selector = selectors.DefaultSelector()
    try:
        for _ in range(min(jobs, len(todo))):
            parent, child = socket.socketpair()
            process = context().Process(target=_worker, args=(child,), daemon=True, name="kit-grade-draw")
            process.start()
            child.close()
            workers.append((parent, process))
            selector.register(parent, selectors.EVENT_READ)
            wire.send(parent, pickle.dumps(queue.pop(0)))
        busy = len(workers)
        while busy:
            for key, _ in selector.select():
                sock = key.fileobj
                try:
                    reply = pickle.loads(wire.recv(sock))  # a trusted process: see the docstring
                except EOFError:
                    raise RecordError("a process drawing the inputs died") from None
                eid, *payload = reply
                if eid is None:
                    raise RecordError(payload[0])
                drawn[eid] = _cases(EXERCISES[eid], *payload)
                if queue:
                    wire.send(sock, pickle.dumps(queue.pop(0)))
                else:
                    wire.send(sock, pickle.dumps(None))
                    selector.unregister(sock)
                    busy -= 1
    finally:
        for sock, process in workers:
            sock.close()
            process.join(5)
            if process.is_alive():
                process.kill()
        selector.close()
    return drawn


def _worker(sock: socket.socket) -> None:
    """A trusted process: draw the exercises it is sent, send back their inputs and references."""
    from grading.sandbox import forked

    forked()
    while True:
        eid = pickle.loads(wire.recv(sock))
        if eid is None:
            return
        try:
            cases = record(EXERCISES[eid])
            wire.send(sock, _pickle_cases(eid, cases.inputs, cases.expected))
        except RecordError as error:
            wire.send(sock, pickle.dumps((None, str(error))))
