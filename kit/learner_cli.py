"""The learner's subcommands of `kit`: hint, check and watch."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository: tests/ and exercises/ live here


def resolve(names) -> list:
    """The exercises named (kit/names.py's grammar); SystemExit with the reason when a name is unknown."""
    from kit.names import UnknownName, select

    try:
        return select(names)
    except UnknownName as error:
        raise SystemExit(f"kit: {error}") from None


def run_hint(args) -> int:
    for exercise in resolve(args.exercise):
        print(f"{exercise.id}: {exercise.hint}")
        if args.more:
            print(f"  More: {exercise.more or 'no second hint for this one: reread the docstring.'}")
    return 0


def run_check(args) -> int:
    """pytest itself, in a fresh process, on the named exercises: the same tests and feedback."""
    import subprocess

    nodes = [str(ROOT / "tests" / f"test_{e.module}.py") + f"::test_exercise[{e.name}]"
             for e in (resolve(args.exercises) if args.exercises else [])]
    extra = ["--impl", args.impl] if args.impl else []
    command = [sys.executable, "-m", "pytest", *(nodes or [str(ROOT / "tests")]), *extra, *args.rest]
    return subprocess.run(command).returncode


def run_watch(args) -> int:
    from kit.watch import watch

    folder = Path(args.impl or ROOT / "exercises")
    if not folder.is_dir():
        raise SystemExit(f"kit watch: no such folder {folder}")
    try:
        watch(folder.resolve(), args.interval)
    except KeyboardInterrupt:
        print("kit watch: stopped", file=sys.stderr)
    return 0


def add_learner_commands(subparsers) -> None:
    hint = subparsers.add_parser("hint", help="a hint for an exercise (--more: a more direct one)")
    hint.add_argument("exercise", help="an exercise id, a function name, or a chapter")
    hint.add_argument("--more", action="store_true", help="also the second, more direct hint")
    hint.set_defaults(run=run_hint)

    check = subparsers.add_parser("check", help="the exercise tests, narrowed to exercises or chapters")
    check.add_argument("exercises", nargs="*", help="exercise ids, function names or chapters (default: all)")
    check.add_argument("--impl", help="the folder of modules to test (default: exercises/)")
    check.set_defaults(run=run_check, passes_on=True)  # any other option goes to pytest (-q, -x, ...)

    watch = subparsers.add_parser("watch", help="rerun the current exercise whenever a module is saved")
    watch.add_argument("--impl", help="the folder to watch (default: exercises/)")
    watch.add_argument("--interval", type=float, default=0.5, help="seconds between looks (default 0.5)")
    watch.set_defaults(run=run_watch)

