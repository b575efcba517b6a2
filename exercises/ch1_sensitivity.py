"""Chapter 1: sensitivity.

Picture a machine that takes a number in and puts a number out. Its *sensitivity* is how far
the output moves when you nudge the input by a tiny amount, per unit of nudge. Backpropagation
is nothing more than computing sensitivities, many of them, efficiently.

Run `pytest tests/test_ch1_sensitivity.py` to check your answers against torch.autograd.
"""
from collections.abc import Callable


def scale_sensitivity(x: float, k: float) -> float:
    """The sensitivity of the machine "multiply by k", at input x: d(k·x)/dx.

    Feed it 2 and a machine "×3" answers 6; feed it 3 and it answers 9. One more unit in,
    three more units out: its sensitivity is 3, wherever you stand.

    Derive: how does k·x change when x grows by 1? Does the answer depend on x?
    Domain: x and k are any floats in [-10, 10].
    Worked number: scale_sensitivity(2.0, 3.0) == 3.0.
    """
    raise NotImplementedError("ch1_sensitivity.scale_sensitivity")


def numeric_sensitivity(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    """Measure the sensitivity of any machine f at x, without knowing its formula.

    Nudge the input a little to each side, x + h and x - h, and see how far the output moved
    per unit of nudge: the *central difference*  (f(x+h) - f(x-h)) / 2h.  Nudging to one side
    only, (f(x+h) - f(x)) / h, is less accurate; the tests can tell the two apart.

    This is how you can check any derivative you derive by hand: compare it with this estimate.
    Domain: f is a smooth function of one float (the tests use cubics and sines), x in [-3, 3],
    h the default 1e-5 or a larger step the tests pass in.
    Worked number: for f(x) = x², numeric_sensitivity(f, 3.0) ≈ 6.0 (the slope 2x at 3).
    """
    raise NotImplementedError("ch1_sensitivity.numeric_sensitivity")
