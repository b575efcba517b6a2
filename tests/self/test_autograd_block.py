"""kit/autograd/block.py: every known route to autograd is closed after block(), and every
operation a by-hand solution uses still gives the same numbers.

Each case runs in its own process: a child forked from a "zygote" that imported torch and
numpy once (as the grader's forkserver does), so a case costs block() (~0.5 s) rather than
torch's import (~2 s). The child runs the case's setup, block(), then the route inside a
`try/except BaseException` (the submission catches whatever it raises) and prints a verdict:
what was raised, and whether uses() moved. A child that dies is a failure.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Reads one JSON line per case ({"code": ...}), forks, runs the code in the child with its
# stdout and stderr on a pipe, and answers with one JSON line: the output and the exit status.
ZYGOTE = r"""
import json, os, sys, signal
import numpy, torch
for line in sys.stdin:
    code = json.loads(line)["code"]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        os.dup2(write, 2)
        signal.alarm(120)
        status = 0
        try:
            exec(compile(code, "<case>", "exec"), {"__name__": "__case__"})
        except BaseException:
            import traceback
            traceback.print_exc()
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(json.dumps({"out": b"".join(chunks).decode("utf-8", "replace"),
                                 "status": os.waitstatus_to_exitcode(status)}) + "\n")
    sys.stdout.flush()
"""


class Zygote:
    def __init__(self):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)

    def run(self, code: str) -> tuple[str, int]:
        self.process.stdin.write(json.dumps({"code": code}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        return reply["out"], reply["status"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def verdict(zygote: Zygote, code: str) -> dict:
    out, status = zygote.run(code)
    lines = [line for line in out.splitlines() if line.startswith("VERDICT ")]
    assert status == 0 and lines, f"the child failed (exit status {status}):\n{out}"
    return json.loads(lines[-1][len("VERDICT "):])


# ---- routes --------------------------------------------------------------------------------------

CASE = """
import json, sys
import torch, numpy
from kit.autograd import block as ab
x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)
{setup}
ab.block()
mark = ab.uses()
def route():
{route}
try:
    value = route()
    outcome = "returned"
except BaseException as error:  # the submission catches whatever it raises
    outcome, value = type(error).__name__, None
print("VERDICT " + json.dumps({{"outcome": outcome, "used": ab.uses() != mark, "value": repr(value)[:300]}}))
"""


def route_case(route: str, setup: str = "") -> str:
    return CASE.format(setup=textwrap.dedent(setup), route=textwrap.indent(textwrap.dedent(route), "    "))


KERNEL_ONLY = "execve from a fresh _posixsubprocess (Landlock refuses it in the kernel)"
BLOCKED = ("AutogradBlocked", True)  # raised AutogradBlocked, and uses() counted it
# torch.ops.<ns>.<name> turns any RuntimeError of its look-up into AttributeError; still counted
LOOKUP_CLOSED = ("AttributeError", True)

# name: (setup before block(), the route, (what the route raises, whether uses() moved))
ROUTES = {
    # -- grad mode: it is off, and nothing switches it on
    "enable_grad context": ("", """
        with torch.enable_grad():
            return (x.sin().sum()).grad_fn
        """, BLOCKED),
    "enable_grad decorator": ("", """
        @torch.enable_grad()
        def f(x):
            return x.sin().sum().grad_fn
        return f(x)
        """, BLOCKED),
    "set_grad_enabled(True)": ("", "torch.set_grad_enabled(True)", BLOCKED),
    "torch._C._set_grad_enabled(True)": ("", "torch._C._set_grad_enabled(True)", BLOCKED),
    "name built at run time": ("", """
        setter = getattr(getattr(torch, "_" + "C"), "".join(["_set_", "grad", "_enabled"]))
        setter(True)
        """, BLOCKED),
    "setter saved before block()": ("saved = torch._C._set_grad_enabled", "saved(True)", BLOCKED),
    "inference_mode(False)": ("", """
        with torch.inference_mode(False):
            return x.sin().grad_fn
        """, BLOCKED),
    "torch._C._InferenceMode(False)": ("", "torch._C._InferenceMode(False).__enter__()", BLOCKED),
    "TorchScript's aten::set_grad_enabled": ("", "torch.ops.aten.set_grad_enabled(True)", LOOKUP_CLOSED),
    "torch.ops look-up by a built name": ("", "getattr(torch.ops.aten, 'set_' + 'grad_enabled')(True)",
                                          LOOKUP_CLOSED),
    "_get_operation_overload": ("", "torch._C._get_operation_overload('aten::set_grad_enabled', '')",
                                BLOCKED),
    # -- threads start with grad mode on: none can start
    "threading.Thread": ("", """
        import threading
        seen = []
        t = threading.Thread(target=lambda: seen.append(torch.is_grad_enabled()))
        t.start()
        t.join()
        return seen
        """, BLOCKED),
    "_thread.start_new_thread": ("", """
        import _thread
        _thread.start_new_thread(print, ("started",))
        """, BLOCKED),
    "a fresh _thread module": ("", """
        import _imp, importlib.machinery
        fresh = _imp.create_builtin(importlib.machinery.ModuleSpec("_thread", None))
        fresh.start_new_thread(print, ("started",))
        """, BLOCKED),
    "ThreadPoolExecutor": ("", """
        from concurrent.futures import ThreadPoolExecutor
        return ThreadPoolExecutor(1).submit(torch.is_grad_enabled).result()
        """, BLOCKED),
    # -- the engine
    "Tensor.backward": ("", "x.sin().sum().backward(); return x.grad", BLOCKED),
    "torch.autograd.grad": ("", "return torch.autograd.grad(x.sin().sum(), x)", BLOCKED),
    "the engine's run_backward on a graph made before block()":
        ("y = x.sin().sum()", """
        engine = torch.autograd.variable.Variable._execution_engine
        return engine.run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
        """, BLOCKED),
    "a new engine instance": ("y = x.sin().sum()", """
        engine = type(torch.autograd.variable.Variable._execution_engine)()
        return engine.run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
        """, BLOCKED),
    "a subclass of the engine": ("y = x.sin().sum()", """
        class Engine(type(torch.autograd.variable.Variable._execution_engine)):
            pass
        return Engine().run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
        """, BLOCKED),
    "a bound run_backward saved before block()":
        ("y = x.sin().sum(); run = torch.autograd.variable.Variable._execution_engine.run_backward",
         "return run((y,), (torch.ones(()),), False, False, (x,), False, False)", BLOCKED),
    "torch.autograd.graph._engine_run_backward": ("y = x.sin().sum()", """
        from torch.autograd import graph
        return graph._engine_run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
        """, BLOCKED),
    "aten::_backward on a graph made before block()":
        ("y = x.sin().sum(); op = torch.ops.aten._backward.default", "op(y, [x]); return x.grad", BLOCKED),
    "TorchScript's aten::grad": ("", "return torch.ops.aten.grad", LOOKUP_CLOSED),
    # MulBackward0's formula calls only forward ops: the node itself must refuse
    "calling a grad_fn node made before block()": ("y = x * x",
                                                    "return y.grad_fn(torch.ones(3, dtype=torch.float64))",
                                                    BLOCKED),
    "calling a saved node.__call__": ("y = x * x; call = y.grad_fn.__call__",
                                      "return call(torch.ones(3, dtype=torch.float64))", BLOCKED),
    "the AccumulateGrad node of a leaf": ("", """
        node, _ = torch.autograd.graph.get_gradient_edge(x)
        return node(torch.ones(3, dtype=torch.float64))
        """, BLOCKED),
    "importlib.reload of torch.autograd's Python modules": ("", """
        import importlib
        for name in ("grad_mode", "graph", "functional", "forward_ad"):
            importlib.reload(sys.modules["torch.autograd." + name])
        from torch.autograd import functional
        return functional.jacobian(torch.sin, x.detach())
        """, BLOCKED),
    "torch.autograd.graph imported afresh": ("y = x.sin().sum()", """
        import importlib
        del sys.modules["torch.autograd.graph"]
        graph = importlib.import_module("torch.autograd.graph")
        return graph._engine_run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
        """, BLOCKED),
    # -- torch.func (functorch's transforms)
    "torch.func.grad": ("", "return torch.func.grad(lambda t: t.sin().sum())(x.detach())", BLOCKED),
    "torch._functorch.apis.grad (another holder)": ("", """
        import torch._functorch.apis as apis
        return apis.grad(lambda t: t.sin().sum())(x.detach())
        """, BLOCKED),
    "functorch, imported after block()": ("", """
        import functorch
        return functorch.grad(lambda t: t.sin().sum())(x.detach())
        """, BLOCKED),
    "distributed autograd": ("y = x.sin().sum()", """
        from torch.distributed import autograd as dist_autograd
        return dist_autograd.backward(0, [y])
        """, BLOCKED),
    "torch.func.jacrev": ("", "return torch.func.jacrev(torch.sin)(x.detach())", BLOCKED),
    "torch.func.jvp": ("", "return torch.func.jvp(torch.sin, (x.detach(),), (torch.ones(3, dtype=torch.float64),))",
                       BLOCKED),
    "torch.func.grad_and_value, saved before block()": ("saved = torch.func.grad_and_value",
        "return saved(lambda t: t.sin().sum())(x.detach())", BLOCKED),
    "torch.autograd.functional.hessian": ("",
        "return torch.autograd.functional.hessian(lambda t: t.sin().sum(), x.detach())", BLOCKED),
    # -- forward AD: dual numbers need no grad mode
    "forward_ad.dual_level": ("", """
        import torch.autograd.forward_ad as fwAD
        with fwAD.dual_level():
            dual = fwAD.make_dual(x.detach(), torch.ones(3, dtype=torch.float64))
            return fwAD.unpack_dual(dual.sin()).tangent
        """, BLOCKED),
    "torch._C._enter_dual_level": ("", "return torch._C._enter_dual_level()", BLOCKED),
    "the predispatch copy of _enter_dual_level": ("", """
        from torch._functorch import predispatch
        return predispatch._enter_dual_level()
        """, BLOCKED),
    "torch._VF._make_dual": ("", "return torch._VF._make_dual(x.detach(), torch.ones(3, dtype=torch.float64), 0)",
                             BLOCKED),
    "torch._C._set_fwd_grad_enabled(True)": ("", "torch._C._set_fwd_grad_enabled(True)", BLOCKED),
    "a dual tensor made before block()": ("""
        import torch.autograd.forward_ad as fwAD
        level = fwAD.enter_dual_level()
        dual = fwAD.make_dual(x.detach(), torch.ones(3, dtype=torch.float64))
        """, """
        tangent = fwAD.unpack_dual(dual.sin(), level=level).tangent
        assert tangent is None, tangent  # forward-grad mode is off: no tangent is read
        return torch._VF._unpack_dual(dual, level)
        """, BLOCKED),
    # -- operators that compute derivatives themselves
    "torch.ops.aten.sigmoid_backward": ("", "return torch.ops.aten.sigmoid_backward(torch.ones(3), x.detach())",
                                        BLOCKED),
    "a backward op not looked up before block()": ("",
        "return torch.ops.aten.softshrink_backward(torch.ones(3), x.detach(), 0.5)", BLOCKED),
    "a backward op defined after block()": ("", """
        lib = torch.library.Library("student", "DEF")
        lib.define("sig_backward(Tensor g, Tensor y) -> Tensor")
        lib.impl("sig_backward", lambda g, y: torch.ops.aten.sigmoid_backward(g, y), "CPU")
        return torch.ops.student.sig_backward(torch.ones(3, dtype=torch.float64), x.detach().sigmoid())
        """, BLOCKED),
    "an OpOverload saved before block()": ("op = torch.ops.aten.tanh_backward.default",
                                           "return op(torch.ones(3, dtype=torch.float64), x.detach().tanh())",
                                           BLOCKED),
    "OpOverload.decompose (its CompositeImplicitAutograd kernel)": ("op = torch.ops.aten.silu_backward.default",
        "return op.decompose(torch.ones(3, dtype=torch.float64), x.detach())", BLOCKED),
    "OpOverload.redispatch to CPU": ("op = torch.ops.aten.tanh_backward.default", """
        keys = torch._C.DispatchKeySet(torch._C.DispatchKey.CPU)
        return op.redispatch(keys, torch.ones(3, dtype=torch.float64), x.detach().tanh())
        """, BLOCKED),
    "below the autograd keys": ("op = torch.ops.aten.tanh_backward.default", """
        with torch._C._AutoDispatchBelowAutograd():
            return op(torch.ones(3, dtype=torch.float64), x.detach().tanh())
        """, BLOCKED),
    "vmap of a backward op": ("op = torch.ops.aten.tanh_backward.default", """
        y = x.detach().tanh()
        return torch.func.vmap(lambda g: op(g, y))(torch.ones(2, 3, dtype=torch.float64))
        """, BLOCKED),
    "a sparse input to threshold_backward": ("op = torch.ops.aten.threshold_backward.default", """
        g = torch.ones(3, dtype=torch.float64).to_sparse()
        return op(g, x.detach().to_sparse(), 0.0)
        """, BLOCKED),
    "the dispatcher called by an operator handle": ("", """
        handle = torch._C._dispatch_find_schema_or_throw("aten::tanh_backward", "")
        return torch._C._dispatch_call_boxed(handle, torch.ones(3, dtype=torch.float64), x.detach().tanh())
        """, BLOCKED),
    "the Python dispatcher (Python kernels)": ("op = torch.ops.aten.tanh_backward.default", """
        from torch._dispatch.python import enable_python_dispatcher
        with enable_python_dispatcher():
            return op(torch.ones(3, dtype=torch.float64), x.detach().tanh())
        """, BLOCKED),
    "torch._softmax_backward_data": ("", """
        y = torch.softmax(x.detach(), 0)
        return torch._softmax_backward_data(torch.ones(3, dtype=torch.float64), y, 0, torch.float64)
        """, BLOCKED),
    "torch.nn.grad.conv2d_input": ("", """
        w = torch.ones(1, 1, 2, 2, dtype=torch.float64)
        return torch.nn.grad.conv2d_input((1, 1, 3, 3), w, torch.ones(1, 1, 2, 2, dtype=torch.float64))
        """, BLOCKED),
    "torch._decomp.decompositions.sigmoid_backward": ("", """
        from torch._decomp import decompositions
        return decompositions.sigmoid_backward(torch.ones(3, dtype=torch.float64), x.detach().sigmoid())
        """, BLOCKED),
    "torch._decomp's table": ("", """
        from torch._decomp import decomposition_table
        left = [str(op) for op in decomposition_table if "backward" in str(op)]
        assert not left, left
        return torch.ops.aten.sigmoid_backward(torch.ones(3), x.detach())
        """, BLOCKED),
    # -- TorchScript
    "torch.jit.CompilationUnit": ("", """
        unit = torch.jit.CompilationUnit("def f(t):\\n    return torch.autograd.grad([t.sin().sum()], [t])\\n")
        return unit.f(x)
        """, BLOCKED),
    "torch._C._jit_script_compile": ("", "return torch._C._jit_script_compile('f', None, None, None, False)",
                                     BLOCKED),
    "the CompilationUnit torch.jit keeps": ("", """
        from torch.jit import _builtins
        assert _builtins._find_builtin(torch.autograd.grad) is None
        assert _builtins._find_builtin(torch._C._set_grad_enabled) is None
        cu = torch.jit._state._python_cu
        cu.define("def f(t: Tensor):\\n    torch.set_grad_enabled(True)\\n    return t\\n",
                  rcb=lambda name: {"torch": torch}.get(name))
        return cu.find_function("f")(x)
        """, BLOCKED),
    "torch._C.parse_ir": ("", "return torch._C.parse_ir('graph(%a : Tensor):\\n  return (%a)')", BLOCKED),
    "torch.jit.trace": ("", "return torch.jit.trace(torch.sin, (x.detach(),))", BLOCKED),
    # -- ways around the block itself
    "gc.get_objects": ("", """
        import gc
        return [o for o in gc.get_objects() if getattr(o, "__name__", "") == "_set_grad_enabled"]
        """, BLOCKED),
    "gc.get_referrers": ("", "import gc; return gc.get_referrers(torch._C)", BLOCKED),
    "sys.settrace": ("", "sys.settrace(lambda *a: None)", BLOCKED),
    "ctypes into libc10": ("", """
        import ctypes, os
        lib = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libc10.so"))
        lib._ZN3c108GradMode11set_enabledEb(True)
        return torch.is_grad_enabled()
        """, BLOCKED),
    "ctypes symbol in an already open library": ("import ctypes; libc = ctypes.CDLL(None)",
                                                 "return libc.getpid()", BLOCKED),
    "ctypes from_address": ("", "import ctypes; return ctypes.c_ulong.from_address(id(torch)).value", BLOCKED),
    "a fresh Python (subprocess)": ("", """
        import subprocess
        return subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True).stdout
        """, BLOCKED),
    "os.posix_spawn": ("", "import os; return os.posix_spawn(sys.executable, [sys.executable, '-c', '1'], {})",
                       BLOCKED),
    "_posixsubprocess.fork_exec": ("", "import _posixsubprocess; return _posixsubprocess.fork_exec()", BLOCKED),
    "a sub-interpreter": ("", "import _xxsubinterpreters; return _xxsubinterpreters.create()", BLOCKED),
    "a sub-interpreter from a fresh module": ("", """
        import importlib
        del sys.modules["_xxsubinterpreters"]
        return importlib.import_module("_xxsubinterpreters").create()
        """, BLOCKED),
    "a sub-interpreter from _testcapi": ("", "import _testcapi; return _testcapi.run_in_subinterp('1')", BLOCKED),
    "ctypes.pythonapi": ("", "import ctypes; return ctypes.pythonapi.PyCFunction_NewEx", BLOCKED),
    "reloading autograd_block to reset its count": ("", """
        import importlib
        try:
            x.sin().sum().backward()
        except Exception:
            pass
        importlib.reload(ab)
        return ab.uses()
        """, ("returned", True)),
    "block() called again": ("", "ab._blocked_already = False; ab.block()", BLOCKED),
    # honest limits. Open: ctypes memory access Python does not audit (here a union's pointer
    # field reads torch's reference count); with it a submission can call any C function.
    "ctypes memory access (OPEN, documented)": ("", """
        import ctypes
        class Pun(ctypes.Union):
            _fields_ = [("address", ctypes.c_void_p), ("pointer", ctypes.POINTER(ctypes.c_ssize_t))]
        pun = Pun()
        pun.address = id(torch)
        return pun.pointer[0] > 0
        """, ("returned", False)),
    # these are refused, but not by the hook, so uses() does not see them
    KERNEL_ONLY: ("", """
        import importlib.machinery, importlib.util
        spec = importlib.util.find_spec("_posixsubprocess")
        fresh = importlib.machinery.ExtensionFileLoader("_posixsubprocess", spec.origin).create_module(spec)
        import os
        read, write = os.pipe()
        pid = fresh.fork_exec([sys.executable, "-c", "1"], [os.fsencode(sys.executable)], True, (), None,
                              None, -1, -1, -1, -1, -1, -1, read, write, False, False, -1, None, None,
                              None, -1, None, False)
        os.close(write)
        error = os.read(read, 200)
        os.waitpid(pid, 0)
        raise PermissionError(error.decode())  # the child reports execve's failure here
        """, ("PermissionError", False)),
    "sys.audit replaced: still refused, but not counted": ("", """
        sys.audit = lambda *args: None
        ab._audit = lambda *args: None
        return x.sin().sum().backward()
        """, ("AutogradBlocked", False)),
}


def _landlock() -> int:
    from grading import landlock
    return landlock.abi_version()


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.skipif(
        name == KERNEL_ONLY and _landlock() < 1,
        reason="this kernel has no Landlock: nothing refuses the execve (the route stays open, as documented)"))
    for name in ROUTES])
def test_a_route_to_autograd_is_closed(zygote, name):
    setup, route, (raised, used) = ROUTES[name]
    found = verdict(zygote, route_case(route, setup))
    assert (found["outcome"], found["used"]) == (raised, used), found


# ---- what a by-hand solution uses keeps working, with the same numbers ------------------------------

# Computed once in a child that never blocks, and once in a child that blocks first (so that
# nothing torch sets up lazily on first use happens before block()); float64 results must be
# equal bit for bit: the same kernels, one thread, the same seeds.
LEGIT = r'''
import numpy, torch
import torch.nn.functional as F
torch.set_num_threads(1)

def inputs():
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    return {"a": r(3, 4), "b": r(4, 5), "v": r(4), "img": r(2, 3, 6, 6), "w": r(4, 3, 3, 3),
            "t": torch.tensor([0, 2, 1]), "m": r(3, 4) > 0}

def inplace(a):
    a = a.clone()
    a.add_(1.0).mul_(2.0).clamp_(min=-1.0)
    a[0, 1] -= 3.0
    a[a > 2] = 0.0
    return a

@torch.no_grad()
def decorated(a):
    return (a * 2).sum(0)

def under_no_grad(a):
    with torch.no_grad():
        return a.exp() + 1

def grad_disabled(a):
    with torch.set_grad_enabled(False):
        return a * 3

def inference(a):
    with torch.inference_mode():
        return a + 1

def flags(a):
    return torch.tensor([float(a.requires_grad), float(a.clone().requires_grad_().requires_grad),
                         float(a.clone().requires_grad_().detach().requires_grad),
                         float(torch.tensor([1.0], requires_grad=False).requires_grad)])

def grad_by_hand(a):
    p = a.clone().requires_grad_()
    p.grad = a * 2
    return p.grad

def optimizer_steps(a, optimizer):
    p = a.clone().requires_grad_(True)
    p.grad = torch.ones_like(p) * 0.5  # set by hand, as a learner's own gradient
    opt = optimizer([p], lr=0.1)
    for _ in range(2):
        opt.step()
    return p.detach().clone()

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        raise AssertionError("never called")

def random_draws():
    torch.manual_seed(3)
    numpy.random.seed(3)
    return torch.cat([torch.randn(3, dtype=torch.float64), torch.rand(3, dtype=torch.float64),
                      torch.from_numpy(numpy.random.rand(3))])

OPS = {
    "matmul": lambda d: d["a"] @ d["b"],
    "einsum": lambda d: torch.einsum("ij,jk->ik", d["a"], d["b"]),
    "exp log tanh sigmoid relu": lambda d: torch.stack([d["a"].exp(), d["a"].abs().log(), d["a"].tanh(),
                                                       torch.sigmoid(d["a"]), torch.relu(d["a"])]),
    "softmax log_softmax": lambda d: torch.stack([F.softmax(d["a"], -1), F.log_softmax(d["a"], -1)]),
    "cross_entropy": lambda d: F.cross_entropy(d["a"], d["t"]),
    "conv2d": lambda d: F.conv2d(d["img"], d["w"], padding=1),
    "max_pool2d": lambda d: F.max_pool2d(d["img"], 2),
    "max_pool2d's indices": lambda d: F.max_pool2d(d["img"], 2, return_indices=True)[1],
    "avg_pool2d": lambda d: F.avg_pool2d(d["img"], 2),
    "layer_norm": lambda d: F.layer_norm(d["a"], (4,)),
    "gelu": lambda d: F.gelu(d["a"]),
    "linear": lambda d: F.linear(d["a"], d["b"].T),
    "indexing": lambda d: torch.cat([d["a"][d["m"]], d["a"][torch.arange(3), d["t"]], d["a"][:, 1:3].flatten()]),
    "in-place ops": lambda d: inplace(d["a"]),
    "reductions": lambda d: torch.stack([d["a"].sum(), d["a"].mean(), d["a"].amax(), d["a"].logsumexp((0, 1)),
                                         d["a"].norm()]),
    "linalg.solve": lambda d: torch.linalg.solve(d["a"][:, :3] + 3 * torch.eye(3, dtype=torch.float64), d["a"][:, 3]),
    "where outer cumsum sort": lambda d: torch.cat([torch.where(d["m"], d["a"], -d["a"]).flatten(),
                                                     torch.outer(d["v"], d["v"]).flatten(), d["v"].cumsum(0),
                                                     d["v"].sort().values]),
    "torch.no_grad() as a context manager": lambda d: under_no_grad(d["a"]),
    "torch.no_grad() as a decorator": lambda d: decorated(d["a"]),
    "set_grad_enabled(False)": lambda d: grad_disabled(d["a"]),
    "inference_mode()": lambda d: inference(d["a"]),
    "requires_grad read and set, detach": lambda d: flags(d["a"]),
    "a .grad set by hand": lambda d: grad_by_hand(d["a"]),
    "torch.optim.SGD step": lambda d: optimizer_steps(d["a"], torch.optim.SGD),
    "torch.optim.AdamW step": lambda d: optimizer_steps(d["a"], torch.optim.AdamW),
    "a custom autograd.Function's forward": lambda d: Square.apply(d["a"].clone().requires_grad_()),
    "torch.func.vmap": lambda d: torch.func.vmap(lambda row: row @ d["b"])(d["a"]),
    "random numbers": lambda d: random_draws(),
    "numpy interop": lambda d: torch.from_numpy(d["a"].numpy() * 2.0 + numpy.ones((3, 4))),
    "printing a tensor": lambda d: torch.tensor([float(len(repr(d["a"])) + len(str(d["img"].requires_grad_())))]),
}

def run_all():
    out = {}
    for name, f in OPS.items():
        try:
            out[name] = f(inputs())
        except BaseException as error:
            out[name] = f"{type(error).__name__}: {error}"[:300]
    return out
'''

UNBLOCKED = LEGIT + r'''
import base64, pickle
print("VERDICT " + json.dumps(base64.b64encode(pickle.dumps(run_all())).decode()))
'''

BLOCKED_FIRST = r'''
import base64, json, pickle
from kit.autograd import block as ab
ab.block()
''' + LEGIT + r'''
before = pickle.loads(base64.b64decode(BEFORE))
after = run_all()
report = {}
for name in OPS:
    b, a = before[name], after[name]
    if isinstance(a, str) or isinstance(b, str):
        report[name] = (f"failed: before block() {b if isinstance(b, str) else 'ok'}, "
                        f"after {a if isinstance(a, str) else 'ok'}")
    elif torch.equal(b, a) and b.dtype == a.dtype and a.grad_fn is None:
        report[name] = "same"
    else:
        report[name] = f"different: {b!r} then {a!r}"[:400]
report["uses() stays 0"] = "same" if ab.uses() == 0 else f"uses() is {ab.uses()}"
print("VERDICT " + json.dumps(report))
'''

LEGIT_NAMES = [*(line.split('"')[1] for line in LEGIT.split("OPS = {", 1)[1].split("\n}", 1)[0].splitlines()
                 if line.startswith('    "')), "uses() stays 0"]


@pytest.fixture(scope="module")
def legit_report(zygote):
    before = verdict(zygote, "import json\n" + UNBLOCKED)
    return verdict(zygote, f"BEFORE = {before!r}\n" + BLOCKED_FIRST)


@pytest.mark.parametrize("name", LEGIT_NAMES)
def test_a_by_hand_operation_gives_the_same_numbers_after_block(legit_report, name):
    assert legit_report[name] == "same"


# ---- every reference solution (and every right variant) still passes ------------------------------------

DRAW = r'''
import base64, json, pickle, warnings
from kit.registry import EXERCISES
cases = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # .example() outside a test: wanted here
    for exercise in EXERCISES.values():
        arguments = list(exercise.examples) + [exercise.inputs.example() for _ in range(4)]
        cases[exercise.id] = [(args, exercise.reference(*args)) for args in arguments]  # torch's autograd
print("VERDICT " + json.dumps(base64.b64encode(pickle.dumps(cases)).decode()))
'''

# the grader's child imports the kit before it blocks, as here
SOLVE = r'''
import base64, json, pickle
from pathlib import Path
from types import SimpleNamespace
from kit.compare import compare
from kit.implementation import Implementation
from kit.registry import CHAPTERS, EXERCISES
from kit.autograd import block as ab
ab.block()
ROOT = Path.cwd()
cases = pickle.loads(base64.b64decode(CASES))
report = {}

class Patched(Implementation):  # the reference solutions with a right variant swapped in
    def __init__(self, overrides):
        super().__init__(ROOT / "solutions")
        self.overrides = overrides
    def module(self, name):
        return SimpleNamespace(**{**vars(SOLUTIONS.module(name)), **self.overrides})

def check(label, exercise, impl):
    for args, expected in cases[exercise.id]:
        try:
            actual, changed = impl.call(exercise, args)
        except Exception as error:
            report[label] = f"raised {error}"[:400]
            return
        mismatch = compare(expected, actual, exercise.tolerance)
        if mismatch or changed:
            report[label] = f"wrong on {args!r}: {mismatch or changed}"[:400]
            return
    report[label] = "pass"

SOLUTIONS = Implementation(ROOT / "solutions")
for exercise in EXERCISES.values():
    check(exercise.id, exercise, SOLUTIONS)
variants = Implementation(ROOT / "tests" / "self" / "variants")
for module in CHAPTERS:
    for name, why, replacement in variants.module(module).RIGHT:
        overrides = replacement if isinstance(replacement, dict) else {name: replacement}
        check(f"{module}.{name}: {why}", EXERCISES[f"{module}.{name}"], Patched(overrides))
report["uses() stays 0"] = "pass" if ab.uses() == 0 else f"uses() is {ab.uses()}"
print("VERDICT " + json.dumps(report))
'''


@pytest.fixture(scope="module")
def solved(zygote):
    cases = verdict(zygote, DRAW)
    return verdict(zygote, f"CASES = {cases!r}\n" + SOLVE)


def right_answers() -> list[str]:
    from kit.implementation import Implementation
    from kit.registry import CHAPTERS, EXERCISES
    variants = Implementation(ROOT / "tests" / "self" / "variants")
    return [*EXERCISES, *(f"{module}.{name}: {why}" for module in CHAPTERS
                          for name, why, _ in variants.module(module).RIGHT), "uses() stays 0"]


@pytest.mark.parametrize("label", right_answers())
def test_a_right_answer_still_passes_after_block(solved, label):
    assert solved[label] == "pass"


# ---- block() itself -----------------------------------------------------------------------------------

def test_block_refuses_to_run_beside_another_thread(zygote):
    found = verdict(zygote, """
import json, threading
from kit.autograd import block as ab
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
try:
    ab.block()
    outcome = "blocked"
except RuntimeError as error:
    outcome = str(error)
stop.set()
other.join()
print("VERDICT " + json.dumps({"outcome": outcome, "uses": ab.uses(), "grad": __import__("torch").is_grad_enabled()}))
""")
    assert found == {"outcome": found["outcome"], "uses": 0, "grad": True}
    assert "only thread" in found["outcome"]


def test_uses_counts_every_closed_route_reached_and_nothing_else(zygote):
    found = verdict(zygote, """
import json, torch
from kit.autograd import block as ab
before = ab.uses()
ab.block()
counts = [ab.uses()]
x = torch.ones(2, dtype=torch.float64, requires_grad=True)
for attempt in (lambda: x.sum().backward(), lambda: torch.enable_grad().__enter__(), lambda: x.exp().sum()):
    try:
        attempt()
    except ab.AutogradBlocked:
        pass
    counts.append(ab.uses())
print("VERDICT " + json.dumps({"before": before, "counts": counts, "left": ab.LEFT}))
""")
    assert found == {"before": 0, "counts": [0, 1, 2, 2], "left": []}


def test_reloading_torch_autograd_itself_ends_the_process_without_a_gradient(zygote):
    """torch.autograd's import registers C types, which cannot be registered twice: the process
    aborts (the grader sees a crash), rather than getting a fresh autograd."""
    out, status = zygote.run(route_case("""
        import importlib
        autograd = importlib.reload(torch.autograd)
        print("GRADIENT", autograd.grad(x.sin().sum(), x))
        """))
    assert status == -6 and "GRADIENT" not in out and "already defined" in out, (status, out)
