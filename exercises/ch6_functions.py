"""Chapter 6: the functions every network is made of, and their local derivatives.

First the local derivatives on single numbers, then *backward steps*: functions that receive
the upstream gradient of a whole tensor and return the gradient with respect to its input,
exactly what each layer does during backpropagation. For an elementwise function f, a backward
step is upstream × f'(x), element by element: the chapter 5 rule, once per element.

Scalars are Python floats (return a float, not a 0-d tensor). Tensors are torch.float64; return
a new tensor of the input's shape and dtype, and leave the tensors you are given unchanged.
Use `math` and plain tensor operations only: autograd is what the tests compare you with.

Run `pytest tests/test_ch6_functions.py` to check your answers against torch.autograd.
"""
import math

import torch
from torch import Tensor


def sigmoid(x: float) -> float:
    """σ(x) = 1 / (1 + e⁻ˣ): squashes any number into a probability between 0 and 1.

    Compute it without overflow for every finite x: math.exp(1000) raises OverflowError, and
    for x = -1000, e⁻ˣ is exactly that. Find a form of the same function that only ever takes e
    to a power that is zero or negative.
    Domain: any finite float, even ±1e308.
    Worked number: sigmoid(0.0) == 0.5.
    """
    raise NotImplementedError("ch6_functions.sigmoid")


def sigmoid_grad(x: float) -> float:
    """The local derivative dσ/dx.

    Derive: write σ = (1 + e⁻ˣ)⁻¹, use the power rule and the chain rule, and then express the
    result with σ(x) itself. The slope is largest at 0 and fades on both sides.
    Domain: x in [-40, 40].
    Worked number: sigmoid_grad(0.0) == 0.25 (σ(0) = 0.5).
    """
    raise NotImplementedError("ch6_functions.sigmoid_grad")


def relu_grad(x: float) -> float:
    """The local derivative of ReLU(x) = max(0, x).

    ReLU is a switch: it passes positive inputs and blocks the rest, so its slope is either
    1 or 0. At exactly x = 0 the slope is not defined; the convention here, as in torch, is 0.0.
    Domain: x in [-10, 10]; x = 0 is always tried.
    Worked numbers: relu_grad(2.0) == 1.0, relu_grad(-3.0) == 0.0, relu_grad(0.0) == 0.0.
    """
    raise NotImplementedError("ch6_functions.relu_grad")


def log_grad(x: float) -> float:
    """The local derivative of ln(x).

    Derive: ln is the inverse of eˣ; or measure it with chapter 1's numeric_sensitivity and
    guess. The slope is huge near 0, which is why a loss built on ln punishes confident mistakes.
    Domain: x in [0.001, 1000] (x > 0).
    Worked number: log_grad(0.5) == 2.0.
    """
    raise NotImplementedError("ch6_functions.log_grad")


def scale_grad(a: float, x: float) -> float:
    """The local derivative of a·x with respect to x: a weight multiplying its input.

    Derive: chapter 1's machine ×a.
    Domain: a and x in [-10, 10].
    Worked number: scale_grad(3.0, 2.0) == 3.0.
    """
    raise NotImplementedError("ch6_functions.scale_grad")


def dot_self_grad(x: Tensor) -> Tensor:
    """The gradient of xᵀx = x₁² + x₂² + … (the squared length of x) with respect to x.

    Derive: entry i of the gradient is ∂(xᵀx)/∂xᵢ; only the term xᵢ² depends on xᵢ. This is
    the vector version of chapter 3's square_grad. Return a tensor of x's shape.
    Domain: x a 1-D float64 tensor of length 1 to 6, elements in [-5, 5].
    Worked number: dot_self_grad(tensor([1., 2., 3.])) == tensor([2., 4., 6.]).
    """
    raise NotImplementedError("ch6_functions.dot_self_grad")


def sigmoid_backward(x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of y = σ(x), elementwise: the gradient with respect to x.

    upstream holds ∂L/∂y for some later loss L, one entry per element of y. Each element of x
    only affects the element of y at the same position: upstream × local, elementwise.
    Domain: x of any shape (0-d to 3-d), elements in [-20, 20]; upstream of x's shape, in [-5, 5].
    Worked number: x = tensor([0.]), upstream = tensor([2.]) → tensor([0.5]).
    """
    raise NotImplementedError("ch6_functions.sigmoid_backward")


def relu_backward(x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of y = ReLU(x), elementwise.

    Where the switch was on (x > 0) the upstream gradient flows through unchanged; elsewhere,
    0 included, it stops. Build a new tensor; do not write into upstream.
    Domain: x of any shape (0-d to 3-d), elements in [-5, 5], zeros included; upstream of x's shape.
    Worked number: x = tensor([0., 1., -2.]), upstream = tensor([0.5, -1., 2.]) → tensor([0., -1., 0.]).
    """
    raise NotImplementedError("ch6_functions.relu_backward")


def log_backward(x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of y = ln(x), elementwise.

    Domain: x of any shape (0-d to 3-d), elements in [0.001, 1000]; upstream of x's shape.
    Worked number: x = tensor([0.5]), upstream = tensor([3.]) → tensor([6.]).
    """
    raise NotImplementedError("ch6_functions.log_backward")


def scale_backward(a: float, x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of y = a·x with respect to x (a is a float, x a tensor).

    Domain: a in [-10, 10]; x of any shape (0-d to 3-d), elements in [-5, 5]; upstream of x's shape.
    Worked number: a = 3, x = tensor([1., 2.]), upstream = tensor([0.5, -1.]) → tensor([1.5, -3.]).
    """
    raise NotImplementedError("ch6_functions.scale_backward")


def dot_self_backward(x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of y = xᵀx: a single number out, so upstream is a 0-d tensor.

    Derive: the local gradient is dot_self_grad(x); the one upstream value scales all of it.
    Domain: x a 1-D tensor of length 1 to 6, elements in [-5, 5]; upstream a 0-d tensor in [-5, 5].
    Worked number: x = tensor([1., 2., 3.]), upstream = tensor(0.5) → tensor([1., 2., 3.]).
    """
    raise NotImplementedError("ch6_functions.dot_self_backward")
