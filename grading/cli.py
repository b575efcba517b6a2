"""`kit grade SUBMISSIONS --out OUT`: the grader's command line, and the instructor's other subcommands (kit/cli.py).

`add_instructor_commands` adds grade (here), export (grading/platforms/) and new-exercise
(grading/scaffold.py) to the `kit` command.

Exit status: 0 when the class was graded, whatever the scores; 1 when it was graded but some
entries could not be read (a broken zip: that student's row is zero, with the reason, and the
entries are named on stderr); 2 for bad usage, before anything is graded: no such folder, no
submissions, a bad rubric, an OUT that is not empty (without --force); 3 when the kit itself
fails to draw an exercise's inputs (a bug of the kit: nobody is graded); 130 when interrupted
(Ctrl-C or SIGTERM: every child is killed, OUT is left as it was).

OUT is never half-written and nothing in it is lost silently: the grade book is written to a
new folder beside OUT and moved into place once complete. An existing OUT that is not empty
is refused unless --force is given, and then replaced as a whole.
"""
from __future__ import annotations

import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from grading import limits, platforms, resources
from grading.layouts import LAYOUT_HELP, LAYOUTS
from grading.text import printable  # every text of a student's goes to the terminal through it

GRADE_HELP = "grade a class of submissions: grades.csv, a report per student, an overview"


class UsageError(Exception):
    pass


def add_instructor_commands(subparsers) -> None:
    """`kit grade`, `kit export` and `kit new-exercise`: the instructor's subcommands (kit/cli.py adds them)."""
    from grading.recorded import add_parser as add_record_inputs
    from grading.scaffold import add_parser as add_new_exercise

    add_parser(subparsers)
    add_record_inputs(subparsers)
    platforms.add_export_parser(subparsers)
    add_new_exercise(subparsers)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help=GRADE_HELP, description=GRADE_HELP + ".",
        epilog="SUBMISSIONS holds one folder or .zip per student (its name is the student id), with the "
               "curriculum's modules (ch1_sensitivity.py, ...) at its top or one folder down; or it is "
               "Gradescope's, Canvas's or Moodle's bulk download, a zip or unzipped (--layout). Exit status: "
               "0 graded; 1 graded, but some entries could not be read; 2 bad usage; 3 the kit failed.")
    parser.add_argument("submissions", metavar="SUBMISSIONS", type=Path,
                        help="folder of submissions, or a platform's download (its zip, or unzipped)")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT",
                        help="folder for grades.csv, index.html and students/<folder>/report.html, results.json")
    parser.add_argument("--rubric", type=Path, metavar="FILE",
                        help="points per exercise (TOML); default: grading/rubric.toml")
    parser.add_argument("-j", "--jobs", type=limits.positive(int), default=resources.cpus(), metavar="N",
                        help="students graded at once (default: the CPUs this machine or container lets the "
                             "grader use, %(default)s)")
    limits.add_options(parser)
    parser.add_argument("--only", metavar="LIST",
                        help="grade only these chapters or exercises, e.g. 1-3,6 or ch6 or sigmoid_grad or "
                             "ch6_functions.sigmoid_grad (default: the whole curriculum)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it is not empty")
    parser.add_argument("--no-cache", action="store_true",
                        help="draw the graded inputs afresh instead of reading them from the cache "
                             "(~/.cache/backprop-kit/grading, named by a hash of the kit's sources)")
    books = platforms.grade_books()
    parser.add_argument("--format", action="append", choices=("csv", *books), default=[],
                        help="grade books to write besides the rest: csv (grades.csv, always), "
                             + ", ".join(f"{name} ({book.file}, {book.help})" for name, book in books.items())
                             + "; may be given more than once")
    parser.add_argument("--layout", choices=LAYOUTS, default="auto", help=LAYOUT_HELP)
    parser.add_argument("--roster", type=Path, metavar="FILE.csv",
                        help="who each submission is in the LMS: a CSV file with a header row naming a "
                             "`submission` column (the folder's name; Canvas user id; Moodle participant id; "
                             "Gradescope email or sid) and any of name, login, sis_id, email, canvas_id, section "
                             "(grading/roster.py); a submission not in it is graded under its own key, a student "
                             "without a submission gets a zero row")
    parser.add_argument("--assignment", metavar="NAME",
                        help="the title of the assignment's column in canvas.csv and moodle.csv (default: "
                             "backprop-kit, with the chapters graded when --only is given: \"backprop-kit "
                             "ch1-3\"; a chapter graded in part as \"ch6 (2 of 11)\")")
    parser.add_argument("--seed-file", type=Path, metavar="FILE",
                        help="the course's grading seed, from which the graded inputs are drawn (default: "
                             "$XDG_CONFIG_HOME/backprop-kit/grading-seed, made 0600 on first use); keep it "
                             "with the course's grading settings")
    parser.add_argument("--inputs", type=Path, metavar="DIR",
                        help="grade on the inputs recorded in DIR by kit record-inputs (the same on every "
                             "machine and version of hypothesis), instead of drawing them from the seed")
    parser.add_argument("--progress-log", type=Path, metavar="FILE",
                        help="append a JSON line per exercise as it is graded (the test of results.json), so "
                             "that a run stopped by a platform's time limit keeps what it graded")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


# the one command that grades in the kit's container (Dockerfile; the README's instructor section)
LINUX_ONLY = ("kit grade runs on Linux only: each student's code runs in Linux namespaces, cgroups, Landlock "
              "and a seccomp filter, which {system} does not have. Grade in a Linux container (Docker "
              "Desktop): from the kit's folder, with the class in ./submissions, run\n\n"
              "docker build -t backprop-kit-grader . && docker run --rm --network none --cap-add SYS_ADMIN "
              "--cap-add NET_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined "
              "-v \"$PWD/submissions:/class:ro\" -v \"$PWD/grading-state:/state\" -v \"$PWD/out:/out\" "
              "backprop-kit-grader grade /class --out /out/grades\n\n"
              "The grade book is then in ./out/grades, and the course's grading seed in ./grading-state: keep "
              "it. The Dockerfile says why each flag; or grade on Gradescope (kit export gradescope).")


def run(args) -> int:
    if not sys.platform.startswith("linux"):
        print(f"kit grade: error: {LINUX_ONLY.format(system=sys.platform)}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the children, as Ctrl-C does
    try:
        return grade(args)
    except UsageError as error:  # it may quote an entry's name: its control characters are shown
        print(f"kit grade: error: {printable(str(error))}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def grade(args) -> int:
    from grading import forkserver

    forkserver.start()  # it imports torch (~3 s) on one core while this process does on the other
    from grading import rubric
    from grading.layouts import read_class
    from grading.roster import RosterError
    from grading.submissions import SubmissionsError

    submissions_dir, out = args.submissions.resolve(), args.out.resolve()
    exercises = select(args.only)
    assignment = platforms.assignment_title(exercises) if args.assignment is None else args.assignment
    if platforms.check_assignment(assignment):
        raise UsageError(f"--assignment {assignment!r}: {platforms.check_assignment(assignment)}")
    try:
        points = rubric.load(args.rubric)
        klass = read_class(submissions_dir, args.layout, args.roster)
    except (rubric.RubricError, SubmissionsError, RosterError) as error:
        raise UsageError(error) from None
    students, notes = klass.submissions, klass.notes
    books = platforms.GradeBookContext(assignment, klass.identities, klass.layout)
    check_out(out, submissions_dir, args.force)
    for note in notes:  # they quote entries' names
        print(f"kit grade: {printable(note)}", file=sys.stderr)

    from grading.grader import Progress, grade_submissions
    from grading.isolation import Setting
    from grading.reports import write_all
    setting = Setting.detect()
    problem = setting.problem()
    if problem:
        raise UsageError(problem)
    from grading.cases import SeedError, load_seed

    try:
        seed = load_seed(args.seed_file)
    except SeedError as error:
        raise UsageError(error) from None
    chosen = fitted_limits(args, len(students))
    if not args.quiet:
        print("kit grade: where the students' code runs:", file=sys.stderr)
        for line in setting.lines():
            print(f"  - {line}", file=sys.stderr)
    start = time.monotonic()
    progress = None if args.quiet else Progress(len(students))
    from grading.cases import RecordError, default_cache

    try:
        results = grade_submissions(students, points, chosen, args.jobs, progress,
                                    setting=setting, seed=seed,
                                    graded=progress_log(args.progress_log),
                                    cache=None if args.no_cache else default_cache(), exercises=exercises,
                                    recorded=functools.partial(recorded_cases, args, seed))
    except RecordError as error:
        print(f"kit grade: error in the kit itself, nothing was graded: {error}", file=sys.stderr)
        return 3
    everyone = klass.complete(results, points, exercises)  # and each group's other members, the absent
    publish(out, lambda folder: write_all(folder, everyone, tuple(args.format), books))
    for note in books.notes:
        print(f"kit grade: {printable(note)}", file=sys.stderr)

    unreadable = [s for s in results if s.problem]
    seconds = time.monotonic() - start
    print(f"kit grade: graded {len(results)} students in {seconds:.1f} s; grade book in {out}"
          f" (open {out / 'index.html'})", file=sys.stderr)
    for s in unreadable:
        print(f"kit grade: {printable(s.student)} scored zero: {printable(s.problem)}", file=sys.stderr)
    return 1 if unreadable else 0


def fitted_limits(args, students: int) -> limits.Limits:
    """The limits given, the others defaults that fit the container (grading/limits.py: fitted)."""
    jobs = max(1, min(args.jobs, students))
    try:
        defaults, notes = limits.fitted(jobs, resources.memory(), args.limit_memory)
    except limits.LimitError as error:
        raise UsageError(error) from None
    for note in notes:
        print(f"kit grade: note: {note}", file=sys.stderr)
    return limits.from_options(args, defaults)


def recorded_cases(args, seed: bytes, ids: list[str], drawing=None) -> dict:
    """The cases to grade on (grading/recorded.py): those recorded in --inputs, else the course's
    recording (made or completed now); its notes on stderr. grade_submissions calls it once its
    zygotes are starting."""
    from grading import recorded
    from grading.cases import default_cache

    try:
        if args.inputs is not None:
            cases, notes = recorded.load(args.inputs.resolve(), ids, seed)
        else:
            folder = recorded.course_folder(args.seed_file)
            cases, notes = recorded.course(folder, ids, seed, args.jobs,
                                           None if args.no_cache else default_cache(), drawing)
    except recorded.RecordedError as error:
        raise UsageError(f"--inputs {args.inputs}: {error}" if args.inputs else str(error)) from None
    for note in notes:
        print(f"kit grade: note: {note}", file=sys.stderr)
    return cases


def progress_log(path: Path | None):
    """`graded(student, result)` for grade_submissions: a JSON line per exercise, appended to `path`."""
    if path is None:
        return None
    import json
    import threading

    from grading.report_json import test_entry

    lock = threading.Lock()
    path.write_text("")

    def graded(student: str, result) -> None:
        line = json.dumps({"student": student, **test_entry(result)}, ensure_ascii=False)
        with lock, open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    return graded


def select(spec: str | None) -> list[str] | None:
    """The exercise ids `--only` names (kit/names.py's grammar), in curriculum order; None for all."""
    if spec is None:
        return None
    from kit.names import UnknownName
    from kit.names import select as named

    try:
        return [e.id for e in named(spec)]
    except UnknownName as error:
        raise UsageError(f"--only {spec}: {error}") from None


def check_out(out: Path, submissions: Path, force: bool) -> None:
    if out == submissions or out.is_relative_to(submissions) or submissions.is_relative_to(out):
        raise UsageError(f"--out {out} and SUBMISSIONS {submissions} must not be inside one another")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise UsageError(f"--out {out} exists and is not a folder")
        if any(out.iterdir()) and not force:
            raise UsageError(f"--out {out} is not empty; choose another folder, or add --force to replace it")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")


def publish(out: Path, write) -> None:
    """Write the grade book into a new folder beside OUT, then put it in OUT's place.

    Whatever appeared in OUT while grading (a submission trying to write its own grades.csv)
    is replaced with the rest of the old OUT."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.kit-grade-", dir=out.parent))
    try:
        write(staging)
        os.chmod(staging, 0o755)
        if out.exists() or out.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "out")
            os.rename(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
