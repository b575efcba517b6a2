"""Chapter 6 variants: WRONG must fail, RIGHT (written differently) must pass."""
import math

import torch


def _sigmoid(x):
    return 0.5 * (1.0 + math.tanh(x / 2))


WRONG = [
    ("sigmoid", "overflows for x < -709", lambda x: 1 / (1 + math.exp(-x))),
    ("sigmoid", "e^x / (1 + e^x) overflows for x > 709", lambda x: math.exp(x) / (1 + math.exp(x))),
    ("sigmoid", "returns a 0-d tensor", lambda x: torch.sigmoid(torch.tensor(x, dtype=torch.float64))),
    ("sigmoid_grad", "returns σ(x), the forward value", _sigmoid),
    ("sigmoid_grad", "σ(x)·(1 + σ(x)), a sign flipped", lambda x: _sigmoid(x) * (1 + _sigmoid(x))),
    ("sigmoid_grad", "e^-x / (1 + e^-x), the square missing", lambda x: math.exp(-x) / (1 + math.exp(-x))),
    ("relu_grad", "1 at the kink x = 0", lambda x: 1.0 if x >= 0 else 0.0),
    ("relu_grad", "returns max(0, x), the forward value", lambda x: max(0.0, x)),
    ("log_grad", "returns ln(x), the forward value", lambda x: math.log(x)),
    ("log_grad", "-1/x², the slope of 1/x", lambda x: -1 / x ** 2),
    ("scale_grad", "returns a·x, the forward value", lambda a, x: a * x),
    ("scale_grad", "returns x, the partial with respect to a", lambda a, x: x),
    ("dot_self_grad", "x, the factor 2 missing", lambda x: x.clone()),
    ("dot_self_grad", "returns xᵀx, the forward value", lambda x: torch.dot(x, x)),
    ("dot_self_grad", "2x in float32", lambda x: (2 * x).float()),
    ("sigmoid_backward", "forgets the upstream gradient", lambda x, u: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    ("sigmoid_backward", "upstream × σ(x), the forward value", lambda x, u: u * torch.sigmoid(x)),
    ("relu_backward", "forgets the upstream gradient", lambda x, u: (x > 0).double()),
    ("relu_backward", "lets the gradient through at x = 0", lambda x, u: u * (x >= 0).double()),
    ("relu_backward", "writes into upstream", lambda x, u: u.masked_fill_(x <= 0, 0.0)),
    ("log_backward", "upstream × x instead of ÷", lambda x, u: u * x),
    ("log_backward", "forgets the upstream gradient", lambda x, u: 1 / x),
    ("scale_backward", "forgets the factor a", lambda a, x, u: u.clone()),
    ("scale_backward", "a·x·upstream, the forward value inside", lambda a, x, u: a * x * u),
    ("scale_backward", "returns the float a", lambda a, x, u: a),
    ("dot_self_backward", "forgets the upstream gradient", lambda x, u: 2 * x),
    ("dot_self_backward", "upstream·x, the factor 2 missing", lambda x, u: u * x),
    ("dot_self_backward", "sums to a 0-d tensor", lambda x, u: (2 * u * x).sum()),
]

RIGHT = [
    ("sigmoid", "through tanh, which never overflows", _sigmoid),
    ("sigmoid_grad", "e^-x / (1 + e^-x)²", lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
    ("sigmoid_grad", "through tanh: (1 - tanh²(x/2)) / 4", lambda x: (1 - math.tanh(x / 2) ** 2) / 4),
    ("relu_grad", "float of a comparison", lambda x: float(x > 0)),
    ("log_grad", "x to the power -1", lambda x: x ** -1),
    ("scale_grad", "a times 1.0", lambda a, x: a * 1.0),
    ("dot_self_grad", "x + x", lambda x: x + x),
    ("sigmoid_backward", "torch.sigmoid, then upstream·σ·(1-σ)",
     lambda x, u: u * torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    ("relu_backward", "torch.where", lambda x, u: torch.where(x > 0, u, torch.zeros_like(u))),
    ("log_backward", "x.reciprocal()", lambda x, u: u * x.reciprocal()),
    ("scale_backward", "a tensor full of a, times upstream", lambda a, x, u: torch.full_like(x, a) * u),
    ("dot_self_backward", "(x · upstream) · 2", lambda x, u: (x * u) * 2),
]
