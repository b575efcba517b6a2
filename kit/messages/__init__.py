"""Every sentence the learner reads about an answer: kind, clear, and with the numbers.

A tuple answer's parts are named as the contract names them (the exercise's `answer_names`), a
dict's by its keys, a list's items by their index; every part that differs is listed, each with
its first difference, in one message.

The submodules hold the sentences of the other places a learner hears from: loading their code
(`loading`), the diagnosis (`diagnosis`), the grader's sandbox (`sandbox`), the static scan for
autograd (`scan`)."""
from __future__ import annotations

import re
from collections.abc import Sequence

import torch

from kit.compare import FLOAT32, TOLERANCES, Mismatch, describe_kind, where_of


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


def tolerance_line(exercise) -> str:
    return f"  tolerance: {tolerance_rule(exercise.tolerance)}"


FLOAT32_WHY = ("every number that differs is a float32 number within {rule}: float32 arithmetic rounded "
               "them (torch.tensor(x) makes a float32 tensor, torch's default dtype), where the contract's "
               "numbers are float64")
FLOAT32_FIX = ("Do the arithmetic in float64: torch.tensor(x, dtype=torch.float64), not torch.tensor(x) "
               "(and dtype=torch.float64 in torch.zeros, torch.ones, ...), or plain Python floats and math; "
               ".item() of a float64 tensor is then a float64 number.")


def float32_rule() -> str:
    rtol, atol = TOLERANCES[FLOAT32]
    return f"|yours - torch| <= {atol:g} + {rtol:g}·|torch| (row {FLOAT32!r} of the table in kit/compare.py)"


def part_name(exercise, path: tuple) -> str:
    """A part of the answer as the contract names it: "db" (a tuple's, by the exercise's
    answer_names), "da_dy" (a dict's key), "[3]" (a list's item), "new params['W1']" deeper in."""
    if not path:
        return ""
    first, rest = path[0], path[1:]
    names = exercise.answer_names
    if isinstance(first, int) and first < len(names):
        return names[first] + where_of(rest)
    if isinstance(first, str) and rest:
        return first + where_of(rest)
    return first if isinstance(first, str) else where_of(path)


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _parts_of(exercise, expected) -> str:
    """What the answer is made of, for the head of a message about its parts."""
    if isinstance(expected, tuple) and len(exercise.answer_names) == len(expected):
        return f"the answer is ({', '.join(exercise.answer_names)})"
    if isinstance(expected, dict):
        return f"of its keys {', '.join(map(str, expected))}"
    return f"of its {len(expected)} items"  # a list, or a tuple the declaration names no parts of


def wrong(exercise, args: tuple, expected, actual, mismatch: Mismatch | Sequence[Mismatch]) -> str:
    """The message for an answer that came back but is not torch's: every part that differs
    (kit.compare.differences), or one Mismatch as before."""
    found = [mismatch] if isinstance(mismatch, Mismatch) else list(mismatch)
    head = f"{exercise.id}: {call(exercise, args)}"
    if len(found) == 1 and not found[0].path:
        lines = _whole(exercise, head, found[0])
    else:
        lines = _parts(exercise, head, expected, found)
    rounded = [m for m in found if m.float32]
    if rounded:
        where = _listed([part_name(exercise, m.path) for m in rounded]) if rounded[0].path else "yours"
        lines.append(f"  float32: in {where}, {FLOAT32_WHY.format(rule=float32_rule())}.")
    lines.append(f"  Try this: {FLOAT32_FIX if len(rounded) == len(found) else exercise.hint}")
    return "\n".join(lines)


def _whole(exercise, head: str, mismatch: Mismatch) -> list[str]:
    """The lines of a message about the answer as a whole (a float, a tensor, or its structure)."""
    if mismatch.kind != "value":
        return [
            f"{head} returned the wrong {mismatch.kind}: {mismatch.detail}.",
            f"  yours: {describe_kind(mismatch.actual)}: {show(mismatch.actual)}",
            f"  {exercise.reference_name}: {describe_kind(mismatch.expected)}: {show(mismatch.expected)}",
        ]
    lines = [
        f"{head} is wrong{' by float32 rounding only' if mismatch.float32 else ''}.",
        f"  yours: {show(mismatch.actual)}",
        f"  {exercise.reference_name}: {show(mismatch.expected)}",
    ]
    if mismatch.detail:
        lines.append(f"  {mismatch.detail}")
    lines.append(tolerance_line(exercise))
    return lines


def _parts(exercise, head: str, expected, found: list[Mismatch]) -> list[str]:
    """The lines of a message about the parts of an answer: each wrong part named, with its first difference."""
    names = [part_name(exercise, m.path) or f"the {m.kind}" for m in found]  # the keys or length of it all
    at = "at" if all(name.startswith("[") for name in names) else "in"  # a list's items
    lines = [f"{head} is wrong {at} {_listed(names)} ({_parts_of(exercise, expected)})."]
    reference = exercise.reference_name
    for name, m in zip(names, found):
        rounding = " (float32 rounding only)" if m.float32 else ""
        if m.kind == "value" and not m.detail:  # a number: both on one line
            lines.append(f"  {name}: yours {show(m.actual)}, {reference} {show(m.expected)}{rounding}")
        elif m.kind == "value":
            lines += [f"  {name}: {m.detail}{rounding}",
                      f"    yours: {show(m.actual)}",
                      f"    {reference}: {show(m.expected)}"]
        else:
            what = "" if m.kind in ("keys", "length") else f"the wrong {m.kind}: "  # the detail says it
            lines += [f"  {name}: {what}{m.detail}",
                      f"    yours: {describe_kind(m.actual)}: {show(m.actual)}",
                      f"    {reference}: {describe_kind(m.expected)}: {show(m.expected)}"]
    if any(m.kind == "value" and not m.float32 for m in found):
        lines.append(tolerance_line(exercise))
    return lines


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


# ---- a method of the learner's class that is not there (chapter 7's Value) ---------------------

_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod", "@": "matmul",
           "** or pow()": "pow", "**": "pow"}
_UNARY = {"-": "__neg__", "+": "__pos__", "~": "__invert__", "abs()": "__abs__"}
_NUMBER = {"int": "2", "float": "2.0"}  # a number of the kind Python named, to show the operation
_TAKES_OTHER = {f"__{r}{name}__" for name in _BINARY.values() for r in ("", "r")}


def missing_member(cls: str, learner_traceback: str) -> tuple[str, str] | None:
    """(method, the code that needed it) when the learner's code failed because class `cls` has no
    such method, as Python's last line says: ("exp", "`a.exp()`"), ("__rtruediv__", "`2.0 / a` ...");
    else None."""
    last = learner_traceback.strip().splitlines()[-1] if learner_traceback.strip() else ""
    found = re.match(r"AttributeError: '(\w+)' object has no attribute '(\w+)'", last)
    if found and found[1] == cls:
        return found[2], f"`a.{found[2]}()`"
    found = re.match(r"TypeError: unsupported operand type\(s\) for (.+?): '(\w+)' and '(\w+)'", last)
    if found and found[1] in _BINARY and cls in (found[2], found[3]):
        symbol, name = found[1].split()[0], _BINARY[found[1]]
        if found[2] == cls:
            return f"__{name}__", f"`a {symbol} {'b' if found[3] == cls else _NUMBER.get(found[3], 'x')}`"
        number = _NUMBER.get(found[2], "x")
        return f"__r{name}__", (f"`{number} {symbol} a` (with a number on the left, Python asks the {cls} on the "
                                f"right: a.__r{name}__({number}))")
    found = re.match(r"TypeError: bad operand type for (?:unary )?(.+?): '(\w+)'", last)
    if found and found[2] == cls and found[1] in _UNARY:
        return _UNARY[found[1]], f"`{found[1]}a`" if len(found[1]) == 1 else "`abs(a)`"
    return None


def missing_method(exercise, args: tuple, cls: str, method: str, needed_by: str, graded_by,
                   learner_traceback: str) -> str:
    """The learner's class has no `method`, which `needed_by` (Python code) needs; `graded_by` is
    the exercise that grades it. Said instead of the exercise's hint, which would not help."""
    filename = f"{exercise.module}.py"
    if graded_by.id == exercise.id:
        why = "the curriculum asks for it by that name, and this exercise grades it"
    else:
        why = f"the curriculum asks for it by that name ({graded_by.id} grades it)"
    if exercise.name == "backward" and method != "backward":
        why += "; the graphs that test backward() use every operator, so it is not your backward() that failed"
    if method == "backward":
        given = "with its docstring"
    elif graded_by.name != "backward" and method == graded_by.methods[0]:  # the method that makes the node
        given = "with its forward pass written for you"
    else:  # a reflected operator, or one built from the others
        given = "ready-made, built from the operators you teach to go backward"
    other = ", n" if method == "__pow__" else ", other" if method in _TAKES_OTHER else ""
    # the learner's lines and Python's last: not the frames of the kit's own sources (a grading child's "<kit ...>")
    body = "\n".join("    " + line for line in learner_traceback.splitlines() if 'File "<kit ' not in line)
    return (f"{exercise.id}: {call(exercise, args)} needs {needed_by}, and class {cls} in {filename} has no "
            f"method {method}: {why}.\n"
            f"  Python said:\n{body}\n"
            f"  Try this: write `def {method}(self{other}):` inside class {cls} in {filename}, spelled exactly "
            f"so; the stub {filename} has it, {given}.")


def changed_input(exercise, args: tuple, name: str) -> str:
    """The values returned were right (kit.check.fault reports a wrong value first), but the
    function wrote into its argument `name`."""
    value = dict(zip(exercise.parameter_names(), args)).get(name)
    if isinstance(value, dict):
        fix = (f"build a new dict of new tensors ({{k: v.clone() for k, v in {name}.items()}} is a copy you may "
               f"change): `{name}[k] = ...` writes into the dict, and `{name}[k] -= ...` into its tensor.")
    elif isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
        fix = (f"build a new list of new tensors ([t.clone() for t in {name}] is a copy you may change): "
               f"`{name}[i] = ...` writes into the list, and `{name}[i] *= ...` into its tensor.")
    elif isinstance(value, (list, tuple)):
        fix = (f"build a new list (list({name}) is a copy you may change): `{name}[i] = ...`, "
               f"`{name}.append(...)`, `{name}.sort()` and `{name}.reverse()` write into {name}.")
    else:
        fix = (f"work on a copy, {name}.clone(), or build the answer with operations that make new tensors: "
               f"`{name} * s` is a new tensor, while `{name} *= s`, `{name}[...] = ...` and methods ending in _ "
               f"write into {name}.")
    return (f"{exercise.id}: {call(exercise, args)} returned the right values, but changed its argument "
            f"{name!r} in place.\n"
            f"  The caller may still need {name} as it was (in a backward pass the upstream gradient and the "
            f"forward values are used again): read your inputs and return new values.\n"
            f"  Try this: {fix[0].upper()}{fix[1:]}")


def inconsistent(exercise) -> str:
    return (f"{exercise.id}: your function gave different answers for the same inputs. "
            f"Does it keep state between calls, or use randomness?")
