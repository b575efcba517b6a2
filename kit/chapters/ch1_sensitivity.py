"""Chapter 1, sensitivity: how far the output of a machine moves when its input moves by 1."""
import hypothesis.strategies as st

from kit.diagnosis import Misconception, forward_value
from kit.exercise import Exercise
from kit.reference import derivative, slope_estimate
from kit.strategies import Curve, curves, reals

EXERCISES: list[Exercise] = []


def scale_sensitivity(x, k):
    return derivative(lambda x, k: k * x)(x, k)


EXERCISES.append(Exercise(
    module="ch1_sensitivity", name="scale_sensitivity", reference=scale_sensitivity,
    inputs=st.tuples(reals(), reals()),
    examples=((2.0, 3.0), (0.0, -1.5)),
    domain="x and k in [-10, 10]",
    hint="Nudge x by 1 and watch how far k·x moves: the answer does not depend on x.",
    more="The machine ×3 turns one more unit in into three more units out, at any input.",
    misconceptions=(
        forward_value(lambda x, k: k * x, "k·x"),
        Misconception("You returned the input x; the sensitivity is set by the machine, k.", lambda x, k: x),
    ),
    estimate=slope_estimate(lambda x, k: k * x),
    curve=(-5.0, 5.0, lambda t: (t, 3.0)),
))


def numeric_sensitivity(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


EXERCISES.append(Exercise(
    module="ch1_sensitivity", name="numeric_sensitivity", reference=numeric_sensitivity,
    inputs=st.one_of(
        st.tuples(curves(), reals(-3.0, 3.0)),
        st.tuples(curves(), reals(-3.0, 3.0), st.sampled_from([1e-2, 1e-3, 1e-4])),
    ),
    reference_name="central difference",
    examples=((Curve("cubic", 0.0, 1.0, 0.0, 0.0), 3.0), (Curve("cubic", 1.0, 0.0, 0.0, 0.0), 1.0, 1e-2)),
    domain="f a cubic or a sine, x in [-3, 3], h the default 1e-5 or one of 1e-2, 1e-3, 1e-4",
    hint="Step h to both sides of x, f(x + h) and f(x - h), and divide their difference by the "
         "whole distance between the two points, 2h; use the h you are given.",
    tolerance="finite_difference",
    more="Return (f(x + h) - f(x - h)) divided by (2 * h), with the h passed in (1e-5 when none is).",
    misconceptions=(
        Misconception("You used a one-sided (forward) difference (f(x + h) - f(x)) / h; nudge to "
                      "both sides and divide by 2h.", lambda f, x, h=1e-5: (f(x + h) - f(x)) / h),
        Misconception("You divided by h; the two points are 2h apart.",
                      lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / h),
        Misconception("You ignored the h you were given and always used 1e-5.",
                      lambda f, x, h=1e-5: numeric_sensitivity(f, x)),
    ),
))
