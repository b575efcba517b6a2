"""kit/autograd/scan: a right answer is never flagged, and autograd is found where it is used and
attributed to exactly the exercises whose code reaches it, not to others of the same module.

Submissions are written into tmp_path as curriculum modules and read by scan.scan, as the
grader reads them. Every snippet must parse: the scan skips a module that does not, which
would make a "no finding" vacuous.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from kit.autograd import scan
from kit.implementation import Implementation
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = Path(__file__).parent / "variants"
CH7 = {e.id for e in EXERCISES.values() if e.module == "ch7_engine"}


def write(folder: Path, modules: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        source = textwrap.dedent(source)
        ast.parse(source)  # a snippet that does not parse would be skipped by the scan
        (folder / f"{module}.py").write_text(source)
    return folder


def findings(folder: Path, modules: dict[str, str]) -> dict[str, str]:
    return scan.scan(write(folder, modules))


def every_use(folder: Path) -> list[str]:
    """Every use the scan sees in any unit, whether or not an exercise reaches it."""
    trees = {m: ast.parse((folder / f"{m}.py").read_text()) for m in CHAPTERS if (folder / f"{m}.py").exists()}
    program = scan._Program(trees)
    return [f"{key}: {use}" for key, unit in program.units.items() for use in unit.uses]


# ---- building modules ---------------------------------------------------------------------------

# chapter 6, right: (parameters, body) of each exercise; sigmoid_grad calls sigmoid
CH6 = {
    "sigmoid": ("x", "return 1 / (1 + math.exp(-x))"),
    "sigmoid_grad": ("x", "s = sigmoid(x)\nreturn s * (1 - s)"),
    "relu_grad": ("x", "return 1.0 if x > 0 else 0.0"),
    "log_grad": ("x", "return 1 / x"),
    "scale_grad": ("a, x", "return a"),
    "dot_self_grad": ("x", "return 2 * x"),
    "sigmoid_backward": ("x, upstream", "s = torch.sigmoid(x)\nreturn upstream * s * (1 - s)"),
    "relu_backward": ("x, upstream", "return upstream * (x > 0)"),
    "log_backward": ("x, upstream", "return upstream / x"),
    "scale_backward": ("a, x, upstream", "return a * upstream"),
    "dot_self_backward": ("x, upstream", "return 2 * x * upstream"),
}


def ch6(head: str = "", tail: str = "", **bodies: str) -> str:
    """A chapter 6 module: the right bodies, but for those given; `head` after the imports."""
    parts = ["import math\nimport torch\n", textwrap.dedent(head)]
    for name, (parameters, body) in CH6.items():
        body = textwrap.dedent(bodies.get(name, body)).strip()
        parts.append(f"\ndef {name}({parameters}):\n{textwrap.indent(body, '    ')}\n")
    parts.append(textwrap.dedent(tail))
    return "\n".join(parts)


def ids(module: str, *names: str) -> set[str]:
    return {f"{module}.{n}" for n in names}


VALUE = '''
import math


class Value:
    def __init__(self, data, _prev=()):
        self.data = data
        self.grad = 0.0
        self._prev = tuple(_prev)
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += out.grad * other.data
            other.grad += out.grad * self.data

        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def tanh(self):
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            self.grad += out.grad * (1 - out.data ** 2)

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.grad * out.data

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if node not in seen:
                seen.add(node)
                for parent in node._prev:
                    visit(parent)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
'''


def value_with(method: str, body: str) -> str:
    """VALUE with `method` replaced by another definition (indented as a method)."""
    tree = ast.parse(VALUE)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    node = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == method)
    lines = VALUE.split("\n")
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    new = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ").split("\n")
    return "import torch\n" + "\n".join(lines[:start] + new + lines[node.end_lineno:])


# ---- 1. right answers are never flagged ---------------------------------------------------------

RIGHT = {
    # the testers' case: a word in a variable is not a use
    "step = 'backward' in gradient_rule": {"ch5_backprop_by_hand": '''
        def gradient_rule(contributions):
            step = "backward"
            total = 0.0
            for upstream, local in contributions:
                total += upstream * local
            return total
        '''},
    "strings that spell autograd, in messages, keys, comparisons, prints, f-strings": {"ch5_backprop_by_hand": '''
        """Never call .backward() or torch.autograd.grad here; requires_grad stays off."""
        NAMES = {"backward": "d/dx", "autograd": 0, "requires_grad": False, "torch.func": None}


        def forward(x, y, z):
            """No autograd: derived by hand."""
            a = x * y
            b = a + z
            print(f"forward done, now the {'back' + 'ward'} pass; not torch.autograd")
            return {"a": a, "b": b, "c": b ** 2}


        def local_derivatives(x, y, z, mode="backward"):
            if mode == "torch.autograd.grad":
                raise ValueError("requires_grad_ is not allowed: " + "functorch")
            b = x * y + z
            return {"da_dx": y, "da_dy": x, "db_da": 1.0, "db_dz": 1.0, "dc_db": 2.0 * b}


        def backward(x, y, z):
            local = local_derivatives(x, y, z)
            name = "auto" + "grad"
            assert name != "backward", "a message about .backward()"
            db = local["dc_db"]
            return {"x": db * local["da_dx"], "y": db * local["da_dy"], "z": db * local["db_dz"],
                    "a": db, "b": db, "c": 1.0}


        def gradient_rule(contributions):
            label = "%s.%s" % ("torch", "autograd")
            words = "".join(["back", "ward"])
            return sum(u * l for u, l in contributions) if label and words else 0.0
        '''},
    "variables and parameters named backward, grad, autograd, requires_grad": {"ch5_backprop_by_hand": '''
        def forward(x, y, z, autograd=False, requires_grad=False):
            grad = x * y
            backward = grad + z
            return {"a": grad, "b": backward, "c": backward ** 2}


        def local_derivatives(x, y, z):
            requires_grad = [v for v in (x, y)]
            return {"da_dx": y, "da_dy": x, "db_da": 1.0, "db_dz": 1.0, "dc_db": 2.0 * (x * y + z)}


        def backward(x, y, z):
            backward = forward
            grad = lambda grad: grad * 2.0
            autograd = {"x": 1}
            b = backward(x, y, z)["b"]
            return {"x": grad(b) * y, "y": grad(b) * x, "z": grad(b), "a": grad(b), "b": grad(b), "c": 1.0}


        def gradient_rule(contributions):
            return sum(backward * grad for backward, grad in contributions)
        '''},
    "a parameter named grad shadows an unused `from torch.autograd import grad`": {"ch8_tensors": '''
        import torch
        from torch.autograd import grad


        def unbroadcast(grad, shape):
            while grad.dim() > len(shape):
                grad = grad.sum(dim=0)
            for dim, size in enumerate(shape):
                if size == 1 and grad.shape[dim] != 1:
                    grad = grad.sum(dim=dim, keepdim=True)
            return grad


        def tanh_backward(x, upstream):
            def inner(grad=upstream):
                return grad * (1 - torch.tanh(x) ** 2)
            return inner()
        '''},
    "a module's own function named backward, called through the module": {
        "ch5_backprop_by_hand": '''
            def forward(x, y, z):
                return {"a": x * y, "b": x * y + z, "c": (x * y + z) ** 2}

            def backward(x, y, z):
                b = x * y + z
                return {"x": 2 * b * y, "y": 2 * b * x, "z": 2 * b, "a": 2 * b, "b": 2 * b, "c": 1.0}
            ''',
        "ch6_functions": ch6(head="""
            import importlib
            import sys
            import ch5_backprop_by_hand as ch5
            """, scale_grad="""
            return ch5.backward(1.0, a, 0.0)["y"] / 2 + a - ch5.backward(1.0, a, 0.0)["y"] / 2
            """, log_grad="""
            m = importlib.import_module("ch5_backprop_by_hand")
            n = sys.modules.get("ch5_backprop_by_hand", m)
            return 1 / x + 0 * m.backward(1, 2, 3)["x"] + 0 * getattr(n, "backward")(1, 2, 3)["x"]
            """)},
    "switching autograd off, asking about it": {"ch6_functions": ch6(head="""
        from torch.autograd import no_grad
        from torch import inference_mode as im
        ag = torch.autograd
        """, sigmoid_backward="""
        with torch.no_grad():
            s = torch.sigmoid(x)
        with torch.inference_mode():
            s = torch.sigmoid(x)
        with torch.autograd.no_grad(), no_grad(), im():
            s = torch.sigmoid(x)
        with torch.autograd.grad_mode.no_grad(), ag.no_grad():
            s = torch.sigmoid(x)
        return upstream * s * (1 - s)
        """, relu_backward="""
        torch.set_grad_enabled(False)
        with torch.set_grad_enabled(mode=False):
            pass
        assert not torch.is_grad_enabled()
        return upstream * (x > 0)
        """, log_backward="""
        @torch.no_grad()
        def inner(t):
            return upstream / t
        return inner(x)
        """)},
    "detach, reading requires_grad, grad and grad_fn": {"ch6_functions": ch6(sigmoid_backward="""
        x = x.detach().clone()
        assert not x.requires_grad, "no graph"
        assert x.grad is None and x.grad_fn is None
        if x.requires_grad or x.grad_fn is not None:
            raise ValueError(f"unexpected {x.grad_fn}")
        print(x.grad_fn, type(x.grad_fn), isinstance(x.grad_fn, object))
        s = torch.sigmoid(x)
        return upstream * s * (1 - s)
        """, relu_backward="""
        mask = (x > 0).to(upstream.dtype).detach()
        flag = x.requires_grad
        return upstream * mask if not flag else upstream * mask
        """)},
    "requires_grad=False, requires_grad_(False), .requires_grad = False, Parameter without grad": {
        "ch6_functions": ch6(head="""
            OFF = False
            """, sigmoid_backward="""
            t = torch.zeros_like(x, requires_grad=False) + x
            t.requires_grad_(False)
            t.requires_grad = False
            t.requires_grad = OFF
            s = torch.sigmoid(t)
            return upstream * s * (1 - s)
            """, dot_self_backward="""
            requires_grad = False
            w = torch.nn.Parameter(x.clone(), requires_grad=False)
            v = torch.tensor(x.tolist(), requires_grad=requires_grad)
            return 2 * w.data * upstream + 0 * v
            """)},
    "a parameter that is False by default and never passed": {"ch6_functions": ch6(head="""
        def leaf(values, requires_grad=False):
            return torch.as_tensor(values).clone().requires_grad_(requires_grad)
        """, dot_self_backward="""
        return 2 * leaf(x) * upstream
        """, scale_backward="""
        return a * leaf(upstream)
        """)},
    "an exercise's own extra parameter, False by default: the kit never passes it": {"ch6_functions": ch6(
        tail="""
        def dot_self_grad(x, requires_grad=False):
            return 2 * torch.tensor(x.tolist(), requires_grad=requires_grad)
        """)},
    "names that contain the words": {"ch6_functions": ch6(head="""
        def my_autograd_free_helper(x):
            return 1 / (1 + math.exp(-x))

        def backward_pass(x, upstream):
            return upstream / x

        def requires_grad_never(x):
            return x
        """, sigmoid="return my_autograd_free_helper(x)", log_backward="return backward_pass(x, upstream)",
        log_grad="return requires_grad_never(1 / x)")},
    "type annotations that name autograd": {"ch6_functions": ch6(head="""
        from typing import TYPE_CHECKING, Optional

        if TYPE_CHECKING:
            from torch.autograd import Function
            import torch.autograd as ag

        def helper(x: torch.Tensor, fn: "torch.autograd.Function" = None,
                   g: Optional[torch.autograd.Function] = None) -> "torch.autograd.graph.Node":
            scratch: torch.autograd.Function
            return x
        """, sigmoid_backward="""
        s: torch.Tensor = torch.sigmoid(helper(x))
        return upstream * s * (1 - s)
        """)},
    "unused imports of torch and of torch.autograd": {"ch6_functions": ch6(head="""
        import torch.autograd
        import torch.nn.functional as F
        from torch import Tensor
        from torch.autograd import grad, backward
        from torch.func import vmap
        import torch.autograd as ag
        """)},
    "autograd under if __name__ == '__main__' and if False": {"ch6_functions": ch6(tail="""
        if __name__ == "__main__":
            import torch.autograd as ag
            t = torch.tensor(1.0, requires_grad=True)
            torch.sigmoid(t).backward()
            print(ag.grad(sigmoid_backward(t, 1.0).sum(), t))

        if False:
            torch.tensor(1.0, requires_grad=True).backward()
        """)},
    "chapter 7: a Value of one's own, with backward, called as out.backward()": {"ch7_engine": VALUE + '''

def check():
    a, b = Value(2.0), Value(3.0)
    out = (a * b + a).tanh()
    out.backward()
    getattr(out, "backward")()
    Value.backward(out)
    return a.grad, b.grad
'''},
    "chapter 7: backward inherited from a base class": {"ch7_engine": '''
        class Node:
            def backward(self):
                for node in reversed(self.order()):
                    node._backward()

            def order(self):
                return [self]


        class Value(Node):
            def __init__(self, data, _prev=()):
                self.data, self.grad, self._prev = data, 0.0, tuple(_prev)
                self._backward = lambda: None

            def run(self):
                super().backward()
                self.backward()
        '''},
    "chapter 7: the class imported by another module": {
        "ch7_engine": VALUE,
        "ch9_training": '''
            from ch7_engine import Value
            import ch7_engine as engine


            def sgd_step(params, x, targets, lr):
                v = Value(1.0) * Value(2.0)
                v.backward()
                w = engine.Value(3.0).tanh()
                w.backward()
                return 0.0, params


            def train(params, x, targets, lr, steps):
                return [sgd_step(params, x, targets, lr)[0] for _ in range(steps)]
            '''},
    "chapter 7: Value made with type(), backward added afterwards, or by setattr": {"ch7_engine": '''
        def _init(self, data, _prev=()):
            self.data, self.grad, self._prev, self._backward = data, 0.0, tuple(_prev), lambda: None


        def _walk(self):
            self.grad = 1.0
            self._backward()


        Value = type("Value", (), {"__init__": _init, "backward": _walk})
        Other = type("Other", (), {"__init__": _init})
        Other.backward = _walk
        Third = type("Third", (), {"__init__": _init})
        setattr(Third, "backward", _walk)


        def use():
            for v in (Value(1.0), Other(2.0), Third(3.0)):
                v.backward()
        '''},
    "chapter 7: a Value with requires_grad, grad_fn and autograd attributes of its own": {"ch7_engine": '''
        class Value:
            def __init__(self, data, _prev=(), requires_grad=True, autograd=None):
                self.data, self.grad, self._prev = data, 0.0, tuple(_prev)
                self.requires_grad = requires_grad
                self.autograd = autograd
                self.grad_fn = lambda: None
                self._backward = lambda: None

            def backward(self):
                self.grad = 1.0
                self.grad_fn()
                for node in self._prev:
                    if node.requires_grad:
                        node.grad_fn()
                        node.autograd


        def make(x):
            v = Value(x, requires_grad=True)
            v.requires_grad = True
            return v
        '''},
    "chapter 8: a layer class of one's own with backward": {"ch8_tensors": '''
        import torch
        from dataclasses import dataclass
        from types import SimpleNamespace
        from collections import namedtuple
        from typing import Callable


        class Linear:
            def __init__(self, W, b):
                self.W, self.b = W, b

            def backward(self, x, upstream):
                return upstream @ self.W, upstream.T @ x, upstream.sum(dim=0)


        @dataclass
        class Op:
            forward: Callable
            backward: Callable


        Pair = namedtuple("Pair", "forward backward")
        TANH = SimpleNamespace(forward=torch.tanh, backward=lambda x, g: g * (1 - torch.tanh(x) ** 2))


        def linear_backward(x, W, b, upstream):
            return Linear(W, b).backward(x, upstream)


        def tanh_backward(x, upstream):
            op = Op(torch.tanh, TANH.backward)
            pair = Pair(torch.tanh, op.backward)
            return pair.backward(x, upstream)
        '''},
    "getattr of torch's ordinary functions, by a name from a loop": {"ch6_functions": ch6(head="""
        ACTIVATIONS = {}
        for name in ("sigmoid", "tanh", "relu"):
            ACTIVATIONS[name] = getattr(torch, name)
        """, sigmoid_backward="""
        s = ACTIVATIONS["sigmoid"](x)
        f = getattr(torch, "sig" + "moid")
        assert hasattr(torch, "autograd") and hasattr(x, "backward")
        return upstream * f(x) * (1 - s)
        """)},
    "eval and exec of code without autograd": {"ch6_functions": ch6(log_grad="""
        return eval("1 / x")
        """, scale_grad="""
        space = {}
        exec("def f(a):\\n    return a", space)
        return space["f"](a)
        """)},
    "from torch import * with right code": {"ch6_functions": '''
        import math
        from torch import *


        def sigmoid_backward(x, upstream):
            with no_grad():
                s = sigmoid(x)
            return upstream * s * (1 - s)


        def relu_backward(x, upstream):
            return upstream * (x > 0)
        '''},
    "chapter 7: trying the Value at module level (micrograd style)": {"ch7_engine": VALUE + """
a = Value(2.0)
b = a * a + a
b.backward()
print(a.grad)
"""},
    "a torch alias from another module, used only for no_grad": {
        "ch8_tensors": "import torch\nimport torch.autograd as ag\n",
        "ch9_training": """
            from ch8_tensors import ag

            def sgd_step(params, x, targets, lr):
                with ag.no_grad():
                    return 0.0, {k: v - lr * v for k, v in params.items()}
            """},
    "a local alias of torch.autograd, used only for no_grad": {"ch6_functions": ch6(log_backward="""
        ag = torch.autograd
        with ag.no_grad():
            return upstream / x
        """)},
    "an attribute of one's own namespace object named autograd": {"ch6_functions": ch6(head="""
        from types import SimpleNamespace
        config = SimpleNamespace(autograd=False)
        """, log_grad="return 1 / x if not config.autograd else 0.0")},
    "a module-level False flag given to requires_grad": {"ch6_functions": ch6(head="""
        FLAG = False
        """, log_backward="""
        t = torch.ones_like(x, requires_grad=FLAG)
        return upstream / x * t
        """)},
    "an older attempt with autograd, replaced by a later definition": {"ch6_functions": ch6(head="""
        def sigmoid_backward(x, upstream):
            t = x.detach().requires_grad_()
            torch.sigmoid(t).backward(upstream)
            return t.grad
        """)},
}


@pytest.mark.parametrize("modules", RIGHT.values(), ids=RIGHT.keys())
def test_right_code_is_never_flagged(tmp_path, modules):
    assert findings(tmp_path, modules) == {}


def test_the_solutions_and_the_stubs_use_no_autograd_anywhere():
    for folder in (ROOT / "solutions", ROOT / "exercises"):
        assert scan.scan(folder) == {}
        assert every_use(folder) == [], folder


@pytest.mark.parametrize("module", CHAPTERS)
def test_each_solution_alone_is_not_flagged(tmp_path, module):
    (tmp_path / f"{module}.py").write_text((ROOT / "solutions" / f"{module}.py").read_text())
    assert scan.scan(tmp_path) == {}


def right_variants() -> list:
    """Each RIGHT variant as a submission: its variants file (the helpers it uses) followed by
    `name = <the variant's expression>` for each module attribute it replaces."""
    found = []
    for module in CHAPTERS:
        source = (VARIANTS / f"{module}.py").read_text()
        tree = ast.parse(source)
        listed = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                      and any(isinstance(t, ast.Name) and t.id == "RIGHT" for t in node.targets))
        loaded = Implementation(VARIANTS).module(module).RIGHT
        assert len(listed.elts) == len(loaded)
        for entry, (name, why, replacement) in zip(listed.elts, loaded):
            expression = ast.get_source_segment(source, entry.elts[2])
            if isinstance(replacement, dict):
                lines = [f"{key} = ({expression})[{key!r}]" for key in replacement]
            else:
                lines = [f"{name} = ({expression})"]
            found.append(pytest.param(module, source + "\n\n" + "\n".join(lines) + "\n", id=f"{module}.{name}: {why}"))
    return found


@pytest.mark.parametrize(("module", "source"), right_variants())
def test_right_variants_are_not_flagged(tmp_path, module, source):
    assert findings(tmp_path, {module: source}) == {}


@pytest.mark.parametrize("module", CHAPTERS)
def test_the_variant_files_use_no_autograd_anywhere(tmp_path, module):
    # stronger than the above: no unit at all, reached by an exercise or not, has a use
    write(tmp_path, {module: (VARIANTS / f"{module}.py").read_text()})
    assert every_use(tmp_path) == []


# ---- 2. autograd is found, and attributed to exactly the exercises that reach it ------------------

S6 = "ch6_functions"
FOUND = {
    "x.backward() in one function": ({S6: ch6(sigmoid_backward="""
        t = x.detach().requires_grad_()
        torch.sigmoid(t).backward(upstream)
        return t.grad
        """)}, ids(S6, "sigmoid_backward")),
    "y.backward() on a local tensor": ({S6: ch6(log_backward="""
        y = torch.log(x)
        y.backward(upstream)
        return x.grad
        """)}, ids(S6, "log_backward")),
    "torch.autograd.grad": ({S6: ch6(log_backward="""
        t = x.clone()
        return torch.autograd.grad(torch.log(t).sum(), t)[0] * upstream
        """)}, ids(S6, "log_backward")),
    "import torch.autograd as ag, in the function": ({S6: ch6(log_backward="""
        import torch.autograd as ag
        return ag.grad(torch.log(x).sum(), x)[0] * upstream
        """)}, ids(S6, "log_backward")),
    "import torch.autograd as ag, at module level, used by one": ({S6: ch6(head="""
        import torch.autograd as ag
        """, relu_backward="""
        return ag.grad((x.relu() * upstream).sum(), x)[0]
        """)}, ids(S6, "relu_backward")),
    "from torch import autograd, used by one": ({S6: ch6(head="""
        from torch import autograd
        """, scale_backward="""
        return autograd.grad((a * x * upstream).sum(), x)[0]
        """)}, ids(S6, "scale_backward")),
    "from torch.autograd import grad as g, through a helper": ({S6: ch6(head="""
        from torch.autograd import grad as g

        def helper(y, x):
            return g(y, x)[0]
        """, dot_self_backward="""
        return helper((x * x).sum(), x) * upstream
        """)}, ids(S6, "dot_self_backward")),
    "getattr(torch, 'auto' + 'grad')": ({S6: ch6(dot_self_backward="""
        return getattr(torch, "auto" + "grad").grad((x * x).sum(), x)[0] * upstream
        """)}, ids(S6, "dot_self_backward")),
    "a name built from pieces, given to getattr": ({S6: ch6(dot_self_backward="""
        name = "".join(chr(c) for c in (97, 117, 116, 111, 103, 114, 97, 100))
        return getattr(torch, name).grad((x * x).sum(), x)[0] * upstream
        """)}, ids(S6, "dot_self_backward")),
    "a module-level name built from pieces, given to getattr": ({S6: ch6(head="""
        PART = "auto"
        NAME = f"{PART}grad"
        """, dot_self_backward="""
        return getattr(torch, NAME).grad((x * x).sum(), x)[0] * upstream
        """)}, ids(S6, "dot_self_backward")),
    "__import__('torch.func')": ({S6: ch6(dot_self_grad="""
        return __import__("torch.func").func.grad(lambda t: (t * t).sum())(x)
        """)}, ids(S6, "dot_self_grad")),
    "importlib.import_module('torch.autograd')": ({S6: ch6(head="""
        import importlib
        """, dot_self_grad="""
        return importlib.import_module("torch.autograd").grad((x * x).sum(), x)[0]
        """)}, ids(S6, "dot_self_grad")),
    "torch.func.grad in sigmoid_grad": ({S6: ch6(sigmoid_grad="""
        return torch.func.grad(torch.sigmoid)(torch.tensor(x)).item()
        """)}, ids(S6, "sigmoid_grad")),
    "functorch": ({S6: ch6(relu_grad="""
        import functorch
        return functorch.grad(torch.relu)(torch.tensor(x)).item()
        """)}, ids(S6, "relu_grad")),
    "requires_grad=True in sigmoid, which sigmoid_grad calls": ({S6: ch6(sigmoid="""
        t = torch.tensor(x, requires_grad=True)
        return torch.sigmoid(t).item()
        """)}, ids(S6, "sigmoid", "sigmoid_grad")),
    "requires_grad_()": ({S6: ch6(relu_backward="""
        t = x.clone().requires_grad_()
        return upstream * (t > 0)
        """)}, ids(S6, "relu_backward")),
    "x.requires_grad = True": ({S6: ch6(relu_backward="""
        x.requires_grad = True
        return upstream * (x > 0)
        """)}, ids(S6, "relu_backward")),
    "setattr(t, 'requires' + chr(95) + 'grad', True)": ({S6: ch6(relu_backward="""
        t = x.clone()
        setattr(t, "requires" + chr(95) + "grad", True)
        return upstream * (t > 0)
        """)}, ids(S6, "relu_backward")),
    "requires_grad=flag, a flag someone passes True": ({S6: ch6(head="""
        def leaf(values, requires_grad=False):
            return torch.tensor(values, requires_grad=requires_grad)
        """, scale_backward="""
        return a * leaf(upstream.tolist(), True)
        """)}, ids(S6, "scale_backward")),
    "a helper called by two exercises": ({S6: ch6(head="""
        def slope(f, x):
            t = torch.tensor(float(x), requires_grad=True)
            f(t).backward()
            return t.grad.item()
        """, relu_grad="return slope(torch.relu, x)", log_grad="return slope(torch.log, x)")},
        ids(S6, "relu_grad", "log_grad")),
    "a chain of helpers": ({S6: ch6(head="""
        def deep(t):
            return torch.autograd.grad(t.sum(), t)[0]

        def middle(t):
            return deep(t)
        """, scale_backward="return a * middle(x) * upstream")}, ids(S6, "scale_backward")),
    "torch._C._EngineBase.run_backward": ({S6: ch6(log_backward="""
        return torch._C._EngineBase.run_backward
        """)}, ids(S6, "log_backward")),
    "Variable._execution_engine": ({S6: ch6(head="""
        from torch.autograd import Variable
        """, log_backward="""
        Variable._execution_engine.run_backward((x,), (upstream,), False, False, (), False)
        return x.grad
        """)}, ids(S6, "log_backward")),
    "torch.autograd.graph": ({S6: ch6(log_backward="""
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            return upstream / x
        """)}, ids(S6, "log_backward")),
    "calling a grad_fn": ({S6: ch6(sigmoid_backward="""
        y = torch.sigmoid(x)
        return y.grad_fn(upstream)
        """)}, ids(S6, "sigmoid_backward")),
    "grad_fn.next_functions": ({S6: ch6(sigmoid_backward="""
        y = torch.sigmoid(x)
        node = y.grad_fn.next_functions[0][0]
        return node(upstream)
        """)}, ids(S6, "sigmoid_backward")),
    "torch.nn.Parameter": ({S6: ch6(dot_self_backward="""
        w = torch.nn.Parameter(x.clone())
        (w * w).sum().backward()
        return w.grad * upstream
        """)}, ids(S6, "dot_self_backward")),
    "torch.enable_grad": ({S6: ch6(relu_backward="""
        with torch.enable_grad():
            return upstream * (x > 0)
        """)}, ids(S6, "relu_backward")),
    "set_grad_enabled(True)": ({S6: ch6(relu_backward="""
        torch.set_grad_enabled(True)
        return upstream * (x > 0)
        """)}, ids(S6, "relu_backward")),
    "@torch.enable_grad() on a function": ({S6: ch6(tail="""
        @torch.enable_grad()
        def log_backward(x, upstream):
            return upstream / x
        """)}, ids(S6, "log_backward")),
    "an alias of torch at module level: T = torch; T.autograd": ({S6: ch6(head="""
        T = torch
        """, scale_backward="""
        return T.autograd.grad((a * x).sum(), x)[0] * upstream
        """)}, ids(S6, "scale_backward")),
    "an alias of torch in a function": ({S6: ch6(scale_backward="""
        T = torch
        functions = T.autograd.functional
        return functions.jacobian(lambda t: a * t, x) @ upstream
        """)}, ids(S6, "scale_backward")),
    "from torch import *: enable_grad()": ({S6: '''
        from torch import *

        def sigmoid_backward(x, upstream):
            with enable_grad():
                s = sigmoid(x)
            return upstream * s * (1 - s)

        def relu_backward(x, upstream):
            return upstream * (x > 0)
        '''}, ids(S6, "sigmoid_backward")),
    "from torch.autograd import *: grad()": ({S6: '''
        import torch
        from torch.autograd import *

        def sigmoid_backward(x, upstream):
            return grad(torch.sigmoid(x).sum(), x)[0] * upstream

        def relu_backward(x, upstream):
            return upstream * (x > 0)
        '''}, ids(S6, "sigmoid_backward")),
    "sys.modules['torch'], vars(torch), torch.__dict__, globals()": ({S6: ch6(head="""
        import sys
        """, sigmoid_backward="""
        return sys.modules["torch"].autograd.grad(torch.sigmoid(x).sum(), x)[0]
        """, relu_backward="""
        return vars(torch)["autograd"].grad(x.relu().sum(), x)[0]
        """, log_backward="""
        return torch.__dict__["auto" "grad"].grad(x.log().sum(), x)[0]
        """, scale_backward="""
        return globals()["torch"].autograd.grad((a * x).sum(), x)[0]
        """)}, ids(S6, "sigmoid_backward", "relu_backward", "log_backward", "scale_backward")),
    "operator.attrgetter and methodcaller": ({S6: ch6(head="""
        import operator
        """, sigmoid_backward="""
        return operator.attrgetter("autograd.grad")(torch)(torch.sigmoid(x).sum(), x)[0]
        """, relu_backward="""
        operator.methodcaller("backward", upstream)(x.relu())
        return x.grad
        """)}, ids(S6, "sigmoid_backward", "relu_backward")),
    "eval and exec of autograd code": ({S6: ch6(sigmoid_backward="""
        return eval("torch.autograd.grad")(torch.sigmoid(x).sum(), x)[0]
        """, relu_backward="""
        space = {"x": x, "upstream": upstream}
        exec("y = x.relu()\\ny.backward(upstream)", space)
        return x.grad
        """)}, ids(S6, "sigmoid_backward", "relu_backward")),
    "a False flag that a function may set True": ({S6: ch6(head="""
        FLAG = False

        def enable():
            global FLAG
            FLAG = True
        """, log_backward="""
        t = torch.ones_like(x, requires_grad=FLAG)
        return upstream / x * t
        """)}, ids(S6, "log_backward")),
    "a string reversed, given to getattr": ({S6: ch6(log_backward="""
        return getattr(torch, "dargotua"[::-1]).grad(x.log().sum(), x)[0]
        """)}, ids(S6, "log_backward")),
    "getattr in a loop over names, one of them autograd": ({S6: ch6(log_backward="""
        for name in ("log", "autograd"):
            f = getattr(torch, name)
        return upstream / x
        """)}, ids(S6, "log_backward")),
    "torch.Tensor.backward(loss) and F.cross_entropy(...).backward()": ({"ch9_training": """
        import torch
        import torch.nn.functional as F

        def sgd_step(params, x, targets, lr):
            torch.Tensor.backward(x.sum())
            return 0.0, params

        def train(params, x, targets, lr, steps):
            loss = F.cross_entropy(x, targets)
            loss.backward()
            return [loss.item()]
        """}, ids("ch9_training", "sgd_step", "train")),
    "a class attribute holding torch.autograd.grad": ({S6: ch6(head="""
        class Helper:
            g = staticmethod(torch.autograd.grad)
        """, log_backward="return Helper.g(x.log().sum(), x)[0]")}, ids(S6, "log_backward")),
    "a module-level lambda that calls .backward()": ({S6: ch6(head="""
        run = lambda t: t.backward()
        """, log_backward="""
        run((x.log() * upstream).sum())
        return x.grad
        """)}, ids(S6, "log_backward")),
    "a module-level binding taints only its name": ({S6: ch6(head="""
        slope = torch.autograd.grad
        TABLE = {"grad": torch.func.grad}
        unrelated = 1.0
        """, log_backward="return slope(x.log().sum(), x)[0] * upstream",
        sigmoid_grad="return TABLE['grad'](torch.sigmoid)(torch.tensor(x)).item() * unrelated")},
        ids(S6, "log_backward", "sigmoid_grad")),
    "a module-level lambda": ({S6: ch6(tail="""
        dot_self_grad = lambda x: torch.func.grad(lambda t: (t * t).sum())(x)
        """)}, ids(S6, "dot_self_grad")),
    "a default argument": ({S6: ch6(tail="""
        def log_backward(x, upstream, g=torch.autograd.grad):
            return upstream / x
        """)}, ids(S6, "log_backward")),
    "a later definition with autograd replaces a right one": ({S6: ch6(tail="""
        def relu_grad(x):
            t = torch.tensor(x, requires_grad=True)
            t.relu().backward()
            return t.grad.item()
        """)}, ids(S6, "relu_grad")),
    "either definition may run": ({S6: ch6(tail="""
        if math.pi > 3:
            def log_grad(x):
                return torch.func.grad(torch.log)(torch.tensor(x)).item()
        else:
            def log_grad(x):
                return 1 / x
        """)}, ids(S6, "log_grad")),
    "a class of torch.autograd.Function used by one exercise": ({S6: ch6(head="""
        class Sig(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return torch.sigmoid(x)
        """, sigmoid_backward="""
        s = Sig.apply(x)
        return upstream * s * (1 - s)
        """)}, ids(S6, "sigmoid_backward")),
    "getattr(t, 'backward')()": ({S6: ch6(relu_backward="""
        y = x.relu()
        getattr(y, "back" + "ward")(upstream)
        return x.grad
        """)}, ids(S6, "relu_backward")),
    "a changed object: TABLE.append(f) at module level taints TABLE, not the module": ({S6: ch6(head="""
        def autograd_slope(f, x):
            return torch.func.grad(f)(torch.tensor(x)).item()

        TABLE = []
        TABLE.append(autograd_slope)
        """, log_grad="return TABLE[0](torch.log, x)")}, ids(S6, "log_grad")),
    # the module's import runs these: every exercise of the module
    "a module-level statement": ({S6: ch6(tail="""
        torch.ones(1, requires_grad=True).sum().backward()
        """)}, ids(S6, *CH6)),
    "a module-level call of a function that uses autograd": ({S6: ch6(tail="""
        def warm_up():
            torch.ones(1, requires_grad=True).sum().backward()

        warm_up()
        """)}, ids(S6, *CH6)),
    "the else of the __main__ guard runs on import": ({S6: ch6(tail="""
        if __name__ == "__main__":
            pass
        else:
            torch.ones(1, requires_grad=True).sum().backward()
        """)}, ids(S6, *CH6)),
    "a guard that is not the __main__ guard runs": ({S6: ch6(tail="""
        if __name__ != "__main__":
            torch.ones(1, requires_grad=True).sum().backward()
        """)}, ids(S6, *CH6)),
    # across modules
    "through from ch8_tensors import mlp_backward": ({
        "ch8_tensors": '''
            import torch

            def mlp_backward(x, W1, b1, W2, b2, targets):
                loss = torch.nn.functional.cross_entropy(torch.relu(x @ W1.T + b1) @ W2.T + b2, targets)
                return torch.autograd.grad(loss, (W1, b1, W2, b2))

            def tanh_backward(x, upstream):
                return upstream * (1 - torch.tanh(x) ** 2)
            ''',
        "ch9_training": '''
            from ch8_tensors import mlp_backward

            def sgd_step(params, x, targets, lr):
                grads = mlp_backward(x, params["W1"], params["b1"], params["W2"], params["b2"], targets)
                return 0.0, {k: params[k] - lr * g for k, g in zip(params, grads)}

            def train(params, x, targets, lr, steps):
                return [sgd_step(params, x, targets, lr)[0] for _ in range(steps)]
            '''},
        ids("ch8_tensors", "mlp_backward") | ids("ch9_training", "sgd_step", "train")),
    "through import ch8_tensors as c8": ({
        "ch8_tensors": '''
            import torch

            def mlp_backward(x, W1, b1, W2, b2, targets):
                W1.requires_grad_()
                return W1

            def mse_backward(pred, target):
                return 2 * (pred - target) / pred.numel()
            ''',
        "ch9_training": '''
            import ch8_tensors as c8

            def sgd_step(params, x, targets, lr):
                return 0.0, c8.mlp_backward(x, None, None, None, None, targets)

            def train(params, x, targets, lr, steps):
                return [c8.mse_backward(x, x)]
            '''},
        ids("ch8_tensors", "mlp_backward") | ids("ch9_training", "sgd_step")),
    "through from ch8_tensors import *": ({
        "ch8_tensors": ("import torch\n\ndef mse_backward(pred, target):\n"
                        "    return torch.autograd.grad(pred.sum(), pred)[0]\n"),
        "ch9_training": """
            from ch8_tensors import *

            def sgd_step(params, x, targets, lr):
                return 0.0, params

            def train(params, x, targets, lr, steps):
                return [mse_backward(x, x)]
            """}, ids("ch8_tensors", "mse_backward") | ids("ch9_training", "train")),
    "a torch alias from another module, used for grad": ({
        "ch8_tensors": "import torch\nimport torch.autograd as ag\n",
        "ch9_training": """
            from ch8_tensors import ag

            def sgd_step(params, x, targets, lr):
                with ag.no_grad():
                    return 0.0, params

            def train(params, x, targets, lr, steps):
                return [ag.grad(x.sum(), x)]
            """}, ids("ch9_training", "train")),
    "loss.backward() in chapter 9, while chapter 7 has a Value with backward": ({
        "ch7_engine": VALUE,
        "ch9_training": '''
            import torch

            def sgd_step(params, x, targets, lr):
                loss = torch.nn.functional.cross_entropy(x @ params["W1"].T, targets)
                loss.backward()
                return loss.item(), {k: v - lr * v.grad for k, v in params.items()}

            def train(params, x, targets, lr, steps):
                return []
            '''}, ids("ch9_training", "sgd_step")),
    "loss.backward() in a module that imports the Value, on a torch tensor": ({
        "ch7_engine": VALUE,
        "ch9_training": '''
            import torch
            from ch7_engine import Value

            def sgd_step(params, x, targets, lr):
                Value(1.0).backward()
                loss = torch.nn.functional.cross_entropy(x, targets)
                loss.backward()
                return loss.item(), params

            def train(params, x, targets, lr, steps):
                return []
            '''}, ids("ch9_training", "sgd_step")),
    "a class with backward under the __main__ guard does not make .backward() one's own": ({S6: ch6(tail="""
        if __name__ == "__main__":
            class Fake:
                def backward(self):
                    pass
        """, log_backward="""
        y = (x.log() * upstream).sum()
        y.backward()
        return x.grad
        """)}, ids(S6, "log_backward")),
    # chapter 7: one class, but each exercise's check runs only some of its methods
    "chapter 7: autograd in tanh's _backward": ({"ch7_engine": value_with("tanh", '''
        def tanh(self):
            out = Value(math.tanh(self.data), (self,))

            def _backward():
                t = torch.tensor(self.data, requires_grad=True)
                torch.tanh(t).backward()
                self.grad += out.grad * t.grad.item()

            out._backward = _backward
            return out
        ''')}, {"ch7_engine.tanh", "ch7_engine.backward"}),
    "chapter 7: autograd in __add__": ({"ch7_engine": value_with("__add__", '''
        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other))
            out._backward = lambda: torch.autograd.backward(torch.zeros(1))
            return out
        ''')}, {"ch7_engine.add", "ch7_engine.backward"}),
    "chapter 7: autograd in __sub__, which only backward's graphs use": ({"ch7_engine": value_with("__sub__", '''
        def __sub__(self, other):
            torch.ones(1, requires_grad=True)
            return self + (-other)
        ''')}, {"ch7_engine.backward"}),
    "chapter 7: autograd in exp, which tanh calls by name": ({"ch7_engine": value_with("exp", '''
        def exp(self):
            t = torch.tensor(self.data, requires_grad=True)
            return Value(math.exp(self.data), (self,))
        ''').replace("out = Value(math.tanh(self.data), (self,))",
                     "out = Value(math.tanh(self.data), (self,)); self.exp()")},
        {"ch7_engine.exp", "ch7_engine.tanh", "ch7_engine.backward"}),
    "chapter 7: autograd in __init__ reaches every exercise": ({"ch7_engine": value_with("__init__", '''
        def __init__(self, data, _prev=()):
            self.data = torch.tensor(data, requires_grad=True).item()
            self.grad = 0.0
            self._prev = tuple(_prev)
            self._backward = lambda: None
        ''')}, CH7),
    "chapter 7: autograd in backward()": ({"ch7_engine": value_with("backward", '''
        def backward(self):
            t = torch.tensor(self.data, requires_grad=True)
            t.backward()
        ''')}, {"ch7_engine.backward"}),
}


@pytest.mark.parametrize(("modules", "expected"), FOUND.values(), ids=FOUND.keys())
def test_autograd_is_found_in_exactly_the_exercises_that_reach_it(tmp_path, modules, expected):
    assert set(findings(tmp_path, modules)) == expected


def test_the_message_names_the_path_to_autograd(tmp_path):
    modules, _ = FOUND["a chain of helpers"]
    found = findings(tmp_path, modules)
    assert "scale_backward uses middle, which uses deep, which uses autograd at line" in found[f"{S6}.scale_backward"]
    modules, _ = FOUND["chapter 7: autograd in tanh's _backward"]
    found = findings(tmp_path / "ch7", modules)
    assert "ch7_engine.tanh: Value.tanh uses autograd at line" in found["ch7_engine.tanh"]
    assert "`requires_grad=True`" in found["ch7_engine.tanh"]


def test_every_class_exercise_of_chapter_7_is_mapped_to_its_methods():
    # the scan's table of which methods each chapter 7 check runs must cover every exercise
    for exercise in EXERCISES.values():
        if exercise.attribute != exercise.name:
            assert exercise.name in scan.OPERATION_METHODS or exercise.name in scan.GRAPH_METHODS, exercise.id


ONE_USE = {"ch1_sensitivity": "def scale_sensitivity(x, k):\n    return x.backward()\n"}


def test_a_module_python_cannot_parse_is_left_to_the_run_time_block(tmp_path):
    # too deep for ast.parse: the scan skips it (the run reports it) and still reads the others
    (tmp_path / "ch6_functions.py").write_text("def sigmoid(x):\n    return " + " + ".join(["x"] * 5000) + "\n")
    assert set(findings(tmp_path, ONE_USE)) == {"ch1_sensitivity.scale_sensitivity"}


def test_a_module_too_deep_to_analyse_is_left_to_the_run_time_block(tmp_path, monkeypatch):
    # code that parses can still be too deep for the scan's own recursion: the grader must not
    # crash, and the other modules are still read (the run-time block covers the skipped one)
    units = scan._Module.units

    def too_deep(module):
        if module.name == "ch6_functions":
            raise RecursionError
        return units(module)

    monkeypatch.setattr(scan._Module, "units", too_deep)
    modules = {**ONE_USE, "ch6_functions": ch6(log_grad="return torch.func.grad(torch.log)(torch.tensor(x))")}
    assert set(findings(tmp_path, modules)) == {"ch1_sensitivity.scale_sensitivity"}


def test_a_use_too_deep_to_print_is_still_reported(tmp_path):
    deep = " + ".join(["x"] * 600)  # ast.unparse recurses several frames per level
    found = findings(tmp_path, {"ch1_sensitivity": f"def scale_sensitivity(x, k):\n    return ({deep}).backward()\n"})
    assert set(found) == {"ch1_sensitivity.scale_sensitivity"}
