"""Chapter 3: deriving the power rule.

Why is the slope of b² equal to 2b? Think of b² as the area of a square with side b. Grow the
side by a sliver ε: the area gains two strips of size b·ε (one along each of two sides) and a
tiny corner ε². Per unit of ε that is 2b, plus a corner that vanishes as ε shrinks. So the
bigger b is, the steeper the curve: at b = 3 the output b² = 9 moves 6 times as fast as b.

Run `pytest tests/test_ch3_power_rule.py` to check your answers against torch.autograd.
"""


def square_grad(b: float) -> float:
    """The slope of the machine b ↦ b², at b: d(b²)/db.

    Derive: expand (b + ε)² - b², divide by ε, and let ε shrink to 0.
    Domain: b in [-100, 100].
    Worked number: square_grad(3.0) == 6.0.
    """
    raise NotImplementedError("ch3_power_rule.square_grad")


def power_grad(b: float, n: float) -> float:
    """The slope of b ↦ bⁿ at b, for any real exponent n: d(bⁿ)/db.

    Derive: for n = 2 you found the answer above; for n = 3, a cube of side b grows on three
    faces of area b². The general rule works for every real n, fractional and negative too.
    Domain: b in [0.01, 100] (b > 0, so bⁿ is defined for every real n); n in [-4, 4].
    Worked numbers: power_grad(3.0, 2.0) == 6.0; power_grad(4.0, 0.5) == 0.25 (the slope of √b).
    """
    raise NotImplementedError("ch3_power_rule.power_grad")
