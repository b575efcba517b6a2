"""Chapter 7, an autograd engine: a scalar `Value` that remembers how it was made and sends
gradient back to the Values it was made from.

Every exercise needs the learner's class, `module.Value` (symbol "Value"), and each is graded
on its own, so one broken piece never zeroes another.

The eight operations (add, mul, pow, exp, log, relu, sigmoid, tanh), one node at a time
(`run_step`): the driver makes the inputs with the learner's Value and gives each a grad it
already holds (never 0, so `=` where `+=` belongs is seen), builds the one operation, sets
out.grad to a random upstream number and calls `out._backward()` once. The answer is
`{"out.data", "a.grad", "b.grad"}`, a grad for each input that is a Value. An input may be a
number on either side (`2 * a`, `a + 1`) or the same Value twice (`a * a`, `a + a`). torch
(`torch_step`) does the same with leaves whose `.grad` is set beforehand: backward adds into it.
The learner's `backward()` is never called.

`backward`, on small expression graphs (`Graph`: plain data, built by the driver with the
learner's Value and by the reference with torch). Only the traversal is graded: the driver
builds the graph with `known_engine(Value)`, a subclass of the learner's class whose graded
operations run the learner's own method (forward value, `_prev`) and then give the new node a
`_backward` known to be right (`known_backward`: the kit's LOCAL_DERIVATIVES of the operands'
numbers, by hand, since drivers run in the grading sandbox where autograd is blocked). A node
the learner's method makes is of the learner's class; it is moved into the subclass
(`out.__class__ = Known`, which adds no slots) so that the operations applied to it later are
the subclass's too. `-a`, `a - b`, `a / b`, `1 - a`, `2 / a` are built from the graded
operations in the stub, so their nodes go backward correctly as well; a learner who rewrites
one of them with a `_backward` of its own keeps it, and it is graded here, as the curriculum
puts them under `backward`. The graph is made of fresh Values (every grad 0), so
`out.backward()` must set out.grad = 1.0 itself, and run each `_backward` once, after every
node made from it. The answer is `{"out.data", "out.grad", "a.grad", ...}` for every leaf.
"""
from __future__ import annotations

import math

import hypothesis.strategies as st
import torch

from kit.diagnosis import Misconception
from kit.drivers import OPERATIONS, Graph, Held, SameAsA, held_grads, make_operands, run_step
from kit.exercise import Exercise
from kit.known_engine import LOCAL_DERIVATIVES, known_engine, run_backward, sigmoid
from kit.reference import as_tensor, leaf, nudged
from kit.strategies import positive, reals, upstream

# ---------------------------------------------------------------------------------------------
# One operation: its inputs, the driver and the torch reference.

def torch_step(operation: str, operands, out_grad) -> dict:
    """The same step in torch: each input's .grad is set first, and backward adds into it."""
    def make(held):
        t = leaf(held.data)
        t.grad = as_tensor(float(held.grad))
        return t

    made = make_operands(operands, make)
    out = OPERATIONS[operation](*made)
    # out_grad·out, not out.backward(out_grad): the same numbers, and torch then skips a
    # check of the gradient's shape whose first use imports sympy (about a second)
    (out * float(out_grad)).backward()
    return {"out.data": out.item(), **held_grads(operands, made, lambda t: t.grad.item())}


def binary(operation: str):
    def reference(a, b, out_grad):
        return torch_step(operation, (a, b), out_grad)
    reference.__name__ = operation
    return reference


def power(a, n, out_grad):
    return torch_step("pow", (a, n), out_grad)


def unary(operation: str):
    def reference(a, out_grad):
        return torch_step(operation, (a,), out_grad)
    reference.__name__ = operation
    return reference


def held(data: st.SearchStrategy) -> st.SearchStrategy[Held]:
    """A Value with a gradient already in it, never 0, so `=` instead of `+=` is seen."""
    return st.builds(Held, data, reals(-3.0, 3.0).filter(lambda g: abs(g) >= 0.1))


def binary_inputs() -> st.SearchStrategy[tuple]:
    """(a, b, out_grad): two Values, one Value twice, or a Value and a number on either side."""
    data, number = reals(), st.one_of(reals(), st.integers(-5, 5))
    return st.one_of(
        st.tuples(held(data), held(data), upstream()),
        st.tuples(held(data), st.just(SameAsA()), upstream()),
        st.tuples(held(data), number, upstream()),
        st.tuples(number, held(data), upstream()),
    )


def power_inputs() -> st.SearchStrategy[tuple]:
    """(a, n, out_grad): an integer n for any a away from 0, a real n for a > 0."""
    away_from_0 = reals(-3.0, 3.0).filter(lambda x: abs(x) >= 0.1)
    return st.one_of(
        st.tuples(held(away_from_0), st.integers(-3, 4), upstream()),
        st.tuples(held(positive(0.1, 5.0)), reals(-3.0, 3.0), upstream()),
    )


def unary_inputs(data: st.SearchStrategy) -> st.SearchStrategy[tuple]:
    return st.tuples(held(data), upstream())


# ---------------------------------------------------------------------------------------------
# Expression graphs for `backward`.

def backward(graph):
    nodes = graph.build(leaf)
    nodes[-1].retain_grad()
    nodes[-1].backward()
    return graph.answer(nodes, lambda t: t.item(), lambda t: 0.0 if t.grad is None else t.grad.item())


BOUND = 20.0  # every value in a drawn graph stays within ±BOUND
AWAY = 0.25  # logs, fractional powers and divisions only of values at least this far from 0


def allowed(operation: str, operands: list, result: torch.Tensor) -> bool:
    """Whether a drawn step stays in a domain where the learner's floats and torch's agree."""
    x = float(operands[0])
    if operation == "log" and x < AWAY:
        return False
    if operation == "pow":
        n = operands[1]
        if (n != int(n) and x < AWAY) or (n < 0 and abs(x) < AWAY):
            return False
    if operation == "truediv" and abs(float(operands[1])) < AWAY:
        return False
    if operation == "relu" and abs(x) < 0.01:  # rounding must not decide which side of the kink
        return False
    return math.isfinite(float(result)) and abs(float(result)) <= BOUND


def _rounded(low: float, high: float) -> st.SearchStrategy[float]:
    return reals(low, high).map(lambda v: round(v, 2) + 0.0)  # + 0.0: never -0.0


# The strategies a graph is drawn from, made once: hypothesis is slow to draw from new ones.
LEAVES = st.lists(_rounded(-2.0, 2.0), min_size=1, max_size=3)
STEP_COUNTS = st.integers(1, 7)
OPERATION_NAMES = st.sampled_from(sorted(OPERATIONS))
NOT_NEWEST = st.integers(0, 3)  # 0 in 4: the first operand is any node, not the newest
NODE_BEFORE = [st.integers(0, last) for last in range(10)]  # 3 leaves + 7 steps
FORMS = st.sampled_from(["nodes", "constant right", "constant left"])
CONSTANTS = _rounded(-3.0, 3.0)
EXPONENTS = st.sampled_from([2.0, 3.0, -1.0, 0.5, 1.5, -0.5])


@st.composite
def graphs(draw) -> Graph:
    """Graphs of up to 3 leaves and 7 operations: chains, diamonds, reuse, constants either side.

    A step is drawn, then checked with `allowed`; one that leaves the domain becomes a tanh
    of its first operand instead, which is always allowed.
    """
    leaves = tuple(draw(LEAVES))
    values = [torch.tensor(x, dtype=torch.float64) for x in leaves]
    steps = []
    for _ in range(draw(STEP_COUNTS)):
        last = len(values) - 1
        operation = draw(OPERATION_NAMES)
        # mostly the newest node, so the steps make one deep chain that ends in out; a second
        # operand from anywhere makes diamonds, and the newest again makes a * a
        first = last if draw(NOT_NEWEST) else draw(NODE_BEFORE[last])
        if operation == "pow":
            operands = (first, draw(EXPONENTS))
        elif operation in ("add", "mul", "sub", "truediv"):
            form = draw(FORMS)
            other = draw(NODE_BEFORE[last]) if form == "nodes" else draw(CONSTANTS)
            operands = (other, first) if form == "constant left" else (first, other)
        else:
            operands = (first,)
        inputs = [values[o] if isinstance(o, int) else o for o in operands]
        result = OPERATIONS[operation](*inputs)
        if not allowed(operation, inputs, result):
            operation, operands = "tanh", (first,)
            result = values[first].tanh()
        steps.append((operation, operands))
        values.append(result)
    return Graph(leaves, tuple(steps))


# ---------------------------------------------------------------------------------------------
# Diagnosis: the answers of classic mistakes, computed by the kit from the inputs alone.

def mistaken_step(operation: str, local=None, upstream: bool = True, accumulate: bool = True):
    """args -> what a _backward answers when its local derivatives are local(*numbers, out)
    (LOCAL_DERIVATIVES when None), times out.grad only if `upstream`, added with += only if
    `accumulate` (with =, the last share written wins)."""
    def answer(*args):
        *operands, out_grad = args
        out = torch_step(operation, operands, out_grad)["out.data"]
        keyed = [("a", operands[0]) if isinstance(x, SameAsA) else (key, x)
                 for key, x in zip("ab", operands)]
        if not isinstance(operands[0], Held):  # 2 * a runs as a.__rmul__(2), a * 2: a is self
            keyed.reverse()
        numbers = [x.data if isinstance(x, Held) else x for _, x in keyed]
        locals_ = local(*numbers, out) if local else LOCAL_DERIVATIVES[operation](*numbers)
        grads = {}
        for (key, x), local_ in zip(keyed, locals_):
            if isinstance(x, Held):
                before = grads.get(key, x.grad) if accumulate else 0.0
                grads[key] = before + (out_grad if upstream else 1.0) * local_
        return {"out.data": out, **{f"{key}.grad": grad for key, grad in grads.items()}}
    return answer


def step_mistakes(operation: str, *specific) -> tuple:
    """The mistakes every operation invites, after the ones particular to it."""
    return (*specific,
            Misconception("Your _backward writes the grad with = instead of adding to it with +=: the "
                          "share of every other use of the Value is lost (the tests give each input a "
                          "grad it already holds).", mistaken_step(operation, accumulate=False)),
            Misconception("You added the local derivative alone: multiply it by out.grad, the upstream "
                          "gradient (upstream × local).", mistaken_step(operation, upstream=False)))


def step_estimate(operation: str):
    """args -> the answer with each input's share measured by nudging its data (chapter 1)."""
    def estimate(*args):
        *operands, out_grad = args
        held_data = [x.data for x in operands if isinstance(x, Held)]

        def out_at(*data):
            moved = iter(data)
            inputs = make_operands(operands, lambda held: as_tensor(float(next(moved))))
            return OPERATIONS[operation](*inputs).item()

        held_inputs = [(key, x) for key, x in zip("ab", operands) if isinstance(x, Held)]
        grads = {f"{key}.grad": x.grad + out_grad * nudged(out_at, held_data, i)
                 for i, (key, x) in enumerate(held_inputs)}
        return {"out.data": out_at(*held_data), **grads}
    return estimate


class Plain:
    """The stub's Value without derivatives: its forward values and `_prev`, made the same way
    (numbers wrapped on either side; -, / and the reflected operators from +, * and **). With
    `known_engine(Plain)`, the kit replays a traversal mistake on a graph exactly as a learner's
    backward() would run it on the stub."""

    def __init__(self, data, _prev=()):
        self.data, self.grad, self._prev, self._backward = data, 0.0, tuple(_prev), lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Plain) else Plain(other)
        return Plain(self.data + other.data, (self, other))

    def __mul__(self, other):
        other = other if isinstance(other, Plain) else Plain(other)
        return Plain(self.data * other.data, (self, other))

    def __pow__(self, n):
        return Plain(self.data ** n, (self,))

    def exp(self):
        return Plain(math.exp(self.data), (self,))

    def log(self):
        return Plain(math.log(self.data), (self,))

    def relu(self):
        return Plain(self.data if self.data > 0 else 0.0, (self,))

    def sigmoid(self):
        return Plain(sigmoid(self.data), (self,))

    def tanh(self):
        return Plain(math.tanh(self.data), (self,))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1


def _post_order(out, seen=None) -> list:
    """Each node after its parents (`_prev` in order); with no `seen` set, a node reached
    twice is listed twice."""
    order = []

    def visit(node):
        if seen is None or node not in seen:
            if seen is not None:
                seen.add(node)
            for parent in node._prev:
                visit(parent)
            order.append(node)

    visit(out)
    return order


def _pre_order(out) -> list:
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            order.append(node)
            for parent in node._prev:
                visit(parent)

    visit(out)
    return order


def _breadth_first(out) -> list:
    order, seen = [out], {out}
    for node in order:
        for parent in node._prev:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
    return order


def _topological(out) -> list:
    return _post_order(out, set())


def _reversed_topological(out):
    return reversed(_topological(out))


def _reversed_with_repeats(out):
    return reversed(_post_order(out))


def mistaken_walk(order, start: bool = True):
    """graph -> the answer when backward() runs the `_backward`s in order(out), after setting
    out.grad = 1.0 only if `start`."""
    def answer(graph):
        nodes = graph.build(known_engine(Plain))
        if start:
            nodes[-1].grad = 1.0
        for node in order(nodes[-1]):
            node._backward()
        return graph.answer(nodes, lambda v: v.data, lambda v: v.grad)
    return answer


def graph_estimate(graph) -> dict:
    """The answer with each leaf's grad measured by nudging the leaf (chapter 1)."""
    def out_at(*leaves):
        return Graph(leaves, graph.steps).build(as_tensor)[-1].item()

    names = graph.names()
    leaves = {f"{names[i]}.grad": nudged(out_at, graph.leaves, i) for i in range(len(graph.leaves))}
    return {"out.data": out_at(*graph.leaves), "out.grad": 1.0, **leaves}


# Worked graphs, always tried first: each one catches a different wrong traversal.
WORKED_GRAPHS = (
    # the tutorial's graph: a = x·y, b = a + z, c = b²
    Graph((2.0, -3.0, 1.0), (("mul", (0, 1)), ("add", (3, 2)), ("pow", (4, 2.0)))),
    # b feeds out directly and through c: b's grad is complete only after c has passed its share
    Graph((0.5,), (("exp", (0,)), ("mul", (1, 3.0)), ("add", (1, 2)))),
    # a used twice in one node, twice over
    Graph((1.5,), (("add", (0, 0)), ("mul", (1, 0)), ("mul", (2, 2)))),
    # every composite operator, constants on either side
    Graph((1.5, -0.75), (("sub", (0, 1)), ("neg", (0,)), ("truediv", (2.0, 1)), ("truediv", (3, 2)),
                         ("sub", (1.0, 4)), ("mul", (5, 6)))),
    # a deep chain of every one-input operation
    Graph((0.3,), (("relu", (0,)), ("exp", (1,)), ("log", (2,)), ("tanh", (3,)), ("sigmoid", (4,)),
                   ("pow", (5, 2.0)))),
)


def _step_exercise(name, inputs, reference, examples, domain, hint, more, mistakes, estimate=True):
    return Exercise(
        "ch7_engine", name, inputs=inputs, reference=reference, examples=examples, domain=domain,
        hint=hint, more=more, misconceptions=step_mistakes(name, *mistakes),
        estimate=step_estimate(name) if estimate else None, symbol="Value", run=run_step,
    )


def _named(operation: str, sentence: str, local) -> Misconception:
    return Misconception(sentence, mistaken_step(operation, local))


EXERCISES = [
    _step_exercise(
        "add", binary_inputs(), binary("add"),
        ((Held(2.0, 0.5), Held(-3.0, 0.25), 1.5), (Held(2.0, 0.5), SameAsA(), 1.5),
         (Held(2.0, 0.5), 1, -2.0), (3, Held(-1.0, 1.0), 0.5)),
        "a and b Values with data in [-10, 10] and a grad they already hold in [-3, 3], b the same "
        "Value as a, or one of them a number (float or int in [-5, 5]); out.grad in [-5, 5]",
        "How far does a + b move when one input moves by 1? Each input adds its share to the grad "
        "it already holds, and a + a means two shares for a.",
        "Both inputs move the sum one for one: self.grad += out.grad and other.grad += out.grad.",
        (_named("add", "Only self received its share: other, the right input, moves the sum one for "
                       "one as well and needs out.grad too.", lambda x, y, out: (1.0, 0.0)),),
    ),
    _step_exercise(
        "mul", binary_inputs(), binary("mul"),
        ((Held(2.0, 0.5), Held(3.0, -1.0), 2.0), (Held(-1.5, 0.5), SameAsA(), 2.0),
         (Held(2.0, 0.5), 4, -1.0), (-2.5, Held(3.0, 1.0), 0.5)),
        "as for add: Values with data in [-10, 10] and a grad already held, the same Value twice, "
        "or a number on either side; out.grad in [-5, 5]",
        "Think of the hourly wage, pay = hours × wage: what does one more hour add, and what does a "
        "raise of 1 add? Each share is added to the grad the input already holds.",
        "self.grad += other.data * out.grad and other.grad += self.data * out.grad: each input's "
        "local derivative is the other input.",
        (_named("mul", "Each input got its own data as its local derivative; the hourly wage says it is "
                       "the other input's data (one more hour adds the wage).", lambda x, y, out: (x, y)),
         _named("mul", "You used the product a·b, the forward value, as the local derivative; it is the "
                       "other input's data.", lambda x, y, out: (out, out))),
    ),
    _step_exercise(
        "pow", power_inputs(), power,
        ((Held(3.0, 0.5), 2, 1.5), (Held(-2.0, 1.0), 3, -0.5), (Held(4.0, 0.25), 0.5, 2.0),
         (Held(0.5, -1.0), -1, 1.5), (Held(1.5, 0.5), 0, 2.0)),
        "a ** n with n an int in [-3, 4] and a in [-3, 3], |a| >= 0.1; or n a float in [-3, 3] and "
        "a in [0.1, 5]; a grad already held; out.grad in [-5, 5]",
        "Chapter 3's power rule holds for every real n, negative and fractional ones too; n is a "
        "plain number, so only a receives a share.",
        "self.grad += n * self.data ** (n - 1) * out.grad.",
        (_named("pow", "The factor n is missing: the power rule brings n down in front, n·aⁿ⁻¹.",
                lambda x, n, out: (x ** (n - 1), 0.0)),
         _named("pow", "You kept the power n: the power rule lowers it by one, n·aⁿ⁻¹.",
                lambda x, n, out: (n * x ** n, 0.0))),
    ),
    _step_exercise(
        "exp", unary_inputs(reals(-5.0, 5.0)), unary("exp"),
        ((Held(0.0, 0.5), 2.0), (Held(1.0, -1.0), 0.5)),
        "a in [-5, 5] with a grad already held; out.grad in [-5, 5]",
        "eˣ is the function that is its own slope, and the forward pass has already computed it.",
        "self.grad += out.data * out.grad: the slope of eˣ is eˣ, the output itself.",
        (_named("exp", "You used the input a as the local derivative; the slope of eˣ is eˣ, which is "
                       "out.data.", lambda x, out: (x,)),),
    ),
    _step_exercise(
        "log", unary_inputs(positive(1e-2, 1e2)), unary("log"),
        ((Held(2.0, 0.5), 3.0), (Held(0.25, -1.0), 0.5)),
        "a in [0.01, 100] with a grad already held; out.grad in [-5, 5]",
        "The slope of ln at a is chapter 6's log_grad; it is not ln(a), the forward value.",
        "self.grad += out.grad / self.data: the slope of ln(x) is 1/x.",
        (_named("log", "You used ln(a), the forward value, as the local derivative; the slope of ln "
                       "is 1/a.", lambda x, out: (out,)),
         _named("log", "You multiplied by a where the slope of ln divides by it: 1/a.",
                lambda x, out: (x,))),
    ),
    _step_exercise(
        "relu", unary_inputs(reals(-5.0, 5.0)), unary("relu"),
        ((Held(2.0, 0.5), 3.0), (Held(-1.0, 0.5), 3.0), (Held(0.0, 0.5), 3.0)),
        "a in [-5, 5], exactly 0 included, with a grad already held; out.grad in [-5, 5]",
        "ReLU is a switch: gradient passes only where the input was strictly positive, and at "
        "exactly 0 it does not pass (as in torch).",
        "self.grad += (1.0 if self.data > 0 else 0.0) * out.grad; note > and not >=.",
        (_named("relu", "At exactly 0 you let the gradient through; torch (and the curriculum) use the "
                        "slope 0 there: test self.data > 0, not >= 0.",
                lambda x, out: (1.0 if x >= 0 else 0.0,)),
         _named("relu", "You used max(0, a), the forward value, as the local derivative; the slope is "
                        "1 where a > 0 and 0 elsewhere.", lambda x, out: (out,)),
         _named("relu", "The gradient passed for negative inputs too: where ReLU outputs 0 whatever the "
                        "input, its slope is 0.", lambda x, out: (1.0,))),
        estimate=False,  # a nudge straddles the kink at 0
    ),
    _step_exercise(
        "sigmoid", unary_inputs(reals(-10.0, 10.0)), unary("sigmoid"),
        ((Held(0.0, 0.5), 2.0), (Held(3.0, -1.0), 0.5)),
        "a in [-10, 10] with a grad already held; out.grad in [-5, 5]",
        "Chapter 6's σ' is written with σ(a), which this node already holds in out.data; it is "
        "largest at 0 and never negative.",
        "self.grad += out.data * (1 - out.data) * out.grad.",
        (_named("sigmoid", "A sign is flipped: you computed σ(σ - 1), which is never positive; the slope "
                           "is σ(1 - σ).", lambda x, out: (out * (out - 1),)),
         _named("sigmoid", "You used σ(a), the forward value, as the local derivative; the slope is "
                           "σ(a)·(1 - σ(a)).", lambda x, out: (out,))),
    ),
    _step_exercise(
        "tanh", unary_inputs(reals(-5.0, 5.0)), unary("tanh"),
        ((Held(0.0, 0.5), 2.0), (Held(0.5, -1.0), 1.5)),
        "a in [-5, 5] with a grad already held; out.grad in [-5, 5]",
        "The slope of tanh is written with tanh(a) itself, the output of the node, not with its "
        "input a.",
        "self.grad += (1 - out.data ** 2) * out.grad.",
        (_named("tanh", "You computed 1 - a², with the input a; the slope is 1 - tanh²(a), with the "
                        "output, out.data.", lambda x, out: (1 - x ** 2,)),
         _named("tanh", "You used tanh(a), the forward value, as the local derivative; the slope is "
                        "1 - tanh²(a).", lambda x, out: (out,))),
    ),
    Exercise(
        "ch7_engine", "backward",
        inputs=graphs().map(lambda graph: (graph,)),
        reference=backward,
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
                          "starts from d out/d out = 1.", mistaken_walk(_reversed_topological, start=False)),
            Misconception("You ran each node's _backward as soon as your walk reached it; a node must "
                          "wait until every node made from it has sent its share. List the whole "
                          "topological order first, then run it in reverse.", mistaken_walk(_pre_order)),
            Misconception("You walked breadth first from out: a node reached early along a short path ran "
                          "before a longer path brought its share. Use a topological order.",
                          mistaken_walk(_breadth_first)),
            Misconception("A node reached along two paths ran its _backward twice and sent its share "
                          "twice: keep a set of visited nodes, so each one is listed once.",
                          mistaken_walk(_reversed_with_repeats)),
            Misconception("You ran the topological order from the leaves up; reverse it, so that out "
                          "goes first and the leaves last.", mistaken_walk(_topological)),
        ),
        estimate=graph_estimate,
        tolerance="accumulated",
        symbol="Value",
        run=run_backward,
        picture=lambda impl: graph_picture(impl),
    ),
]


def graph_picture(impl) -> str:
    """Chapter 5's graph built with the learner's Value and walked by its backward(), beside torch.

    Values and gradients are the learner's; the local derivatives on the edges are torch's, since
    an engine keeps them inside its _backward closures.
    """
    from kit.chapters import ch5_backprop_by_hand as ch5

    args = ch5.WORKED[0]
    torch_values = {**dict(zip("xyz", args)), **ch5.forward(*args)}
    values, grads, note = {}, {}, ""
    try:
        Value = impl.module("ch7_engine").Value
        x, y, z = (Value(v) for v in args)
        a = x * y
        b = a + z
        c = b ** 2
        nodes = dict(zip("xyzabc", (x, y, z, a, b, c)))
        values = {name: node.data for name, node in nodes.items()}
        c.backward()
        grads = {name: node.grad for name, node in nodes.items()}
    except NotImplementedError as error:
        note = f"not attempted yet: {error}"
    except Exception as error:  # the learner's engine broke: show what there is
        note = f"{type(error).__name__}: {error}"
    title = "Your engine on a = x·y, b = a + z, c = b², then c.backward(): yours | torch"
    locals_ = ch5.local_derivatives(*args)
    return ch5.draw_graph(values, grads, locals_, torch_values, ch5.backward(*args), locals_, title, note)
