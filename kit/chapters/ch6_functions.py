"""Chapter 6, important functions: σ, ReLU, ln, xᵀx and a·x; local derivatives, then backward steps."""
import hypothesis.strategies as st
import torch

from kit.exercise import Exercise
from kit.reference import backward_step, derivative, gradients
from kit.strategies import finite, positive, reals, shapes, tensors

vectors = shapes(min_dims=1, max_dims=1, max_side=6)  # 1-D, length 1 to 6
any_shape = shapes(min_dims=0, max_dims=3, max_side=4)  # 0-d to 3-d, sides 1 to 4
kinked = st.one_of(st.just(0.0), reals())  # ReLU's kink at exactly 0 is tried often


def x_and_upstream(low=-20.0, high=20.0, shape=any_shape):
    return shape.flatmap(lambda s: st.tuples(tensors(s, low, high), tensors(s)))


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def sigmoid(x):
    return torch.sigmoid(torch.tensor(x, dtype=torch.float64)).item()


def sigmoid_grad(x):
    return derivative(torch.sigmoid)(x)


def relu_grad(x):
    return derivative(torch.relu)(x)


def log_grad(x):
    return derivative(torch.log)(x)


def scale_grad(a, x):
    return derivative(lambda x, a: a * x)(x, a)


def dot_self_grad(x):
    return gradients(lambda x: torch.dot(x, x), x)[0]


def sigmoid_backward(x, upstream):
    return backward_step(torch.sigmoid)(x, upstream)


def relu_backward(x, upstream):
    return backward_step(torch.relu)(x, upstream)


def log_backward(x, upstream):
    return backward_step(torch.log)(x, upstream)


def scale_backward(a, x, upstream):
    return backward_step(lambda a, x: a * x)(a, x, upstream)


def dot_self_backward(x, upstream):
    return gradients(lambda x: torch.dot(x, x), x, upstream=upstream)[0]


def _exercise(name, inputs, examples, domain, hint, **more):
    return Exercise("ch6_functions", name, inputs=inputs, reference=globals()[name],
                    examples=examples, domain=domain, hint=hint, **more)


EXERCISES = [
    _exercise("sigmoid", st.tuples(finite()), ((0.0,), (-1000.0,), (1000.0,)),
              "any finite float, from -1.8e308 to 1.8e308",
              "e raised to a large power overflows: for negative x, rewrite 1 / (1 + e⁻ˣ) so that "
              "only e to a negative power is computed."),
    _exercise("sigmoid_grad", st.tuples(reals(-40.0, 40.0)), ((0.0,), (2.0,)),
              "x in [-40, 40]",
              "The slope of σ can be written with σ itself; at 0 it is 0.25, and it fades on both sides."),
    _exercise("relu_grad", st.tuples(kinked), ((0.0,), (2.0,), (-3.0,)),
              "x in [-10, 10], with x = 0 tried every time",
              "ReLU is a switch: a slope of 1 where it lets x through, 0 where it blocks; at exactly "
              "0, torch calls the switch off."),
    _exercise("log_grad", st.tuples(positive()), ((1.0,), (0.5,)),
              "x in [0.001, 1000] (x > 0)",
              "The smaller x is, the steeper ln climbs; the slope at x = 2 is one half."),
    _exercise("scale_grad", st.tuples(reals(), reals()), ((3.0, 2.0),),
              "a and x in [-10, 10]",
              "a·x is chapter 1's machine ×a: its sensitivity to x does not depend on x."),
    _exercise("dot_self_grad", st.tuples(tensors(vectors)), ((t(1.0, 2.0, 3.0),),),
              "x a 1-D float64 tensor of length 1 to 6, elements in [-5, 5]",
              "xᵀx is x₁² + x₂² + …; each xᵢ appears in one square only, so each entry is a "
              "chapter 3 slope. Return a tensor of x's shape."),
    _exercise("sigmoid_backward", x_and_upstream(), ((t(0.0, 1.0, -2.0), t(0.5, -1.0, 2.0)),),
              "x any shape (0-d to 3-d), elements in [-20, 20]; upstream of x's shape, in [-5, 5]",
              "Upstream × local, element by element: multiply each upstream entry by σ'(x) at the "
              "same position."),
    _exercise("relu_backward", x_and_upstream(-5.0, 5.0), ((t(0.0, 1.0, -2.0), t(0.5, -1.0, 2.0)),),
              "x any shape (0-d to 3-d), elements in [-5, 5] with zeros; upstream of x's shape",
              "The switch lets the upstream gradient through where x > 0 and stops it elsewhere; "
              "build a new tensor rather than changing upstream."),
    _exercise("log_backward", any_shape.flatmap(lambda s: st.tuples(tensors(s, 1e-3, 1e3), tensors(s))),
              ((t(1.0, 0.5, 4.0), t(0.5, -1.0, 2.0)),),
              "x any shape (0-d to 3-d), elements in [0.001, 1000]; upstream of x's shape",
              "Upstream × local again, with ln's local slope at each element of x."),
    _exercise("scale_backward", st.tuples(reals(), x_and_upstream(-5.0, 5.0)).map(lambda p: (p[0], *p[1])),
              ((3.0, t(1.0, 2.0), t(0.5, -1.0)),),
              "a in [-10, 10]; x any shape (0-d to 3-d) in [-5, 5]; upstream of x's shape",
              "Each output element is a times its input element, so its local slope is the same "
              "everywhere; the answer is a tensor of x's shape."),
    _exercise("dot_self_backward", vectors.flatmap(lambda s: st.tuples(tensors(s), tensors(()))),
              ((t(1.0, 2.0, 3.0), torch.tensor(0.5, dtype=torch.float64)),),
              "x a 1-D tensor of length 1 to 6 in [-5, 5]; upstream a 0-d tensor in [-5, 5]",
              "The output is a single number, so the one upstream value scales the whole local "
              "gradient of xᵀx."),
]
