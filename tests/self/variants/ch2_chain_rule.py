"""Chapter 2 variants: WRONG must fail, RIGHT (written differently) must pass."""
import math

WRONG = [
    ("chain_forward", "adds the factors instead of multiplying", lambda x, ks: x + sum(ks)),
    ("chain_forward", "returns 0.0 for an empty chain", lambda x, ks: x * math.prod(ks) if ks else 0.0),
    ("chain_sensitivity", "sums the sensitivities instead of multiplying", lambda ks: float(sum(ks))),
    ("chain_sensitivity", "returns 0.0 for an empty chain", lambda ks: math.prod(ks) if ks else 0.0),
    ("chain_sensitivity", "uses only the last machine", lambda ks: ks[-1] if ks else 1.0),
]

RIGHT = [
    ("chain_forward", "multiplies the factors first", lambda x, ks: math.prod(ks, start=1.0) * x),
    ("chain_sensitivity", "math.prod, in reverse order", lambda ks: math.prod(reversed(ks), start=1.0)),
]
