"""Chapter 4: the product rule, with an hourly wage.

You work x hours at y dollars an hour and take home a = x·y. Say 5 hours at $10: $50.
Work one more hour and the pay rises by $10, one wage. Get a $1 raise instead and the pay rises
by $5, one dollar for each hour you worked. So the sensitivity of x·y to x is y, and to y is x:
each partial derivative is *the other* factor.

Run `pytest tests/test_ch4_product_rule.py` to check your answers against torch.autograd.
"""


def product_grads(x: float, y: float) -> tuple[float, float]:
    """Both partial derivatives of a = x·y, as the pair (∂a/∂x, ∂a/∂y).

    Derive: hold y fixed and nudge x by ε: how much does x·y change per unit of ε? Then swap roles.
    Order matters: the first entry is with respect to x.
    Domain: x and y in [-10, 10].
    Worked number: product_grads(5.0, 10.0) == (10.0, 5.0)  (5 hours at $10 an hour).
    """
    raise NotImplementedError("ch4_product_rule.product_grads")
