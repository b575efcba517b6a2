"""GitHub Classroom: `kit export github-classroom` writes classroom.yml and, with --template, the students' repository.

    kit export github-classroom --out DIR [--template] [--rubric R] [--timeout MINUTES] [--python VERSION]

`.github/workflows/classroom.yml` (platforms/files/classroom.yml.j2) follows the pattern of GitHub
Classroom's own autograding workflows: one job, `run-autograding-tests`, that checks out the
student's repository, sets up Python, installs the kit with a CPU build of torch, grades, and
reports with classroom-resources/autograding-grading-reporter. Grading is one step, `grade`:
`python -m kit.classroom` (kit/classroom.py, which the students' copy of the kit holds) runs
every chapter's tests once against exercises/ and writes the reporter's results itself, a test
per exercise worth its points in the rubric (partial credit), grouped in runners of equal
points (one per chapter, `ch6`; `ch8a`, `ch8b` when a chapter's exercises differ), as the
reporter's log counts a runner's points by its number of tests passed. kit/classroom.py's
docstring says what the reporter reads, and where in its source. The points reach the student's
repository as `.github/classroom/points.json` (kit.classroom.POINTS), written here from the
rubric. A last step uploads report.html (actions/upload-artifact), whatever happened before.

With --template, DIR also gets the student's repository itself: kit/, exercises/, the exercise
tests, pyproject.toml, .gitignore and the students' README (platforms/files/student_README.md.j2,
not the kit's: nothing of grading, solutions or the instructor's commands); no solutions/, no
kit's own tests, and no grader code (grading/) at all.

Points may be fractional in quarters (0.25, 0.5, ...): the reporter adds scores as binary
floating-point numbers, in which quarters add up exactly and tenths do not (0.1 + 0.2 shows as
0.30000000000000004 in "Points X/Y").
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grading import pins
from grading.platforms import ROOT, RUBRIC_HELP, TORCH, TORCH_CPU_INDEX, ExportError, check_repository, check_rubric

NAME = "github-classroom"
HELP = "a GitHub Classroom autograding workflow (.github/workflows/classroom.yml)"
DESCRIPTION = ("Write .github/workflows/classroom.yml and .github/classroom/points.json into DIR, the student "
               "repository: one pytest run per push, a test per exercise worth its points in the rubric.")

# GitHub Classroom's reporter, and the inputs its action.yml declares (read at
# github.com/classroom-resources/autograding-grading-reporter, formerly github-education-resources):
# runners (required: ids, comma-separated; it reads each runner's result from the environment
# variable <ID in capitals>_RESULTS); token (default: the workflow's token). Classroom reads the
# points from its annotations on the check run of the job named run-autograding-tests.
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
REPORTER_INPUTS = ("runners", "token")
REPORTER_REQUIRED = ("runners",)
JOB = "run-autograding-tests"
GRADE_STEP = "grade"  # the id of the step that runs kit.classroom; its outputs are the runners' results
UPLOAD = "actions/upload-artifact@v4"
ARTIFACT = "report"  # the artifact's name: report.zip, holding report.html
QUANTUM = 4  # points are whole quarters

WORKFLOW = Path(".github/workflows/classroom.yml")
REQUIREMENTS = Path(".github/classroom/requirements.txt")  # the pins but torch's (grading/pins.py)
README = "platforms/files/student_README.md.j2"
# and README.md (the students' own), tests/test_<chapter>.py
TEMPLATE_FILES = ("pyproject.toml", ".gitignore", "CURRICULUM.md", "kit", "exercises")


def check_points(points: dict[str, float]) -> None:
    """Points the reporter adds exactly: quarters, and more than 0 in all."""
    odd = [eid for eid, value in points.items() if value * QUANTUM != int(value * QUANTUM)]
    if odd:
        raise ExportError(f"{odd[0]} is worth {points[odd[0]]} points; GitHub Classroom's reporter adds points as "
                          f"binary fractions: give whole points or quarters (0.25, 0.5, 0.75) in the rubric")
    if not sum(points.values()) > 0:
        raise ExportError("the rubric gives 0 points in all; GitHub Classroom's reporter sends no score for that")


def grade_command(timeout: int) -> str:
    from kit import classroom

    return (f"python -m kit.classroom --points {classroom.POINTS.as_posix()} --timeout {timeout} "
            f"--report {classroom.REPORT}")


def workflow_text(points: dict[str, float], timeout: int = 10, python: str | None = None) -> str:
    """classroom.yml, rendered from platforms/files/classroom.yml.j2: it installs exactly the
    versions this environment has (grading/pins.py; the rest of the pins in REQUIREMENTS), with
    this Python's minor version unless `python` is given."""
    from grading.render import render
    from kit import classroom

    runners = classroom.runners(points)
    return render("platforms/files/classroom.yml.j2", runners=runners, timeout=timeout, python=python or pins.python(),
                  job=JOB, step=GRADE_STEP, command=grade_command(timeout), step_timeout=timeout + 5,
                  report=classroom.REPORT, points_file=classroom.POINTS.as_posix(), artifact=ARTIFACT,
                  upload=UPLOAD, reporter=REPORTER, requirements=REQUIREMENTS.as_posix(),
                  torch=f"torch=={_pinned()['torch']}", torch_index=TORCH_CPU_INDEX)


def readme_text(points: dict[str, float], timeout: int = 10) -> str:
    """The students' README.md, rendered from platforms/files/student_README.md.j2."""
    from grading.render import render
    from kit.registry import CHAPTERS, EXERCISES

    chapters = [{"number": number, "module": module, "title": title,
                 "exercises": sum(e.module == module for e in EXERCISES.values()),
                 "points": _plain(sum(points[eid] for eid, e in EXERCISES.items() if e.module == module))}
                for number, (module, title) in enumerate(CHAPTERS.items(), start=1)]
    return render(README, chapters=chapters, total=_plain(sum(points.values())), timeout=timeout,
                  torch=TORCH, torch_index=TORCH_CPU_INDEX, artifact=ARTIFACT)


def _pinned() -> dict[str, str]:
    try:
        return pins.pinned()
    except pins.PinError as error:
        raise ExportError(str(error)) from None


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def export_github_classroom(out: Path, rubric: Path | None = None, timeout: int = 10, python: str | None = None,
                            template: bool = False, force: bool = False) -> list[Path]:
    """Write DIR/.github/workflows/classroom.yml and DIR/.github/classroom/points.json (and, with
    template, the student's repository)."""
    from kit import classroom

    if timeout <= 0:
        raise ExportError("--timeout: minutes, more than 0")
    points = check_rubric(rubric)
    check_points(points)
    workflow, points_file = out / WORKFLOW, out / classroom.POINTS
    if template:
        check_repository(("pyproject.toml", "kit", "exercises"))
        if out.exists() and any(out.iterdir()) and not force:
            raise ExportError(f"--out {out} is not empty; --template writes a whole repository into a new "
                              f"or empty folder (or add --force)")
    else:
        existing = [path for path in (workflow, points_file) if path.exists()]
        if existing and not force:
            raise ExportError(f"{existing[0]} exists; add --force to replace it")
    text = workflow_text(points, timeout, python)
    document = classroom.points_document(points)
    readme = readme_text(points, timeout) if template else ""
    written = []
    if template:
        written += _write_template(out, readme)
    requirements = pins.requirements_text(_pinned())
    for path, content in ((workflow, text), (points_file, document), (out / REQUIREMENTS, requirements)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def _write_template(out: Path, readme: str) -> list[Path]:
    """The student's repository: the kit, the stubs, the exercise tests and the students' README;
    no solutions, no grader."""
    from kit.registry import CHAPTERS

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TEMPLATE_FILES:
        source, target = ROOT / name, out / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, target)
        else:
            continue
        written.append(target)
    (out / "README.md").write_text(readme, encoding="utf-8")
    written.append(out / "README.md")
    (out / "tests").mkdir(exist_ok=True)
    for module in CHAPTERS:
        shutil.copy2(ROOT / "tests" / f"test_{module}.py", out / "tests" / f"test_{module}.py")
    written.append(out / "tests")
    return written


def add_options(parser) -> None:
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="the student repository's folder")
    parser.add_argument("--template", action="store_true",
                        help="also write the student repository itself into DIR: the kit, exercises/ and "
                             "the exercise tests, without solutions/ or the grader")
    parser.add_argument("--rubric", type=Path, metavar="FILE", help=RUBRIC_HELP)
    parser.add_argument("--timeout", type=int, default=10, metavar="MINUTES",
                        help="for the whole grading run on GitHub's runner; exercises not graded by then "
                             "score 0 (default: %(default)s)")
    parser.add_argument("--python", metavar="VERSION",
                        help=f"Python on the runner (default: this one's minor version, {pins.python()}, which "
                             f"the pinned versions were installed with)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing workflow and points file, or fill a non-empty DIR")


def export(args) -> int:
    written = export_github_classroom(args.out, args.rubric, args.timeout, args.python, args.template, args.force)
    print(f"kit export github-classroom: wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0

