"""The `kit` command (pyproject.toml: `kit = "kit.cli:main"`): one subcommand per task.

    kit hint [--more] [EXERCISE]         a hint for an exercise (default: the one you are on)
    kit check [EXERCISE|CHAPTER ...]     the exercise tests, narrowed
    kit watch                            rerun the current exercise, and what passed in the saved file, on every save
    kit init DIR                         a workspace: the stubs, the exercise tests and pytest's setup
    kit notebook --out DIR               a Jupyter/Colab notebook per chapter, from the stubs (kit/notebook/)
    kit grade SUBMISSIONS --out OUT      grade a class (grading/cli.py)
    kit export gradescope|github-classroom --out ...   the kit for Gradescope, GitHub Classroom (grading/platforms/)
    kit new-exercise MODULE NAME --formula EXPR        scaffold an exercise (grading/scaffold.py)

The learner's subcommands are kit/learner_cli.py's. The instructor's (grade, export,
new-exercise) are the grader's, grading.cli.add_instructor_commands: this module's one import
of grading/, and a lazy one. A student's copy of the kit (the GitHub Classroom template) has no
grading/: there those subcommands only say so, and the learner's work as everywhere.

A subcommand is a function `add(subparsers)` in SUBCOMMANDS below: it adds its parser and
sets `run`, a function `run(args) -> exit status`, with `parser.set_defaults(run=...)`.
Keep heavy imports (torch) inside `run`, so `kit --help` stays instant.
"""
from __future__ import annotations

import argparse
import sys

INSTRUCTOR_COMMANDS = ("grade", "export", "new-exercise")
NO_GRADER = ("the grader is not part of this copy of the kit: grading/ is the instructor's, and a student's "
             "repository does not include it. To check your own work, run `kit check` (or pytest).")


def add_learner(subparsers) -> None:
    from kit.learner_cli import add_learner_commands

    add_learner_commands(subparsers)


def add_instructor(subparsers) -> None:
    try:
        from grading.cli import add_instructor_commands
    except ModuleNotFoundError as error:
        if error.name != "grading":
            raise
        for name in INSTRUCTOR_COMMANDS:
            command = subparsers.add_parser(name, help="(the instructor's: not part of this copy of the kit)",
                                            description=f"kit {name}: {NO_GRADER}")
            command.set_defaults(run=no_grader, passes_on=True)  # whatever its arguments, the same answer
        return
    add_instructor_commands(subparsers)


def no_grader(args) -> int:
    print(f"kit {args.command}: {NO_GRADER}", file=sys.stderr)
    return 2


SUBCOMMANDS = [add_learner, add_instructor]


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
    if rest and not getattr(args, "passes_on", False):  # `kit check` hands options on (to pytest)
        main_parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"kit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
