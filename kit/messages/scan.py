"""Every sentence the static scan for autograd tells a student (kit/autograd/scan/ writes them).

The grader (`kit grade`) and the learner's own run (kit/autograd/learner.py, which adds
kit/messages/sandbox.py's AS_GRADED) say the same sentence for the same code.

An exercise the scan refuses reads, for example:

    ch6_functions.scale_backward: scale_backward uses middle, which uses autograd at line 4:
    `torch.autograd.grad(a * x, x)`. Exercises derive gradients by hand; code that uses
    autograd scores zero.

The pieces below are put together in that order: the exercise, the unit its check runs
(`subject`), the chain of units that leads to the use (`through`), and the use itself
(`at_line`), whose code is quoted as one of `code`, `keyword`, `store` or `runs`.
"""
from __future__ import annotations

TOP_LEVEL = "the module's top-level code"  # the subject when the module's own statements use autograd


def code(source: str) -> str:
    """A use that is the code itself: `x.backward()`, `import torch.autograd`."""
    return f"`{source}`"


def keyword(value: str) -> str:
    """A call given requires_grad= something that is not False."""
    return f"`requires_grad={value}`"


def store(target: str) -> str:
    """An assignment of something that is not False to `.requires_grad`."""
    return f"`{target} = ...`"


def runs(call: str, use: str) -> str:
    """Code given to eval/exec/compile that uses autograd: the call, then the use in its text."""
    return f"`{call}` runs {use}"


def at_line(line: int, use: str) -> str:
    return f"autograd at line {line}: {use}"


def through(unit: str, why: str) -> str:
    """A unit that uses autograd by referring to another that does."""
    return f"{unit}, which uses {why}"


def refused(exercise_id: str, subject: str, why: str) -> str:
    """Why an exercise scores zero: the unit its check runs, and how that reaches autograd."""
    return (f"{exercise_id}: {subject} uses {why}. Exercises derive "
            f"gradients by hand; code that uses autograd scores zero.")
