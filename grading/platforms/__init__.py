"""Platforms classes already use, one module each, behind one `Platform`: `kit export NAME`, `kit grade --format NAME`.

    gradescope.py        an autograder zip, and run_autograder's Python half (`kit export gradescope`)
    github_classroom.py  the autograding workflow, and the students' template (`kit export github-classroom`)
    canvas.py, moodle.py the LMS grade books, files `kit grade --format canvas|moodle` writes beside grades.csv

Each module names itself (NAME), says what it is in one line (HELP), and does its job:
`add_options(parser)` and `export(args) -> exit status` for `kit export NAME`, and/or
`grade_book(students, context) -> the file's text` (written as OUT/FILE) for `kit grade --format
NAME`, where `context` (a GradeBookContext) names the assignment's column and says who each
student is in the LMS (`kit grade --roster`, grading/roster.py).
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
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
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
    grade_book(students, context) -> the file's text and FILE, its name in OUT, for `kit grade --format NAME`."""

    name: str
    help: str  # one line, for --help
    description: str = ""  # `kit export NAME --help`'s paragraph
    add_options: Callable | None = None  # (argparse parser) -> None: `kit export NAME`'s options
    export: Callable | None = None  # (parsed args) -> exit status; ExportError for bad usage
    grade_book: Callable | None = None  # (students: list[StudentResult], GradeBookContext) -> the file's text
    file: str = ""  # the grade book's name in OUT

    @classmethod
    def of(cls, module) -> Platform:
        return cls(name=module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", ""),
                   add_options=getattr(module, "add_options", None), export=getattr(module, "export", None),
                   grade_book=getattr(module, "grade_book", None), file=getattr(module, "FILE", ""))


@dataclass
class GradeBookContext:
    """What an LMS grade book is written with besides the results: the assignment's column title,
    who each student is in the LMS (student id -> grading.roster.Identity; a student without one
    is named by their id, as before rosters), the layout the class came in, and the notes a grade
    book leaves for `kit grade` to show (a student it could not identify, ...)."""

    assignment: str = ASSIGNMENT
    identities: dict = field(default_factory=dict)
    layout: str = "folders"
    notes: list[str] = field(default_factory=list)


def assignment_title(exercises: list[str] | None) -> str:
    """The grade column's default title: "backprop-kit" for the whole curriculum, else with the
    chapters graded: "backprop-kit ch1-3", "backprop-kit ch1-3, ch6"; a chapter graded only in
    part says how much of it: "backprop-kit ch6 (2 of 8)"."""
    from kit.registry import EXERCISES

    if not exercises or set(exercises) >= set(EXERCISES):
        return ASSIGNMENT
    chosen = set(exercises)
    chapters: dict[int, tuple[int, int]] = {}  # chapter number -> (graded, all)
    for eid, exercise in EXERCISES.items():
        number = int(re.match(r"ch(\d+)", exercise.module).group(1))
        graded, total = chapters.get(number, (0, 0))
        chapters[number] = (graded + (eid in chosen), total + 1)
    parts: list[str] = []
    run: list[int] = []  # consecutive whole chapters
    for number, (graded, total) in sorted(chapters.items()) + [(0, (0, 1))]:
        if graded == total:
            run.append(number)
            continue
        if run:
            parts.append(f"ch{run[0]}" + (f"-{run[-1]}" if len(run) > 1 else ""))
            run = []
        if graded:
            parts.append(f"ch{number} ({graded} of {total})")
    return f"{ASSIGNMENT} {', '.join(parts)}"


# the columns of Canvas's gradebook import that are no assignment (canvas-lms GradebookImporter)
CANVAS_RESERVED = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section",
                   "Integration ID", "Root Account")
CANVAS_NOT_ASSIGNMENTS = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                          "Final Grade", "Override Score", "Override Grade", "Override Status")


def check_assignment(name: str) -> str:
    """Why `name` cannot title the assignment's column in Canvas and Moodle, or "" if it can."""
    if not name.strip():
        return "it is empty"
    if name != name.strip() or len(name) > 200:
        return "keep it to 200 characters, with no space at either end"
    if any(not c.isprintable() for c in name):
        return "it holds a control character"
    if name[0] in "=+-@":
        return "a spreadsheet would read it as a formula (it starts with = + - or @)"
    if re.search(r"\s\(\d+\)\Z", name):
        return "Canvas reads a trailing (number) as the id of an assignment; leave it off"
    if name in CANVAS_RESERVED or any(word in name for word in CANVAS_NOT_ASSIGNMENTS):
        return "Canvas reads a column of that name as no assignment"
    if name.lower() in ("username", "idnumber", "email", "feedback"):
        return "it is the name of another column of moodle.csv"
    return ""


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
