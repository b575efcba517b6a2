"""Chapter 2: the chain rule.

Put machines in a row: the output of one is the input of the next. In 1 → [×2] → 2 → [×5] → 10,
nudging the input by a little moves the middle by twice as much, and the middle's move is
multiplied by 5 again on the way out. That is the whole chain rule: along a chain,
sensitivities multiply.

Run `pytest tests/test_ch2_chain_rule.py` to check your answers against torch.autograd.
"""
from collections.abc import Sequence


def chain_forward(x: float, ks: Sequence[float]) -> float:
    """Run x through the machines ×ks[0], ×ks[1], … in that order and return what comes out.

    Derive: nothing to derive yet; this is the forward pass that the next exercise differentiates.
    With no machines at all (ks empty), x comes out as it went in.
    Domain: x in [-10, 10]; ks holds 0 to 6 factors, each in [-3, 3].
    Worked number: chain_forward(1.0, [2.0, 5.0]) == 10.0.
    """
    raise NotImplementedError("ch2_chain_rule.chain_forward")


def chain_sensitivity(ks: Sequence[float]) -> float:
    """How far the chain's output moves per unit nudge of its input: d(output)/d(input).

    Derive: a nudge of size ε entering machine ×k leaves it as a nudge of size k·ε. Follow one
    nudge through every machine. Does the answer depend on the input x?
    An empty chain passes every nudge through unchanged.
    Domain: ks holds 0 to 6 factors, each in [-3, 3].
    Worked number: chain_sensitivity([2.0, 5.0]) == 10.0.
    """
    raise NotImplementedError("ch2_chain_rule.chain_sensitivity")
