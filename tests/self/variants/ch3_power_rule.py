"""Chapter 3 variants: WRONG must fail, RIGHT (written differently) must pass."""
import math

WRONG = [
    ("square_grad", "forgets the factor 2", lambda b: b),
    ("square_grad", "returns the forward value b²", lambda b: b * b),
    ("power_grad", "keeps the power: n·bⁿ", lambda b, n: n * b ** n),
    ("power_grad", "forgets the factor n", lambda b, n: b ** (n - 1)),
    ("power_grad", "right only for n = 2", lambda b, n: 2 * b),
]

RIGHT = [
    ("square_grad", "b + b", lambda b: b + b),
    ("power_grad", "n·bⁿ / b", lambda b, n: n * b ** n / b),
    ("power_grad", "through exp and log", lambda b, n: n * math.exp((n - 1) * math.log(b))),
]
