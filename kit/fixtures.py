"""The fixtures of a kit run: `impl`, the implementation under test. kit/plugin.py registers this
module only in a kit project (or a run given --impl), so other projects never see them.

`impl` keeps, call by call, what the learner's code printed (`Printed`): hypothesis tries dozens
of inputs, and one print() in a function would otherwise bury the failure under a line per input.
The plugin shows the output of the failing call on its own, and counts the rest.
"""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

SHOWN = 20  # lines of the failing call's own output shown; the rest of it is counted


@pytest.fixture(scope="session")
def impl(pytestconfig) -> Printed:
    """The implementation under test: the folder given by --impl (default: exercises/)."""
    from kit.plugin import PRINTED

    return pytestconfig.stash[PRINTED]


@dataclass
class Call:
    args: tuple
    output: str


class Printed:
    """An Impl (kit.protocols) that records what each call of the learner's code printed, instead
    of letting it reach pytest's capture. Everything else is the wrapped implementation's."""

    def __init__(self, impl, capture: bool = True):
        self.impl = impl
        self.capture = capture  # False under `pytest -s`: the prints go to the terminal as they happen
        self.calls: list[Call] = []

    def __getattr__(self, name):  # only for what is not its own: the wrapped implementation's
        if name in ("impl", "calls", "capture") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.impl, name)

    def __repr__(self) -> str:
        return repr(self.impl)

    def call(self, exercise, args: tuple):
        if not self.capture:
            return self.impl.call(exercise, args)
        out = io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(out):
                return self.impl.call(exercise, args)
        finally:
            self.calls.append(Call(args, out.getvalue()))

    def report(self, exercise, failure=None) -> str:
        """What the calls printed, for the test's report: the failing call's own output (when the
        call is known), the rest as a count of lines. "" when nothing was printed."""
        calls, self.calls = self.calls, []
        if not any(c.output for c in calls):
            return ""
        index = _failing_call(exercise, calls, failure)
        if index is not None:
            shown = calls[index]
            which = "the failing call" if failure is not None else "the first call"
        else:  # the failing call is not known: the first that printed stands for them all
            shown = next(c for c in calls if c.output)
            which = "the first call that printed"
        head = f"{which}, {_call_text(exercise, shown.args)}"
        own = shown.output.splitlines()
        lines = [f"Printed by {head}:", *own[:SHOWN]] if own else [f"Nothing printed by {head}."]
        if len(own) > SHOWN:
            lines.append(f"... and {len(own) - SHOWN} more lines of this call")
        rest = sum(len(c.output.splitlines()) for c in calls if c is not shown)
        if rest:
            lines.append(f"... and {rest} more line{'s' if rest != 1 else ''} printed while other inputs were tried "
                         f"({len(calls)} calls in all)")
        return "\n".join(lines) + "\n"


def _call_text(exercise, args: tuple) -> str:
    from kit import messages

    try:
        return messages.call(exercise, args)
    except Exception:  # a value the messages cannot show: the function's name will do
        return exercise.name


def _failing_call(exercise, calls: list[Call], failure) -> int | None:
    """Which call failed: the one given the failing inputs, else the last whose call, as the
    messages write it, the failure's message names. The first call when the test passed."""
    if failure is None:
        return 0 if calls else None
    inputs = getattr(failure, "inputs", None)
    message = str(getattr(failure, "message", failure))
    if inputs is not None:
        for index in reversed(range(len(calls))):
            if calls[index].args is inputs:
                return index
    for index in reversed(range(len(calls))):
        if _call_text(exercise, calls[index].args) in message:
            return index
    return None
