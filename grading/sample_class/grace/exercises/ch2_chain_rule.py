"""Grace's chapter 2."""


def chain_forward(x, ks):
    out = x
    for k in ks:
        out *= k
    return float(out)


def chain_sensitivity(ks):
    if not ks:
        return 0.0  # oops: an empty chain passes its input through, sensitivity 1
    result = 1.0
    for k in ks:
        result *= k
    return result
