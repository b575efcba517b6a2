"""Ada's chapter 1."""


def scale_sensitivity(x, k):
    # one more unit in, k more units out
    return k * (x + 1.0) - k * x


def numeric_sensitivity(f, x, h=1e-5):
    left, right = f(x - h), f(x + h)
    return 0.5 * (right - left) / h
