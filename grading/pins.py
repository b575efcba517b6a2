"""The exact versions the instructor grades with: recorded by an export, installed exactly by the platforms.

A derandomized or seeded hypothesis draws the same inputs only "until you update Hypothesis,
Python, or the test function", and a new release of any dependency could change a message or
fail every student at once. So `kit export` records what this environment has:

- `environment()`: Python's minor version and the versions of the libraries that decide the
  inputs and the references (NAMED), for a manifest and for `kit grade`'s "this environment
  differs" note (grading/recorded.py);
- `pinned()`: every distribution the kit needs to run, found by walking its requirements
  (not the `dev` extra) in the installed metadata, each `name==version`. torch is pinned
  without its local part (`2.13.0`, not `2.13.0+cpu`) and installed from the CPU index.

The platforms install exactly that set with `pip install --no-deps` (nothing else can slip
in) and then `pip check` (the set is whole): see platforms/files/setup.sh.j2 and the GitHub
Classroom workflow.
"""
from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

KIT = "backprop-kit"
NAMED = ("torch", "numpy", "hypothesis", "pytest", "pytest-html")  # what a grade can depend on
TORCH = "torch"
REQUIREMENTS = "requirements.txt"  # in an export: the pins but torch, one `name==version` a line


class PinError(Exception):
    """The kit's own environment is incomplete (a requirement is not installed)."""


def python() -> str:
    """This Python's minor version, e.g. "3.11"."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def environment() -> dict[str, str]:
    """{"python": "3.11", "torch": "2.13.0+cpu", ...}: what decides the inputs and references."""
    found = {"python": python()}
    for name in NAMED:
        found[name] = _version(name)
    return found


def pinned() -> dict[str, str]:
    """{canonical name: version} of every distribution the kit needs at run time (the kit itself
    not included), from the installed metadata; torch's version without its local part."""
    found: dict[str, str] = {}
    todo = [Requirement(text) for text in metadata.requires(KIT) or []]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an extra's (dev), or another platform's
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found[name] = _version(requirement.name)
        todo += [Requirement(text) for text in metadata.requires(requirement.name) or []]
    found[TORCH] = found[TORCH].split("+")[0]
    return dict(sorted(found.items()))


def requirements_text(pins: dict[str, str]) -> str:
    """The pins but torch's (which comes from the CPU index), as requirements.txt."""
    lines = [f"{name}=={version}" for name, version in pins.items() if name != TORCH]
    return "# written by kit export: the exact versions the instructor grades with (grading/pins.py)\n" \
        + "\n".join(lines) + "\n"


def differences(recorded: dict, here: dict[str, str]) -> list[str]:
    """"hypothesis 6.170.17 there, 6.139.0 here" for each name whose version differs."""
    return [f"{name} {recorded.get(name)} there, {here.get(name)} here"
            for name in sorted(set(recorded) | set(here)) if recorded.get(name) != here.get(name)]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        raise PinError(f"{name}, which the kit needs, is not installed here: install the kit as the README "
                       f"says, then export again") from None
