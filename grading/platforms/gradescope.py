"""Gradescope: `kit export gradescope` writes the autograder zip; this module's `run` is run_autograder's Python half.

    kit export gradescope --out autograder.zip [--only 1-3] [--rubric R] [--timeout S] [--visibility [NAMES=]WHEN ...]

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

What a student reads (`gradescope_results`): a test per exercise, numbered as in the curriculum
("number": "3.2", "name": "3.2 power_grad", the chapter in "tags"; the id stays in
extra_data.kit_exercise, beside kit_status). Each test has its visibility: --visibility WHEN
for all, NAMES=WHEN (kit/names.py's grammar) for some, the most specific and then the last
winning (`visibility_specs`); the results' own visibility is the latest of their tests' (their
output, "X of Y points", counts them all: "Controlling Test Case Visibility" in the
specification), and run_autograder's log (stdout) stays the instructor's. Every text is in the
"text" format ("Output String Formatting"): shown as written, lines, indentation and pictures
kept, no HTML, Markdown or ANSI rendered. The numbers, names, tags and visibilities are resolved
at export, into kit-gradescope.json: run_autograder needs no registry (nor torch) for them.

Every path run_autograder uses can be moved by the environment, so a test can lay out the
platform in a temporary folder: AUTOGRADER_ROOT (default /autograder), AUTOGRADER_SOURCE
(ROOT/source), AUTOGRADER_SUBMISSION (ROOT/submission), AUTOGRADER_RESULTS
(ROOT/results/results.json), KIT_PYTHON (ROOT/venv/bin/python when setup.sh made it, else
python3). KIT_GRADE_OPTIONS is appended to the exported `kit grade` options (e.g. "--timeout 2"),
KIT_VISIBILITY replaces the exported default visibility (not the per-name ones),
KIT_GRADE_DEADLINE (seconds, default 540) bounds the whole `kit grade` run.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grading import limits, pins, resources
from grading.platforms import ROOT, RUBRIC_HELP, TORCH_CPU_INDEX, ExportError, check_repository, check_rubric
from grading.text import printable
from kit.statuses import Status

NAME = "gradescope"
HELP = "an autograder zip for a Gradescope programming assignment"
DESCRIPTION = ("Write a Gradescope autograder zip: setup.sh, run_autograder and the kit's sources. "
               "Each submission is graded by `kit grade`, with the options given here. Students see a test "
               "per exercise, numbered as in the curriculum (3.2 power_grad) and tagged with its chapter, its "
               "feedback as plain text, exactly as written.")

# "Output format", "Controlling Test Case Visibility", "Test case status" in the specification
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
BUNDLE_CONFIG = "kit-gradescope.json"
INPUTS = "inputs"  # the recorded inputs, in the zip (grading/recorded.py)
SEED_FILE = "grading-seed"  # the course's grading seed, in the zip: the graded inputs come from it
BUNDLED = ("pyproject.toml", "README.md", "kit", "grading")
NOT_BUNDLED = ("__pycache__", "sample_class")  # folders left out wherever they are
NOT_BUNDLED_FILES = ("grading/scaffold.py",)  # the instructor's tools that edit the repository: not for grading
DEADLINE = 540.0  # seconds for the whole `kit grade` run: under Gradescope's default 10 minutes


def export_gradescope(out: Path, only: str | None = None, rubric: Path | None = None,
                      grade_options: list[str] = (), visibility: str | Sequence[str] = "visible", force: bool = False,
                      seed_file: Path | None = None, inputs: Path | None = None) -> list[str]:
    """Write the autograder zip, with the course's grading seed (grading.cases.load_seed), the
    graded inputs (recorded in `inputs` by kit record-inputs, else recorded now) and the exact
    versions to install (grading/pins.py); returns the names in it."""
    from grading.render import read, render

    shown = visibility_specs(visibility, only)  # `visibility`: --visibility's specs, or one visibility
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
    pinned = _pinned()
    recording = _recording(inputs, only, seed, seed_file)
    config = {"grade_options": options, "visibility": shown.default, "rubric": "rubric.toml" if rubric else None,
              "seed_file": SEED_FILE, "inputs": INPUTS, "environment": pins.environment()}
    config.update(exercise_visibility=dict(shown.exercises), test_labels=exercise_labels())  # for run_autograder

    setup = render("platforms/files/setup.sh.j2", torch=f"torch=={pinned['torch']}", torch_index=TORCH_CPU_INDEX,
                   seed_file=SEED_FILE, inputs=INPUTS, python=pins.python(), requirements=pins.REQUIREMENTS)
    files: dict[str, tuple[bytes, int]] = {  # name in the zip -> (content, mode)
        "setup.sh": (setup.encode(), 0o755),
        "run_autograder": (read("platforms/files/run_autograder.sh").encode(), 0o755),
        BUNDLE_CONFIG: ((json.dumps(config, indent=2) + "\n").encode(), 0o644),
    }
    if rubric is not None:
        files["rubric.toml"] = (rubric.read_bytes(), 0o644)
    files[SEED_FILE] = (seed.hex().encode() + b"\n", 0o600)
    files[pins.REQUIREMENTS] = (pins.requirements_text(pinned).encode(), 0o644)
    files.update({f"{INPUTS}/{name}": (content, 0o600) for name, content in recording.items()})
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


def _pinned() -> dict[str, str]:
    try:
        return pins.pinned()
    except pins.PinError as error:
        raise ExportError(str(error)) from None


def _recording(inputs: Path | None, only: str | None, seed: bytes, seed_file: Path | None) -> dict[str, bytes]:
    """{file name: content} of the recorded inputs the zip ships (grading/recorded.py): those in
    `inputs`, else the course's recording, made or completed now (~30 s when nothing is cached)."""
    from grading import recorded
    from grading.cases import RecordError, default_cache
    from grading.cli import select
    from kit.registry import EXERCISES

    ids = select(only) or list(EXERCISES)
    folder = inputs.resolve() if inputs is not None else recorded.course_folder(seed_file)
    try:
        if inputs is not None:
            recorded.load(folder, ids, seed)
        else:
            recorded.course(folder, ids, seed, resources.cpus(), default_cache())
        manifest = json.loads((folder / recorded.MANIFEST).read_text(encoding="utf-8"))
    except recorded.RecordedError as error:
        raise ExportError(f"--inputs {inputs}: {error}" if inputs else str(error)) from None
    except RecordError as error:
        raise ExportError(f"the kit failed to draw the graded inputs: {error}") from None
    manifest["exercises"] = {eid: manifest["exercises"][eid] for eid in ids}  # only what this zip grades
    files = {f"{eid}.cases": (folder / f"{eid}.cases").read_bytes() for eid in ids}
    return {recorded.MANIFEST: (json.dumps(manifest, indent=2) + "\n").encode(), **files}


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


# ---- what a student reads: names, visibility, format ----------------------------------------------

@dataclass(frozen=True)
class Visibility:
    """When students see each test: the visibility `exercises` gives its exercise (by id), else
    `default`; `visibility_specs` makes one from the --visibility options."""

    default: str = "visible"
    exercises: Mapping[str, str] = field(default_factory=dict)

    def of(self, exercise_id: str) -> str:
        return self.exercises.get(exercise_id, self.default)

    def overall(self, tests: Iterable[str]) -> str:
        """The results' own visibility, given their tests': the latest of them to show, so that
        the results' output (its "X of Y points" counts every test) shows nothing before the
        tests it counts; with no tests (a failure), the default."""
        return max(tests, key=SHOWN_LATER.index, default=self.default)


# A test's visibility overrides the results' ("Controlling Test Case Visibility"); from the
# soonest shown to the latest (after_published: when the instructor publishes the grades, in
# practice after the due date)
SHOWN_LATER = ("visible", "after_due_date", "after_published", "hidden")
# Feedback shown as written ("Output String Formatting"): "text" renders no HTML, Markdown or
# ANSI and keeps the lines and indentation (a test's output goes in a <pre>); the default for
# the results' own output would be "simple_format", HTML with \n as <br />
TEXT_FORMATS = {"output_format": "text", "test_output_format": "text", "test_name_format": "text"}
STDOUT_VISIBILITY = "hidden"  # run_autograder's log (every exercise's verdict): for the instructor only
EXERCISE, CHAPTER, RANGE = 3, 2, 1  # how specifically a --visibility name names an exercise


def visibility_specs(specs: str | Sequence[str], only: str | None = None) -> Visibility:
    """The --visibility options as one Visibility. "WHEN" sets the default (the last one given;
    "visible" if none); "NAMES=WHEN" sets WHEN for the exercises NAMES names (kit/names.py's grammar,
    e.g. 6, 1-3, ch6, sigmoid_grad, ch6_functions.sigmoid_grad, or several with commas). Where
    several name one exercise, the most specific wins: the exercise named itself, then its
    chapter, then a range of chapters; between two as specific, the last given. ExportError,
    before anything is written, for a visibility that is none of VISIBILITIES, a name that is
    none, or one that names no exercise `only` grades."""
    from kit.names import GRAMMAR, UnknownName, chapter_module, select
    from kit.registry import EXERCISES

    if only:
        _check_only(only)
    graded = {e.id for e in select(only)} if only else None
    default, chosen = "visible", {}  # exercise id -> (specificity, order, visibility)
    for order, spec in enumerate([specs] if isinstance(specs, str) else specs):
        names, equals, value = spec.rpartition("=")
        value = value.strip()
        if value not in VISIBILITIES:
            raise ExportError(f"--visibility {spec}: {value!r} is not a visibility; one of {', '.join(VISIBILITIES)} "
                              f"(NAMES=WHEN for some chapters or exercises)")
        if not equals:
            default = value
            continue
        for name in (n.strip() for n in names.split(",")):
            if not name:
                raise ExportError(f"--visibility {spec}: a name is missing before '='; names are {GRAMMAR}")
            try:
                named = [e.id for e in select(name) if graded is None or e.id in graded]
            except UnknownName as error:
                raise ExportError(f"--visibility {spec}: {error}") from None
            if not named:
                raise ExportError(f"--visibility {spec}: {name} names no exercise this autograder grades "
                                  f"(--only {only})")
            rank = RANGE if re.fullmatch(r"\d+-\d+", name) else CHAPTER if chapter_module(name) else EXERCISE
            for exercise in named:
                if exercise not in chosen or chosen[exercise][:2] <= (rank, order):
                    chosen[exercise] = (rank, order, value)
    return Visibility(default, {exercise: chosen[exercise][2] for exercise in EXERCISES if exercise in chosen})


def exercise_labels() -> dict[str, dict]:
    """Each exercise's test, by id: its number in the curriculum (chapter . its place in the
    chapter, in kit.registry's order, whatever --only grades), its name ("3.2 power_grad") and
    its tags (the chapter's module and title)."""
    from kit.registry import CHAPTERS, EXERCISES

    labels = {}
    for chapter, (module, title) in enumerate(CHAPTERS.items(), start=1):
        for place, exercise in enumerate((e for e in EXERCISES.values() if e.module == module), start=1):
            labels[exercise.id] = {"number": f"{chapter}.{place}", "name": f"{chapter}.{place} {exercise.name}",
                                   "tags": [module, title]}
    return labels


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
    visibility = _bundle_visibility(config, environ.get("KIT_VISIBILITY"))
    labels = config.get("test_labels") if isinstance(config.get("test_labels"), dict) else None
    options = [str(o) for o in config.get("grade_options") or []]
    if config.get("rubric"):
        options += ["--rubric", str(source / config["rubric"])]
    if config.get("seed_file"):
        options += ["--seed-file", str(source / config["seed_file"])]
    if config.get("inputs"):
        options += ["--inputs", str(source / config["inputs"])]
    try:
        options += shlex.split(environ.get("KIT_GRADE_OPTIONS", ""))
        deadline = float(environ.get("KIT_GRADE_DEADLINE") or DEADLINE)
        document = gradescope_results(grade_one(submission, options, deadline), visibility, labels)
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


def _bundle_visibility(config: dict, override: str | None) -> Visibility:
    """The exported visibilities, `override` (KIT_VISIBILITY) replacing the default one. A value
    that is none (a hand-edited kit-gradescope.json) hides: a mistake never shows what was to be
    hidden; a bad KIT_VISIBILITY leaves the exported default."""
    def checked(value, what: str, fallback: str) -> str:
        if value in VISIBILITIES:
            return value
        print(f"run_autograder: {what} {value!r} is not one of {', '.join(VISIBILITIES)}; using {fallback!r}")
        return fallback

    default = checked(config.get("visibility", "visible"), "the exported visibility", "hidden")
    if override:
        default = checked(override, "KIT_VISIBILITY", default)
    exercises = config.get("exercise_visibility")
    exercises = exercises if isinstance(exercises, dict) else {}
    return Visibility(default, {str(exercise): checked(value, f"the visibility of {exercise}", "hidden")
                                for exercise, value in exercises.items()})


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


def gradescope_results(kit_results: dict, visibility: Visibility | str = "visible",
                       labels: Mapping[str, dict] | None = None) -> dict:
    """Gradescope's results.json from `kit grade`'s one (or `partial_results`): each test named,
    numbered and tagged as `labels` (default: `exercise_labels()`) says, with its visibility, and
    the results' visibility `Visibility.overall`; every text as plain text, as written.

    kit grade's results.json already has Gradescope's test fields, its name the exercise's id
    (kept in extra_data as kit_exercise, beside kit_status); its top-level max_score, which is
    not a Gradescope field (Gradescope takes the total from the assignment), goes into extra_data."""
    shown = visibility if isinstance(visibility, Visibility) else Visibility(visibility)
    labels = exercise_labels() if labels is None else labels
    try:
        tests = [_test(t, labels.get(str(t["name"])) or {}, shown) for t in kit_results["tests"]]
        document = {"score": kit_results["score"], "output": _plain(kit_results.get("output", "")),
                    **TEXT_FORMATS, "visibility": shown.overall(t["visibility"] for t in tests),
                    "stdout_visibility": STDOUT_VISIBILITY, "tests": tests,
                    "extra_data": {"max_score": kit_results.get("max_score")}}
    except (KeyError, TypeError, AttributeError) as error:
        raise GradingFailed(f"kit grade's results.json lacks {error}") from None
    return document


def _test(test: dict, label: dict, shown: Visibility) -> dict:
    """One test of Gradescope's results.json: kit grade's, named as `label` says (its number, name
    and tags; an exercise without one keeps its id as its name, and Gradescope numbers it)."""
    exercise = str(test["name"])
    entry: dict[str, object] = {"number": str(label["number"])} if "number" in label else {}
    entry.update(name=str(label.get("name") or exercise), score=test["score"], max_score=test["max_score"],
                 status=test["status"], visibility=shown.of(exercise))
    if "tags" in label:
        entry["tags"] = [str(tag) for tag in label["tags"]]
    entry.update(output=_plain(test.get("output", "")),
                 extra_data={**(test.get("extra_data") or {}), "kit_exercise": exercise})
    return entry


def _plain(text) -> str:
    """A text shown as written: under the "text" format Gradescope renders no HTML, Markdown or
    ANSI, and the controls a browser would act on instead of showing (CR, ESC, the bidi controls)
    are written as visible escapes (grading.text.printable), lines and tabs kept."""
    return printable(str(text), keep="\n\t")


def failure_results(reason: str, visibility: Visibility | str = "visible") -> dict:
    """Score 0 and the reason, no tests: the results' visibility is then the default one (they hold
    nothing a test hides)."""
    shown = visibility if isinstance(visibility, Visibility) else Visibility(visibility)
    return {"score": 0, "output": _plain(f"This submission scored 0: {reason}"), **TEXT_FORMATS,
            "visibility": shown.overall(()), "stdout_visibility": STDOUT_VISIBILITY, "tests": []}


# ---- kit export gradescope ------------------------------------------------------------------------

def add_options(parser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="the zip to write, e.g. autograder.zip")
    parser.add_argument("--only", metavar="LIST", help="grade only these chapters or exercises (as kit grade)")
    parser.add_argument("--rubric", type=Path, metavar="FILE", help=RUBRIC_HELP)
    limits.add_options(parser)  # as kit grade
    parser.add_argument("--visibility", action="append", metavar="[NAMES=]WHEN",
                        help=f"when students see their results: WHEN is one of {', '.join(VISIBILITIES)} "
                             f"(default: visible); NAMES=WHEN for some chapters or exercises, named as --only "
                             f"names them (ch7=after_due_date, 1-3=visible, sigmoid_grad=hidden). Repeatable: "
                             f"an exercise named itself beats its chapter, a chapter beats a range of chapters, "
                             f"and of two as specific the last wins. The results' summary shows as late as "
                             f"the latest test it counts")
    parser.add_argument("--seed-file", type=Path, metavar="FILE",
                        help="the course's grading seed, bundled in the zip (as kit grade; default: "
                             "$XDG_CONFIG_HOME/backprop-kit/grading-seed)")
    parser.add_argument("--inputs", type=Path, metavar="DIR",
                        help="the graded inputs recorded by kit record-inputs, shipped in the zip (default: "
                             "recorded now with the seed, from kit grade's cache when it has them)")
    parser.add_argument("--force", action="store_true", help="replace the zip if it exists")


def export(args) -> int:
    names = export_gradescope(args.out.resolve(), args.only, args.rubric, limits.as_options(args),
                              args.visibility or "visible", args.force, args.seed_file, args.inputs)
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
