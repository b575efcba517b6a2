"""The limits on one submission, with every default and every help text in one place.

`kit grade` reads them from its options (`add_options`, `from_options`); `kit export gradescope`
offers the same options and passes on those given (`as_options`), so an exported autograder and
a local `kit grade` run on the same limits.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds of wall time per exercise (all its inputs together)
    memory: int = 2 << 30  # bytes: all of a submission's processes together (per process without cgroups)
    output: int = 1 << 20  # bytes of printed output per exercise
    processes: int = 16  # processes (and threads) a submission may run at once


DEFAULT = Limits()


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
                                         "where the grader may make cgroups, else per process (default: %s)"),
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


def from_options(args: argparse.Namespace) -> Limits:
    given = {f.name: getattr(args, f"limit_{f.name}", None) for f in fields(Limits)}
    return Limits(**{name: value for name, value in given.items() if value is not None})


def as_options(args: argparse.Namespace) -> list[str]:
    """The limit options given, as `kit grade` takes them: ["--timeout", "2", ...]."""
    options = []
    for option, (name, *_rest) in OPTIONS.items():
        value = getattr(args, f"limit_{name}", None)
        if value is not None:
            options += [option, repr(value) if isinstance(value, float) else str(value)]  # every digit given
    return options
