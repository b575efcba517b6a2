"""Chapter 7 variants: Values that must fail (WRONG) and Values written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, {"Value": a class}). The classes are subclasses of
the solution's Value that change one thing: one operation's `_backward` (`step` below keeps
the solution's forward value and `_prev`, and swaps in another `_backward`), or `backward()`.
"""
import math
from pathlib import Path

from kit.implementation import Implementation

Value = Implementation(Path(__file__).resolve().parents[3] / "solutions").module("ch7_engine").Value


def step(method: str, backward):
    """{"Value": V}, where V.method makes the solution's node but its _backward calls
    backward(out, *inputs): the two Values of + and *, the Value and n of **, the Value of the rest."""
    solution = getattr(Value, method)

    def made(self, *args):
        out = solution(self, *args)
        inputs = out._prev if method in ("__add__", "__mul__") else (self, *args)
        out._backward = lambda: backward(out, *inputs)
        return out

    return {"Value": type("Value", (Value,), {method: made})}


def replace(**methods):
    return {"Value": type("Value", (Value,), methods)}


# ---- wrong local derivatives and wrong accumulation ------------------------------------------

def add_assigns(out, a, b):
    a.grad = out.grad
    b.grad = out.grad


def add_without_upstream(out, a, b):
    a.grad += 1.0
    b.grad += 1.0


def add_only_left(out, a, b):
    a.grad += out.grad


def mul_assigns(out, a, b):
    a.grad = out.grad * b.data
    b.grad = out.grad * a.data


def mul_own_data(out, a, b):
    a.grad += out.grad * a.data
    b.grad += out.grad * b.data


def mul_without_upstream(out, a, b):
    a.grad += b.data
    b.grad += a.data


def mul_forward_value(out, a, b):
    a.grad += out.grad * out.data
    b.grad += out.grad * out.data


def pow_forgets_n(out, a, n):
    a.grad += out.grad * a.data ** (n - 1)


def pow_keeps_the_power(out, a, n):
    a.grad += out.grad * n * a.data ** n


def pow_assigns(out, a, n):
    a.grad = out.grad * n * a.data ** (n - 1)


def exp_input(out, a):
    a.grad += out.grad * a.data


def exp_without_upstream(out, a):
    a.grad += out.data


def exp_assigns(out, a):
    a.grad = out.grad * out.data


def log_forward_value(out, a):
    a.grad += out.grad * out.data


def log_times_input(out, a):
    a.grad += out.grad * a.data


def log_assigns(out, a):
    a.grad = out.grad / a.data


def relu_one_at_zero(out, a):
    a.grad += out.grad * (1.0 if a.data >= 0 else 0.0)


def relu_forward_value(out, a):
    a.grad += out.grad * out.data


def relu_always_passes(out, a):
    a.grad += out.grad


def sigmoid_sign_flipped(out, a):
    a.grad += out.grad * out.data * (out.data - 1)


def sigmoid_forward_value(out, a):
    a.grad += out.grad * out.data


def sigmoid_assigns(out, a):
    a.grad = out.grad * out.data * (1 - out.data)


def tanh_of_input(out, a):
    a.grad += out.grad * (1 - a.data ** 2)


def tanh_forward_value(out, a):
    a.grad += out.grad * out.data


def tanh_assigns(out, a):
    a.grad = out.grad * (1 - out.data ** 2)


# ---- wrong traversals --------------------------------------------------------------------

def topological(out):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in node._prev:
                visit(parent)
            order.append(node)

    visit(out)
    return order


def backward_without_start(self):
    for node in reversed(topological(self)):
        node._backward()


def backward_preorder(self):
    """Depth first, each node once, but its _backward runs as soon as it is reached."""
    self.grad = 1.0
    seen = set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            node._backward()
            for parent in node._prev:
                visit(parent)

    visit(self)


def backward_breadth_first(self):
    """Each node once, in the order it is first reached from out."""
    self.grad = 1.0
    queue, seen = [self], {self}
    for node in queue:
        node._backward()
        for parent in node._prev:
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)


def backward_no_seen_set(self):
    """Post-order without remembering visited nodes: a node reached twice runs twice."""
    order = []

    def visit(node):
        for parent in node._prev:
            visit(parent)
        order.append(node)

    visit(self)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()


def backward_leaves_first(self):
    self.grad = 1.0
    for node in topological(self):
        node._backward()


# ---- right, written differently ------------------------------------------------------------

def backward_counting_consumers(self):
    """Kahn's algorithm: a node runs once every node made from it has run."""
    consumers, stack, seen = {}, [self], {self}
    while stack:
        node = stack.pop()
        for parent in node._prev:
            consumers[parent] = consumers.get(parent, 0) + 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    self.grad = 1.0
    ready = [self]
    while ready:
        node = ready.pop()
        node._backward()
        for parent in node._prev:
            consumers[parent] -= 1
            if consumers[parent] == 0:
                ready.append(parent)


def backward_with_a_stack(self):
    """The topological order without recursion: a node is listed when its parents are."""
    order, seen, stack = [], set(), [(self, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in node._prev)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()


def add_over_prev(out, a, b):
    for parent in out._prev:  # (a, a) for a + a: both shares
        parent.grad += out.grad


def mul_written_out(out, a, b):
    a.grad = a.grad + b.data * out.grad
    b.grad = b.grad + a.data * out.grad


def pow_through_exp(out, a, n):
    local = n * math.exp((n - 1) * math.log(a.data)) if a.data > 0 else n * a.data ** (n - 1)
    a.grad += out.grad * local


def exp_recomputed(out, a):
    a.grad += math.exp(a.data) * out.grad


def log_by_power(out, a):
    a.grad += out.grad * a.data ** -1


def relu_from_output(out, a):
    a.grad += out.grad * float(out.data > 0)


def sigmoid_exp_form(out, a):
    e = math.exp(-a.data)
    a.grad += out.grad * e / (1 + e) ** 2


def tanh_through_cosh(out, a):
    a.grad += out.grad / math.cosh(a.data) ** 2


def raises(*_):
    raise NotImplementedError("ch7_engine: not written yet")


def stub_operations():
    """The solution's backward() over the stub's operations: every graded _backward raises."""
    methods = ("__add__", "__mul__", "__pow__", "exp", "log", "relu", "sigmoid", "tanh")
    return replace(**{m: vars(step(m, raises)["Value"])[m] for m in methods})


WRONG = [
    ("add", "= instead of +=", step("__add__", add_assigns)),
    ("add", "forgets the upstream gradient", step("__add__", add_without_upstream)),
    ("add", "sends nothing to the right input", step("__add__", add_only_left)),
    ("mul", "= instead of +=", step("__mul__", mul_assigns)),
    ("mul", "each input gets its own data, not the other's", step("__mul__", mul_own_data)),
    ("mul", "forgets the upstream gradient", step("__mul__", mul_without_upstream)),
    ("mul", "local derivative = the forward value a·b", step("__mul__", mul_forward_value)),
    ("pow", "forgets the factor n", step("__pow__", pow_forgets_n)),
    ("pow", "n·aⁿ, the power not lowered", step("__pow__", pow_keeps_the_power)),
    ("pow", "= instead of +=", step("__pow__", pow_assigns)),
    ("exp", "local derivative = the input a", step("exp", exp_input)),
    ("exp", "forgets the upstream gradient", step("exp", exp_without_upstream)),
    ("exp", "= instead of +=", step("exp", exp_assigns)),
    ("log", "local derivative = the forward value ln(a)", step("log", log_forward_value)),
    ("log", "multiplies by a instead of dividing", step("log", log_times_input)),
    ("log", "= instead of +=", step("log", log_assigns)),
    ("relu", "lets the gradient through at exactly 0", step("relu", relu_one_at_zero)),
    ("relu", "local derivative = the forward value max(0, a)", step("relu", relu_forward_value)),
    ("relu", "lets the gradient through everywhere", step("relu", relu_always_passes)),
    ("sigmoid", "σ(σ - 1), the sign flipped", step("sigmoid", sigmoid_sign_flipped)),
    ("sigmoid", "local derivative = the forward value σ", step("sigmoid", sigmoid_forward_value)),
    ("sigmoid", "= instead of +=", step("sigmoid", sigmoid_assigns)),
    ("tanh", "1 - a² instead of 1 - tanh²(a)", step("tanh", tanh_of_input)),
    ("tanh", "local derivative = the forward value tanh(a)", step("tanh", tanh_forward_value)),
    ("tanh", "= instead of +=", step("tanh", tanh_assigns)),
    ("backward", "forgets out.grad = 1.0", replace(backward=backward_without_start)),
    ("backward", "depth first, _backward as soon as a node is reached", replace(backward=backward_preorder)),
    ("backward", "breadth first from out", replace(backward=backward_breadth_first)),
    ("backward", "no set of visited nodes: shared nodes run twice", replace(backward=backward_no_seen_set)),
    ("backward", "topological order not reversed: leaves first", replace(backward=backward_leaves_first)),
]

RIGHT = [
    ("add", "adds out.grad into every node of _prev", step("__add__", add_over_prev)),
    ("add", "backward() not written: add is graded on its own", replace(backward=raises)),
    ("mul", "x = x + ... written out", step("__mul__", mul_written_out)),
    ("pow", "n·exp((n-1)·ln a) where a > 0", step("__pow__", pow_through_exp)),
    ("exp", "e^a computed again", step("exp", exp_recomputed)),
    ("log", "a ** -1", step("log", log_by_power)),
    ("relu", "reads the output: out.data > 0", step("relu", relu_from_output)),
    ("sigmoid", "e^-a / (1 + e^-a)²", step("sigmoid", sigmoid_exp_form)),
    ("tanh", "1 / cosh²(a)", step("tanh", tanh_through_cosh)),
    ("backward", "Kahn's algorithm: counts each node's consumers",
     replace(backward=backward_counting_consumers)),
    ("backward", "topological order with an explicit stack", replace(backward=backward_with_a_stack)),
    ("backward", "every operation's _backward still the stub's: only the order is graded",
     stub_operations()),
]
