"""The limits on one submission, with every default and every help text in one place.

`kit grade` reads them from its options (`add_options`, `from_options`); `kit export gradescope`
offers the same options and passes on those given (`as_options`), so an exported autograder and
a local `kit grade` run on the same limits.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds of wall time per exercise (all its inputs together)
    memory: int = 2 << 30  # bytes: all of a submission's processes together (per process without cgroups)
    output: int = 1 << 20  # bytes of printed output per exercise
    processes: int = 16  # processes (and threads) a submission may run at once


DEFAULT = Limits()

# What kit grade needs for itself, beside its students' memory: the grader, its forkserver and
# the processes drawing or loading the inputs (about 550 MiB at -j 1 on the whole curriculum,
# with torch in each), then a zygote and a checker per further job (about 170 MiB each); measured
# with `python benchmarks/container.py`. A container's limit counts them all.
GRADER_MEMORY = 640 << 20
JOB_MEMORY = 192 << 20
MIN_MEMORY = 64 << 20  # per submission: less would fail right answers


class LimitError(Exception):
    """The limits cannot fit in what the container gives."""


def fitted(jobs: int, container: int | None, memory: int | None = None) -> tuple[Limits, list[str]]:
    """The default Limits with the memory a submission gets when `jobs` submissions run at once in
    a container of `container` bytes (grading/resources.py: memory()): DEFAULT's, or less, so
    that a memory hog meets its own limit ("out of memory") before the container's, which would
    kill whichever process it likes. `memory`, the --memory given, is kept, with a warning when
    it does not fit. LimitError when even MIN_MEMORY does not fit."""
    if container is None:
        return DEFAULT, []
    left = (container - GRADER_MEMORY - (jobs - 1) * JOB_MEMORY) // jobs
    if memory is not None:
        warn = [] if memory <= left else [
            f"--memory {shown(memory)} with -j {jobs} is more than this container's {container >> 20} MiB leaves "
            f"(about {max(left, 0) >> 20} MiB each): a submission that uses it all may be killed by the container, "
            f"and reported as crashed instead of out of memory"]
        return DEFAULT, warn
    if left < MIN_MEMORY:
        raise LimitError(f"this container allows {container >> 20} MiB; kit grade needs about "
                         f"{GRADER_MEMORY >> 20} MiB for itself and {JOB_MEMORY >> 20} MiB more per further job, so "
                         f"-j {jobs} leaves too little for a submission: lower -j, or give the container more memory")
    if left >= DEFAULT.memory:
        return DEFAULT, []
    left -= left % (1 << 20)
    return Limits(memory=left), [f"memory per submission: {shown(left)}, what this container's "
                                 f"{container >> 20} MiB leaves with -j {jobs} (--memory to choose)"]


def size(text: str) -> int:
    """Bytes from "2G", "512M", "64k" or a plain number."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 2G, 512M or 1000000")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def shown(count: int) -> str:
    """A size as the options take it: 2G, 512M, 64K, or bytes."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale}{unit}"
    return str(count)


def positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


# option -> (Limits field, parser, metavar, help); "%s" is where the default goes
OPTIONS = {
    "--timeout": ("timeout", positive(float), "SECONDS", "wall time per exercise and submission (default: %s)"),
    "--memory": ("memory", size, "SIZE", "memory per submission, beyond torch's own: all its processes together "
                                         "where the grader may make cgroups, else per process (default: %s, or "
                                         "less in a container: what its memory limit leaves per job)"),
    "--output-limit": ("output", size, "SIZE", "printed output per exercise (default: %s)"),
    "--processes": ("processes", positive(int), "N", "processes and threads a submission may run at once "
                                                     "(default: %s)"),
}


def _default(name: str) -> str:
    value = getattr(DEFAULT, name)
    if isinstance(value, float):
        return f"{value:g}"
    return shown(value) if name in ("memory", "output") else str(value)


def add_options(parser: argparse.ArgumentParser) -> None:
    """--timeout, --memory, --output-limit and --processes; an option not given stays None."""
    for option, (name, parse, metavar, text) in OPTIONS.items():
        parser.add_argument(option, dest=f"limit_{name}", type=parse, metavar=metavar, help=text % _default(name))


def from_options(args: argparse.Namespace, defaults: Limits = DEFAULT) -> Limits:
    given = {f.name: getattr(args, f"limit_{f.name}", None) for f in fields(Limits)}
    return replace(defaults, **{name: value for name, value in given.items() if value is not None})


def as_options(args: argparse.Namespace) -> list[str]:
    """The limit options given, as `kit grade` takes them: ["--timeout", "2", ...]."""
    options = []
    for option, (name, *_rest) in OPTIONS.items():
        value = getattr(args, f"limit_{name}", None)
        if value is not None:
            options += [option, repr(value) if isinstance(value, float) else str(value)]  # every digit given
    return options
