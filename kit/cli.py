"""The `kit` command (pyproject.toml: `kit = "kit.cli:main"`): one subcommand per task.

    kit hint [--more] EXERCISE           a hint for an exercise
    kit check [EXERCISE|CHAPTER ...]     the exercise tests, narrowed
    kit watch                            rerun the current exercise on every save
    kit grade SUBMISSIONS --out OUT      grade a class (grading/)
    kit export gradescope|github-classroom --out ...   the kit for Gradescope, GitHub Classroom
    kit new-exercise MODULE NAME --formula EXPR        scaffold an exercise (kit/scaffold.py)

A subcommand is a function `add(subparsers)` in SUBCOMMANDS below: it adds its parser and
sets `run`, a function `run(args) -> exit status`, with `parser.set_defaults(run=...)`.
Keep heavy imports (torch) inside `run`, so `kit --help` stays instant.
"""
from __future__ import annotations

import argparse
import sys


def add_grade(subparsers) -> None:
    from grading.cli import add_parser

    add_parser(subparsers)


def add_learner(subparsers) -> None:
    from kit.learner_cli import add_learner_commands

    add_learner_commands(subparsers)


def add_export(subparsers) -> None:
    from kit.export import add_parser

    add_parser(subparsers)


def add_new_exercise(subparsers) -> None:
    from kit.scaffold import add_parser

    add_parser(subparsers)


SUBCOMMANDS = [add_learner, add_grade, add_export, add_new_exercise]


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="kit", description="backprop-kit: learn backpropagation, checked against torch.autograd.")
    subparsers = main_parser.add_subparsers(title="commands", metavar="COMMAND", dest="command", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    main_parser = parser()
    args, rest = main_parser.parse_known_args(argv)
    if rest and not getattr(args, "passes_on", False):  # only `kit check` hands options on (to pytest)
        main_parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"kit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
