"""Chapter 5, backprop by hand through a = x·y, b = a + z, c = b²."""
import hypothesis.strategies as st

from kit import pictures
from kit.compare import compare
from kit.diagnosis import Misconception, scale
from kit.exercise import Exercise
from kit.reference import as_tensor, derivative, gradients, leaf
from kit.strategies import reals

xyz = st.tuples(reals(), reals(), reals())
WORKED = ((5.0, 10.0, -20.0), (1.0, 2.0, 3.0), (-1.5, 0.5, 0.25))


def _changed(function, **changes):
    """A misconception's answer: the reference's dict with some entries computed otherwise."""
    return lambda x, y, z: {**function(x, y, z), **{k: f(x, y, z) for k, f in changes.items()}}


EXERCISES: list[Exercise] = []


def forward(x, y, z):
    a = as_tensor(x) * as_tensor(y)
    b = a + as_tensor(z)
    c = b ** 2
    return {"a": a.item(), "b": b.item(), "c": c.item()}


EXERCISES.append(Exercise(
    module="ch5_backprop_by_hand", name="forward", reference=forward,
    inputs=xyz, examples=WORKED,
    domain="x, y, z in [-10, 10]",
    hint="Compute the graph left to right: first a from x and y, then b from a and z, then c from b.",
    more="a = x * y, then b = a + z, then c = b ** 2; return them in a dict under those names.",
    misconceptions=(
        Misconception("You computed c as 2b; the last node squares b.",
                      _changed(forward, c=lambda x, y, z: 2 * (x * y + z))),
        Misconception("You multiplied a by z; the middle node adds z.",
                      _changed(forward, b=lambda x, y, z: x * y * z, c=lambda x, y, z: (x * y * z) ** 2)),
    ),
))


def local_derivatives(x, y, z):
    values = forward(x, y, z)
    da_dx, da_dy = gradients(lambda x, y: x * y, x, y)
    db_da, db_dz = gradients(lambda a, z: a + z, values["a"], z)
    dc_db = derivative(lambda b: b ** 2)(values["b"])
    return {"da_dx": da_dx, "da_dy": da_dy, "db_da": db_da, "db_dz": db_dz, "dc_db": dc_db}


EXERCISES.append(Exercise(
    module="ch5_backprop_by_hand", name="local_derivatives", reference=local_derivatives,
    inputs=xyz, examples=WORKED,
    domain="x, y, z in [-10, 10]",
    hint="Look at one operation at a time and forget the rest of the graph: how does its output "
         "move when only this one input moves?",
    more="The product's partials are the other factor (the wage), a sum passes nudges through "
         "unchanged, and the square's slope is 2b at this b.",
    misconceptions=(
        Misconception("You swapped ∂a/∂x and ∂a/∂y: each partial of a product is the other factor.",
                      _changed(local_derivatives, da_dx=lambda x, y, z: x, da_dy=lambda x, y, z: y)),
        Misconception("∂c/∂b is missing its factor 2: the slope of b² is 2b.",
                      _changed(local_derivatives, dc_db=lambda x, y, z: x * y + z)),
        Misconception("You gave c = b² for ∂c/∂b, the forward value instead of the slope.",
                      _changed(local_derivatives, dc_db=lambda x, y, z: (x * y + z) ** 2)),
    ),
))


def backward(x, y, z):
    x, y, z = leaf(x), leaf(y), leaf(z)
    a = x * y
    b = a + z
    c = b ** 2
    for node in (a, b, c):
        node.retain_grad()
    c.backward()
    return {name: node.grad.item() for name, node in zip("xyzabc", (x, y, z, a, b, c))}


EXERCISES.append(Exercise(
    module="ch5_backprop_by_hand", name="backward", reference=backward,
    inputs=xyz, examples=WORKED,
    domain="x, y, z in [-10, 10]",
    hint="Start at c with ∂c/∂c = 1 and walk back one node at a time: each node's gradient is "
         "the gradient arriving from above times the local derivative you just crossed.",
    more="∂c/∂b = 2b; ∂c/∂a = ∂c/∂z = 2b · 1; ∂c/∂x = 2b · y and ∂c/∂y = 2b · x.",
    picture=lambda impl: graph_picture(impl),
    misconceptions=(
        Misconception("At x and y you returned the local derivatives alone: multiply them by the "
                      "upstream gradient ∂c/∂a = 2b.",
                      _changed(backward, x=lambda x, y, z: y, y=lambda x, y, z: x)),
        Misconception("∂c/∂b is missing its factor 2 (the slope of b² is 2b), and every gradient "
                      "below it is halved with it.", lambda x, y, z: {**scale(backward(x, y, z), 0.5), "c": 1.0}),
        Misconception("You swapped the gradients of x and y: ∂a/∂x is y, so ∂c/∂x = 2b·y.",
                      _changed(backward, x=lambda x, y, z: backward(x, y, z)["y"],
                               y=lambda x, y, z: backward(x, y, z)["x"])),
    ),
))


def gradient_rule(contributions):
    node = leaf(0.5)  # one node that feeds several consumers, each with its local derivative
    total = 0.0 * node
    for upstream, local in contributions:
        total = total + upstream * (local * node)
    total.backward()
    return node.grad.item()


EXERCISES.append(Exercise(
    module="ch5_backprop_by_hand", name="gradient_rule", reference=gradient_rule,
    inputs=st.tuples(st.lists(st.tuples(reals(-5.0, 5.0), reals(-5.0, 5.0)), max_size=6)),
    examples=(([(2.0, 3.0), (4.0, -0.5)],), ([],), ([(1.5, 2.0)],)),
    domain="0 to 6 (upstream, local) pairs, each number in [-5, 5]",
    hint="Every path out of a node brings back its own upstream × local; the node's gradient "
         "adds up what every path brings, and with no paths nothing comes back.",
    more="Start a total at 0.0 and add upstream * local for each pair.",
    misconceptions=(
        Misconception("You added upstream and local; each path contributes their product.",
                      lambda pairs: sum((u + local for u, local in pairs), 0.0)),
        Misconception("You kept only the last path's contribution: a node's gradient accumulates "
                      "(+=) over every path, it is not overwritten (=).",
                      lambda pairs: pairs[-1][0] * pairs[-1][1] if pairs else 0.0),
    ),
    tolerance="accumulated",
))


# The report's picture: the graph at the first worked example, the learner's numbers beside torch's.
LAYOUT = {"x": (0, 0), "y": (0, 1), "z": (0, 2), "a": (1, 0.5), "b": (2, 1.25), "c": (3, 1.25)}
EDGES = (("x", "a", "da_dx"), ("y", "a", "da_dy"), ("a", "b", "db_da"), ("z", "b", "db_dz"), ("b", "c", "dc_db"))


def agrees(torch_value, yours) -> bool:
    return compare(torch_value, yours) is None


def draw_graph(values, grads, locals_, torch_values, torch_grads, torch_locals, title, note=""):
    """The a = x·y, b = a + z, c = b² graph with value and gradient on every node and the local
    derivative on every edge: dicts of the learner's numbers (possibly partial) and torch's."""
    nodes = {name: (column, row, [pictures.pair("value", values.get(name), torch_values[name], agrees),
                                  pictures.pair("grad", grads.get(name), torch_grads[name], agrees)])
             for name, (column, row) in LAYOUT.items()}
    edges = [(a, b, [pictures.pair("local", locals_.get(key), torch_locals[key], agrees)]) for a, b, key in EDGES]
    return pictures.graph(nodes, edges, title, note)


def graph_picture(impl) -> str:
    from kit.implementation import LearnerError
    from kit.registry import EXERCISES

    args, notes = WORKED[0], []

    def yours(name) -> dict:
        try:
            answer = impl.call(EXERCISES[f"ch5_backprop_by_hand.{name}"], args)[0]
        except LearnerError as error:
            notes.append(f"{name}: {error.status}")
            return {}
        return answer if isinstance(answer, dict) else {}

    inputs = dict(zip("xyz", args))
    values = {**inputs, **yours("forward")}
    title = "a = x·y, b = a + z, c = b² at x={}, y={}, z={}: yours | torch".format(*args)
    return draw_graph(values, yours("backward"), yours("local_derivatives"), {**inputs, **forward(*args)},
                      backward(*args), local_derivatives(*args), title, "; ".join(notes))
