"""Chapter 1: sensitivity. Reference solutions, by hand."""
from collections.abc import Callable


def scale_sensitivity(x: float, k: float) -> float:
    return float(k)


def numeric_sensitivity(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)
