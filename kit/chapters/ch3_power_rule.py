"""Chapter 3, the power rule: the slope of b² is 2b, and of bⁿ is n·bⁿ⁻¹."""
import hypothesis.strategies as st

from kit.diagnosis import Misconception, forward_value, off_by
from kit.exercise import Exercise
from kit.reference import derivative, slope_estimate
from kit.strategies import positive, reals

EXERCISES: list[Exercise] = []


def square_grad(b):
    return derivative(lambda b: b ** 2)(b)


EXERCISES.append(Exercise(
    module="ch3_power_rule", name="square_grad", reference=square_grad,
    inputs=st.tuples(reals(-100.0, 100.0)),
    examples=((3.0,), (-0.5,)),
    domain="b in [-100, 100]",
    hint="Grow a square of side b by a sliver: two new strips of length b appear.",
    more="(b + ε)² - b² = 2bε + ε²; divide by ε and let ε shrink to nothing.",
    misconceptions=(
        off_by(square_grad, 0.5, "You returned b: the factor 2 is missing (two strips grow, not one)."),
        forward_value(lambda b: b * b, "b²"),
    ),
    estimate=slope_estimate(lambda b: b ** 2),
    curve=(-5.0, 5.0, lambda t: (t,)),
))


def power_grad(b, n):
    return derivative(lambda b, n: b ** n)(b, n)


EXERCISES.append(Exercise(
    module="ch3_power_rule", name="power_grad", reference=power_grad,
    inputs=st.tuples(positive(1e-2, 1e2), reals(-4.0, 4.0)),
    examples=((3.0, 2.0), (4.0, 0.5), (2.0, 0.0)),
    domain="b in [0.01, 100] (b > 0), n any real in [-4, 4]",
    hint="The exponent comes down in front and the power goes down by one; check it against "
         "square_grad with n = 2.",
    more="For n = 3 the slope is 3·b², for n = 0.5 it is 0.5·b^(-0.5): n times b to the power n - 1.",
    misconceptions=(
        Misconception("You kept the power n: the exponent goes down by one, to n - 1.",
                      lambda b, n: n * b ** n),
        Misconception("The exponent n should come down in front as a factor.", lambda b, n: b ** (n - 1)),
        forward_value(lambda b, n: b ** n, "bⁿ"),
        Misconception("You used the answer for n = 2, 2b, for every n.", lambda b, n: 2 * b),
    ),
    estimate=slope_estimate(lambda b, n: b ** n),
    curve=(0.1, 4.0, lambda t: (t, 3.0)),
))
