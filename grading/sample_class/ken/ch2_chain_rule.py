"""Ken's chapter 2: one parenthesis short."""


def chain_forward(x, ks):
    out = float(x
    for k in ks:
        out = out * k
    return out


def chain_sensitivity(ks):
    return 1.0
