"""Ada's chapter 2."""
import math


def chain_forward(x, ks):
    for k in ks:
        x = x * k
    return float(x)


def chain_sensitivity(ks):
    return float(math.prod(ks))
