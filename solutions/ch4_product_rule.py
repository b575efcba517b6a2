"""Chapter 4: the product rule. Reference solutions, by hand."""


def product_grads(x: float, y: float) -> tuple[float, float]:
    return float(y), float(x)
