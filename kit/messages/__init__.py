"""Every sentence the learner reads about an answer: kind, clear, and with the numbers.

The submodules hold the sentences of the other places a learner hears from: loading their code
(`loading`), the diagnosis (`diagnosis`), the grader's sandbox (`sandbox`), the static scan for
autograd (`scan`)."""
from __future__ import annotations

import torch

from kit.compare import TOLERANCES, Mismatch, describe_kind


def show(value) -> str:
    """A value as the learner can read it back: floats exactly, tensors with their shape."""
    if isinstance(value, torch.Tensor):
        body = torch.round(value.detach(), decimals=6).tolist() if value.is_floating_point() else value.tolist()
        return f"tensor({body}, shape={tuple(value.shape)}, dtype={str(value.dtype).replace('torch.', '')})"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(show(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "…"


def call(exercise, args: tuple) -> str:
    names = exercise.parameter_names()
    shown = ", ".join(f"{n}={show(a)}" for n, a in zip(names, args))
    return f"{exercise.name}({shown})"


def tolerance_rule(row: str) -> str:
    rtol, atol = TOLERANCES[row]
    return f"|yours - torch| <= {atol:g} + {rtol:g}·|torch| (row {row!r} of the table in kit/compare.py)"


def wrong(exercise, args: tuple, expected, actual, mismatch: Mismatch) -> str:
    """The message for an answer that came back but is not torch's."""
    part = f" at {mismatch.where}" if mismatch.where else ""
    head = f"{exercise.id}: {call(exercise, args)}"
    if mismatch.kind == "value":
        lines = [
            f"{head} is wrong{part}.",
            f"  yours: {show(mismatch.actual)}",
            f"  {exercise.reference_name}: {show(mismatch.expected)}",
        ]
        if mismatch.detail:
            lines.append(f"  {mismatch.detail}")
        lines.append(f"  tolerance: {tolerance_rule(exercise.tolerance)}")
    else:
        lines = [
            f"{head} returned the wrong {mismatch.kind}{part}: {mismatch.detail}.",
            f"  yours: {describe_kind(mismatch.actual)}: {show(mismatch.actual)}",
            f"  {exercise.reference_name}: {describe_kind(mismatch.expected)}: {show(mismatch.expected)}",
        ]
    lines.append(f"  Try this: {exercise.hint}")
    return "\n".join(lines)


def explained(message: str, estimate, diagnosis: str | None) -> str:
    """A wrong value's message with the measured slope and, when one matches, the diagnosis."""
    extra = []
    if estimate is not None:
        extra.append(f"  nudged: {show(estimate)} (the slope measured as in chapter 1, "
                     f"(f(x+h) - f(x-h)) / 2h with h = 1e-6: torch's value should be close to it)")
    if diagnosis:
        extra.append(f"Diagnosis: {diagnosis}")
    head, sep, hint = message.rpartition("\n  Try this:")
    return "\n".join([head, *extra]) + sep + hint if sep else "\n".join([message, *extra])


def raised(exercise, args: tuple, learner_traceback: str) -> str:
    """The learner's code raised: their own lines, then the hint."""
    body = "\n".join("  " + line for line in learner_traceback.splitlines())
    return f"{exercise.id}: {call(exercise, args)} raised an exception:\n{body}\n  Try this: {exercise.hint}"


def changed_input(exercise, args: tuple, name: str) -> str:
    return (f"{exercise.id}: {call(exercise, args)} changed its argument {name!r} in place.\n"
            f"  Read your inputs and return new values: the caller may still need {name!r} as it was. "
            f"Work on a copy (x.clone()) or build a new tensor.")


def inconsistent(exercise) -> str:
    return (f"{exercise.id}: your function gave different answers for the same inputs. "
            f"Does it keep state between calls, or use randomness?")
