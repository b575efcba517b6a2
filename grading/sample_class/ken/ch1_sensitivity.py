"""Ken's chapter 1: numeric_sensitivity is still to come."""


def scale_sensitivity(x, k):
    return float(k)
