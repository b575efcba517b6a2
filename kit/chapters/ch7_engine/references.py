"""torch's side of chapter 7: one step computed by torch.autograd, and the nudged estimates."""
from __future__ import annotations

from kit.drivers import OPERATIONS, Graph, Held, held_grads, make_operands
from kit.reference import as_tensor, leaf, nudged


def torch_step(operation: str, operands, out_grad) -> dict:
    """The same step in torch: each input's .grad is set first, and backward adds into it."""
    def make(held):
        t = leaf(held.data)
        t.grad = as_tensor(float(held.grad))
        return t

    made = make_operands(operands, make)
    out = OPERATIONS[operation].forward(*made)
    # out_grad·out, not out.backward(out_grad): the same numbers, and torch then skips a
    # check of the gradient's shape whose first use imports sympy (about a second)
    (out * float(out_grad)).backward()
    return {"out.data": out.item(), **held_grads(operands, made, lambda t: t.grad.item())}


def step_estimate(operation: str):
    """args -> the answer with each input's share measured by nudging its data (chapter 1)."""
    def estimate(*args):
        *operands, out_grad = args
        held_data = [x.data for x in operands if isinstance(x, Held)]

        def out_at(*data):
            moved = iter(data)
            inputs = make_operands(operands, lambda held: as_tensor(float(next(moved))))
            return OPERATIONS[operation].forward(*inputs).item()

        held_inputs = [(key, x) for key, x in zip("ab", operands) if isinstance(x, Held)]
        grads = {f"{key}.grad": x.grad + out_grad * nudged(out_at, held_data, i)
                 for i, (key, x) in enumerate(held_inputs)}
        return {"out.data": out_at(*held_data), **grads}
    return estimate


def graph_estimate(graph) -> dict:
    """The answer with each leaf's grad measured by nudging the leaf (chapter 1)."""
    def out_at(*leaves):
        return Graph(leaves, graph.steps).build(as_tensor)[-1].item()

    names = graph.names()
    leaves = {f"{names[i]}.grad": nudged(out_at, graph.leaves, i) for i in range(len(graph.leaves))}
    return {"out.data": out_at(*graph.leaves), "out.grad": 1.0, **leaves}
