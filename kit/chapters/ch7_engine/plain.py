"""`Plain`: the stub's Value without derivatives, its graded methods built from the records.

Each graded method makes its node as the stub's does: the forward value of kit.known_engine's
`Graded` record from the operands' numbers (a number among the Values made a Plain first, pow's
n left a number), and `_prev` the operands that are Values. The operators built from those
(reflected, -, /) are the stub's, written again. tests/self/test_ch7_records.py builds the same
graphs with the stub's Value and with Plain, and checks them node for node.
"""
from __future__ import annotations

from kit.known_engine import GRADED, Graded


class Plain:
    """The stub's Value without derivatives: its forward values and `_prev`, made the same way
    (numbers wrapped on either side; -, / and the reflected operators from +, * and **). With
    `known_engine(Plain)`, the kit replays a traversal mistake on a graph exactly as a learner's
    backward() would run it on the stub."""

    def __init__(self, data, _prev=()):
        self.data, self.grad, self._prev, self._backward = data, 0.0, tuple(_prev), lambda: None

    # the graded methods (__add__, __mul__, __pow__, exp, log, relu, sigmoid, tanh): from GRADED, below

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1


def _made_by(graded: Graded):
    """Plain's method for one graded operation: its node, as the stub's method makes it."""
    def method(self, *others):
        operands = (self, *others)
        parents = tuple(x if isinstance(x, Plain) else Plain(x) for x in operands[:graded.parents])
        constants = operands[graded.parents:]
        return Plain(graded.value(*(parent.data for parent in parents), *constants), parents)
    method.__name__ = method.__qualname__ = graded.method
    return method


for _graded in GRADED.values():
    setattr(Plain, _graded.method, _made_by(_graded))
