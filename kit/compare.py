"""How a learner's answer is compared with torch's: one tolerance table, one comparison.

A value passes when |yours - torch| <= atol + rtol * |torch|, elementwise, the rule of
`math.isclose` and `torch.allclose`; where torch's value is infinite, only the same infinity
passes, and NaN never does. Kinds (float, tensor, tuple, dict), dtypes and shapes
are checked before any number, so a wrong kind is reported as such and never as a value.

The tolerance table. Every row is float64; the reference is torch.autograd in float64.

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

The mistakes the tests must catch change a value by a factor (2, y/x, σ/σ', ...) or a term
of the size of the value itself, at least 1e-3 relative on the drawn inputs, six orders of
magnitude above every row.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Literal, TypeGuard

import numpy
import torch

TOLERANCES: dict[str, tuple[float, float]] = {
    # row: (rtol, atol)
    "derivative": (1e-9, 1e-12),
    "accumulated": (1e-7, 1e-10),
    "finite_difference": (1e-7, 1e-7),
}


MismatchKind = Literal["type", "dtype", "shape", "keys", "length", "value"]


@dataclass(frozen=True)
class Mismatch:
    """Why an answer was not accepted: where in the answer, what kind of problem, and the parts."""

    kind: MismatchKind
    where: str  # "" for the whole answer, else e.g. "['x']" or "[1]"
    expected: object
    actual: object
    detail: str = ""


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


def compare(expected: object, actual: object, tolerance: str = "derivative", where: str = "") -> Mismatch | None:
    """None when `actual` matches `expected` (float, tensor, tuple or dict of them), else why not."""
    rtol, atol = TOLERANCES[tolerance]
    if isinstance(expected, torch.Tensor):
        return _compare_tensor(expected, actual, rtol, atol, where)
    if isinstance(expected, float):
        if isinstance(actual, torch.Tensor):
            return Mismatch("type", where, expected, actual,
                            "expected a Python float; a 0-d tensor becomes one with .item()")
        if not is_number(actual):
            return Mismatch("type", where, expected, actual, "expected a Python float")
        actual = float(actual)
        if math.isnan(actual) or not close(expected, actual, rtol, atol):
            return Mismatch("value", where, expected, actual)
        return None
    if isinstance(expected, (tuple, list)):  # either is accepted for the other
        kind = type(expected).__name__
        if not isinstance(actual, (tuple, list)):
            return Mismatch("type", where, expected, actual, f"expected a {kind} of {len(expected)}")
        if len(actual) != len(expected):
            return Mismatch("length", where, expected, actual,
                            f"expected a {kind} of {len(expected)}, got {len(actual)} items")
        for i, (e, a) in enumerate(zip(expected, actual)):
            found = compare(e, a, tolerance, f"{where}[{i}]")
            if found:
                return found
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return Mismatch("type", where, expected, actual, "expected a dict")
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = [f"missing keys {missing}" if missing else "", f"unexpected keys {extra}" if extra else ""]
            return Mismatch("keys", where, expected, actual, "; ".join(p for p in parts if p))
        for key, e in expected.items():
            found = compare(e, actual[key], tolerance, f"{where}[{key!r}]")
            if found:
                return found
        return None
    raise TypeError(f"the kit cannot compare a reference of type {type(expected).__name__}")


def _compare_tensor(expected: torch.Tensor, actual: object, rtol: float, atol: float, where: str) -> Mismatch | None:
    if not isinstance(actual, torch.Tensor):
        return Mismatch("type", where, expected, actual, "expected a torch.Tensor")
    if actual.dtype != expected.dtype:
        return Mismatch("dtype", where, expected, actual,
                        f"expected dtype {expected.dtype}, got {actual.dtype}")
    if actual.shape != expected.shape:
        return Mismatch("shape", where, expected, actual,
                        f"expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}")
    if actual.requires_grad:
        return Mismatch("type", where, expected, actual,
                        "the tensor is part of an autograd graph (requires_grad=True); "
                        "compute the gradient by hand instead")
    # the arithmetic in numpy: the same rule, a few times quicker than torch's on small tensors,
    # which matters to the grader (thousands of answers per student)
    e, a = expected.numpy(force=True), _dense(actual).numpy(force=True)
    with numpy.errstate(all="ignore"):  # inf - inf is NaN, and not close: no warning needed
        # where torch's value is infinite, only the same infinity matches (as in `close`):
        # |anything - inf| <= rtol·inf would hold for every number
        ok = numpy.where(numpy.isinf(e), e == a, numpy.abs(a - e) <= atol + rtol * numpy.abs(e))
    if ok.all():
        return None
    index = tuple(int(i) for i in numpy.argwhere(~ok)[0])
    return Mismatch("value", where, expected, actual,
                    f"first difference at index {list(index)}: yours {a[index].item()!r}, "
                    f"torch {e[index].item()!r}")


def _dense(tensor: torch.Tensor) -> torch.Tensor:
    return tensor if tensor.layout == torch.strided else tensor.to_dense()
