"""How a learner's answer is compared with torch's: one tolerance table, one comparison.

A value passes when |yours - torch| <= atol + rtol * |torch|, elementwise, the rule of
`math.isclose` and `torch.allclose`; where torch's value is infinite, only the same infinity
passes, and NaN never does. Kinds (float, tensor, tuple, dict), dtypes and shapes
are checked before any number, so a wrong kind is reported as such and never as a value.

The tolerance table. Every row is float64's but the last; the reference is torch.autograd in float64.

| row                 | rtol | atol  | why                                                      |
|---------------------|------|-------|----------------------------------------------------------|
| derivative          | 1e-9 | 1e-12 | a closed form agrees with autograd to about 1e-15; 1e-9  |
|                     |      |       | leaves room for any other algebraic form, and atol for   |
|                     |      |       | values that round to 0 in one form and not in another    |
|                     |      |       | (σ'(40) is 0.0 from σ(1-σ), 4e-18 from e^-x/(1+e^-x)²)   |
| accumulated         | 1e-7 | 1e-10 | sums over many terms (tensors, graphs, training steps),  |
|                     |      |       | where a different order of summation is still right      |
| finite_difference   | 1e-7 | 1e-7  | the central difference formula itself, where rounding in |
|                     |      |       | f(x+h) - f(x-h) is about 1e-16·|f|/h ≈ 1e-9 on the drawn |
|                     |      |       | curves; a forward difference is off by h·|f''|/2, 5e-6   |
|                     |      |       | and more                                                 |
| float32             | 1e-4 | 1e-5  | not an exercise's row: it never accepts an answer. A     |
|                     |      |       | value rejected by its row is float32 rounding when every |
|                     |      |       | differing number is a float32 number (a round trip       |
|                     |      |       | through float32 leaves it as it is: what float32         |
|                     |      |       | arithmetic leaves, also after .item() or .double()) and  |
|                     |      |       | within this row of torch's. float32 keeps 7 significant  |
|                     |      |       | digits; a few operations, 5 or 6 (a sum that cancels,    |
|                     |      |       | fewer: atol); a float64 near miss (a forward difference, |
|                     |      |       | eps in the wrong place) is no float32 number             |

The mistakes the tests must catch change a value by a factor (2, y/x, σ/σ', ...) or a term
of the size of the value itself, at least 1e-3 relative on the drawn inputs, six orders of
magnitude above every row (and one above the float32 row, which only recognises).

`compare` gives the first difference (kit.check's verdict, the grader's); `differences` every
one, a Mismatch for each part of a tuple, list or dict answer that differs (its `path` says
which), for the learner's message; `all_match` whether a whole list of answers matches (the
grader's thousands), the same rule with the numbers of every float64 tensor checked at once.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from numbers import Real
from typing import Literal, TypeGuard

import numpy
import torch

TOLERANCES: dict[str, tuple[float, float]] = {
    # row: (rtol, atol)
    "derivative": (1e-9, 1e-12),
    "accumulated": (1e-7, 1e-10),
    "finite_difference": (1e-7, 1e-7),
    "float32": (1e-4, 1e-5),  # recognises float32 rounding; no exercise's row (tests/self/test_messages_parts.py)
}
FLOAT32 = "float32"


MismatchKind = Literal["type", "dtype", "shape", "keys", "length", "value"]
Path = tuple[object, ...]  # indices of sequences and keys of dicts, outermost first
Waiting = list[tuple[numpy.ndarray, numpy.ndarray]]  # (torch's, yours): numbers all_match checks at the end


@dataclass(frozen=True)
class Mismatch:
    """Why an answer was not accepted: where in the answer, what kind of problem, and the parts."""

    kind: MismatchKind
    where: str  # "" for the whole answer, else e.g. "['x']" or "[1]"
    expected: object
    actual: object
    detail: str = ""
    path: Path = ()  # `where` as the indices and keys it is made of: (), ("x",), (1,), (1, "W1")
    float32: bool = False  # a value off by float32 rounding only (row "float32" of the table)


def describe_kind(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, Real):
        return "a number"
    return f"a {type(value).__name__}"


def is_number(value: object) -> TypeGuard[Real]:
    return isinstance(value, Real) and not isinstance(value, bool)


def close(expected: float, actual: float, rtol: float, atol: float) -> bool:
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual  # the same infinity, or not close at all
    return abs(actual - expected) <= atol + rtol * abs(expected)


def compare(expected: object, actual: object, tolerance: str = "derivative", where: str = "", *,
            equal_nan: bool = False) -> Mismatch | None:
    """None when `actual` matches `expected` (float, tensor, tuple or dict of them), else why not:
    the first difference, in the order of the answer's parts. With equal_nan, a NaN matches a NaN
    (kit.diagnosis: a misconception that is NaN where the learner's answer is reproduces it);
    an answer is never judged so."""
    found: list[Mismatch] = []
    _walk(expected, actual, TOLERANCES[tolerance], (), found, every=False, equal_nan=equal_nan)
    return _placed(found[0], where) if found else None


def differences(expected: object, actual: object, tolerance: str = "derivative") -> list[Mismatch]:
    """Every difference of `actual` from `expected`, [] when it matches: one Mismatch for each part
    (item of a tuple or list, value of a dict key, at any depth) that differs, in the answer's
    order; the first is `compare`'s. A dict's missing or unexpected keys come first, then the
    keys both have; a sequence of the wrong length is one difference, its items unread."""
    found: list[Mismatch] = []
    _walk(expected, actual, TOLERANCES[tolerance], (), found, every=True)
    return found


def all_match(pairs: Iterable[tuple[object, object]], tolerance: str = "derivative") -> bool:
    """Whether `compare(expected, actual, tolerance)` is None for every (expected, actual) pair.
    Kinds, dtypes and shapes are checked pair by pair as `compare` does; the numbers of every
    float64 tensor wait, and are checked in one numpy expression at the end: elementwise, so
    the same verdict, in a fraction of the time when there are thousands of small tensors."""
    row = TOLERANCES[tolerance]
    waiting: Waiting = []
    for expected, actual in pairs:
        found: list[Mismatch] = []
        _walk(expected, actual, row, (), found, every=False, waiting=waiting)
        if found:
            return False
    if not waiting:
        return True
    e = numpy.concatenate([x.reshape(-1) for x, _ in waiting])
    a = numpy.concatenate([y.reshape(-1) for _, y in waiting])
    return bool(_close_elementwise(e, a, *row).all())


def where_of(path: Path) -> str:
    return "".join(f"[{p!r}]" for p in path)


def _placed(mismatch: Mismatch, where: str) -> Mismatch:
    """A mismatch found inside a part that `where` names (compare's old argument)."""
    return replace(mismatch, where=where + mismatch.where) if where else mismatch


def _walk(expected: object, actual: object, row: tuple[float, float], path: Path, found: list[Mismatch],
          every: bool, waiting: Waiting | None = None, equal_nan: bool = False) -> None:
    """Append the differences of actual from expected to `found`: the first only, unless `every`.
    With a `waiting` list, the numbers of float64 tensors go there instead (`all_match`)."""
    rtol, atol = row
    here = where_of(path)
    if isinstance(expected, torch.Tensor):
        found.extend(_compare_tensor(expected, actual, rtol, atol, here, path, waiting, equal_nan))
        return
    if isinstance(expected, float):
        if isinstance(actual, torch.Tensor):
            found.append(Mismatch("type", here, expected, actual,
                                  "expected a Python float; a 0-d tensor becomes one with .item()", path))
        elif not is_number(actual):
            found.append(Mismatch("type", here, expected, actual, "expected a Python float", path))
        else:
            number = float(actual)
            same_nan = equal_nan and math.isnan(expected) and math.isnan(number)
            if not same_nan and (math.isnan(number) or not close(expected, number, rtol, atol)):
                found.append(Mismatch("value", here, expected, number, path=path,
                                      float32=_float32_rounding(numpy.array([expected]), numpy.array([number]))))
        return
    if isinstance(expected, (tuple, list)):  # either is accepted for the other
        kind = type(expected).__name__
        if not isinstance(actual, (tuple, list)):
            found.append(Mismatch("type", here, expected, actual, f"expected a {kind} of {len(expected)}", path))
        elif len(actual) != len(expected):
            found.append(Mismatch("length", here, expected, actual,
                                  f"expected a {kind} of {len(expected)}, got {len(actual)} items", path))
        else:
            for i, (e, a) in enumerate(zip(expected, actual)):
                _walk(e, a, row, (*path, i), found, every, waiting, equal_nan)
                if found and not every:
                    return
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            found.append(Mismatch("type", here, expected, actual, "expected a dict", path))
            return
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = [f"missing keys {missing}" if missing else "", f"unexpected keys {extra}" if extra else ""]
            found.append(Mismatch("keys", here, expected, actual, "; ".join(p for p in parts if p), path))
            if not every:
                return
        for key, e in expected.items():
            if key in actual:
                _walk(e, actual[key], row, (*path, key), found, every, waiting, equal_nan)
                if found and not every:
                    return
        return
    raise TypeError(f"the kit cannot compare a reference of type {type(expected).__name__}")


def _compare_tensor(expected: torch.Tensor, actual: object, rtol: float, atol: float, where: str,
                    path: Path, waiting: Waiting | None = None, equal_nan: bool = False) -> list[Mismatch]:
    if not isinstance(actual, torch.Tensor):
        return [Mismatch("type", where, expected, actual, "expected a torch.Tensor", path)]
    if actual.dtype != expected.dtype:
        return [Mismatch("dtype", where, expected, actual,
                         f"expected dtype {expected.dtype}, got {actual.dtype}", path)]
    if actual.shape != expected.shape:
        return [Mismatch("shape", where, expected, actual,
                         f"expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}", path)]
    if actual.requires_grad:
        return [Mismatch("type", where, expected, actual,
                         "the tensor is part of an autograd graph (requires_grad=True); "
                         "compute the gradient by hand instead", path)]
    # the arithmetic in numpy: the same rule, a few times quicker than torch's on small tensors,
    # which matters to the grader (thousands of answers per student)
    e, a = expected.numpy(force=True), _dense(actual).numpy(force=True)
    if waiting is not None and e.dtype == numpy.float64:
        waiting.append((e, a))  # checked with all the others (all_match)
        return []
    ok = _close_elementwise(e, a, rtol, atol)
    if equal_nan and e.dtype.kind in "fc":
        ok |= numpy.isnan(e) & numpy.isnan(a)
    if ok.all():
        return []
    index = tuple(int(i) for i in numpy.argwhere(~ok)[0])
    return [Mismatch("value", where, expected, actual,
                     f"first difference at index {list(index)}: yours {a[index].item()!r}, "
                     f"torch {e[index].item()!r}", path,
                     float32=e.dtype == numpy.float64 and _float32_rounding(e[~ok], a[~ok]))]


def _close_elementwise(e: numpy.ndarray, a: numpy.ndarray, rtol: float, atol: float) -> numpy.ndarray:
    """The table's rule, number by number, for arrays of one shape and dtype."""
    with numpy.errstate(all="ignore"):  # inf - inf is NaN, and not close: no warning needed
        # where torch's value is infinite, only the same infinity matches (as in `close`):
        # |anything - inf| <= rtol·inf would hold for every number
        return numpy.where(numpy.isinf(e), e == a, numpy.abs(a - e) <= atol + rtol * numpy.abs(e))


def _float32_rounding(expected: numpy.ndarray, actual: numpy.ndarray) -> bool:
    """Whether float64 numbers that differ from torch's (expected) are float32 rounding: each a
    float32 number, and within the "float32" row (the table above). Zeros alone are no sign of
    it: an answer of zeros where torch's numbers are merely small (below the row's atol) is a
    gradient that was lost, and rounding never turns a number into 0."""
    rtol, atol = TOLERANCES[FLOAT32]
    with numpy.errstate(all="ignore"):
        float32 = actual.astype(numpy.float32).astype(numpy.float64) == actual  # False for NaN
        near = numpy.isfinite(expected) & (numpy.abs(actual - expected) <= atol + rtol * numpy.abs(expected))
    return bool((float32 & near).all()) and bool((actual != 0).any())


def _dense(tensor: torch.Tensor) -> torch.Tensor:
    return tensor if tensor.layout == torch.strided else tensor.to_dense()
