"""Mallory's chapter 2."""


def chain_forward(x, ks):
    out = x
    for k in ks:
        out = out * k
    return float(out)


def chain_sensitivity(ks):
    product = 1.0
    for k in ks:
        product = product * k
    return product
