"""The answers of chapter 7's classic mistakes, computed by the kit from the inputs alone."""
from __future__ import annotations

from kit.chapters.ch7_engine.plain import Plain
from kit.chapters.ch7_engine.references import torch_step
from kit.diagnosis import Misconception
from kit.drivers import Held, SameAsA
from kit.known_engine import GRADED, known_engine

# ---- one step ------------------------------------------------------------------------------


def mistaken_step(operation: str, local=None, upstream: bool = True, accumulate: bool = True):
    """args -> what a _backward answers when its local derivatives are local(*numbers, out)
    (the GRADED record's own when None), times out.grad only if `upstream`, added with += only
    if `accumulate` (with =, the last share written wins)."""
    def answer(*args):
        *operands, out_grad = args
        out = torch_step(operation, operands, out_grad)["out.data"]
        keyed = [("a", operands[0]) if isinstance(x, SameAsA) else (key, x)
                 for key, x in zip("ab", operands)]
        if not isinstance(operands[0], Held):  # 2 * a runs as a.__rmul__(2), a * 2: a is self
            keyed.reverse()
        numbers = [x.data if isinstance(x, Held) else x for _, x in keyed]
        locals_ = local(*numbers, out) if local else GRADED[operation].local(*numbers)
        grads = {}
        for (key, x), local_ in zip(keyed, locals_):
            if isinstance(x, Held):
                before = grads.get(key, x.grad) if accumulate else 0.0
                grads[key] = before + (out_grad if upstream else 1.0) * local_
        return {"out.data": out, **{f"{key}.grad": grad for key, grad in grads.items()}}
    return answer


def step_mistakes(operation: str, *specific: tuple) -> tuple:
    """The misconceptions of one operation's step: its own, each (sentence, local) with
    local(*numbers, out) the local derivatives the mistake uses, then the mistakes every
    operation invites."""
    return (*(Misconception(sentence, mistaken_step(operation, local)) for sentence, local in specific),
            Misconception("Your _backward writes the grad with = instead of adding to it with +=: the "
                          "share of every other use of the Value is lost (the tests give each input a "
                          "grad it already holds).", mistaken_step(operation, accumulate=False)),
            Misconception("You added the local derivative alone: multiply it by out.grad, the upstream "
                          "gradient (upstream × local).", mistaken_step(operation, upstream=False)))


# ---- the walk backward ---------------------------------------------------------------------

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


def pre_order(out) -> list:
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            order.append(node)
            for parent in node._prev:
                visit(parent)

    visit(out)
    return order


def breadth_first(out) -> list:
    order, seen = [out], {out}
    for node in order:
        for parent in node._prev:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
    return order


def topological(out) -> list:
    return _post_order(out, set())


def reversed_topological(out):
    return reversed(topological(out))


def reversed_with_repeats(out):
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
