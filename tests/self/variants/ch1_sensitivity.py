"""Chapter 1 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace.
"""

WRONG = [
    ("scale_sensitivity", "returns the output k·x instead of the sensitivity", lambda x, k: k * x),
    ("scale_sensitivity", "returns the input x", lambda x, k: x),
    ("scale_sensitivity", "returns a 0-d tensor",
     lambda x, k: __import__("torch").tensor(k, dtype=__import__("torch").float64)),
    ("numeric_sensitivity", "forward difference", lambda f, x, h=1e-5: (f(x + h) - f(x)) / h),
    ("numeric_sensitivity", "divides by h, not 2h", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / h),
    ("numeric_sensitivity", "ignores the h it is given", lambda f, x, h=1e-5: (f(x + 1e-5) - f(x - 1e-5)) / 2e-5),
]

RIGHT = [
    ("scale_sensitivity", "measures the step from x to x + 1", lambda x, k: k * (x + 1.0) - k * x),
    ("numeric_sensitivity", "halves first, then divides", lambda f, x, h=1e-5: 0.5 * (f(x + h) - f(x - h)) / h),
]
