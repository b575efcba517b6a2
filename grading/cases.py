"""The inputs every student is graded on, and torch's answers to them, computed once per class.

`kit.check.check` tries an exercise's examples, then the inputs hypothesis draws. `record`
runs `check` itself, with an implementation that answers torch's answer and writes down every
input it is asked about: the sequence a submission is graded on, with its references. The
inputs are drawn from the course's grading seed (grading/seed.py: `load_seed`,
`grading_settings`). `Cases.settings` is what `check` needs to try exactly the recorded inputs
again.

Drawing the inputs costs about 24 s of CPU (hypothesis builds ~150 inputs per exercise, and
some references train a network), as much as grading 20 students, so `record_all`
- draws the exercises in parallel, in trusted processes forked from the grader's forkserver
  before any submission runs (they send back case files, grading/casefile.py);
- keeps the result in a cache, one file per exercise, named by a hash of the kit's sources,
  of the library versions and of the seed, and trusted only when safe (grading/case_cache.py):
  the cache changes the time, never a grade.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import selectors
import socket
import traceback
from dataclasses import dataclass
from pathlib import Path

from grading import case_cache, casefile, wire

# grading.cases' API also holds where the cache is and the seed (kit grade, kit export import them here)
from grading.case_cache import default_cache  # noqa: F401
from grading.seed import SeedError, default_seed_file, grading_settings, load_seed  # noqa: F401
from kit.check import check
from kit.implementation import copy_args
from kit.registry import EXERCISES


@dataclass(frozen=True)
class Cases:
    exercise: object
    inputs: tuple  # argument tuples, in the order check() tries them
    expected: tuple  # torch's answer to each
    examples: int  # how many of the first inputs are the exercise's examples
    pickled: bytes  # `inputs`, ready to send to a submission's process
    settings: object  # for check(exercise, impl, settings): it tries these inputs in this order


def cases_of(exercise, inputs: tuple, expected: tuple, seed: bytes | None) -> Cases:
    return Cases(exercise, inputs, expected, len(exercise.examples), wire.pickle_arguments(inputs),
                 grading_settings(exercise, seed))


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


def record(exercise, seed: bytes | None = None) -> Cases:
    """The inputs and references for one exercise, drawn in this process from `seed` (None:
    the grading profile's own derandomized inputs, the kind a learner rehearses on)."""
    recorder = _Recorder(exercise)
    try:
        check(recorder.exercise, recorder, grading_settings(exercise, seed))
    except Exception:
        raise RecordError(f"drawing the inputs of {exercise.id} failed:\n{traceback.format_exc()}") from None
    return cases_of(exercise, tuple(recorder.inputs), tuple(recorder.expected), seed)


def _encode(cases: Cases, seed: bytes | None) -> bytes:
    return case_cache.encode(cases.exercise, cases.inputs, cases.expected, cases.examples, seed)


def _decode(data: bytes, exercise, seed: bytes | None) -> Cases:
    """The cases in a case file, if it is one for this exercise, sources and seed; else a
    CaseFileError."""
    return cases_of(exercise, *case_cache.decode(data, exercise, seed), seed)


# ---- drawing in parallel -------------------------------------------------------------------

class RecordError(RuntimeError):
    """The kit itself failed to draw an exercise's inputs or compute a reference."""


def record_all(ids: list[str], jobs: int = 1, cache: Path | None = None,
               seed: bytes | None = None, drawing=None) -> dict[str, Cases]:
    """Cases for the exercises `ids`: from the cache, else drawn (in parallel), from `seed`
    (default: `load_seed()`, the default seed file's). `drawing(done, todo, cached, processes)`,
    if given, is called before drawing (done=0) and after each exercise drawn: `todo` the ids
    drawn, `cached` how many came from the cache, `processes` how many draw at once
    (grading/progress.py's `Progress.drawing`)."""
    if seed is None:
        seed = load_seed()
    folder = case_cache.open_cache(cache)
    try:
        found: dict[str, Cases] = {}
        todo = []
        for eid in ids:
            cached = case_cache.load(folder, cache, EXERCISES[eid], seed)
            if cached is not None:
                found[eid] = cases_of(EXERCISES[eid], *cached, seed)
            else:
                todo.append(eid)
        processes = min(jobs, len(todo)) if len(todo) > 1 and jobs > 1 else 1

        def report(done: int) -> None:
            if drawing is not None:
                drawing(done, todo, len(found), processes)

        report(0)
        if processes > 1:
            drawn = _record_in_workers(todo, jobs, seed, report)
        else:
            drawn = {}
            for eid in todo:
                drawn[eid] = _received(_draw(eid, seed), eid, seed)
                report(len(drawn))
        for eid in todo:
            cases, data = drawn[eid]
            case_cache.save(folder, cases.exercise, data, seed)
            found[eid] = cases
        return {eid: found[eid] for eid in ids}
    finally:
        if folder is not None:
            os.close(folder)


def _draw(eid: str, seed: bytes) -> bytes:
    """The case file of one exercise, drawn in this process, or b"E" and what went wrong."""
    try:
        return b"C" + _encode(record(EXERCISES[eid], seed), seed)
    except RecordError as error:
        return b"E" + str(error).encode("utf-8", "replace")
    except casefile.EncodeError as error:
        return b"E" + f"the inputs of {eid} cannot be recorded: {error}".encode("utf-8", "replace")


def _received(reply: bytes, eid: str, seed: bytes) -> tuple[Cases, bytes]:
    """(cases, case file) from `_draw`'s reply: decoded by the one reader of the cache, so a
    first run and a cached one grade on the very same values."""
    if reply[:1] != b"C":
        raise RecordError(reply[1:].decode("utf-8", "replace"))
    try:
        return _decode(reply[1:], EXERCISES[eid], seed), reply[1:]
    except casefile.CaseFileError as error:
        raise RecordError(f"the drawn inputs of {eid} do not read back: {error}") from None


def _record_in_workers(todo: list[str], jobs: int, seed: bytes, report=None) -> dict[str, tuple[Cases, bytes]]:
    """`_draw` in `jobs` processes; `report(count drawn)` after each. Requests are JSON, replies
    case files: no pickle, although both sides are trusted."""
    from grading.forkserver import context

    queue = list(reversed(todo))  # the later chapters draw the larger inputs: start with them
    drawn, workers, asked = {}, [], {}
    selector = selectors.DefaultSelector()

    def ask(sock, eid):
        asked[sock] = eid
        wire.send(sock, wire.dumps({"exercise": eid, "seed": seed.hex()} if eid else None))

    try:
        for _ in range(min(jobs, len(todo))):
            parent, child = socket.socketpair()
            process = context().Process(target=_worker, args=(child,), daemon=True, name="kit-grade-draw")
            process.start()
            child.close()
            workers.append((parent, process))
            selector.register(parent, selectors.EVENT_READ)
            ask(parent, queue.pop(0))
        busy = len(workers)
        while busy:
            for key, _ in selector.select():
                sock = key.fileobj
                try:
                    reply = wire.recv(sock)
                except (EOFError, ConnectionError):
                    raise RecordError("a process drawing the inputs died") from None
                drawn[asked[sock]] = _received(reply, asked[sock], seed)
                if report is not None:
                    report(len(drawn))
                if queue:
                    ask(sock, queue.pop(0))
                else:
                    ask(sock, None)
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
    """A trusted process: draw the exercises it is sent, send back their case files."""
    from grading.processes import forked

    forked()
    while True:
        request = wire.loads(wire.recv(sock))
        if request is None:
            return
        wire.send(sock, _draw(request["exercise"], bytes.fromhex(request["seed"])))
