"""How the learner's code is driven: the only kit code, beside kit.implementation, that a
grading child runs (grading/child.py), so nothing here may know an answer.

`call_function` is the default driver: call the learner's function with the arguments.
Chapter 7's step exercises build one operation with the learner's `Value` (`run_step`), and
its inputs (`Held`, `SameAsA`, `Graph`) are plain data that both the driver and the torch
reference read. A driver that must know answers (chapter 7's `run_backward`, which supplies
correct local derivatives so that only the traversal is graded) lives elsewhere
(kit/known_engine.py), and the grader runs it in a process of its own.

What the kit knows about one chapter 7 operation is one record, split in two at that trust
boundary. Here, `Operation`: its name, its spelling and its forward, the half every child
needs to build a node and to show it. In kit/known_engine.py, `Graded`: the learner's methods
that make the node and its local derivative, the half that is an answer (the step exercises
grade exactly those derivatives), so it may never travel with this file. Both files are sent
to the children as single sources that import only the standard library and torch, so
neither imports the other; tests/self/test_ch7_records.py checks that the two halves agree.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch


def call_function(module: ModuleType, name: str, args: tuple) -> Any:
    """The default way to run an exercise: call the learner's function with the arguments."""
    return getattr(module, name)(*args)


class GaveBackAnInput(Exception):
    """An answer that holds a tensor the function was given, or a view of one, where the contract
    asks for new tensors (its text is the learner's message)."""


def call_for_new_tensors(module: ModuleType, name: str, args: tuple) -> Any:
    """call_function, for an exercise whose contract asks for new tensors in every case (chapter
    11's clip_grad_norm): an answer that shares memory with an argument is refused, since the
    caller's own gradients would change with it. Answers travel to the grader as data, so only
    here, beside the learner's code, can that be seen."""
    answer = getattr(module, name)(*args)
    given = {t.untyped_storage().data_ptr() for _, t in _placed_tensors(args, "") if t.numel()}
    for where, t in _placed_tensors(answer, ""):
        if t.numel() and t.untyped_storage().data_ptr() in given:
            raise GaveBackAnInput(
                f"{name}'s answer{where} is one of the tensors it was given, or a view of one; the "
                f"contract asks for new tensors in every case, so that the caller's gradients never change "
                f"with the answer: when nothing is scaled, return g.clone() for each g")
    return answer


def _placed_tensors(value: Any, where: str):
    """(where, tensor) for every tensor in value, at any depth of tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        yield where, value
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _placed_tensors(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _placed_tensors(item, f"{where}[{key!r}]")


class Curve:
    """A smooth machine f for numeric_sensitivity: a cubic or a sine, on floats and on tensors."""

    def __init__(self, kind: str, *coefficients: float):
        self.kind, self.coefficients = kind, coefficients

    def __call__(self, x):
        if self.kind == "cubic":
            a, b, c, d = self.coefficients
            return ((a * x + b) * x + c) * x + d
        a, w = self.coefficients
        return a * (torch.sin(w * x) if isinstance(x, torch.Tensor) else math.sin(w * x))

    def __repr__(self) -> str:
        if self.kind == "cubic":
            a, b, c, d = self.coefficients
            return f"(lambda x: {a!r}*x**3 + {b!r}*x**2 + {c!r}*x + {d!r})"
        a, w = self.coefficients
        return f"(lambda x: {a!r}*math.sin({w!r}*x))"


@dataclass(frozen=True)
class Operation:
    """One operation of chapter 7's engine, as Python spells it.

    `forward` is the spelling as a function, declared beside it: the same call builds a
    learner's Value node, a Plain node and a torch node (tests/self/test_ch7_records.py checks
    that each forward computes what its spelling reads)."""

    name: str  # "add": the step exercise's name, for a graded operation
    spelling: str  # how it reads in Python, for the learner's messages: "{} + {}"
    forward: Callable[..., Any]

    @property
    def arity(self) -> int:
        return self.spelling.count("{}")


OPERATIONS = {operation.name: operation for operation in (
    Operation("add", "{} + {}", lambda x, y: x + y),
    Operation("mul", "{} * {}", lambda x, y: x * y),
    Operation("pow", "{} ** {}", lambda x, n: x ** n),
    Operation("exp", "{}.exp()", lambda x: x.exp()),
    Operation("log", "{}.log()", lambda x: x.log()),
    Operation("relu", "{}.relu()", lambda x: x.relu()),
    Operation("sigmoid", "{}.sigmoid()", lambda x: x.sigmoid()),
    Operation("tanh", "{}.tanh()", lambda x: x.tanh()),
    # built from the graded ones in the stub: graded under `backward` only
    Operation("neg", "-{}", lambda x: -x),
    Operation("sub", "{} - {}", lambda x, y: x - y),
    Operation("truediv", "{} / {}", lambda x, y: x / y),
)}


@dataclass(frozen=True)
class Held:
    """An input Value that already holds a gradient: Value(data) with .grad = grad."""

    data: float
    grad: float

    def __repr__(self) -> str:
        return f"Value({self.data!r}, grad={self.grad!r})"


@dataclass(frozen=True)
class SameAsA:
    """The second input is the first one again: a * a, a + a."""

    def __repr__(self) -> str:
        return "a"


def make_operands(args, make) -> list:
    """The operands of one operation: `make(held)` for a Held, a again for SameAsA, numbers as they are."""
    made = []
    for x in args:
        made.append(make(x) if isinstance(x, Held) else made[0] if isinstance(x, SameAsA) else x)
    return made


def held_grads(args, made, grad) -> dict:
    return {f"{key}.grad": grad(m) for key, x, m in zip("ab", args, made) if isinstance(x, Held)}


def run_step(module, name, args) -> dict:
    """Driver: one operation with the learner's Value, then `out._backward()` once."""
    *operands, out_grad = args

    def make(held):
        value = module.Value(held.data)
        value.grad = held.grad
        return value

    made = make_operands(operands, make)
    out = OPERATIONS[name].forward(*made)
    out.grad = out_grad
    out._backward()
    return {"out.data": out.data, **held_grads(operands, made, lambda v: v.grad)}


@dataclass(frozen=True)
class Graph:
    """Leaves a, b, ... and steps: (operation, operands), where an int operand is an earlier
    node (leaves first, then one node per step) and a float is a constant. The last node is out."""

    leaves: tuple
    steps: tuple

    def names(self) -> list[str]:
        count = len(self.leaves) + len(self.steps)
        return [chr(ord("a") + i) for i in range(count - 1)] + ["out"]

    def build(self, make_leaf) -> list:
        nodes = [make_leaf(x) for x in self.leaves]
        for operation, operands in self.steps:
            nodes.append(OPERATIONS[operation].forward(*(nodes[o] if isinstance(o, int) else o for o in operands)))
        return nodes

    def answer(self, nodes, data, grad) -> dict:
        names = self.names()
        leaves = {f"{names[i]}.grad": grad(nodes[i]) for i in range(len(self.leaves))}
        return {"out.data": data(nodes[-1]), "out.grad": grad(nodes[-1]), **leaves}

    def __repr__(self) -> str:
        names = self.names()
        lines = [f"{names[i]} = Value({x!r})" for i, x in enumerate(self.leaves)]
        for i, (operation, operands) in enumerate(self.steps, start=len(self.leaves)):
            shown = (names[o] if isinstance(o, int) else repr(o) for o in operands)
            lines.append(f"{names[i]} = {OPERATIONS[operation].spelling.format(*shown)}")
        return "; ".join(lines + ["out.backward()"])
