"""Gradescope: `kit export gradescope` writes the autograder zip; this module's `run` is run_autograder's Python half.

    kit export gradescope --out autograder.zip [--only 1-3] [--rubric R] [--timeout S] [--visibility V]

The autograder specification: https://gradescope-autograders.readthedocs.io/en/latest/specs/.
The zip holds `setup.sh` and `run_autograder` at its root (platforms/files/setup.sh.j2 and
run_autograder.sh), the kit's sources needed to grade (pyproject.toml, README.md, kit/,
grading/; never the scaffold, solutions/, tests/ or exercises/) and `kit-gradescope.json`, the
options chosen at export. Gradescope unzips it into /autograder/source, runs setup.sh once to
build its image, and runs run_autograder for each submission. run_autograder grades
/autograder/submission with `kit grade`, the same engine and sandbox as for a whole class, on a
class of one (a copy of the submission named "submission"), and turns that student's
results.json into /autograder/results/results.json. Whatever happens (a broken submission,
`kit grade` failing, even Python missing), a valid results.json is written: score 0 with the
reason in "output".

Every path run_autograder uses can be moved by the environment, so a test can lay out the
platform in a temporary folder: AUTOGRADER_ROOT (default /autograder), AUTOGRADER_SOURCE
(ROOT/source), AUTOGRADER_SUBMISSION (ROOT/submission), AUTOGRADER_RESULTS
(ROOT/results/results.json), KIT_PYTHON (ROOT/venv/bin/python when setup.sh made it, else
python3). KIT_GRADE_OPTIONS is appended to the exported `kit grade` options (e.g. "--timeout 2"),
KIT_VISIBILITY replaces the exported visibility, KIT_GRADE_DEADLINE (seconds, default 540)
bounds the whole `kit grade` run.
"""
from __future__ import annotations

import json
import os
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

from grading import limits
from grading.platforms import ROOT, RUBRIC_HELP, TORCH, TORCH_CPU_INDEX, ExportError, check_repository, check_rubric
from kit.statuses import Status

NAME = "gradescope"
HELP = "an autograder zip for a Gradescope programming assignment"
DESCRIPTION = ("Write a Gradescope autograder zip: setup.sh, run_autograder and the kit's sources. "
               "Each submission is graded by `kit grade`, with the options given here.")

# "Output format", "Controlling Test Case Visibility", "Test case status" in the specification
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
BUNDLE_CONFIG = "kit-gradescope.json"
SEED_FILE = "grading-seed"  # the course's grading seed, in the zip: the graded inputs come from it
BUNDLED = ("pyproject.toml", "README.md", "kit", "grading")
NOT_BUNDLED = ("__pycache__", "sample_class")  # folders left out wherever they are
NOT_BUNDLED_FILES = ("grading/scaffold.py",)  # the instructor's tools that edit the repository: not for grading
DEADLINE = 540.0  # seconds for the whole `kit grade` run: under Gradescope's default 10 minutes


def export_gradescope(out: Path, only: str | None = None, rubric: Path | None = None,
                      grade_options: list[str] = (), visibility: str = "visible", force: bool = False,
                      seed_file: Path | None = None) -> list[str]:
    """Write the autograder zip, with the course's grading seed (grading.cases.load_seed); returns
    the names in it."""
    from grading.render import read, render

    if visibility not in VISIBILITIES:
        raise ExportError(f"--visibility {visibility}: one of {', '.join(VISIBILITIES)}")
    check_repository(BUNDLED)
    options = list(grade_options)
    if only:
        _check_only(only)
        options += ["--only", only]
    if rubric is not None:
        check_rubric(rubric)
    if out.exists() and not force:
        raise ExportError(f"--out {out} exists; choose another name, or add --force to replace it")
    if not out.parent.is_dir():
        raise ExportError(f"--out {out}: the folder {out.parent} does not exist")
    seed = _seed(seed_file)
    config = {"grade_options": options, "visibility": visibility, "rubric": "rubric.toml" if rubric else None,
              "seed_file": SEED_FILE}

    setup = render("platforms/files/setup.sh.j2", torch=TORCH, torch_index=TORCH_CPU_INDEX, seed_file=SEED_FILE)
    files: dict[str, tuple[bytes, int]] = {  # name in the zip -> (content, mode)
        "setup.sh": (setup.encode(), 0o755),
        "run_autograder": (read("platforms/files/run_autograder.sh").encode(), 0o755),
        BUNDLE_CONFIG: ((json.dumps(config, indent=2) + "\n").encode(), 0o644),
    }
    if rubric is not None:
        files["rubric.toml"] = (rubric.read_bytes(), 0o644)
    files[SEED_FILE] = (seed.hex().encode() + b"\n", 0o600)
    for path in bundled_files():
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


def bundled_files() -> list[Path]:
    """The repository's files the zip holds: BUNDLED, less NOT_BUNDLED folders and NOT_BUNDLED_FILES."""
    found = []
    for name in BUNDLED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if d not in NOT_BUNDLED and not d.startswith("."))
            found += [Path(folder) / n for n in sorted(names) if not n.endswith(".pyc") and not n.startswith(".")]
    return [path for path in found if path.relative_to(ROOT).as_posix() not in NOT_BUNDLED_FILES]


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
        report = out / "students" / "submission" / "results.json"  # grading.gradebook.student_folder("submission")
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


# ---- kit export gradescope ------------------------------------------------------------------------

def add_options(parser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="the zip to write, e.g. autograder.zip")
    parser.add_argument("--only", metavar="LIST", help="grade only these chapters or exercises (as kit grade)")
    parser.add_argument("--rubric", type=Path, metavar="FILE", help=RUBRIC_HELP)
    limits.add_options(parser)  # as kit grade
    parser.add_argument("--visibility", default="visible", choices=VISIBILITIES,
                        help="when students see their results (default: %(default)s)")
    parser.add_argument("--seed-file", type=Path, metavar="FILE",
                        help="the course's grading seed, bundled in the zip (as kit grade; default: "
                             "$XDG_CONFIG_HOME/backprop-kit/grading-seed)")
    parser.add_argument("--force", action="store_true", help="replace the zip if it exists")


def export(args) -> int:
    names = export_gradescope(args.out.resolve(), args.only, args.rubric, limits.as_options(args), args.visibility,
                              args.force, args.seed_file)
    print(f"kit export gradescope: wrote {args.out} ({len(names)} files); upload it as the assignment's "
          f"autograder (Configure Autograder > Zip file upload)", file=sys.stderr)
    return 0


def warm_up(environ=os.environ) -> int:
    """setup.sh's last step: grade an empty submission, which draws and caches the graded inputs.
    0 when every exercise was graded (each "missing"); 1, with the reason, when not: the image
    build then fails, instead of an autograder that draws its inputs again for every submission."""
    work = Path(tempfile.mkdtemp(prefix="kit-warm-up-"))
    try:
        (work / "submission").mkdir()
        results = work / "results.json"
        gradescope_run({**environ, "AUTOGRADER_SUBMISSION": str(work / "submission"),
                        "AUTOGRADER_RESULTS": str(results)})
        document = json.loads(results.read_text(encoding="utf-8"))
        tests = document.get("tests") or []
        faults = [t["name"] for t in tests if t.get("extra_data", {}).get("kit_status") == Status.GRADER_FAULT]
        if not tests or faults:
            print(f"setup.sh: the warm-up could not grade an empty submission: "
                  f"{document.get('output') or ', '.join(faults)}", file=sys.stderr)
            return 1
        print(f"setup.sh: warm-up graded {len(tests)} exercises; the graded inputs are cached")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


COMMANDS = {"run": gradescope_run, "warm-up": warm_up}

if __name__ == "__main__":  # run_autograder: `... gradescope run`; setup.sh: `... gradescope warm-up`
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: python -m grading.platforms.gradescope run|warm-up (run_autograder's and setup.sh's "
                 "halves; see the docstring)")
    sys.exit(COMMANDS[sys.argv[1]]())
