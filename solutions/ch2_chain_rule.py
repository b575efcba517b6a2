"""Chapter 2: the chain rule. Reference solutions, by hand."""
from collections.abc import Sequence


def chain_forward(x: float, ks: Sequence[float]) -> float:
    out = float(x)
    for k in ks:
        out = k * out
    return out


def chain_sensitivity(ks: Sequence[float]) -> float:
    sensitivity = 1.0
    for k in ks:
        sensitivity *= k
    return sensitivity
