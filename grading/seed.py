"""The course's grading seed: where it is kept, and the hypothesis settings that draw the graded inputs from it.

The drawn inputs come from the instructor's grading seed (`load_seed`): 128 random bits, made
on first use and kept with the course's grading settings ($XDG_CONFIG_HOME/backprop-kit/
grading-seed, 0600), or a file given with `kit grade --seed-file`. `grading_settings(exercise,
seed)` is the `grading` hypothesis profile (kit/profiles.py) with `hypothesis.seed` set from
it, which overrides the profile's derandomize: the same seed gives the same inputs in every
process and run, so the same grades; another seed gives other inputs. The worked examples
(`exercise.examples`) are tried first either way. `pytest --hypothesis-profile grading`
stays derandomized: learners rehearse on inputs of the same kind, never the graded ones.

Whoever can write the seed can choose the graded inputs: a seed file (and a cache folder,
grading/case_cache.py) is used only when `unsafe` finds nothing against it.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import stat
import sys
import tempfile
from pathlib import Path

import hypothesis
from hypothesis import settings

import kit.profiles  # noqa: F401  (registers the grading profile)


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
    problem = unsafe(st)
    if not stat.S_ISREG(st.st_mode) or problem:
        # whoever can write the seed can choose the graded inputs
        raise SeedError(f"refusing the grading seed {path}: it is {problem or 'not a regular file'}")
    if st.st_mode & 0o044:
        warn(f"the grading seed {path} is readable by other users (chmod 600 {path})")
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
    warn(f"made a new grading seed in {path}: keep it (and a copy) with the course's grading "
          f"settings; the same seed gives the same inputs and grades")


def seed_hash(seed: bytes | None) -> str:
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

    def scaled(self, share: float) -> _Seeded:
        """The same seed, drawing `share` of the profile's examples (kit.check, Exercise.draws)."""
        count = max(1, round(self.profile.max_examples * share))
        return _Seeded(settings(self.profile, max_examples=count), self.seed)

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

    none, saved = Constants(), providers._get_local_constants
    providers._get_local_constants = lambda: none
    providers.CONSTANTS_CACHE.cache.clear()  # it holds the pool filtered per kind of draw
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


# ---- trusting a file ---------------------------------------------------------------------------

def warn(text: str) -> None:
    print(f"kit grade: warning: {text}", file=sys.stderr)


def unsafe(st: os.stat_result) -> str | None:
    """Why a file or folder with this status must not be trusted, or None."""
    if st.st_uid != os.geteuid():
        return f"owned by user {st.st_uid}, not by this user ({os.geteuid()})"
    if st.st_mode & 0o022:
        return "writable by group or others"
    return None
