"""`kit export`: the kit where classes already are, Gradescope and GitHub Classroom.

    kit export gradescope --out autograder.zip [--only 1-3] [--rubric R] [--timeout S] [--visibility V]
    kit export github-classroom --out DIR [--template] [--rubric R] [--timeout MINUTES]

Gradescope (the autograder specification: https://gradescope-autograders.readthedocs.io/en/latest/specs/).
The zip holds `setup.sh` and `run_autograder` at its root, the kit's sources needed to grade
(pyproject.toml, README.md, kit/, grading/; never solutions/, tests/ or exercises/) and
`kit-gradescope.json`, the options chosen at export. Gradescope unzips it into
/autograder/source, runs setup.sh once to build its image, and runs run_autograder for each
submission. run_autograder grades /autograder/submission with `kit grade`, the same engine
and sandbox as for a whole class, on a class of one (a copy of the submission named
"submission"), and turns that student's results.json into /autograder/results/results.json.
Whatever happens (a broken submission, `kit grade` failing, even Python missing), a valid
results.json is written: score 0 with the reason in "output".

Every path run_autograder uses can be moved by the environment, so a test can lay out the
platform in a temporary folder: AUTOGRADER_ROOT (default /autograder), AUTOGRADER_SOURCE
(ROOT/source), AUTOGRADER_SUBMISSION (ROOT/submission), AUTOGRADER_RESULTS
(ROOT/results/results.json), KIT_PYTHON (ROOT/venv/bin/python when setup.sh made it, else
python3). KIT_GRADE_OPTIONS is appended to the exported `kit grade` options (e.g. "--timeout 2"),
KIT_VISIBILITY replaces the exported visibility, KIT_GRADE_DEADLINE (seconds, default 540)
bounds the whole `kit grade` run.

GitHub Classroom: `.github/workflows/classroom.yml` in the pattern of GitHub Classroom's own
autograding workflows: one job, `run-autograding-tests`, that checks out the student's
repository, sets up Python, installs the kit with a CPU build of torch, runs one
classroom-resources/autograding-command-grader step per chapter (pytest on that chapter's
tests against exercises/, worth the chapter's points in the rubric, all or nothing), and
reports with classroom-resources/autograding-grading-reporter. With --template, DIR also gets
the student's repository itself: this one without solutions/ and the kit's own tests.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the kit's repository

# ---- what the platforms expect ------------------------------------------------------------------

# Gradescope, https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format",
# "Controlling Test Case Visibility", "Test case status").
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")

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

# the README's install command: a CPU build of torch, then the kit
TORCH = "torch==2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class ExportError(Exception):
    """Bad usage, before anything is written."""


# ---- kit export gradescope -----------------------------------------------------------------------

BUNDLE_CONFIG = "kit-gradescope.json"
SEED_FILE = "grading-seed"  # the course's grading seed, in the zip: the graded inputs come from it
BUNDLED = ("pyproject.toml", "README.md", "kit", "grading")
NOT_BUNDLED = ("__pycache__", "sample_class")  # folders left out wherever they are
DEADLINE = 540.0  # seconds for the whole `kit grade` run: under Gradescope's default 10 minutes

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/). Written by `kit export gradescope`.
set -euxo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="${AUTOGRADER_SOURCE:-$ROOT/source}"
VENV="$ROOT/venv"

# The kit needs Python 3.11 or newer; Gradescope's Ubuntu 22.04 image has 3.10.
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
  PYTHON=python3.11
fi
if ! "$PYTHON" -m venv "$VENV"; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
  "$PYTHON" -m venv "$VENV"
fi
# bubblewrap (namespaces, where the container allows them) and libseccomp's bindings (a system-call
# filter): the layers of kit grade's sandbox (grading/isolation.py, grading/lockdown.py)
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap python3-seccomp || true
# each student runs as a user of its own, which must be able to read Python and the kit's virtualenv;
# the grading seed stays the instructor's: readable by root only
chmod o+x "$ROOT"
[ ! -e "$SOURCE/grading-seed" ] || chmod 600 "$SOURCE/grading-seed"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install __TORCH__ --index-url __TORCH_INDEX__
"$VENV/bin/pip" install "$SOURCE"

# Draw the graded inputs now, once (they are cached under ~/.cache/backprop-kit), so that each
# submission is only graded: run the autograder on an empty submission.
mkdir -p /tmp/kit-warm-up/submission
AUTOGRADER_SUBMISSION=/tmp/kit-warm-up/submission AUTOGRADER_RESULTS=/tmp/kit-warm-up/results.json \
  "$VENV/bin/python" -m kit.export gradescope-run || true
rm -rf /tmp/kit-warm-up
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/). Written by `kit export gradescope`.
# It grades the submission with `kit grade` and writes results/results.json (kit/export.py); the
# paths move with AUTOGRADER_ROOT, AUTOGRADER_SOURCE, AUTOGRADER_SUBMISSION, AUTOGRADER_RESULTS.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
RESULTS="${AUTOGRADER_RESULTS:-$ROOT/results/results.json}"
PYTHON="${KIT_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if [ -x "$ROOT/venv/bin/python" ]; then PYTHON="$ROOT/venv/bin/python"; else PYTHON=python3; fi
fi
mkdir -p "$(dirname "$RESULTS")"
rm -f "$RESULTS"
"$PYTHON" -m kit.export gradescope-run
status=$?
if [ ! -s "$RESULTS" ]; then  # not even Python could run: still a valid results.json
  echo "run_autograder: $PYTHON -m kit.export gradescope-run failed with status $status"
  printf '{"score": 0, "visibility": "visible", "tests": [], "output": "%s"}\n' \
    "The autograder itself failed before it could grade this submission (not your code). Please tell your instructor." \
    > "$RESULTS"
fi
exit 0
"""


def export_gradescope(out: Path, only: str | None = None, rubric: Path | None = None,
                      grade_options: list[str] = (), visibility: str = "visible", force: bool = False,
                      seed_file: Path | None = None) -> list[str]:
    """Write the autograder zip, with the course's grading seed (grading.cases.load_seed); returns
    the names in it."""
    if visibility not in VISIBILITIES:
        raise ExportError(f"--visibility {visibility}: one of {', '.join(VISIBILITIES)}")
    _check_repository()
    options = list(grade_options)
    if only:
        _check_only(only)
        options += ["--only", only]
    if rubric is not None:
        _check_rubric(rubric)
    if out.exists() and not force:
        raise ExportError(f"--out {out} exists; choose another name, or add --force to replace it")
    if not out.parent.is_dir():
        raise ExportError(f"--out {out}: the folder {out.parent} does not exist")
    seed = _seed(seed_file)
    config = {"grade_options": options, "visibility": visibility, "rubric": "rubric.toml" if rubric else None,
              "seed_file": SEED_FILE}

    files: dict[str, tuple[bytes, int]] = {  # name in the zip -> (content, mode)
        "setup.sh": (SETUP_SH.replace("__TORCH__", TORCH).replace("__TORCH_INDEX__", TORCH_CPU_INDEX).encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.encode(), 0o755),
        BUNDLE_CONFIG: ((json.dumps(config, indent=2) + "\n").encode(), 0o644),
    }
    if rubric is not None:
        files["rubric.toml"] = (rubric.read_bytes(), 0o644)
    files[SEED_FILE] = (seed.hex().encode() + b"\n", 0o600)
    for path in _bundled_files():
        files[path.relative_to(ROOT).as_posix()] = (path.read_bytes(), 0o644)

    temporary = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, (content, mode) in files.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | mode) << 16  # run_autograder must stay executable
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, content)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return list(files)


def _bundled_files() -> list[Path]:
    found = []
    for name in BUNDLED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if d not in NOT_BUNDLED and not d.startswith("."))
            found += [Path(folder) / n for n in sorted(names) if not n.endswith(".pyc") and not n.startswith(".")]
    return found


def _check_repository() -> None:
    missing = [name for name in BUNDLED if not (ROOT / name).exists()]
    if missing:
        raise ExportError(f"kit export works from the kit's repository; {', '.join(missing)} not found in {ROOT}")


def _check_only(only: str) -> None:
    from grading.cli import UsageError, select

    try:
        select(only)
    except UsageError as error:
        raise ExportError(str(error)) from None


def _seed(seed_file: Path | None) -> bytes:
    from grading.cases import SeedError, load_seed

    try:
        return load_seed(seed_file)
    except SeedError as error:
        raise ExportError(str(error)) from None


def _check_rubric(rubric: Path | None) -> dict[str, float]:
    from grading import rubric as rubrics

    try:
        return rubrics.load(rubric)
    except rubrics.RubricError as error:
        raise ExportError(str(error)) from None


# ---- run_autograder's Python half ---------------------------------------------------------------

class GradingFailed(Exception):
    pass


def gradescope_run(environ=os.environ) -> int:
    """Grade AUTOGRADER_SUBMISSION with `kit grade` and write Gradescope's results.json."""
    root = Path(environ.get("AUTOGRADER_ROOT") or "/autograder")
    source = Path(environ.get("AUTOGRADER_SOURCE") or root / "source")
    submission = Path(environ.get("AUTOGRADER_SUBMISSION") or root / "submission")
    results = Path(environ.get("AUTOGRADER_RESULTS") or root / "results" / "results.json")
    start = time.monotonic()
    config = _bundle_config(source)
    visibility = environ.get("KIT_VISIBILITY") or config.get("visibility") or "visible"
    if visibility not in VISIBILITIES:
        print(f"run_autograder: visibility {visibility!r} is not one of {VISIBILITIES}; using 'visible'")
        visibility = "visible"
    options = [str(o) for o in config.get("grade_options") or []]
    if config.get("rubric"):
        options += ["--rubric", str(source / config["rubric"])]
    if config.get("seed_file"):
        options += ["--seed-file", str(source / config["seed_file"])]
    try:
        options += shlex.split(environ.get("KIT_GRADE_OPTIONS", ""))
        deadline = float(environ.get("KIT_GRADE_DEADLINE") or DEADLINE)
        document = gradescope_results(grade_one(submission, options, deadline), visibility)
    except GradingFailed as error:
        document = failure_results(str(error), visibility)
    except Exception as error:  # a bug here must still give the student a results.json
        document = failure_results(f"the autograder failed: {type(error).__name__}: {error}", visibility)
    document["execution_time"] = round(time.monotonic() - start)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"run_autograder: {document['score']} points; results in {results}")
    return 0


def _bundle_config(source: Path) -> dict:
    try:
        config = json.loads((source / BUNDLE_CONFIG).read_text(encoding="utf-8"))
        return config if isinstance(config, dict) else {}
    except (OSError, ValueError):
        return {}


def grade_one(submission: Path, options: list[str], deadline: float) -> dict:
    """`kit grade` on a class of one, a copy of the submission; that student's results.json."""
    work = Path(tempfile.mkdtemp(prefix="kit-gradescope-"))
    try:
        entry = work / "class" / "submission"
        entry.parent.mkdir()
        try:
            if submission.is_dir():
                shutil.copytree(submission, entry, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            else:
                entry.mkdir()  # no submission at all: graded as an empty one
        except (OSError, shutil.Error) as error:
            raise GradingFailed(f"the submission could not be read: {error}") from None
        out, progress = work / "out", work / "progress.jsonl"
        command = [sys.executable, "-m", "kit.cli", "grade", str(entry.parent), "--out", str(out), "--quiet",
                   "--progress-log", str(progress), *options]
        print("run_autograder:", shlex.join(command), flush=True)
        status, log = _run(command, deadline)
        print(log, end="" if log.endswith("\n") else "\n", flush=True)  # for the instructor (results/stdout)
        if status is None:
            return partial_results(progress, deadline)
        report = out / "students" / "submission" / "results.json"  # grading.reports.student_folder("submission")
        if status not in (0, 1) or not report.is_file():
            why = f"it stopped after {deadline:.0f} seconds" if status is None else f"it exited with status {status}"
            raise GradingFailed(f"kit grade could not grade this submission ({why}). "
                                f"Not your code's fault. Its last words:\n{log[-1500:]}")
        try:
            return json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise GradingFailed(f"kit grade wrote an unreadable results.json: {error}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(command: list[str], deadline: float) -> tuple[int | None, str]:
    """Run, stdout and stderr together; (exit status, output), status None when it overran."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            status = process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)  # kit grade kills its children on SIGTERM
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            status = None
        log.seek(0)
        return status, log.read().decode("utf-8", "replace")


def partial_results(progress: Path, deadline: float) -> dict:
    """kit grade's results as far as it got when the deadline came: the exercises graded keep
    their scores (kit grade wrote each as a line of `progress`, as it graded it)."""
    tests = []
    try:
        lines = progress.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            test = json.loads(line)
            tests.append({k: test[k] for k in ("name", "score", "max_score", "status", "output", "extra_data")})
        except (ValueError, KeyError, TypeError):
            break  # the last line, cut by the stop
    if not tests:
        raise GradingFailed(f"grading took longer than the autograder's {deadline:.0f} seconds before a "
                            f"single exercise was graded; the instructor can raise KIT_GRADE_DEADLINE")
    score = sum(t["score"] for t in tests)
    note = (f"The autograder's time ({deadline:.0f} s for the whole run) ran out after {len(tests)} exercises: "
            f"those keep their scores; the rest were not graded and score 0 here. Each exercise has its own "
            f"time limit, so this is the total of all of them; the instructor can regrade.")
    return {"score": score, "max_score": None, "output": note, "tests": tests}


def gradescope_results(kit_results: dict, visibility: str) -> dict:
    """Gradescope's results.json from `kit grade`'s one: a visibility on it and on every test.

    kit grade's results.json already has Gradescope's test fields; its top-level max_score,
    which is not a Gradescope field (Gradescope takes the total from the assignment), goes
    into extra_data."""
    try:
        tests = [{"name": str(t["name"]), "score": t["score"], "max_score": t["max_score"],
                  "status": t["status"], "output": str(t.get("output", "")), "visibility": visibility,
                  "extra_data": t.get("extra_data", {})} for t in kit_results["tests"]]
        document = {"score": kit_results["score"], "output": str(kit_results.get("output", "")),
                    "visibility": visibility, "tests": tests,
                    "extra_data": {"max_score": kit_results.get("max_score")}}
    except (KeyError, TypeError) as error:
        raise GradingFailed(f"kit grade's results.json lacks {error}") from None
    return document


def failure_results(reason: str, visibility: str) -> dict:
    return {"score": 0, "output": f"This submission scored 0: {reason}", "visibility": visibility, "tests": []}


# ---- kit export github-classroom -----------------------------------------------------------------

WORKFLOW = Path(".github/workflows/classroom.yml")
TEMPLATE_FILES = ("pyproject.toml", "README.md", ".gitignore", "kit", "grading", "exercises")


def classroom_workflow(points: dict[str, float], timeout: int = 5, python: str = "3.12") -> dict:
    """The workflow as data: one graded step per chapter, worth its exercises' points."""
    from kit.registry import CHAPTERS, EXERCISES

    steps: list[dict] = [
        {"name": "Check out the student's repository", "uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": python}},
        {"name": "Install the kit, with a CPU build of torch",
         "run": f"python -m pip install {TORCH} --index-url {TORCH_CPU_INDEX}\npython -m pip install -e ."},
    ]
    ids = []
    for number, (module, title) in enumerate(CHAPTERS.items(), start=1):
        total = sum(points[eid] for eid, e in EXERCISES.items() if e.module == module)
        if total != int(total):
            raise ExportError(f"{module} is worth {total} points; GitHub Classroom's command grader counts "
                              f"whole points only: give it a whole number in the rubric")
        ids.append(module)
        steps.append({
            "name": f"Chapter {number}: {title}",
            "id": module,
            "uses": COMMAND_GRADER,
            "with": {
                "test-name": f"Chapter {number}: {title} ({module})",
                "setup-command": "",
                "command": f"pytest tests/test_{module}.py -p no:cacheprovider --hypothesis-profile grading",
                "timeout": timeout,
                "max-score": int(total),
            },
        })
    steps.append({
        "name": "Autograding Reporter",
        "uses": REPORTER,
        "env": {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids},
        "with": {"runners": ",".join(ids)},
    })
    return {
        "name": "Autograding Tests",
        "on": ["push", "workflow_dispatch", "repository_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {JOB: {
            "runs-on": "ubuntu-latest",
            "if": "github.actor != 'github-classroom[bot]'",  # not on the commit that creates the repository
            "steps": steps,
        }},
    }


WORKFLOW_HEADER = """\
# GitHub Classroom autograding for backprop-kit, written by `kit export github-classroom`.
# One step per chapter runs that chapter's tests against exercises/ and earns the chapter's points
# (grading/rubric.toml) when every exercise of it passes. The reporter step sends the total to
# GitHub Classroom; it looks for the check run of the job named run-autograding-tests.
"""


def export_github_classroom(out: Path, rubric: Path | None = None, timeout: int = 5, python: str = "3.12",
                            template: bool = False, force: bool = False) -> list[Path]:
    """Write DIR/.github/workflows/classroom.yml (and, with template, the student's repository)."""
    if timeout <= 0:
        raise ExportError("--timeout: minutes, more than 0")
    points = _check_rubric(rubric)
    workflow = out / WORKFLOW
    if template:
        _check_repository()
        if out.exists() and any(out.iterdir()) and not force:
            raise ExportError(f"--out {out} is not empty; --template writes a whole repository into a new "
                              f"or empty folder (or add --force)")
    elif workflow.exists() and not force:
        raise ExportError(f"{workflow} exists; add --force to replace it")
    text = WORKFLOW_HEADER + to_yaml(classroom_workflow(points, timeout, python))
    written = []
    if template:
        written += _write_template(out)
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(text, encoding="utf-8")
    return written + [workflow]


def _write_template(out: Path) -> list[Path]:
    """The student's repository: the kit, the stubs and the exercise tests; no solutions."""
    from kit.registry import CHAPTERS

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "sample_class", ".*")
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


# ---- a small YAML writer: block mappings and sequences of strings and numbers -----------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./@-]*(?: [A-Za-z0-9_./@-]+)*")
_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}  # YAML 1.1 would read these as values


def to_yaml(data) -> str:
    """YAML for dicts, lists, strings and ints; strings are plain when safe, else JSON-quoted
    (a subset of YAML), or literal blocks when they span lines."""
    lines: list[str] = []
    _emit(data, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and value.lower() not in _WORDS
        return value if plain else json.dumps(value, ensure_ascii=False)
    raise TypeError(f"to_yaml: cannot write {type(value).__name__} {value!r}")


def _is_block(value) -> bool:
    return isinstance(value, str) and "\n" in value and not value.endswith("\n") and all(
        line and line == line.strip() for line in value.split("\n"))


def _emit(value, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{_scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                lines.append(head)
                _emit(item, indent + 2, lines)
            elif isinstance(item, (dict, list)):
                lines.append(f"{head} {'{}' if isinstance(item, dict) else '[]'}")
            elif _is_block(item):
                lines.append(f"{head} |-")
                lines += [f"{pad}  {line}" for line in item.split("\n")]
            else:
                lines.append(f"{head} {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested: list[str] = []
                _emit(item, indent + 2, nested)
                nested[0] = f"{pad}- {nested[0][indent + 2:]}"
                lines += nested
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")


# ---- the command line --------------------------------------------------------------------------------

EXPORT_HELP = "the kit for Gradescope (an autograder zip) or GitHub Classroom (a workflow)"
RUBRIC_HELP = "points per exercise (default: grading/rubric.toml)"


def add_parser(subparsers) -> None:
    from grading import limits

    export = subparsers.add_parser("export", help=EXPORT_HELP, description=f"Export {EXPORT_HELP}.")
    targets = export.add_subparsers(title="targets", metavar="TARGET", dest="target", required=True)

    gradescope = targets.add_parser(
        "gradescope", help="an autograder zip for a Gradescope programming assignment",
        description="Write a Gradescope autograder zip: setup.sh, run_autograder and the kit's sources. "
                    "Each submission is graded by `kit grade`, with the options given here.")
    gradescope.add_argument("--out", required=True, type=Path, help="the zip to write, e.g. autograder.zip")
    gradescope.add_argument("--only", metavar="LIST", help="grade only these chapters or exercises (as kit grade)")
    gradescope.add_argument("--rubric", type=Path, metavar="FILE", help=RUBRIC_HELP)
    limits.add_options(gradescope)  # as kit grade
    gradescope.add_argument("--visibility", default="visible", choices=VISIBILITIES,
                            help="when students see their results (default: %(default)s)")
    gradescope.add_argument("--seed-file", type=Path, metavar="FILE",
                            help="the course's grading seed, bundled in the zip (as kit grade; default: "
                                 "$XDG_CONFIG_HOME/backprop-kit/grading-seed)")
    gradescope.add_argument("--force", action="store_true", help="replace the zip if it exists")
    gradescope.set_defaults(run=run_gradescope)

    classroom = targets.add_parser(
        "github-classroom", help="a GitHub Classroom autograding workflow (.github/workflows/classroom.yml)",
        description="Write .github/workflows/classroom.yml into DIR, the student repository: one graded "
                    "step per chapter, worth the chapter's points in the rubric.")
    classroom.add_argument("--out", required=True, type=Path, metavar="DIR", help="the student repository's folder")
    classroom.add_argument("--template", action="store_true",
                           help="also write the student repository itself into DIR: the kit, exercises/ and "
                                "the exercise tests, without solutions/")
    classroom.add_argument("--rubric", type=Path, metavar="FILE", help=RUBRIC_HELP)
    classroom.add_argument("--timeout", type=int, default=5, metavar="MINUTES",
                           help="per chapter, for GitHub's runner (default: %(default)s)")
    classroom.add_argument("--python", default="3.12", metavar="VERSION",
                           help="Python on the runner (default: %(default)s)")
    classroom.add_argument("--force", action="store_true", help="replace an existing workflow or fill a non-empty DIR")
    classroom.set_defaults(run=run_github_classroom)


def run_gradescope(args) -> int:
    from grading import limits

    options = limits.as_options(args)
    try:
        names = export_gradescope(args.out.resolve(), args.only, args.rubric, options, args.visibility, args.force,
                                  args.seed_file)
    except ExportError as error:
        print(f"kit export gradescope: error: {error}", file=sys.stderr)
        return 2
    print(f"kit export gradescope: wrote {args.out} ({len(names)} files); upload it as the assignment's "
          f"autograder (Configure Autograder > Zip file upload)", file=sys.stderr)
    return 0


def run_github_classroom(args) -> int:
    try:
        written = export_github_classroom(args.out, args.rubric, args.timeout, args.python, args.template, args.force)
    except ExportError as error:
        print(f"kit export github-classroom: error: {error}", file=sys.stderr)
        return 2
    print(f"kit export github-classroom: wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # run_autograder: python -m kit.export gradescope-run
    if sys.argv[1:] != ["gradescope-run"]:
        sys.exit("usage: python -m kit.export gradescope-run (run_autograder's half; see kit/export.py)")
    sys.exit(gradescope_run())
