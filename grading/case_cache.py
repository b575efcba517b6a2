"""The cache of drawn cases: a case file per exercise, named by a fingerprint of all it depends on, used only when safe.

`grading.cases.record_all` looks here before it draws, and writes here what it drew. A file is
named by a hash of the kit's sources (kit/, the files that draw, seed and store the cases:
CASE_SOURCES), of the python, torch, numpy and hypothesis versions and of the seed (a hash:
never the seed itself): any change to what could change an input or a reference names another
file, and two courses never share one. Same sources and seed, same inputs: the cache changes
the time, never a grade.

Nothing in the cache is trusted. Its files are case files (grading/casefile.py), which
cannot run code when read: no pickle. The cache folder is made 0700 and used only when it
and each file are owned by the grader's user and not writable by group or others (else one
warning line, and the inputs are drawn afresh); a file that is a symbolic link, is damaged,
or is of another version, exercise, fingerprint or shape is ignored and redrawn. Files are
written 0600 under a temporary name, then renamed into place.
"""
from __future__ import annotations

import ast
import errno
import functools
import hashlib
import os
import secrets
import stat
import sys
from pathlib import Path

import hypothesis
import numpy
import torch

import kit
from grading import casefile
from grading.seed import seed_hash, unsafe, warn

# the grading files whose source an input, a reference or a case file depends on
CASE_SOURCES = ("cases.py", "seed.py", "case_cache.py", "casefile.py")


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backprop-kit" / "grading"


@functools.cache
def fingerprint(module: str, hashed_seed: str) -> str:
    """A hash of everything an exercise's inputs and references depend on: the versions of
    python and the libraries, the seed's hash, the grading files that draw, seed and store the
    cases (CASE_SOURCES), and the source of every kit module the chapter and kit.check import
    (transitively), so that editing one chapter keeps the others' files."""
    digest = hashlib.sha256()
    for part in (sys.version, torch.__version__, numpy.__version__, hypothesis.__version__, hashed_seed):
        digest.update(part.encode() + b"\0")
    for path in [Path(__file__).with_name(name) for name in CASE_SOURCES] + chapter_sources(module):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def chapter_sources(module: str) -> list[Path]:
    """The kit files a chapter's inputs and references come from: the chapter's, kit.check's, the
    profiles' and the implementation's, and every kit module they import (transitively)."""
    root = Path(kit.__file__).parent
    return sorted(_kit_sources(root, [f"kit.chapters.{module}", "kit.check", "kit.profiles", "kit.implementation"]))


def sources_hash(module: str) -> str:
    """A hash of `chapter_sources(module)` alone: what a recording of the inputs (grading/recorded.py)
    notes, to say when the kit changed since."""
    digest = hashlib.sha256()
    for path in chapter_sources(module):
        digest.update(path.relative_to(Path(kit.__file__).parent).as_posix().encode() + b"\0"
                      + path.read_bytes() + b"\0")
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


def cache_name(exercise, seed: bytes | None) -> str:
    return f"{exercise.id}.{fingerprint(exercise.module, seed_hash(seed))}.cases"


def encode(exercise, inputs: tuple, expected: tuple, examples: int, seed: bytes | None) -> bytes:
    meta = {"exercise": exercise.id, "fingerprint": fingerprint(exercise.module, seed_hash(seed)),
            "examples": examples}
    return casefile.dumps(meta, (inputs, expected))


def decode(data: bytes, exercise, seed: bytes | None) -> tuple[tuple, tuple]:
    """(inputs, expected) in a case file, if it is one for this exercise, sources and seed;
    else a CaseFileError."""
    meta, value = casefile.loads(data)
    if meta != {"exercise": exercise.id, "fingerprint": fingerprint(exercise.module, seed_hash(seed)),
                "examples": len(exercise.examples)}:
        raise casefile.CaseFileError("made for another exercise, version of the kit or seed")
    if type(value) is not tuple or len(value) != 2:
        raise casefile.CaseFileError("not (inputs, expected)")
    inputs, expected = value
    if type(inputs) is not tuple or type(expected) is not tuple or len(inputs) != len(expected) \
            or len(inputs) < len(exercise.examples) or not all(type(args) is tuple for args in inputs):
        raise casefile.CaseFileError("not one answer to each tuple of arguments")
    return inputs, expected


def open_cache(cache: Path | None) -> int | None:
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
    problem = unsafe(st)
    if problem:
        os.close(fd)
        warn(f"not using the cache {cache}: it is {problem}; the inputs are drawn afresh")
        return None
    if stat.S_IMODE(st.st_mode) != 0o700:
        try:
            os.fchmod(fd, 0o700)  # e.g. 0755, made by an older kit: nobody else need read it
        except OSError:
            pass
    return fd


def load(folder: int | None, cache: Path, exercise, seed: bytes | None) -> tuple[tuple, tuple] | None:
    """(inputs, expected) from the cache folder `folder` (open_cache's), or None: no such file,
    or one that must not be believed (then one warning line)."""
    if folder is None:
        return None
    name = cache_name(exercise, seed)
    try:
        # O_NOFOLLOW: the kit writes files, never links; O_NONBLOCK: a FIFO must not hang us
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as error:
        why = "a symbolic link" if error.errno == errno.ELOOP else error.strerror
        warn(f"ignoring the cached inputs {cache / name}: {why}; they are drawn afresh")
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        problem = unsafe(st) or (None if stat.S_ISREG(st.st_mode) else "not a regular file")
        if problem is None and st.st_size > casefile.MAX_FILE:
            problem = f"{st.st_size} bytes long"
        if problem:
            warn(f"ignoring the cached inputs {cache / name}: it is {problem}; they are drawn afresh")
            return None
        data = f.read(casefile.MAX_FILE + 1)
    try:
        return decode(data, exercise, seed)
    except casefile.CaseFileError as error:
        warn(f"ignoring the cached inputs {cache / name}: {error}; they are drawn afresh")
        return None


def save(folder: int | None, exercise, data: bytes, seed: bytes | None) -> None:
    """The case file `data` of `exercise` into the cache folder, whole or not at all."""
    if folder is None:
        return
    temporary = f".tmp-{secrets.token_hex(8)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, cache_name(exercise, seed), src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        try:
            os.unlink(temporary, dir_fd=folder)
        except OSError:
            pass  # a cache that cannot be written only costs time
