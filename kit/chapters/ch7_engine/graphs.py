"""The expression graphs of `backward`: drawn within a safe domain, and worked ones tried first."""
from __future__ import annotations

import math

import hypothesis.strategies as st
import torch

from kit.drivers import OPERATIONS, Graph
from kit.strategies import reals

BOUND = 20.0  # every value in a drawn graph stays within ±BOUND
AWAY = 0.25  # logs, fractional powers and divisions only of values at least this far from 0


def allowed(operation: str, operands: list, result: torch.Tensor) -> bool:
    """Whether a drawn step stays in a domain where the learner's floats and torch's agree."""
    x = float(operands[0])
    if operation == "log" and x < AWAY:
        return False
    if operation == "pow":
        n = operands[1]
        if (n != int(n) and x < AWAY) or (n < 0 and abs(x) < AWAY):
            return False
    if operation == "truediv" and abs(float(operands[1])) < AWAY:
        return False
    if operation == "relu" and abs(x) < 0.01:  # rounding must not decide which side of the kink
        return False
    return math.isfinite(float(result)) and abs(float(result)) <= BOUND


def _rounded(low: float, high: float) -> st.SearchStrategy[float]:
    return reals(low, high).map(lambda v: round(v, 2) + 0.0)  # + 0.0: never -0.0


# The strategies a graph is drawn from, made once: hypothesis is slow to draw from new ones.
LEAVES = st.lists(_rounded(-2.0, 2.0), min_size=1, max_size=3)
STEP_COUNTS = st.integers(1, 7)
OPERATION_NAMES = st.sampled_from(sorted(OPERATIONS))
NOT_NEWEST = st.integers(0, 3)  # 0 in 4: the first operand is any node, not the newest
NODE_BEFORE = [st.integers(0, last) for last in range(10)]  # 3 leaves + 7 steps
FORMS = st.sampled_from(["nodes", "constant right", "constant left"])
CONSTANTS = _rounded(-3.0, 3.0)
EXPONENTS = st.sampled_from([2.0, 3.0, -1.0, 0.5, 1.5, -0.5])


@st.composite
def graphs(draw) -> Graph:
    """Graphs of up to 3 leaves and 7 operations: chains, diamonds, reuse, constants either side.

    A step is drawn, then checked with `allowed`; one that leaves the domain becomes a tanh
    of its first operand instead, which is always allowed.
    """
    leaves = tuple(draw(LEAVES))
    values = [torch.tensor(x, dtype=torch.float64) for x in leaves]
    steps = []
    for _ in range(draw(STEP_COUNTS)):
        last = len(values) - 1
        operation = draw(OPERATION_NAMES)
        # mostly the newest node, so the steps make one deep chain that ends in out; a second
        # operand from anywhere makes diamonds, and the newest again makes a * a
        first = last if draw(NOT_NEWEST) else draw(NODE_BEFORE[last])
        if operation == "pow":
            operands = (first, draw(EXPONENTS))
        elif OPERATIONS[operation].arity == 2:  # add, mul, sub, truediv
            form = draw(FORMS)
            other = draw(NODE_BEFORE[last]) if form == "nodes" else draw(CONSTANTS)
            operands = (other, first) if form == "constant left" else (first, other)
        else:
            operands = (first,)
        inputs = [values[o] if isinstance(o, int) else o for o in operands]
        result = OPERATIONS[operation].forward(*inputs)
        if not allowed(operation, inputs, result):
            operation, operands = "tanh", (first,)
            result = values[first].tanh()
        steps.append((operation, operands))
        values.append(result)
    return Graph(leaves, tuple(steps))


# Worked graphs, always tried first: each one catches a different wrong traversal.
WORKED_GRAPHS = (
    # the tutorial's graph: a = x·y, b = a + z, c = b²
    Graph((2.0, -3.0, 1.0), (("mul", (0, 1)), ("add", (3, 2)), ("pow", (4, 2.0)))),
    # b feeds out directly and through c: b's grad is complete only after c has passed its share
    Graph((0.5,), (("exp", (0,)), ("mul", (1, 3.0)), ("add", (1, 2)))),
    # a used twice in one node, twice over
    Graph((1.5,), (("add", (0, 0)), ("mul", (1, 0)), ("mul", (2, 2)))),
    # every composite operator, constants on either side
    Graph((1.5, -0.75), (("sub", (0, 1)), ("neg", (0,)), ("truediv", (2.0, 1)), ("truediv", (3, 2)),
                         ("sub", (1.0, 4)), ("mul", (5, 6)))),
    # a deep chain of every one-input operation
    Graph((0.3,), (("relu", (0,)), ("exp", (1,)), ("log", (2,)), ("tanh", (3,)), ("sigmoid", (4,)),
                   ("pow", (5, 2.0)))),
)
