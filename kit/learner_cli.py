"""The learner's subcommands of `kit`: hint, check, watch, init and notebook.

They work on the learner's project: the folder, from the working directory upwards, whose
pyproject.toml says `backprop_kit = true` in its pytest configuration, or that holds exercises/
beside tests/ (`find_project`). So they work from any folder inside a clone, and after a plain,
non-editable `pip install .` too, where the kit's own folder is in site-packages. A learner whose
work lives elsewhere makes a project with `kit init DIR`: the stubs, the exercise tests and the
pytest configuration, copied from the kit (`workspace_files`).
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the kit's own folder: the clone, for an editable install
MARKER = "backprop_kit"  # pyproject.toml's [tool.pytest.ini_options] key of a kit project (kit/plugin.py's)
WORKSPACE = "workspace"  # kit/workspace/ in a built kit: the copy setup.py's build step makes of the files below
STUBS, TESTS = "exercises/ch*.py", "tests/test_ch*.py"
NO_PROJECT = ("no backprop-kit project in {here} or any folder above it: a project is a folder with a "
              "pyproject.toml whose [tool.pytest.ini_options] says backprop_kit = true, or with exercises/ "
              "beside tests/. Run this inside your copy of the kit, or make one with `kit init DIR`.")


def resolve(names) -> list:
    """The exercises named (kit/names.py's grammar); SystemExit with the reason when a name is unknown."""
    from kit.names import UnknownName, select

    try:
        return select(names)
    except UnknownName as error:
        raise SystemExit(f"kit: {error}") from None


# ---- the project ---------------------------------------------------------------------------------

def is_project(folder: Path) -> bool:
    """A kit project: its pyproject.toml marks it so, or it holds exercises/ beside tests/test_ch*.py."""
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            config = {}
        if config.get("tool", {}).get("pytest", {}).get("ini_options", {}).get(MARKER) is True:
            return True
    return (folder / "exercises").is_dir() and any((folder / "tests").glob("test_ch*.py"))


def find_project(start: Path | None = None) -> Path | None:
    """The project the working directory (or `start`) is in: the nearest kit project at or above it;
    else the kit's own clone, when the kit is installed from one (editable); else None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_project(folder):
            return folder
    return ROOT if is_project(ROOT) else None


def project(command: str) -> Path:
    found = find_project()
    if found is None:
        raise SystemExit(f"kit {command}: " + NO_PROJECT.format(here=Path.cwd()))
    return found


def exercises_folder(command: str, impl: str | None) -> Path:
    """--impl's folder, else the project's exercises/; SystemExit when there is no such folder."""
    folder = Path(impl).expanduser() if impl else project(command) / "exercises"
    if not folder.is_dir():
        raise SystemExit(f"kit {command}: no such folder {folder}")
    return folder.resolve()


# ---- kit hint ------------------------------------------------------------------------------------

def run_hint(args) -> int:
    if args.exercise:
        exercises = resolve(args.exercise)
    else:
        exercises = current_exercise(exercises_folder("hint", args.impl), args.timeout)
    for exercise in exercises:
        print(f"{exercise.id}: {exercise.hint}")
        if args.more:
            print(f"  More: {exercise.more or 'no second hint for this one: reread the docstring.'}")
    return 0


def current_exercise(folder: Path, timeout: float | None) -> list:
    """[the exercise the learner is on]: the first, in curriculum order, not done yet (kit/progress.py),
    as far as its worked examples tell, which is quick; [] when every one passes them. It says which,
    and when its module does not import, why."""
    from kit import progress
    from kit.check import ExerciseFailure, attempt
    from kit.implementation import Implementation, LearnerError, learner_time_limit
    from kit.registry import EXERCISES

    impl = Implementation(folder, time_limit=learner_time_limit(timeout))
    statuses: dict[str, str] = {}
    for exercise in EXERCISES.values():
        try:
            for args in exercise.examples:
                attempt(exercise, impl, args)
        except ExerciseFailure as failure:
            statuses[exercise.id] = progress.status_of("failed", failure.status)
            break
        statuses[exercise.id] = "done"
    upcoming = progress.next_exercise(statuses)
    if upcoming is None:
        print(f"Every exercise passes its worked examples in {folder}: `kit check` runs the whole tests.")
        return []
    exercise = EXERCISES[upcoming]
    print(f"You are on {upcoming} ({statuses[upcoming]}): the first exercise whose worked examples do not "
          f"all pass yet.")
    try:
        impl.module(exercise.module)
    except LearnerError as error:
        print(f"First fix {impl.path(exercise.module)}: {error.text}")
    return [exercise]


# ---- kit check -----------------------------------------------------------------------------------

def run_check(args) -> int:
    """pytest itself, in a fresh process, on the named exercises: the same tests and feedback."""
    import subprocess

    from kit.plugin import param_id

    tests = project("check") / "tests"
    nodes = [f"{tests / f'test_{e.module}.py'}::test_exercise[{param_id(e)}]"
             for e in (resolve(args.exercises) if args.exercises else [])]
    extra = ["--impl", args.impl] if args.impl else []
    if args.timeout is not None:
        extra += ["--kit-timeout", str(args.timeout)]
    command = [sys.executable, "-m", "pytest", *(nodes or [str(tests)]), *extra, *args.rest]
    return subprocess.run(command).returncode


# ---- kit watch -----------------------------------------------------------------------------------

def run_watch(args) -> int:
    from kit.implementation import learner_time_limit
    from kit.watch import watch

    found = find_project()
    watch(exercises_folder("watch", args.impl), args.interval, time_limit=learner_time_limit(args.timeout),
          hypothesis_home=found / ".hypothesis" if found else None)
    return 0


# ---- kit init ------------------------------------------------------------------------------------

def workspace_files() -> tuple[list[tuple[str, bytes]], str]:
    """([(path in the workspace, its bytes)] of the stubs and the exercise tests, the pytest table of
    the kit's pyproject.toml): from the kit's clone when it is installed from one, else from the copy
    a built kit carries (kit/workspace/, made by setup.py from the same files)."""
    from importlib.resources import files

    from kit.registry import file_order

    if (ROOT / "exercises").is_dir() and (ROOT / "pyproject.toml").is_file():
        source = ROOT
        found = [(str(p.relative_to(ROOT)), p.read_bytes()) for pattern in (STUBS, TESTS)
                 for p in sorted(ROOT.glob(pattern), key=lambda p: file_order(p.name))]
        pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    else:
        source = files("kit").joinpath(WORKSPACE)
        found = [(f"{folder}/{p.name}", p.read_bytes()) for folder in ("exercises", "tests")
                 if source.joinpath(folder).is_dir()
                 for p in sorted(source.joinpath(folder).iterdir(), key=lambda p: file_order(p.name))
                 if p.name.endswith(".py") and p.name.startswith(("ch", "test_ch"))]
        pyproject = source.joinpath("pyproject.toml").read_text(encoding="utf-8") \
            if source.joinpath("pyproject.toml").is_file() else ""
    table = pytest_table(pyproject)
    if not any(path.startswith("exercises/") for path, _ in found) or not table:
        raise SystemExit(f"kit init: this installation of the kit carries no copy of the stubs ({source}): "
                         f"it was built without setup.py. Install the kit from its repository "
                         f"(`pip install .` there), or work in a clone of it.")
    return found, table


def pytest_table(pyproject: str) -> str:
    """The [tool.pytest.ini_options] table of a pyproject.toml, as its text ('' when it has none)."""
    lines, inside = [], False
    for line in pyproject.splitlines():
        if line.strip().startswith("["):
            inside = line.strip() == "[tool.pytest.ini_options]"
        if inside:
            lines.append(line)
    return "\n".join(lines).rstrip() + "\n" if lines else ""


WORKSPACE_PYPROJECT = """\
# A backprop-kit workspace, made by `kit init`: `pytest` (or `kit check`, `kit watch`, `kit hint`)
# here tests the functions in exercises/ against torch.autograd. Its pytest configuration is the kit's.

{table}"""
WORKSPACE_GITIGNORE = "__pycache__/\n.hypothesis/\n.pytest_cache/\nreport.html\n"


def run_init(args) -> int:
    target = Path(args.folder).expanduser()
    found, table = workspace_files()
    writes = [*found, ("pyproject.toml", WORKSPACE_PYPROJECT.format(table=table).encode()),
              (".gitignore", WORKSPACE_GITIGNORE.encode())]
    there = [path for path, _ in writes if (target / path).exists()]
    if there:
        shown = ", ".join(there[:4]) + (f" and {len(there) - 4} more" if len(there) > 4 else "")
        raise SystemExit(f"kit init: {target} already has {shown}; kit init writes nothing over a file: "
                         f"choose a new or empty folder")
    for path, data in writes:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_bytes(data)
    stubs = sum(path.startswith("exercises/") for path, _ in found)
    print(f"kit init: a backprop-kit workspace in {target}: exercises/ ({stubs} chapters to fill in), tests/ "
          f"and pyproject.toml.\nNext: cd {target} && pytest   (or `kit watch`; `kit hint` for the first hint)")
    return 0


# ---- kit notebook --------------------------------------------------------------------------------

def run_notebook(args) -> int:
    from kit.notebook.chapters import write

    out = Path(args.out).expanduser()
    written = write(out, args.source) if args.source else write(out)
    print(f"kit notebook: {len(written)} chapter notebooks in {out} ({written[0].name} ... {written[-1].name}).\n"
          f"Next: open {written[0].name} in Jupyter (pip install -e \".[notebook]\" gives a kernel) or upload it to "
          f"Colab; each exercise's check cell is kit.check(NAME).")
    return 0


# ---- the parsers ---------------------------------------------------------------------------------

def _timeout(parser, what: str) -> None:
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help=f"{what} stops a call of your code that runs longer, and says where it was "
                             f"(default 5; 0: no limit)")


def add_learner_commands(subparsers) -> None:
    hint = subparsers.add_parser("hint", help="a hint for an exercise, by default the one you are on")
    hint.add_argument("exercise", nargs="?",
                      help="an exercise id, a function name, or a chapter (default: the first exercise not done)")
    hint.add_argument("--more", action="store_true", help="also the second, more direct hint")
    hint.add_argument("--impl", help="without EXERCISE: the folder of modules to look at (default: exercises/)")
    _timeout(hint, "without EXERCISE, the look at your exercises")
    hint.set_defaults(run=run_hint)

    check = subparsers.add_parser("check", help="the exercise tests, narrowed to exercises or chapters")
    check.add_argument("exercises", nargs="*", help="exercise ids, function names or chapters (default: all)")
    check.add_argument("--impl", help="the folder of modules to test (default: exercises/)")
    _timeout(check, "the run (pytest --kit-timeout)")
    check.set_defaults(run=run_check, passes_on=True)  # any other option goes to pytest (-q, -x, ...)

    watch = subparsers.add_parser("watch", help="rerun your exercises whenever a module is saved")
    watch.add_argument("--impl", help="the folder to watch (default: exercises/)")
    watch.add_argument("--interval", type=float, default=0.5, help="seconds between looks (default 0.5)")
    _timeout(watch, "the watch")
    watch.set_defaults(run=run_watch)

    init = subparsers.add_parser("init", help="make a workspace: the stubs, the exercise tests and pytest's setup")
    init.add_argument("folder", metavar="DIR", help="a new or empty folder")
    init.set_defaults(run=run_init)

    from kit.notebook.chapters import KIT_SOURCE  # (light: nbformat only)

    notebook = subparsers.add_parser("notebook", help="write a Jupyter/Colab notebook per chapter, from the stubs")
    notebook.add_argument("--out", required=True, metavar="DIR", help="the folder to write them in (made if need be)")
    notebook.add_argument("--source", default=None, metavar="REQUIREMENT",
                          help=f"what the notebooks' first cell pip-installs the kit from, where it is missing "
                               f"(Colab): a git URL or a wheel (default: {KIT_SOURCE})")
    notebook.set_defaults(run=run_notebook)
