"""Recorded inputs: the graded inputs and torch's answers, drawn once for a course, kept in a folder every grader uses.

    kit record-inputs [--out DIR] [--only LIST] [--seed-file FILE] [-j N] [--force]
    kit grade SUBMISSIONS --out OUT [--inputs DIR]   (kit export gradescope ships them in its zip)

Hypothesis draws the same inputs from a seed only as long as hypothesis, Python and the kit
stay the same. A recording takes that away. It holds one case file per exercise (`<id>.cases`,
grading/casefile.py: data that cannot run code) and MANIFEST: the format, the seed's hash
(never the seed), and per exercise the sha256 of its file, a hash of the kit sources it was
drawn from and the environment that drew it (grading/pins.py).

A course has one recording, beside its seed (`course_folder`: the seed file's name + ".inputs",
e.g. ~/.config/backprop-kit/grading-seed.inputs/), made by the first `kit grade` or
`kit export gradescope` that needs it, and given the exercises it lacks as they are first
graded. Every later grade of the course, a month later or on another machine with other
versions installed, compares the students' answers with the recorded answers on the recorded
inputs: the same submission gets the same grade. `--inputs DIR` names a recording instead
(complete: nothing is added to it).

When the environment or the kit's sources differ from the recording's, `kit grade` says so
in one line (the grades are still the recording's; a failure message's shrunk example is
hypothesis's own, and may then differ). It refuses, before grading, a recording made with
another seed, a DIR that lacks an exercise to grade, a file whose hash is not the manifest's,
and a folder or file that another user owns or may write (whoever writes it chooses the
inputs and the expected answers).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

from grading import casefile, pins
from grading.case_cache import sources_hash
from grading.seed import default_seed_file, seed_hash, unsafe

MANIFEST = "recorded.json"
FORMAT = 1
MAX_MANIFEST = 1 << 20  # bytes
SUFFIX = ".inputs"  # the course's recording is the seed file's name with it: grading-seed.inputs/


class RecordedError(Exception):
    """DIR cannot be graded on: why, in a sentence for the instructor."""


def course_folder(seed_file: Path | None) -> Path:
    """Where the course's recording lives: beside its seed (grading/seed.py), which it goes with."""
    seed_file = seed_file if seed_file is not None else default_seed_file()
    return seed_file.with_name(seed_file.name + SUFFIX)


def record(out: Path, ids: list[str], seed: bytes, jobs: int = 1, cache: Path | None = None,
           force: bool = False, drawing=None) -> dict:
    """Draw (or take from the cache) the cases of `ids` and write them to `out`, a new
    recording, whole or not at all; returns the manifest."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise RecordedError(f"{out} exists and is not an empty folder; choose another, or add --force")
    if not out.parent.is_dir():
        raise RecordedError(f"the folder {out.parent} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.recording-", dir=out.parent))  # 0700
    try:
        manifest = {"format": FORMAT, "seed": seed_hash(seed), "exercises": {}}
        _add(staging, manifest, ids, seed, jobs, cache, drawing)
        if out.is_dir() and not out.is_symlink():
            shutil.rmtree(out)
        elif out.exists() or out.is_symlink():
            out.unlink()
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def course(folder: Path, ids: list[str], seed: bytes, jobs: int = 1, cache: Path | None = None,
           drawing=None) -> tuple[dict, list[str]]:
    """`load`, from the course's recording in `folder`, which is made on first use and gains the
    exercises it lacks (drawn now): so every later grade of the course is on the same inputs.
    `drawing`: grading.cases.record_all's progress callback, while they are drawn."""
    if not folder.exists() and not folder.is_symlink():
        try:
            record(folder, ids, seed, jobs, cache, drawing=drawing)
        except (OSError, RecordedError) as error:
            if not folder.is_dir():  # else another run made it first: that one is the recording
                why = error.strerror if isinstance(error, OSError) else error
                raise RecordedError(f"cannot record the inputs in {folder}: {why or error}") from None
    manifest = _manifest(folder)
    missing = [eid for eid in ids if eid not in manifest["exercises"]]
    if missing:
        _check_seed(manifest, seed, folder)
        try:
            _add(folder, manifest, missing, seed, jobs, cache, drawing)
        except OSError as error:
            raise RecordedError(f"cannot add to the recorded inputs in {folder}: {error.strerror or error}") from None
    return load(folder, ids, seed)


def load(folder: Path, ids: list[str], seed: bytes) -> tuple[dict, list[str]]:
    """({id: Cases} for `ids` from the recording in `folder`, notes for the instructor), or
    RecordedError."""
    from grading.cases import cases_of
    from kit.registry import EXERCISES

    manifest = _manifest(folder)
    _check_seed(manifest, seed, folder)
    recorded = manifest["exercises"]
    missing = [eid for eid in ids if eid not in recorded]
    if missing:
        raise RecordedError(f"{folder} has no recorded inputs for {', '.join(missing)}: record them with "
                            f"kit record-inputs (its --only as this --only)")
    found, changed, environments = {}, [], []
    for eid in ids:
        exercise, entry = EXERCISES[eid], recorded[eid]
        data = _read(folder / f"{eid}.cases", casefile.MAX_FILE)
        if not isinstance(entry, dict) or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise RecordedError(f"{folder / (eid + '.cases')} is not the file {MANIFEST} recorded (changed or "
                                f"damaged): record the inputs again")
        try:
            inputs, expected = _decode(data, eid, len(exercise.examples))
        except casefile.CaseFileError as error:
            raise RecordedError(f"{folder / (eid + '.cases')} cannot be read: {error}") from None
        if entry.get("sources") != sources_hash(exercise.module):
            changed.append(exercise.module)
        environment = entry.get("environment")
        if isinstance(environment, dict) and environment not in environments:
            environments.append(environment)
        found[eid] = cases_of(exercise, inputs, expected, seed)
    return found, notes(environments, sorted(set(changed)), folder)


def _check_seed(manifest: dict, seed: bytes, folder: Path) -> None:
    if manifest.get("seed") != seed_hash(seed):
        raise RecordedError(f"the inputs in {folder} were recorded with another grading seed than this one: "
                            f"give the seed they were recorded with (--seed-file), or record them again")


def _add(folder: Path, manifest: dict, ids: list[str], seed: bytes, jobs: int, cache: Path | None,
         drawing=None) -> None:
    """Draw the cases of `ids` into `folder` and name them in its manifest (rewritten whole)."""
    from grading.cases import record_all
    from kit.registry import EXERCISES

    environment = pins.environment()
    for eid, cases in record_all(ids, jobs, cache, seed, drawing=drawing).items():
        data = casefile.dumps(_meta(eid, cases.examples), (cases.inputs, cases.expected))
        _write(folder, f"{eid}.cases", data)
        manifest["exercises"][eid] = {"sha256": hashlib.sha256(data).hexdigest(),
                                      "sources": sources_hash(EXERCISES[eid].module), "environment": environment}
    _write(folder, MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())


def notes(environments: list[dict], changed: list[str], folder: Path) -> list[str]:
    """What differs between the recording and this grader: the versions, the kit's sources."""
    said = []
    here = pins.environment()
    differs = sorted({d for environment in environments for d in pins.differences(environment, here)})
    if differs:
        said.append(f"this environment differs from the one that recorded the inputs in {folder} "
                    f"({'; '.join(differs)}); grading on the recorded inputs and answers all the same, so the "
                    f"grades are the recording's (a failure message's smallest example may differ)")
    if changed:
        said.append(f"the kit's sources of {', '.join(changed)} changed since the inputs in {folder} were "
                    f"recorded; grading on the recorded ones (kit record-inputs --force records them again)")
    return said


def _meta(eid: str, examples: int) -> dict:
    return {"exercise": eid, "examples": examples, "recorded": FORMAT}


def _decode(data: bytes, eid: str, examples: int) -> tuple[tuple, tuple]:
    meta, value = casefile.loads(data)
    if meta != _meta(eid, examples):
        raise casefile.CaseFileError("made for another exercise or version of the kit")
    if type(value) is not tuple or len(value) != 2:
        raise casefile.CaseFileError("not (inputs, expected)")
    inputs, expected = value
    if type(inputs) is not tuple or type(expected) is not tuple or len(inputs) != len(expected) \
            or len(inputs) < examples or not all(type(args) is tuple for args in inputs):
        raise casefile.CaseFileError("not one answer to each tuple of arguments")
    return inputs, expected


def _manifest(folder: Path) -> dict:
    _trusted(folder, folder_expected=True)
    try:
        manifest = json.loads(_read(folder / MANIFEST, MAX_MANIFEST))
    except ValueError as error:
        raise RecordedError(f"{folder / MANIFEST} is not JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or not isinstance(manifest.get("exercises"), dict):
        raise RecordedError(f"{folder / MANIFEST} is not a recording of this kit's (format {FORMAT})")
    return manifest


def _trusted(path: Path, folder_expected: bool) -> os.stat_result:
    try:
        st = os.lstat(path)
    except OSError as error:
        raise RecordedError(f"cannot read {path}: {error.strerror or error}") from None
    kind = stat.S_ISDIR if folder_expected else stat.S_ISREG
    problem = unsafe(st) or (None if kind(st.st_mode) else f"not a {'folder' if folder_expected else 'file'}")
    if problem:  # whoever can write it chooses the inputs and the expected answers
        raise RecordedError(f"refusing the recorded inputs {path}: it is {problem}")
    return st


def _read(path: Path, limit: int) -> bytes:
    _trusted(path, folder_expected=False)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise RecordedError(f"cannot read {path}: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as f:
        if unsafe(os.fstat(f.fileno())):  # replaced since lstat
            raise RecordedError(f"refusing the recorded inputs {path}: it changed while being read")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise RecordedError(f"{path} is larger than {limit} bytes")
    return data


def _write(folder: Path, name: str, data: bytes) -> None:
    """`name` in `folder`, written 0600 under a temporary name and renamed into place."""
    temporary = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, folder / name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# ---- kit record-inputs --------------------------------------------------------------------------

RECORD_HELP = "draw the graded inputs once, into a folder that kit grade --inputs and kit export grade on"


def add_parser(subparsers) -> None:
    from grading import resources

    parser = subparsers.add_parser("record-inputs", help=RECORD_HELP, description=RECORD_HELP + ".")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="the folder to write (default: the course's recording, beside the seed file: "
                             "SEED_FILE.inputs, which kit grade and kit export use without --inputs)")
    parser.add_argument("--only", metavar="LIST", help="record only these chapters or exercises (as kit grade)")
    parser.add_argument("--seed-file", type=Path, metavar="FILE", help="the course's grading seed (as kit grade)")
    parser.add_argument("-j", "--jobs", type=int, default=resources.cpus(), metavar="N",
                        help="processes drawing at once (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="replace DIR if it is not empty")
    parser.set_defaults(run=run)


def run(args) -> int:
    import sys

    from grading.cases import RecordError, SeedError, default_cache, load_seed
    from grading.cli import UsageError, select
    from kit.registry import EXERCISES

    out = (args.out or course_folder(args.seed_file)).resolve()
    try:
        ids = select(args.only) or list(EXERCISES)
        seed = load_seed(args.seed_file)
        record(out, ids, seed, max(1, args.jobs), default_cache(), args.force)
    except (UsageError, SeedError, RecordedError) as error:
        print(f"kit record-inputs: error: {error}", file=sys.stderr)
        return 2
    except RecordError as error:
        print(f"kit record-inputs: error in the kit itself, nothing was recorded: {error}", file=sys.stderr)
        return 3
    environment = ", ".join(f"{k} {v}" for k, v in pins.environment().items())
    print(f"kit record-inputs: recorded the inputs of {len(ids)} exercises in {out} ({environment})",
          file=sys.stderr)
    return 0
