"""Chapter 7's exercises: each torch reference, followed by its declaration (and its mistakes)."""
from __future__ import annotations

from kit.chapters.ch7_engine.graphs import WORKED_GRAPHS, graphs
from kit.chapters.ch7_engine.inputs import binary_inputs, power_inputs, unary_inputs
from kit.chapters.ch7_engine.mistakes import (
    breadth_first,
    mistaken_walk,
    pre_order,
    reversed_topological,
    reversed_with_repeats,
    step_mistakes,
    topological,
)
from kit.chapters.ch7_engine.pictures import graph_picture
from kit.chapters.ch7_engine.references import graph_estimate, step_estimate, torch_step
from kit.diagnosis import Misconception
from kit.drivers import Held, SameAsA, run_step
from kit.exercise import Exercise
from kit.known_engine import GRADED, run_backward
from kit.reference import leaf
from kit.strategies import positive, reals

EXERCISES: list[Exercise] = []

# what every step exercise shares: one node of the learner's Value, built and sent back once
STEP = dict(module="ch7_engine", symbol="Value", run=run_step)


def add(a, b, out_grad):
    return torch_step("add", (a, b), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="add", reference=add,
    methods=tuple(GRADED["add"].methods),
    inputs=binary_inputs(),
    examples=((Held(2.0, 0.5), Held(-3.0, 0.25), 1.5), (Held(2.0, 0.5), SameAsA(), 1.5),
              (Held(2.0, 0.5), 1, -2.0), (3, Held(-1.0, 1.0), 0.5)),
    domain="a and b Values with data in [-10, 10] and a grad they already hold in [-3, 3], b the same "
           "Value as a, or one of them a number (float or int in [-5, 5]); out.grad in [-5, 5]",
    hint="How far does a + b move when one input moves by 1? Each input adds its share to the grad "
         "it already holds, and a + a means two shares for a.",
    more="Both inputs move the sum one for one: self.grad += out.grad and other.grad += out.grad.",
    misconceptions=step_mistakes(
        "add",
        ("Only self received its share: other, the right input, moves the sum one for one as well and "
         "needs out.grad too.", lambda x, y, out: (1.0, 0.0)),
    ),
    estimate=step_estimate("add"),
))


def mul(a, b, out_grad):
    return torch_step("mul", (a, b), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="mul", reference=mul,
    methods=tuple(GRADED["mul"].methods),
    inputs=binary_inputs(),
    examples=((Held(2.0, 0.5), Held(3.0, -1.0), 2.0), (Held(-1.5, 0.5), SameAsA(), 2.0),
              (Held(2.0, 0.5), 4, -1.0), (-2.5, Held(3.0, 1.0), 0.5)),
    domain="as for add: Values with data in [-10, 10] and a grad already held, the same Value twice, "
           "or a number on either side; out.grad in [-5, 5]",
    hint="Think of the hourly wage, pay = hours × wage: what does one more hour add, and what does a "
         "raise of 1 add? Each share is added to the grad the input already holds.",
    more="self.grad += other.data * out.grad and other.grad += self.data * out.grad: each input's "
         "local derivative is the other input.",
    misconceptions=step_mistakes(
        "mul",
        ("Each input got its own data as its local derivative; the hourly wage says it is the other "
         "input's data (one more hour adds the wage).", lambda x, y, out: (x, y)),
        ("You used the product a·b, the forward value, as the local derivative; it is the other "
         "input's data.", lambda x, y, out: (out, out)),
    ),
    estimate=step_estimate("mul"),
))


def pow(a, n, out_grad):  # noqa: A001 (the exercise's name)
    return torch_step("pow", (a, n), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="pow", reference=pow,
    methods=tuple(GRADED["pow"].methods),
    inputs=power_inputs(),
    examples=((Held(3.0, 0.5), 2, 1.5), (Held(-2.0, 1.0), 3, -0.5), (Held(4.0, 0.25), 0.5, 2.0),
              (Held(0.5, -1.0), -1, 1.5), (Held(1.5, 0.5), 0, 2.0)),
    domain="a ** n with n an int in [-3, 4] and a in [-3, 3], |a| >= 0.1; or n a float in [-3, 3] and "
           "a in [0.1, 5]; a grad already held; out.grad in [-5, 5]",
    hint="Chapter 3's power rule holds for every real n, negative and fractional ones too; n is a "
         "plain number, so only a receives a share.",
    more="self.grad += n * self.data ** (n - 1) * out.grad.",
    misconceptions=step_mistakes(
        "pow",
        ("The factor n is missing: the power rule brings n down in front, n·aⁿ⁻¹.",
         lambda x, n, out: (x ** (n - 1), 0.0)),
        ("You kept the power n: the power rule lowers it by one, n·aⁿ⁻¹.",
         lambda x, n, out: (n * x ** n, 0.0)),
    ),
    estimate=step_estimate("pow"),
))


def exp(a, out_grad):
    return torch_step("exp", (a,), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="exp", reference=exp,
    methods=tuple(GRADED["exp"].methods),
    inputs=unary_inputs(reals(-5.0, 5.0)),
    examples=((Held(0.0, 0.5), 2.0), (Held(1.0, -1.0), 0.5)),
    domain="a in [-5, 5] with a grad already held; out.grad in [-5, 5]",
    hint="eˣ is the function that is its own slope, and the forward pass has already computed it.",
    more="self.grad += out.data * out.grad: the slope of eˣ is eˣ, the output itself.",
    misconceptions=step_mistakes(
        "exp",
        ("You used the input a as the local derivative; the slope of eˣ is eˣ, which is out.data.",
         lambda x, out: (x,)),
    ),
    estimate=step_estimate("exp"),
))


def log(a, out_grad):
    return torch_step("log", (a,), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="log", reference=log,
    methods=tuple(GRADED["log"].methods),
    inputs=unary_inputs(positive(1e-2, 1e2)),
    examples=((Held(2.0, 0.5), 3.0), (Held(0.25, -1.0), 0.5)),
    domain="a in [0.01, 100] with a grad already held; out.grad in [-5, 5]",
    hint="The slope of ln at a is chapter 6's log_grad; it is not ln(a), the forward value.",
    more="self.grad += out.grad / self.data: the slope of ln(x) is 1/x.",
    misconceptions=step_mistakes(
        "log",
        ("You used ln(a), the forward value, as the local derivative; the slope of ln is 1/a.",
         lambda x, out: (out,)),
        ("You multiplied by a where the slope of ln divides by it: 1/a.", lambda x, out: (x,)),
    ),
    estimate=step_estimate("log"),
))


def relu(a, out_grad):
    return torch_step("relu", (a,), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="relu", reference=relu,
    methods=tuple(GRADED["relu"].methods),
    inputs=unary_inputs(reals(-5.0, 5.0)),
    examples=((Held(2.0, 0.5), 3.0), (Held(-1.0, 0.5), 3.0), (Held(0.0, 0.5), 3.0)),
    domain="a in [-5, 5], exactly 0 included, with a grad already held; out.grad in [-5, 5]",
    hint="ReLU is a switch: gradient passes only where the input was strictly positive, and at "
         "exactly 0 it does not pass (as in torch).",
    more="self.grad += (1.0 if self.data > 0 else 0.0) * out.grad; note > and not >=.",
    misconceptions=step_mistakes(
        "relu",
        ("At exactly 0 you let the gradient through; torch (and the curriculum) use the slope 0 there: "
         "test self.data > 0, not >= 0.", lambda x, out: (1.0 if x >= 0 else 0.0,)),
        ("You used max(0, a), the forward value, as the local derivative; the slope is 1 where a > 0 "
         "and 0 elsewhere.", lambda x, out: (out,)),
        ("The gradient passed for negative inputs too: where ReLU outputs 0 whatever the input, its "
         "slope is 0.", lambda x, out: (1.0,)),
    ),
    estimate=None,  # a nudge straddles the kink at 0
))


def sigmoid(a, out_grad):
    return torch_step("sigmoid", (a,), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="sigmoid", reference=sigmoid,
    methods=tuple(GRADED["sigmoid"].methods),
    inputs=unary_inputs(reals(-10.0, 10.0)),
    examples=((Held(0.0, 0.5), 2.0), (Held(3.0, -1.0), 0.5)),
    domain="a in [-10, 10] with a grad already held; out.grad in [-5, 5]",
    hint="Chapter 6's σ' is written with σ(a), which this node already holds in out.data; it is "
         "largest at 0 and never negative.",
    more="self.grad += out.data * (1 - out.data) * out.grad.",
    misconceptions=step_mistakes(
        "sigmoid",
        ("A sign is flipped: you computed σ(σ - 1), which is never positive; the slope is σ(1 - σ).",
         lambda x, out: (out * (out - 1),)),
        ("You used σ(a), the forward value, as the local derivative; the slope is σ(a)·(1 - σ(a)).",
         lambda x, out: (out,)),
    ),
    estimate=step_estimate("sigmoid"),
))


def tanh(a, out_grad):
    return torch_step("tanh", (a,), out_grad)


EXERCISES.append(Exercise(
    **STEP, name="tanh", reference=tanh,
    methods=tuple(GRADED["tanh"].methods),
    inputs=unary_inputs(reals(-5.0, 5.0)),
    examples=((Held(0.0, 0.5), 2.0), (Held(0.5, -1.0), 1.5)),
    domain="a in [-5, 5] with a grad already held; out.grad in [-5, 5]",
    hint="The slope of tanh is written with tanh(a) itself, the output of the node, not with its "
         "input a.",
    more="self.grad += (1 - out.data ** 2) * out.grad.",
    misconceptions=step_mistakes(
        "tanh",
        ("You computed 1 - a², with the input a; the slope is 1 - tanh²(a), with the output, out.data.",
         lambda x, out: (1 - x ** 2,)),
        ("You used tanh(a), the forward value, as the local derivative; the slope is 1 - tanh²(a).",
         lambda x, out: (out,)),
    ),
    estimate=step_estimate("tanh"),
))


def backward(graph):
    nodes = graph.build(leaf)
    nodes[-1].retain_grad()
    nodes[-1].backward()
    return graph.answer(nodes, lambda t: t.item(), lambda t: 0.0 if t.grad is None else t.grad.item())


EXERCISES.append(Exercise(
    module="ch7_engine", name="backward", reference=backward, symbol="Value", run=run_backward,
    # and the operators built from the graded ones, which the curriculum grades under backward
    methods=("backward", "__neg__", "__sub__", "__rsub__", "__truediv__", "__rtruediv__"),
    inputs=graphs().map(lambda graph: (graph,)),
    examples=tuple((graph,) for graph in WORKED_GRAPHS),
    domain="graphs of 1 to 3 fresh leaves (grad 0) in [-2, 2] and 1 to 7 operations: every "
           "operator, including -a, a - b and a / b, constants on either side, nodes used "
           "several times; logs, fractional powers and divisions only of values at least 0.25 "
           "from 0, every value within ±20",
    hint="Put the nodes in an order where each comes after every node it was made from, set "
         "out.grad = 1.0, then run each node's _backward exactly once, from out back to the "
         "leaves.",
    more="List the nodes depth first, appending a node after visiting its _prev and skipping "
         "nodes already seen; set self.grad = 1.0; call _backward on the list reversed.",
    misconceptions=(
        Misconception("out.grad was never set to 1.0, so nothing flowed: every gradient of the walk "
                      "starts from d out/d out = 1.", mistaken_walk(reversed_topological, start=False)),
        Misconception("You ran each node's _backward as soon as your walk reached it; a node must "
                      "wait until every node made from it has sent its share. List the whole "
                      "topological order first, then run it in reverse.", mistaken_walk(pre_order)),
        Misconception("You walked breadth first from out: a node reached early along a short path ran "
                      "before a longer path brought its share. Use a topological order.",
                      mistaken_walk(breadth_first)),
        Misconception("A node reached along two paths ran its _backward twice and sent its share "
                      "twice: keep a set of visited nodes, so each one is listed once.",
                      mistaken_walk(reversed_with_repeats)),
        Misconception("You ran the topological order from the leaves up; reverse it, so that out "
                      "goes first and the leaves last.", mistaken_walk(topological)),
    ),
    estimate=graph_estimate,
    tolerance="accumulated",
    picture=graph_picture,
))
