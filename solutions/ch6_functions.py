"""Chapter 6: important functions. Reference solutions, by hand."""
import math

import torch
from torch import Tensor


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0: e to a negative power never overflows
    return e / (1.0 + e)


def sigmoid_grad(x: float) -> float:
    s = sigmoid(x)
    return s * (1.0 - s)


def relu_grad(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def log_grad(x: float) -> float:
    return 1.0 / x


def scale_grad(a: float, x: float) -> float:
    return float(a)


def dot_self_grad(x: Tensor) -> Tensor:
    return 2.0 * x


def sigmoid_backward(x: Tensor, upstream: Tensor) -> Tensor:
    s = 1.0 / (1.0 + torch.exp(-x))
    return upstream * s * (1.0 - s)


def relu_backward(x: Tensor, upstream: Tensor) -> Tensor:
    return upstream * (x > 0).to(upstream.dtype)


def log_backward(x: Tensor, upstream: Tensor) -> Tensor:
    return upstream / x


def scale_backward(a: float, x: Tensor, upstream: Tensor) -> Tensor:
    return a * upstream


def dot_self_backward(x: Tensor, upstream: Tensor) -> Tensor:
    return 2.0 * upstream * x
