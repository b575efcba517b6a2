"""Chapter 5: backprop by hand, through a small graph.

    x ─┐
       ×─ a ─┐
    y ─┘     +─ b ── ( )² ── c
    z ───────┘

The graph computes a = x·y, then b = a + z, then c = b². Backpropagation answers: how
sensitive is c to every node? It works in two steps.

1. Local derivatives: each operation on its own, ignoring the rest of the graph
   (∂a/∂x, ∂a/∂y, ∂b/∂a, ∂b/∂z, ∂c/∂b), from chapters 3 and 4.
2. The backward pass: start at the output with ∂c/∂c = 1 and walk back. The gradient that
   reaches a node from above (its *upstream* gradient) times the local derivative of the
   operation you cross gives the gradient of the node below:

       gradient of a node = Σ over the paths out of it of (upstream gradient × local derivative)

Run `pytest tests/test_ch5_backprop_by_hand.py` to check your answers against torch.autograd.
"""
from collections.abc import Sequence


def forward(x: float, y: float, z: float) -> dict[str, float]:
    """The forward pass: the values of a, b and c, as {"a": ..., "b": ..., "c": ...}.

    Domain: x, y, z in [-10, 10].
    Worked number: forward(5.0, 10.0, -20.0) == {"a": 50.0, "b": 30.0, "c": 900.0}.
    """
    raise NotImplementedError("ch5_backprop_by_hand.forward")


def local_derivatives(x: float, y: float, z: float) -> dict[str, float]:
    """Every local derivative of the graph, at these inputs.

    Keys: "da_dx", "da_dy" (the product rule), "db_da", "db_dz" (a sum), "dc_db" (the power
    rule, evaluated at this b). Each looks at one operation alone.
    Domain: x, y, z in [-10, 10].
    Worked number: at (5, 10, -20), b = 30, so dc_db == 60.0; da_dx == 10.0.
    """
    raise NotImplementedError("ch5_backprop_by_hand.local_derivatives")


def backward(x: float, y: float, z: float) -> dict[str, float]:
    """The backward pass: ∂c/∂node for every node, keys "x", "y", "z", "a", "b", "c".

    Derive: start with ∂c/∂c = 1; then ∂c/∂b = upstream × local = 1 · dc_db; then on to a and z,
    and last to x and y. Write each step as upstream × local.
    Domain: x, y, z in [-10, 10].
    Worked number: at (5, 10, -20): b = 30, so ∂c/∂b = 60, ∂c/∂z = 60, ∂c/∂x = 60 · 10 = 600.
    """
    raise NotImplementedError("ch5_backprop_by_hand.backward")


def gradient_rule(contributions: Sequence[tuple[float, float]]) -> float:
    """The general rule: a node's gradient from all the paths that leave it.

    Each path out of the node brings a pair (upstream gradient, local derivative). Combine the
    pairs as the rule in this module's description says. A node that feeds nothing receives
    no gradient at all: return 0.0 for an empty list.
    Domain: 0 to 6 pairs, each number in [-5, 5].
    Worked number: gradient_rule([(2.0, 3.0), (4.0, -0.5)]) == 4.0.
    """
    raise NotImplementedError("ch5_backprop_by_hand.gradient_rule")
