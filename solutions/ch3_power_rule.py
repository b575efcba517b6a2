"""Chapter 3: the power rule. Reference solutions, by hand."""


def square_grad(b: float) -> float:
    return 2.0 * b


def power_grad(b: float, n: float) -> float:
    return n * b ** (n - 1)
