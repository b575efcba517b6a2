"""Chapter 3, the power rule: the slope of b² is 2b, and of bⁿ is n·bⁿ⁻¹."""
import hypothesis.strategies as st

from kit.exercise import Exercise
from kit.reference import derivative
from kit.strategies import positive, reals


def square_grad(b):
    return derivative(lambda b: b ** 2)(b)


def power_grad(b, n):
    return derivative(lambda b, n: b ** n)(b, n)


EXERCISES = [
    Exercise(
        "ch3_power_rule", "square_grad",
        inputs=st.tuples(reals(-100.0, 100.0)),
        reference=square_grad,
        examples=((3.0,), (-0.5,)),
        domain="b in [-100, 100]",
        hint="Grow a square of side b by a sliver: two new strips of length b appear.",
    ),
    Exercise(
        "ch3_power_rule", "power_grad",
        inputs=st.tuples(positive(1e-2, 1e2), reals(-4.0, 4.0)),
        reference=power_grad,
        examples=((3.0, 2.0), (4.0, 0.5), (2.0, 0.0)),
        domain="b in [0.01, 100] (b > 0), n any real in [-4, 4]",
        hint="The exponent comes down in front and the power goes down by one; check it against "
             "square_grad with n = 2.",
    ),
]
