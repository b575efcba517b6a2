"""Chapter 7's `backward` driver, which knows the local derivatives of every graded operation.

Only the traversal is graded there: the graph is built with `known_engine(Value)`, the
learner's class with every graded operation's `_backward` replaced by one known to be right.
Those local derivatives are answers of other exercises (the step exercises, chapter 6), so
this module never sits in a grading child that runs anything else: the grader sends it to a
fresh child for `backward` alone (grading/child.py), and kit.drivers holds what the other
children need.

What the kit knows about one chapter 7 operation is one record, split in two at that trust
boundary. Here, `Graded`: the learner's methods that make the operation's node, its forward
value and its local derivative from the operands' numbers; the derivative is an answer, so
this half travels only to the child that grades `backward`. In kit/drivers.py, `Operation`:
the name, the spelling and the forward on Values and tensors, which every child needs and
which answers nothing. Both files are sent as single sources that import only the standard
library, so neither imports the other; tests/self/test_ch7_records.py checks that the two
halves agree (every `Graded` is an `Operation` whose forward calls its methods).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@dataclass(frozen=True)
class Graded:
    """One graded operation, by hand, from the operands' numbers: the kit's own, because drivers
    run where autograd is blocked (the grading sandbox). Every self-test run checks `local`
    against torch: the solution's backward() passes only if they are right."""

    name: str  # the Operation of kit.drivers, and the step exercise that grades `local`
    method: str  # the learner's method that makes the node: "__add__", "exp"
    parents: int  # how many operands are Values, the node's `_prev`; the rest (pow's n) stay numbers
    value: Callable[..., float]  # the forward value, computed as the stub computes it
    local: Callable[..., tuple]  # d out / d operand, for each operand
    reflected: str = ""  # the method that makes it with a number on the left: 2 * a runs a.__rmul__(2)

    @property
    def methods(self) -> dict[str, bool]:
        """The learner's methods that make this node -> whether they get the operands swapped."""
        return {self.method: False, **({self.reflected: True} if self.reflected else {})}


GRADED = {graded.name: graded for graded in (
    Graded("add", method="__add__", reflected="__radd__", parents=2,
           value=lambda x, y: x + y, local=lambda x, y: (1.0, 1.0)),
    Graded("mul", method="__mul__", reflected="__rmul__", parents=2,
           value=lambda x, y: x * y, local=lambda x, y: (y, x)),
    Graded("pow", method="__pow__", parents=1,
           value=lambda x, n: x ** n, local=lambda x, n: (n * x ** (n - 1), 0.0)),
    Graded("exp", method="exp", parents=1, value=math.exp, local=lambda x: (math.exp(x),)),
    Graded("log", method="log", parents=1, value=math.log, local=lambda x: (1 / x,)),
    Graded("relu", method="relu", parents=1,
           value=lambda x: x if x > 0 else 0.0, local=lambda x: (1.0 if x > 0 else 0.0,)),
    Graded("sigmoid", method="sigmoid", parents=1,
           value=sigmoid, local=lambda x: (sigmoid(x) * (1 - sigmoid(x)),)),
    Graded("tanh", method="tanh", parents=1, value=math.tanh, local=lambda x: (1 - math.tanh(x) ** 2,)),
)}


def known_backward(out, operation: str, operands: tuple):
    """A correct `_backward` for `out = operation(*operands)`; numbers among the operands are constants."""
    numbers = [x if isinstance(x, Real) else float(x.data) for x in operands]
    locals_ = GRADED[operation].local(*numbers)
    shares = [(x, local) for x, local in zip(operands, locals_) if not isinstance(x, Real)]

    def _backward():
        for parent, local in shares:
            parent.grad += out.grad * local
    return _backward


def known_engine(Value):
    """The learner's Value, with every graded operation's `_backward` replaced by a correct one."""
    def wrap(method, operation, swapped):
        learners = getattr(Value, method)

        def known(self, *args):
            out = learners(self, *args)
            if type(out) in Value.__mro__[:-1]:  # the learner's class (or one it extends)
                out.__class__ = Known
            operands = (*args, self) if swapped else (self, *args)
            out._backward = known_backward(out, operation, operands)
            return out
        return known

    methods = {method: wrap(method, graded.name, swapped) for graded in GRADED.values()
               for method, swapped in graded.methods.items() if hasattr(Value, method)}
    Known = type(Value.__name__, (Value,), {"__slots__": (), **methods})
    return Known


def run_backward(module, name, args) -> dict:
    """Driver: the graph built with fresh Values (every grad 0), then `out.backward()`."""
    (graph,) = args
    nodes = graph.build(known_engine(module.Value))
    nodes[-1].backward()
    return graph.answer(nodes, lambda v: v.data, lambda v: v.grad)
