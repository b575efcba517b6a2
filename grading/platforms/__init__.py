"""Platforms classes already use, one module each, behind one `Platform`: `kit export NAME`, `kit grade --format NAME`.

    gradescope.py        an autograder zip, and run_autograder's Python half (`kit export gradescope`)
    github_classroom.py  the autograding workflow, and the students' template (`kit export github-classroom`)
    canvas.py, moodle.py the LMS grade books, files `kit grade --format canvas|moodle` writes beside grades.csv

Each module names itself (NAME), says what it is in one line (HELP), and does its job:
`add_options(parser)` and `export(args) -> exit status` for `kit export NAME`, and/or
`grade_book(students) -> the file's text` (written as OUT/FILE) for `kit grade --format NAME`.
`registry()` reads them all, each as a `Platform`; `kit export` (`add_export_parser`) and
`kit grade --format` (grading/cli.py) read nothing else. A new platform is a module here and
its name in MODULES. The shell scripts and the workflow are files in platforms/files/,
rendered by grading/render.py.

A platform module's top imports only the standard library and light grading modules: `kit`
reads the registry to build its command line, and `kit --help` stays instant.
"""
from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the kit's repository, which the exports copy from
MODULES = ("gradescope", "github_classroom", "canvas", "moodle")

# the README's install command: a CPU build of torch, then the kit
TORCH = "torch==2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
ASSIGNMENT = "backprop-kit"  # the grade column's title in an LMS
RUBRIC_HELP = "points per exercise (default: grading/rubric.toml)"


@dataclass(frozen=True)
class Platform:
    """A platform, as the registry reads it from its module: NAME, HELP and DESCRIPTION; then
    add_options(parser) and export(args) -> exit status, for `kit export NAME`; and/or
    grade_book(students) -> the file's text and FILE, its name in OUT, for `kit grade --format NAME`."""

    name: str
    help: str  # one line, for --help
    description: str = ""  # `kit export NAME --help`'s paragraph
    add_options: Callable | None = None  # (argparse parser) -> None: `kit export NAME`'s options
    export: Callable | None = None  # (parsed args) -> exit status; ExportError for bad usage
    grade_book: Callable | None = None  # (students: list[StudentResult]) -> the file's text
    file: str = ""  # the grade book's name in OUT

    @classmethod
    def of(cls, module) -> Platform:
        return cls(name=module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", ""),
                   add_options=getattr(module, "add_options", None), export=getattr(module, "export", None),
                   grade_book=getattr(module, "grade_book", None), file=getattr(module, "FILE", ""))


@functools.cache
def registry() -> dict[str, Platform]:
    """Every platform, by name, in MODULES' order."""
    platforms = [Platform.of(importlib.import_module(f"{__name__}.{module}")) for module in MODULES]
    return {platform.name: platform for platform in platforms}


def exporters() -> dict[str, Platform]:
    return {name: p for name, p in registry().items() if p.export}


def grade_books() -> dict[str, Platform]:
    return {name: p for name, p in registry().items() if p.grade_book}


class ExportError(Exception):
    """Bad usage, before anything is written."""


EXPORT_HELP = "the kit for Gradescope (an autograder zip) or GitHub Classroom (a workflow)"


def add_export_parser(subparsers) -> None:
    """`kit export NAME ...`: a target per platform that exports."""
    export = subparsers.add_parser("export", help=EXPORT_HELP, description=f"Export {EXPORT_HELP}.")
    targets = export.add_subparsers(title="targets", metavar="TARGET", dest="target", required=True)
    for platform in exporters().values():
        target = targets.add_parser(platform.name, help=platform.help, description=platform.description or None)
        platform.add_options(target)
        target.set_defaults(run=functools.partial(_export, platform))


def _export(platform: Platform, args) -> int:
    try:
        return platform.export(args)
    except ExportError as error:
        print(f"kit export {platform.name}: error: {error}", file=sys.stderr)
        return 2


def check_rubric(rubric: Path | None) -> dict[str, float]:
    """The rubric's points (grading.rubric.load), or ExportError with the reason."""
    from grading import rubric as rubrics

    try:
        return rubrics.load(rubric)
    except rubrics.RubricError as error:
        raise ExportError(str(error)) from None


def check_repository(names) -> None:
    """The files and folders `names` of the kit's repository exist (an export copies them)."""
    missing = [name for name in names if not (ROOT / name).exists()]
    if missing:
        raise ExportError(f"kit export works from the kit's repository; {', '.join(missing)} not found in {ROOT}")
