"""The inputs every student is graded on, and torch's answers to them, computed once per class.

`kit.check.check` tries an exercise's examples, then the inputs hypothesis draws. `record`
runs `check` itself, with an implementation that answers torch's answer and writes down every
input it is asked about: the sequence a submission is graded on, with its references.

The drawn inputs come from the instructor's grading seed (`load_seed`): 128 random bits, made
on first use and kept with the course's grading settings ($XDG_CONFIG_HOME/backprop-kit/
grading-seed, 0600), or a file given with `kit grade --seed-file`. `grading_settings(exercise,
seed)` is the `grading` hypothesis profile (kit/profiles.py) with `hypothesis.seed` set from
it, which overrides the profile's derandomize: the same seed gives the same inputs in every
process and run, so the same grades; another seed gives other inputs. The worked examples
(`exercise.examples`) are tried first either way. `pytest --hypothesis-profile grading`
stays derandomized: learners rehearse on inputs of the same kind, never the graded ones.
`Cases.settings` is what `check` needs to try exactly the recorded inputs again.

Drawing the inputs costs about 24 s of CPU (hypothesis builds ~150 inputs per exercise, and
some references train a network), as much as grading 20 students, so `record_all`
- draws the exercises in parallel, in trusted processes forked from the grader's forkserver
  before any submission runs (they send back case files, grading/casefile.py);
- keeps the result in a cache, one file per exercise, named by a hash of the kit's sources
  (kit/, this file, casefile.py), of the python, torch, numpy and hypothesis versions and of
  the seed (a hash: never the seed itself): any change to what could change an input or a
  reference names another file, and two courses never share one. Same sources and seed, same
  inputs: the cache changes the time, never a grade.

Nothing in the cache is trusted. Its files are case files (grading/casefile.py), which
cannot run code when read: no pickle. The cache folder is made 0700 and used only when it
and each file are owned by the grader's user and not writable by group or others (else one
warning line, and the inputs are drawn afresh); a file that is a symbolic link, is damaged,
or is of another version, exercise, fingerprint or shape is ignored and redrawn. Files are
written 0600 under a temporary name, then renamed into place.
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import errno
import functools
import hashlib
import os
import re
import secrets
import selectors
import socket
import stat
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
from grading import casefile, wire


@dataclass(frozen=True)
class Cases:
    exercise: object
    inputs: tuple  # argument tuples, in the order check() tries them
    expected: tuple  # torch's answer to each
    examples: int  # how many of the first inputs are the exercise's examples
    pickled: bytes  # `inputs`, ready to send to a submission's process
    settings: object  # for check(exercise, impl, settings): it tries these inputs in this order


def _cases(exercise, inputs: tuple, expected: tuple, seed: bytes | None) -> Cases:
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


# ---- the seed --------------------------------------------------------------------------------

class SeedError(Exception):
    """The seed file cannot be used: missing, malformed, or open to other users."""


def default_seed_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "backprop-kit" / "grading-seed"


def load_seed(path: Path | None = None) -> bytes:
    """The grading seed in `path` (hex, 128 to 512 bits); without a path, the default seed
    file, made with a new random seed on first use."""
    if path is None:
        path = default_seed_file()
        if not path.exists():
            _make_seed(path)
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as f:  # a FIFO: no hang
            st = os.fstat(f.fileno())
            text = f.read(4096) if stat.S_ISREG(st.st_mode) else b""
    except OSError as error:
        raise SeedError(f"cannot read the grading seed {path}: {error.strerror or error}") from None
    problem = _unsafe(st)
    if not stat.S_ISREG(st.st_mode) or problem:
        # whoever can write the seed can choose the graded inputs
        raise SeedError(f"refusing the grading seed {path}: it is {problem or 'not a regular file'}")
    if st.st_mode & 0o044:
        _warn(f"the grading seed {path} is readable by other users (chmod 600 {path})")
    match = re.fullmatch(rb"\s*((?:[0-9a-fA-F]{2}){16,64})\s*", text)
    if not match:
        raise SeedError(f"the grading seed {path} is not 32 to 128 hex digits")
    return bytes.fromhex(match.group(1).decode())


def _make_seed(path: Path) -> None:
    """A new seed, written whole under a temporary name and linked into place, so that two
    runs starting at once agree on one seed and none reads half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".grading-seed-")  # 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(16) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.link(temporary, path)
        except FileExistsError:
            return  # another run made it first: that one is the seed
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise SeedError(f"cannot make the grading seed {path}: {error.strerror or error}") from None
    _warn(f"made a new grading seed in {path}: keep it (and a copy) with the course's grading "
          f"settings; the same seed gives the same inputs and grades")


def _seed_hash(seed: bytes | None) -> str:
    """What the cache key holds of the seed: a hash, never the seed itself."""
    if seed is None:
        return "derandomized"
    return hashlib.sha256(b"backprop-kit grading seed\0" + seed).hexdigest()


def grading_settings(exercise=None, seed: bytes | None = None):
    """The settings `check` runs with to try the graded inputs of `exercise`: the grading
    profile, seeded from `seed` (without one: the profile alone, derandomized, as pytest's).

    check() applies its `settings` argument to the @given test it builds, as a decorator;
    the seeded form applies the profile and then hypothesis.seed (hypothesis' own way to
    seed a test, which overrides derandomize). Each exercise gets its own stream, from the
    seed and its id, as derandomize gives each its own from the test's digest."""
    profile = settings.get_profile("grading")
    if seed is None:
        return profile
    digest = hashlib.sha256(b"backprop-kit grading draw\0" + seed + b"\0" + exercise.id.encode()).digest()
    return _Seeded(profile, int.from_bytes(digest[:16], "big"))


class _Seeded:
    def __init__(self, profile: settings, seed: int):
        self.profile, self.seed = profile, seed

    def __call__(self, test):
        seeded = hypothesis.seed(self.seed)(self.profile(test))

        @functools.wraps(seeded)
        def run(*args, **kwargs):
            with _no_local_constants():
                return seeded(*args, **kwargs)
        return run

    def __repr__(self) -> str:  # never the seed, even derived: reprs end up in logs
        return "<the grading profile, with hypothesis.seed(the grading seed's)>"


@contextlib.contextmanager
def _no_local_constants():
    """Hypothesis draws, now and then, a literal it found in the source of the "local" modules
    loaded in the process (kit, grading, ...): the inputs then depend on which modules the
    drawing process happened to import (the grader's own, a worker's, a test's). While the
    graded inputs are drawn, that pool is empty, so the seed alone decides them. This reaches
    into hypothesis' internals (a missing name fails loudly, as a RecordError); the fingerprint
    holds hypothesis' version, and tests/self/test_cases_cache.py draws in processes that
    imported different modules."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    none, saved = Constants(), getattr(providers, "_get_local_constants")
    providers._get_local_constants = lambda: none
    providers.CONSTANTS_CACHE.cache.clear()  # it holds the pool filtered per kind of draw
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


def record(exercise, seed: bytes | None = None) -> Cases:
    """The inputs and references for one exercise, drawn in this process from `seed` (None:
    the grading profile's own derandomized inputs, the kind a learner rehearses on)."""
    recorder = _Recorder(exercise)
    try:
        check(recorder.exercise, recorder, grading_settings(exercise, seed))
    except Exception:
        raise RecordError(f"drawing the inputs of {exercise.id} failed:\n{traceback.format_exc()}") from None
    return _cases(exercise, tuple(recorder.inputs), tuple(recorder.expected), seed)


# ---- the cache ------------------------------------------------------------------------------

def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backprop-kit" / "grading"


@functools.cache
def _fingerprint(module: str, seed_hash: str) -> str:
    """A hash of everything an exercise's inputs and references depend on: the versions of
    python and the libraries, the seed's hash, this file and the case format, and the source
    of every kit module the chapter and kit.check import (transitively), so that editing one
    chapter keeps the others' files."""
    digest = hashlib.sha256()
    for part in (sys.version, torch.__version__, numpy.__version__, hypothesis.__version__, seed_hash):
        digest.update(part.encode() + b"\0")
    root = Path(kit.__file__).parent
    sources = sorted(_kit_sources(root, [f"kit.chapters.{module}", "kit.check", "kit.profiles", "kit.implementation"]))
    for path in [Path(__file__), Path(casefile.__file__)] + sources:
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


def _cache_name(exercise, seed: bytes | None) -> str:
    return f"{exercise.id}.{_fingerprint(exercise.module, _seed_hash(seed))}.cases"


def _encode(cases: Cases, seed: bytes | None) -> bytes:
    exercise = cases.exercise
    meta = {"exercise": exercise.id, "fingerprint": _fingerprint(exercise.module, _seed_hash(seed)),
            "examples": cases.examples}
    return casefile.dumps(meta, (cases.inputs, cases.expected))


def _decode(data: bytes, exercise, seed: bytes | None) -> Cases:
    """The cases in a case file, if it is one for this exercise, sources and seed; else a
    CaseFileError."""
    meta, value = casefile.loads(data)
    if meta != {"exercise": exercise.id, "fingerprint": _fingerprint(exercise.module, _seed_hash(seed)),
                "examples": len(exercise.examples)}:
        raise casefile.CaseFileError("made for another exercise, version of the kit or seed")
    if type(value) is not tuple or len(value) != 2:
        raise casefile.CaseFileError("not (inputs, expected)")
    inputs, expected = value
    if type(inputs) is not tuple or type(expected) is not tuple or len(inputs) != len(expected) \
            or len(inputs) < len(exercise.examples) or not all(type(args) is tuple for args in inputs):
        raise casefile.CaseFileError("not one answer to each tuple of arguments")
    return _cases(exercise, inputs, expected, seed)


def _warn(text: str) -> None:
    print(f"kit grade: warning: {text}", file=sys.stderr)


def _unsafe(st: os.stat_result) -> str | None:
    """Why a file or folder with this status must not be trusted, or None."""
    if st.st_uid != os.geteuid():
        return f"owned by user {st.st_uid}, not by this user ({os.geteuid()})"
    if st.st_mode & 0o022:
        return "writable by group or others"
    return None


def _open_cache(cache: Path | None) -> int | None:
    """The cache folder, opened (files are then reached from it, so the folder checked is the
    folder used); None when there is no cache or it must not be trusted."""
    if cache is None:
        return None
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(cache, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None  # a cache that cannot be made only costs time
    st = os.fstat(fd)
    problem = _unsafe(st)
    if problem:
        os.close(fd)
        _warn(f"not using the cache {cache}: it is {problem}; the inputs are drawn afresh")
        return None
    if stat.S_IMODE(st.st_mode) != 0o700:
        try:
            os.fchmod(fd, 0o700)  # e.g. 0755, made by an older kit: nobody else need read it
        except OSError:
            pass
    return fd


def _load(folder: int | None, cache: Path, exercise, seed: bytes | None) -> Cases | None:
    if folder is None:
        return None
    name = _cache_name(exercise, seed)
    try:
        # O_NOFOLLOW: the kit writes files, never links; O_NONBLOCK: a FIFO must not hang us
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as error:
        why = "a symbolic link" if error.errno == errno.ELOOP else error.strerror
        _warn(f"ignoring the cached inputs {cache / name}: {why}; they are drawn afresh")
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        problem = _unsafe(st) or (None if stat.S_ISREG(st.st_mode) else "not a regular file")
        if problem is None and st.st_size > casefile.MAX_FILE:
            problem = f"{st.st_size} bytes long"
        if problem:
            _warn(f"ignoring the cached inputs {cache / name}: it is {problem}; they are drawn afresh")
            return None
        data = f.read(casefile.MAX_FILE + 1)
    try:
        return _decode(data, exercise, seed)
    except casefile.CaseFileError as error:
        _warn(f"ignoring the cached inputs {cache / name}: {error}; they are drawn afresh")
        return None


def _save(folder: int | None, cases: Cases, data: bytes, seed: bytes | None) -> None:
    if folder is None:
        return
    temporary = f".tmp-{secrets.token_hex(8)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, _cache_name(cases.exercise, seed), src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        try:
            os.unlink(temporary, dir_fd=folder)
        except OSError:
            pass  # a cache that cannot be written only costs time


# ---- drawing in parallel -------------------------------------------------------------------

class RecordError(RuntimeError):
    """The kit itself failed to draw an exercise's inputs or compute a reference."""


def record_all(ids: list[str], jobs: int = 1, cache: Path | None = None,
               seed: bytes | None = None) -> dict[str, Cases]:
    """Cases for the exercises `ids`: from the cache, else drawn (in parallel), from `seed`
    (default: `load_seed()`, the default seed file's)."""
    if seed is None:
        seed = load_seed()
    folder = _open_cache(cache)
    try:
        found: dict[str, Cases] = {}
        todo = []
        for eid in ids:
            cached = _load(folder, cache, EXERCISES[eid], seed)
            if cached is not None:
                found[eid] = cached
            else:
                todo.append(eid)
        if len(todo) > 1 and jobs > 1:
            drawn = _record_in_workers(todo, jobs, seed)
        else:
            drawn = {eid: _received(_draw(eid, seed), eid, seed) for eid in todo}
        for eid in todo:
            cases, data = drawn[eid]
            _save(folder, cases, data, seed)
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


def _record_in_workers(todo: list[str], jobs: int, seed: bytes) -> dict[str, tuple[Cases, bytes]]:
    """`_draw` in `jobs` processes. Requests are JSON, replies case files: no pickle, although
    both sides are trusted."""
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
