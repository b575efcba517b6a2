"""Chapter 6, important functions: σ, ReLU, ln, xᵀx and a·x; local derivatives, then backward steps."""
import hypothesis.strategies as st
import torch

from kit.diagnosis import Misconception, forward_value, off_by, without_upstream
from kit.exercise import Exercise
from kit.reference import backward_estimate, backward_step, derivative, gradients, slope_estimate
from kit.strategies import finite, positive, reals, shapes, tensors, upstream_tensors

vectors = shapes(min_dims=1, max_dims=1, max_side=6)  # 1-D, length 1 to 6
any_shape = shapes(min_dims=0, max_dims=3, max_side=4)  # 0-d to 3-d, sides 1 to 4
kinked = st.one_of(st.just(0.0), reals())  # ReLU's kink at exactly 0 is tried often


def x_and_upstream(low=-20.0, high=20.0, shape=any_shape):
    return shape.flatmap(lambda s: st.tuples(tensors(s, low, high), upstream_tensors(s)))


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def _sigmoid(x):  # σ on floats, for the misconceptions' answers
    return torch.sigmoid(torch.tensor(x, dtype=torch.float64)).item()


def _kink_open(x, upstream):
    return upstream * (x >= 0).to(torch.float64)


LOCAL_ALONE = "You returned the local derivative alone: multiply it by the upstream gradient (upstream × local)."


EXERCISES: list[Exercise] = []


def sigmoid(x):
    return torch.sigmoid(torch.tensor(x, dtype=torch.float64)).item()


EXERCISES.append(Exercise(
    module="ch6_functions", name="sigmoid", reference=sigmoid,
    inputs=st.tuples(finite()),
    examples=((0.0,), (-1000.0,), (1000.0,)),
    domain="any finite float, from -1.8e308 to 1.8e308",
    hint="e raised to a large power overflows: for negative x, rewrite 1 / (1 + e⁻ˣ) so that "
         "only e to a negative power is computed.",
    curve=(-8.0, 8.0, lambda t: (t,)),
    more="For x < 0, multiply the top and bottom of 1 / (1 + e⁻ˣ) by eˣ: eˣ / (eˣ + 1) "
         "only needs eˣ, which is small there.",
    misconceptions=(Misconception("You returned the slope σ(x)·(1 - σ(x)); this exercise asks "
                                  "for σ(x) itself.", lambda x: _sigmoid(x) * (1 - _sigmoid(x))),),
))


def sigmoid_grad(x):
    return derivative(torch.sigmoid)(x)


EXERCISES.append(Exercise(
    module="ch6_functions", name="sigmoid_grad", reference=sigmoid_grad,
    inputs=st.tuples(reals(-40.0, 40.0)),
    examples=((0.0,), (2.0,)),
    domain="x in [-40, 40]",
    hint="The slope of σ can be written with σ itself; at 0 it is 0.25, and it fades on both sides.",
    curve=(-8.0, 8.0, lambda t: (t,)),
    more="dσ/dx = σ(x)·(1 - σ(x)): compute σ(x) once (your sigmoid) and reuse it.",
    misconceptions=(
        forward_value(_sigmoid, "σ(x)"),
        Misconception("A sign is flipped: you computed σ(x)·(1 + σ(x)); the slope is "
                      "σ(x)·(1 - σ(x)).", lambda x: _sigmoid(x) * (1 + _sigmoid(x))),
        Misconception("The square in the denominator is missing: d/dx (1 + e⁻ˣ)⁻¹ is "
                      "e⁻ˣ / (1 + e⁻ˣ)².", lambda x: 1 - _sigmoid(x)),
    ),
    estimate=slope_estimate(torch.sigmoid),
))


def relu_grad(x):
    return derivative(torch.relu)(x)


EXERCISES.append(Exercise(
    module="ch6_functions", name="relu_grad", reference=relu_grad,
    inputs=st.tuples(kinked),
    examples=((0.0,), (2.0,), (-3.0,)),
    domain="x in [-10, 10], with x = 0 tried every time",
    hint="ReLU is a switch: a slope of 1 where it lets x through, 0 where it blocks; at exactly "
         "0, torch calls the switch off.",
    curve=(-3.0, 3.0, lambda t: (t,)),
    more="Return 1.0 when x > 0 and 0.0 otherwise, 0 included.",
    misconceptions=(
        Misconception("At exactly x = 0 you returned 1; the convention here, as in torch, is 0.",
                      lambda x: 1.0 if x >= 0 else 0.0),
        forward_value(lambda x: max(0.0, x), "max(0, x)"),
    ),
))


def log_grad(x):
    return derivative(torch.log)(x)


EXERCISES.append(Exercise(
    module="ch6_functions", name="log_grad", reference=log_grad,
    inputs=st.tuples(positive()),
    examples=((1.0,), (0.5,)),
    domain="x in [0.001, 1000] (x > 0)",
    hint="The smaller x is, the steeper ln climbs; the slope at x = 2 is one half.",
    curve=(0.1, 5.0, lambda t: (t,)),
    more="d ln(x)/dx = 1/x.",
    misconceptions=(
        forward_value(lambda x: float(torch.log(torch.tensor(x, dtype=torch.float64))), "ln(x)"),
        Misconception("You returned -1/x², the slope of 1/x; the slope of ln(x) is 1/x itself.",
                      lambda x: -1.0 / x ** 2),
    ),
    estimate=slope_estimate(torch.log),
))


def scale_grad(a, x):
    return derivative(lambda x, a: a * x)(x, a)


EXERCISES.append(Exercise(
    module="ch6_functions", name="scale_grad", reference=scale_grad,
    inputs=st.tuples(reals(), reals()),
    examples=((3.0, 2.0),),
    domain="a and x in [-10, 10]",
    hint="a·x is chapter 1's machine ×a: its sensitivity to x does not depend on x.",
    curve=(-5.0, 5.0, lambda t: (3.0, t)),
    more="The slope of a·x with respect to x is a.",
    misconceptions=(
        forward_value(lambda a, x: a * x, "a·x"),
        Misconception("You returned x, the slope with respect to a; the question is about x.",
                      lambda a, x: x),
    ),
    estimate=slope_estimate(lambda a, x: a * x, wrt=1),
))


def dot_self_grad(x):
    return gradients(lambda x: torch.dot(x, x), x)[0]


EXERCISES.append(Exercise(
    module="ch6_functions", name="dot_self_grad", reference=dot_self_grad,
    inputs=st.tuples(tensors(vectors)),
    examples=((t(1.0, 2.0, 3.0),),),
    domain="x a 1-D float64 tensor of length 1 to 6, elements in [-5, 5]",
    hint="xᵀx is x₁² + x₂² + …; each xᵢ appears in one square only, so each entry is a "
         "chapter 3 slope. Return a tensor of x's shape.",
    more="Entry i is d(xᵢ²)/dxᵢ = 2xᵢ: the whole gradient is 2x.",
    misconceptions=(off_by(dot_self_grad, 0.5, "You returned x: the factor 2 of each square's "
                                               "slope is missing."),),
    estimate=slope_estimate(lambda x: torch.dot(x, x)),
))


def sigmoid_backward(x, upstream):
    return backward_step(torch.sigmoid)(x, upstream)


EXERCISES.append(Exercise(
    module="ch6_functions", name="sigmoid_backward", reference=sigmoid_backward,
    inputs=x_and_upstream(),
    examples=((t(0.0, 1.0, -2.0), t(0.5, -1.0, 2.0)),),
    domain="x any shape (0-d to 3-d), elements in [-20, 20]; upstream of x's shape, in [-5, 5]",
    hint="Upstream × local, element by element: multiply each upstream entry by σ'(x) at the "
         "same position.",
    more="s = σ(x) elementwise (torch.sigmoid is fine for the forward value); return "
         "upstream * s * (1 - s).",
    misconceptions=(
        without_upstream(sigmoid_backward),
        Misconception("You multiplied upstream by σ(x), the forward value; the local "
                      "derivative is σ's slope.", lambda x, upstream: upstream * torch.sigmoid(x)),
    ),
    estimate=backward_estimate(torch.sigmoid),
))


def relu_backward(x, upstream):
    return backward_step(torch.relu)(x, upstream)


EXERCISES.append(Exercise(
    module="ch6_functions", name="relu_backward", reference=relu_backward,
    inputs=x_and_upstream(-5.0, 5.0),
    examples=((t(0.0, 1.0, -2.0), t(0.5, -1.0, 2.0)),),
    domain="x any shape (0-d to 3-d), elements in [-5, 5] with zeros; upstream of x's shape",
    hint="The switch lets the upstream gradient through where x > 0 and stops it elsewhere; "
         "build a new tensor rather than changing upstream.",
    more="upstream * (x > 0) does it, once the mask is turned into float64.",
    misconceptions=(
        without_upstream(relu_backward),
        Misconception("At x = 0 you let the gradient through; torch stops it there (x > 0, "
                      "not x >= 0).", _kink_open),
    ),
))


def log_backward(x, upstream):
    return backward_step(torch.log)(x, upstream)


EXERCISES.append(Exercise(
    module="ch6_functions", name="log_backward", reference=log_backward,
    inputs=any_shape.flatmap(lambda s: st.tuples(tensors(s, 1e-3, 1e3), upstream_tensors(s))),
    examples=((t(1.0, 0.5, 4.0), t(0.5, -1.0, 2.0)),),
    domain="x any shape (0-d to 3-d), elements in [0.001, 1000]; upstream of x's shape",
    hint="Upstream × local again, with ln's local slope at each element of x.",
    more="upstream / x.",
    misconceptions=(
        without_upstream(log_backward),
        Misconception("You multiplied upstream by x; ln's local slope is 1/x, so divide.",
                      lambda x, upstream: upstream * x),
    ),
    estimate=backward_estimate(torch.log),
))


def scale_backward(a, x, upstream):
    return backward_step(lambda a, x: a * x)(a, x, upstream)


EXERCISES.append(Exercise(
    module="ch6_functions", name="scale_backward", reference=scale_backward,
    inputs=st.tuples(reals(), x_and_upstream(-5.0, 5.0)).map(lambda p: (p[0], *p[1])),
    examples=((3.0, t(1.0, 2.0), t(0.5, -1.0)),),
    domain="a in [-10, 10]; x any shape (0-d to 3-d) in [-5, 5]; upstream of x's shape",
    hint="Each output element is a times its input element, so its local slope is the same "
         "everywhere; the answer is a tensor of x's shape.",
    more="a * upstream.",
    misconceptions=(
        without_upstream(scale_backward),
        Misconception("You passed upstream through unchanged; every element was multiplied by "
                      "a on the way forward, so its gradient is too.", lambda a, x, upstream: upstream),
        Misconception("You multiplied by the forward value a·x; the local derivative of a·x "
                      "with respect to x is a alone.", lambda a, x, upstream: a * x * upstream),
    ),
    estimate=backward_estimate(lambda a, x: a * x),
))


def dot_self_backward(x, upstream):
    return gradients(lambda x: torch.dot(x, x), x, upstream=upstream)[0]


EXERCISES.append(Exercise(
    module="ch6_functions", name="dot_self_backward", reference=dot_self_backward,
    inputs=vectors.flatmap(lambda s: st.tuples(tensors(s), upstream_tensors(()))),
    examples=((t(1.0, 2.0, 3.0), torch.tensor(0.5, dtype=torch.float64)),),
    domain="x a 1-D tensor of length 1 to 6 in [-5, 5]; upstream a 0-d tensor in [-5, 5]",
    hint="The output is a single number, so the one upstream value scales the whole local "
         "gradient of xᵀx.",
    more="2 * upstream * x.",
    misconceptions=(
        without_upstream(dot_self_backward),
        off_by(dot_self_backward, 0.5, "The factor 2 of xᵀx's gradient is missing."),
    ),
    estimate=backward_estimate(lambda x: torch.dot(x, x)),
))
