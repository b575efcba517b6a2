"""GitHub Classroom: `kit export github-classroom` writes classroom.yml and, with --template, the students' repository.

    kit export github-classroom --out DIR [--template] [--rubric R] [--timeout MINUTES]

`.github/workflows/classroom.yml` (platforms/files/classroom.yml.j2) follows the pattern of GitHub
Classroom's own autograding workflows: one job, `run-autograding-tests`, that checks out the
student's repository, sets up Python, installs the kit with a CPU build of torch, runs one
classroom-resources/autograding-command-grader step per chapter (pytest on that chapter's
tests against exercises/, worth the chapter's points in the rubric, all or nothing), and
reports with classroom-resources/autograding-grading-reporter. With --template, DIR also gets
the student's repository itself: kit/, exercises/, the exercise tests, pyproject.toml, README.md
and .gitignore; no solutions/, no kit's own tests, and no grader code (grading/) at all.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grading.platforms import ROOT, RUBRIC_HELP, TORCH, TORCH_CPU_INDEX, ExportError, check_repository, check_rubric

NAME = "github-classroom"
HELP = "a GitHub Classroom autograding workflow (.github/workflows/classroom.yml)"
DESCRIPTION = ("Write .github/workflows/classroom.yml into DIR, the student repository: one graded "
               "step per chapter, worth the chapter's points in the rubric.")

# GitHub Classroom's actions, and the inputs their action.yml declare (read at
# github.com/classroom-resources/<name>, the repositories formerly github-education-resources/<name>):
# autograding-command-grader/action.yml: test-name and command required; setup-command; timeout
# (minutes, default 10); max-score (read with parseInt: whole points only).
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
COMMAND_GRADER_INPUTS = ("test-name", "setup-command", "command", "timeout", "max-score")
COMMAND_GRADER_REQUIRED = ("test-name", "command")
# autograding-grading-reporter/action.yml: runners (required: step ids, comma-separated); token
# (default: the workflow's token). It reads each runner's result from the environment variable
# <ID in capitals>_RESULTS, and updates the check run of the job named run-autograding-tests.
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
REPORTER_INPUTS = ("runners", "token")
REPORTER_REQUIRED = ("runners",)
JOB = "run-autograding-tests"

WORKFLOW = Path(".github/workflows/classroom.yml")
TEMPLATE_FILES = ("pyproject.toml", "README.md", ".gitignore", "kit", "exercises")  # and tests/test_<chapter>.py


def graded_steps(points: dict[str, float]) -> list[dict]:
    """One command-grader step per chapter, worth its exercises' points (whole points)."""
    from kit.registry import CHAPTERS, EXERCISES

    steps = []
    for number, (module, title) in enumerate(CHAPTERS.items(), start=1):
        total = sum(points[eid] for eid, e in EXERCISES.items() if e.module == module)
        if total != int(total):
            raise ExportError(f"{module} is worth {total} points; GitHub Classroom's command grader counts "
                              f"whole points only: give it a whole number in the rubric")
        steps.append({
            "id": module, "name": f"Chapter {number}: {title}", "test_name": f"Chapter {number}: {title} ({module})",
            "command": f"pytest tests/test_{module}.py -p no:cacheprovider --hypothesis-profile grading",
            "points": int(total),
            "results": f"{module.upper()}_RESULTS", "result": f"${{{{steps.{module}.outputs.result}}}}",
        })
    return steps


def workflow_text(points: dict[str, float], timeout: int = 5, python: str = "3.12") -> str:
    """classroom.yml, rendered from platforms/files/classroom.yml.j2."""
    from grading.render import render

    return render("platforms/files/classroom.yml.j2", graders=graded_steps(points), timeout=timeout, python=python,
                  job=JOB, command_grader=COMMAND_GRADER, reporter=REPORTER, torch=TORCH, torch_index=TORCH_CPU_INDEX)


def export_github_classroom(out: Path, rubric: Path | None = None, timeout: int = 5, python: str = "3.12",
                            template: bool = False, force: bool = False) -> list[Path]:
    """Write DIR/.github/workflows/classroom.yml (and, with template, the student's repository)."""
    if timeout <= 0:
        raise ExportError("--timeout: minutes, more than 0")
    points = check_rubric(rubric)
    workflow = out / WORKFLOW
    if template:
        check_repository(("pyproject.toml", "README.md", "kit", "exercises"))
        if out.exists() and any(out.iterdir()) and not force:
            raise ExportError(f"--out {out} is not empty; --template writes a whole repository into a new "
                              f"or empty folder (or add --force)")
    elif workflow.exists() and not force:
        raise ExportError(f"{workflow} exists; add --force to replace it")
    text = workflow_text(points, timeout, python)
    written = []
    if template:
        written += _write_template(out)
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(text, encoding="utf-8")
    return written + [workflow]


def _write_template(out: Path) -> list[Path]:
    """The student's repository: the kit, the stubs and the exercise tests; no solutions, no grader."""
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
    parser.add_argument("--timeout", type=int, default=5, metavar="MINUTES",
                        help="per chapter, for GitHub's runner (default: %(default)s)")
    parser.add_argument("--python", default="3.12", metavar="VERSION",
                        help="Python on the runner (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="replace an existing workflow or fill a non-empty DIR")


def export(args) -> int:
    written = export_github_classroom(args.out, args.rubric, args.timeout, args.python, args.template, args.force)
    print(f"kit export github-classroom: wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0

