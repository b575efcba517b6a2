"""Chapter 7's records agree, and the kit's own engine is the stub's.

What the kit knows about one operation is split at the trust boundary: kit.drivers.Operation
(name, spelling, forward: in every grading child) and kit.known_engine.Graded (the learner's
methods, forward value, local derivative: only in the child that grades `backward`). Neither
file may import the other, so these tests tie the two halves together, and tie both to the
step exercises of kit/chapters/ch7_engine.

`Plain` (kit/chapters/ch7_engine/plain.py), the engine the kit replays traversal mistakes on,
must build exactly the nodes the stub's Value builds. The stub's graded methods compute their
forward value and `_prev` before defining a `_backward` (only that `_backward` raises
NotImplementedError), so every node can be built with the untouched stub: Plain is tied to
exercises/ch7_engine.py itself, graded methods, constructor and composed operators alike, and
to solutions/ch7_engine.py the same way. Both are loaded by path, as `--impl` loads a folder.
"""
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings

from kit.chapters.ch7_engine.graphs import WORKED_GRAPHS, graphs
from kit.chapters.ch7_engine.mistakes import (
    breadth_first,
    pre_order,
    reversed_topological,
    reversed_with_repeats,
    topological,
)
from kit.chapters.ch7_engine.plain import Plain
from kit.drivers import OPERATIONS, Graph, make_operands, run_step
from kit.implementation import Implementation
from kit.known_engine import GRADED, known_engine
from kit.registry import chapter

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {folder: Implementation(ROOT / folder).module("ch7_engine").Value for folder in ("exercises", "solutions")}
STEPS = [e for e in chapter("ch7_engine") if e.run is run_step]
# every reflected and composed operator, with numbers on the left and on the right
REFLECTED = Graph((1.5, -2.0), (("add", (2.0, 0)), ("mul", (3.0, 1)), ("sub", (0.5, 2)), ("truediv", (4.0, 3)),
                                ("neg", (4,)), ("pow", (5, 2.0)), ("sub", (6, 0)), ("truediv", (7, 1)),
                                ("mul", (0, 0)), ("add", (8, 0.25)), ("mul", (9, -1.5))))


# ---- the two halves of each record ---------------------------------------------------------

def test_every_graded_operation_is_an_operation_and_has_a_step_exercise():
    assert set(GRADED) <= set(OPERATIONS)
    assert {e.name for e in STEPS} == set(GRADED), "every graded operation, and only those, is a step exercise"
    for exercise in STEPS:
        assert exercise.attribute == "Value" and exercise.misconceptions, exercise.id
        assert len(exercise.parameter_names()) == OPERATIONS[exercise.name].arity + 1, exercise.id


def test_the_operations_that_are_not_graded_are_built_from_graded_ones_in_the_stub():
    composed = set(OPERATIONS) - set(GRADED)
    assert composed == {"neg", "sub", "truediv"}
    graded_methods = {method for graded in GRADED.values() for method in graded.methods}
    for Value in ENGINES.values():
        assert graded_methods <= set(vars(Value)), "the stub and the solution define every graded method"


@pytest.mark.parametrize("name", OPERATIONS)
def test_each_forward_computes_what_its_spelling_reads(name):
    operation = OPERATIONS[name]
    operands = [torch.tensor(x, dtype=torch.float64) for x in (0.75, 1.25)[:operation.arity]]
    names = [f"x{i}" for i in range(operation.arity)]
    read = eval(operation.spelling.format(*names), {}, dict(zip(names, operands)))  # the kit's own text
    assert torch.equal(operation.forward(*operands), read)


@pytest.mark.parametrize("name", GRADED)
def test_each_forward_calls_the_learners_methods_its_record_names(name):
    graded, operation = GRADED[name], OPERATIONS[name]
    calls = []

    def recorder(method):
        def record(self, *args):
            calls.append(method)
            return self
        return record

    Probe = type("Probe", (), {m: recorder(m) for g in GRADED.values() for m in g.methods})
    operation.forward(Probe(), *[2.0] * (operation.arity - 1))
    assert calls == [graded.method]
    if graded.reflected:
        calls.clear()
        operation.forward(2.0, Probe())
        assert calls == [graded.reflected]
    assert graded.parents in (1, operation.arity)


@pytest.mark.parametrize("name", GRADED)
@pytest.mark.parametrize("numbers", [(0.7, 1.3), (2.0, -0.5), (1.5, 3.0)])
def test_each_records_value_and_local_derivative_agree_with_torch(name, numbers):
    graded, operation = GRADED[name], OPERATIONS[name]
    numbers = numbers[:operation.arity]
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=i < graded.parents) for i, x in enumerate(numbers)]
    out = operation.forward(*leaves)
    out.backward()
    assert graded.value(*numbers) == pytest.approx(out.item(), rel=1e-12)
    torch_locals = [x.grad.item() if x.grad is not None else 0.0 for x in leaves]
    assert graded.local(*numbers) == pytest.approx(tuple(torch_locals), rel=1e-12)


# ---- Plain is the stub's Value without derivatives ---------------------------------------------

def assert_same_nodes(ours: list, theirs: list) -> None:
    """Node for node: the same data (of the same type), the same number of `_prev`, and a node
    shared in one graph is shared in the other (the pairing is one to one)."""
    paired = {}
    todo = list(zip(ours, theirs, strict=True))
    while todo:
        mine, other = todo.pop()
        if id(mine) in paired:
            assert paired[id(mine)] is other, "a node shared in one graph is two nodes in the other"
            continue
        paired[id(mine)] = other
        assert type(mine.data) is type(other.data), (mine.data, other.data)
        assert mine.data == other.data or (math.isnan(mine.data) and math.isnan(other.data)), (mine.data, other.data)
        assert len(mine._prev) == len(other._prev), (mine.data, len(mine._prev), len(other._prev))
        todo += zip(mine._prev, other._prev)
    assert len({id(node) for node in paired.values()}) == len(paired), "two nodes of one graph are one in the other"


def assert_graph_alike(graph: Graph, Value) -> None:
    assert_same_nodes(graph.build(Plain), graph.build(Value))


@pytest.mark.parametrize("folder", ENGINES)
@pytest.mark.parametrize("graph", [*WORKED_GRAPHS, REFLECTED], ids=repr)
def test_plain_builds_the_worked_graphs_as_the_engine_does(folder, graph):
    assert_graph_alike(graph, ENGINES[folder])


@pytest.mark.parametrize("folder", ENGINES)
@settings(max_examples=150, deadline=None)
@given(graph=graphs())
def test_plain_builds_drawn_graphs_as_the_engine_does(folder, graph):
    assert_graph_alike(graph, ENGINES[folder])


@pytest.mark.parametrize("folder", ENGINES)
@pytest.mark.parametrize("exercise", STEPS, ids=str)
def test_plain_builds_each_steps_examples_as_the_engine_does(folder, exercise):
    """The step exercises' inputs: ints and floats on either side, and the same Value twice."""
    for args in exercise.examples:
        operands = args[:-1]
        built = [make_operands(operands, lambda held, Value=Value: Value(held.data))
                 for Value in (Plain, ENGINES[folder])]
        assert_same_nodes(*([OPERATIONS[exercise.name].forward(*made)] for made in built))


@pytest.mark.parametrize("order", [reversed_topological, pre_order, breadth_first, reversed_with_repeats, topological],
                         ids=lambda order: order.__name__)
@pytest.mark.parametrize("graph", [*WORKED_GRAPHS, REFLECTED], ids=repr)
def test_a_walk_replayed_on_plain_gives_what_it_gives_on_the_stub(order, graph):
    """known_engine(Plain), as the backward exercise's mistakes replay a walk, against
    known_engine(stub Value), as the driver runs a learner's backward(): the same grads."""
    answers = []
    for Value in (Plain, ENGINES["exercises"]):
        nodes = graph.build(known_engine(Value))
        nodes[-1].grad = 1.0
        for node in order(nodes[-1]):
            node._backward()
        answers.append(graph.answer(nodes, lambda v: v.data, lambda v: v.grad))
    assert answers[0] == answers[1]
