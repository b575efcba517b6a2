"""torch.autograd, in float64, as the reference every exercise is checked against.

These helpers turn a torch expression into the answer an exercise expects, on the same
arguments the learner's function gets: floats in, floats out; tensors in, tensors out.
"""
from __future__ import annotations

import torch


def leaf(value) -> torch.Tensor:
    """A float64 leaf that records gradients: a copy, so the caller's tensor is never touched."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone().to(torch.float64).requires_grad_(True)
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def as_tensor(value) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=torch.float64)


def derivative(f, wrt: int = 0):
    """reference(*args) -> d f(*args) / d args[wrt], for a scalar torch function f of floats."""
    def reference(*args):
        xs = [leaf(a) if i == wrt else as_tensor(a) for i, a in enumerate(args)]
        f(*xs).backward()
        return xs[wrt].grad.item()
    return reference


def gradients(f, *args, upstream=None) -> tuple:
    """The gradient of upstream·f(*args) with respect to every argument, each of its kind.

    With no upstream, f's output must be a scalar (upstream 1). Floats come back as floats,
    tensors as float64 tensors of the argument's shape.
    """
    xs = [leaf(a) for a in args]
    out = f(*xs)
    # Σ upstream·out, rather than out.backward(upstream): the same gradient, without the second
    # that torch spends importing sympy on the first backward with an explicit gradient
    (out if upstream is None else (out * as_tensor(upstream)).sum()).backward()
    return tuple(
        x.grad.item() if not isinstance(a, torch.Tensor) else x.grad.detach()
        for x, a in zip(xs, args)
    )


def backward_step(f):
    """reference(*inputs, upstream) -> gradient of Σ upstream·f(inputs) w.r.t. the last input."""
    def reference(*args):
        *others, x, upstream = args
        return gradients(lambda x_: f(*others, x_), x, upstream=upstream)[0]
    return reference


# Numerical estimates: the tutorial's sensitivity, measured by nudging an input both ways.
NUDGE = 1e-6


def nudged(loss, args: tuple, wrt: int, h: float = NUDGE):
    """Central difference of the float loss(*args) w.r.t. args[wrt], of that argument's kind."""
    def at(value):
        moved = list(args)
        moved[wrt] = value
        return float(loss(*moved))

    x = args[wrt]
    if not isinstance(x, torch.Tensor):
        return (at(x + h) - at(x - h)) / (2 * h)
    estimate = torch.zeros_like(x, dtype=torch.float64)
    for i in range(x.numel()):
        step = torch.zeros_like(estimate)
        step.view(-1)[i] = h
        estimate.view(-1)[i] = (at(x + step) - at(x - step)) / (2 * h)
    return estimate


def slope_estimate(f, wrt: int = 0):
    """estimate(*args): d f / d args[wrt] measured by nudging, for a scalar torch function f."""
    return lambda *args: nudged(lambda *a: f(*map(as_tensor, a)).item(), args, wrt)


def partials_estimate(f, count: int):
    return lambda *args: tuple(slope_estimate(f, i)(*args) for i in range(count))


def backward_estimate(f):
    """estimate(*inputs, upstream): the gradient of Σ upstream·f(inputs) w.r.t. the last input."""
    def estimate(*args):
        *others, x, upstream = args
        return nudged(lambda x_: (upstream * f(*others, x_)).sum().item(), (x,), 0)
    return estimate
