"""The report's picture of chapter 7: chapter 5's graph, built and walked by the learner's engine."""
from __future__ import annotations


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
