"""Closing torch's autograd inside the process that runs a submission: `block()`, then `uses()`.

The grader's child calls `block()` once, before it imports a line of the submission and after
its own uses of threads, ctypes and gc (see "Order"). From then on no route this module knows
of gives a derivative that torch computed:

    from grading import autograd_block
    autograd_block.block()
    ...
    mark = autograd_block.uses()           # before each call into the submission
    answer = call()                         # it may catch AutogradBlocked and go on
    if autograd_block.used_since(mark):     # a closed route was reached, caught or not
        ...

Every closed route raises `AutogradBlocked` (a RuntimeError) and adds one to `uses()`. The
count lives in an audit hook (sys.addaudithook), which Python offers no way to remove or reach:
a submission that catches the error cannot take the count back. The security does not rest on
the count, though: each original is replaced everywhere it is held and then freed, so there is
nothing left to call or to restore.

What is closed, and how (one function below per mechanism):

| mechanism             | what it closes                                                       |
|-----------------------|----------------------------------------------------------------------|
| _seal_grad_mode       | Grad mode and forward-grad mode are switched off, and what could     |
|                       | switch them on refuses: torch._C._set_grad_enabled(True),            |
|                       | _set_fwd_grad_enabled(True), _InferenceMode(False) (it switches both |
|                       | on), _enter_dual_level. So torch.enable_grad (also as a decorator),  |
|                       | set_grad_enabled(True), inference_mode(False), forward_ad.dual_level |
|                       | and torch.func's transforms (they switch grad mode on in Python)     |
|                       | refuse. Switching off still works: torch.no_grad(), set_grad_        |
|                       | enabled(False), inference_mode() (now a no-op). With grad mode off   |
|                       | no operation records a grad_fn, even on requires_grad tensors: no    |
|                       | graph exists to run backward on; with forward-grad mode off no       |
|                       | tangent is read, even from a dual tensor made earlier.               |
| _close_threads        | Grad mode is per thread in C++, and a new thread starts with it on.  |
|                       | No thread can start: _thread.start_new_thread (and threading's copy) |
|                       | refuse; every built-in module is imported first, so that             |
|                       | _imp.create_builtin can refuse too (it would make a fresh _thread).  |
| _close_subinterpreters| A sub-interpreter runs without the audit hook: _xxsubinterpreters.   |
|                       | create/run_string and _testcapi.run_in_subinterp refuse (also in the |
|                       | module's init-time copy of its dict, which a fresh instance gets).   |
| _close_engine         | run_backward and queue_callback on the engine's C type (torch._C.    |
|                       | _ImperativeEngine), so every instance, new instance or subclass      |
|                       | refuses; _close_bound_methods replaces bound copies made earlier.    |
| _close_nodes          | Calling a grad_fn node (SigmoidBackward0, AccumulateGrad and the 660 |
|                       | others in torch._C._functions) refuses, for nodes made before block. |
| _close_derivative_ops | Every dispatcher operator that computes a derivative itself (the     |
|                       | aten *_backward ops, *_jvp, _make_dual, _unpack_dual, _fw_primal,    |
|                       | _backward: 276 with their overloads) gets a refusing kernel at every |
|                       | dispatch key it has a kernel for (CPU, Autograd, composite, sparse,  |
|                       | batched, Meta, ...). So torch.ops.aten.X, torch.X, torch._VF.X, an   |
|                       | OpOverload's call, decompose(), redispatch(), _dispatch_call_boxed,  |
|                       | vmap, sparse inputs, calls below the autograd keys, the Python       |
|                       | dispatcher and torch.nn.grad.conv2d_input all refuse. Their Python   |
|                       | decompositions (torch._decomp's tables and functions, py_kernels)    |
|                       | are dropped.                                                         |
| _close_operator_lookup| torch.ops look-ups (torch._C._jit_get_operation, _get_operation_     |
|                       | overload) would also find TorchScript's own aten::grad, aten::       |
|                       | backward, aten::set_grad_enabled, which bypass the dispatcher. They  |
|                       | are replaced by tables of every other operator, plus a call through  |
|                       | the dispatcher for operators registered later (torch registers some  |
|                       | when a module is first imported, e.g. by torch.optim).               |
| _close_jit            | TorchScript's compilers, tracers, loaders and interpreters (torch.   |
|                       | jit.script, trace, load, parse_ir, CompilationUnit, the one torch.jit|
|                       | keeps, ScriptFunction calls, ...), and the derivative and grad-mode  |
|                       | entries of its table of Python functions it compiles as operators.   |
| _close_python_names   | The Python entry points, by name, for a clear message: Tensor.       |
|                       | backward, torch.autograd.grad/backward, autograd.functional.*,       |
|                       | forward_ad.make_dual, torch.func.*, torch.nn.grad.*, distributed     |
|                       | autograd.                                                            |
| _replace_everywhere   | Each replaced object is replaced in every dict, list, set, cell,     |
|                       | object attribute and tuple that holds it (found with gc before gc is |
|                       | closed): `from torch._C import _enter_dual_level` copies, torch.func |
|                       | and torch._functorch sharing one function, TorchScript's tables,     |
|                       | caches, extension modules' init-time dict copies. LEFT lists what    |
|                       | could not be rewritten (nothing, with torch 2.13).                   |
| _forbid_exec          | Landlock, when the kernel has it: this process and its children can  |
|                       | never execve again, so no fresh Python with autograd intact (even    |
|                       | through a fresh _posixsubprocess); shared libraries still load.      |
| _install_hook         | The audit hook refuses what would undo the rest: gc.get_objects /    |
|                       | get_referrers / get_referents (walking the heap), sys.settrace /     |
|                       | setprofile (rewriting running frames), ctypes dlopen, dlsym,         |
|                       | from_address, from_buffer, addressof, string_at (calling libtorch's  |
|                       | C++ by name, reading memory), starting programs (subprocess,         |
|                       | os.system, os.exec*, os.posix_spawn, os.spawn*), importing the       |
|                       | sub-interpreter modules of other Python versions.                    |

Reloading torch's Python modules (importlib.reload, deleting them from sys.modules) only runs
their source again, which calls into the closed C functions, types and kernels: it gives back
nothing but what reading torch's source gives. (Reloading torch.autograd itself aborts the
process: its C types cannot be registered twice.)

What remains open (blocking inside a CPython process cannot be airtight):

- ctypes memory access that Python 3.11 does not audit. A ctypes Union of a c_void_p and a
  POINTER field reads and writes any address; ctypes.memmove and ctypes.cast take plain
  ints; CFUNCTYPE(...)(address) calls any address. With /proc/self/maps and libtorch's ELF
  symbol table (both readable) a submission can find and call GradMode::set_enabled or the
  engine's run_backward, or rebuild a function object for an original. ctypes cannot be
  unloaded (torch imports it). Closing this needs a submission that never shares a process
  with torch's autograd code paths, or seccomp, or a source scan that refuses ctypes
  (grading/scan.py): tests/self/test_autograd_block.py shows the union read working.
- A compiled extension module shipped in the submission folder runs arbitrary C code when
  imported (the same power as ctypes). `_imp.create_dynamic` stays open, as legitimate lazy
  imports need it; it can also make a fresh instance of a multi-phase C module, such as
  `_posixsubprocess`, whose fork_exec is then open again: only Landlock stops the execve.
- Without Landlock (kernels before 5.13, or disabled), that fresh fork_exec starts a new
  Python, which has all of autograd. tests/self/test_autograd_block.py shows Landlock refusing
  it, where the kernel has Landlock. (grading/landlock.py could also drop EXECUTE from its
  read rules: execve is not needed once the child runs.)
- `importlib.import_module` raises no "import" audit event, so REFUSED_IMPORTS only stops
  import statements (the modules of this Python version are closed by SUBINTERPRETERS).
- functorch's C++ layer stack (torch._C._functorch) was not examined beyond its Python API: a
  grad layer restores a remembered grad mode when it hands an operation down. A graph made
  that way could still not be evaluated (engine, nodes, kernels, forward AD are closed).
- `uses()` reads the hook through sys.audit; a submission can rebind this module's names
  (`_audit`, `uses`) or sys.audit so that the count stays unchanged, and a tiny recursion
  limit can make the hook fail before it counts. The route still fails and no derivative is
  gained; a grader that must trust the count should capture `uses` before the submission runs
  and also treat a changed module as use.
- Pure-Python formulas: torch's source stays readable (torch/_decomp/decompositions.py has
  sigmoid_backward in three lines), and a submission may copy it, as it could from a book.
- torch.gradient (finite differences of sampled values) and any numerical estimate a
  submission writes itself are not autograd and stay allowed.

Order: `block()` uses ctypes (to make C types writable for a moment, to call Landlock) and gc
(to find every holder of an original) before the hook closes both: the sandbox's own ctypes
calls (prctl, its Landlock rules) must come before `block()`. No other Python thread may be
running (another thread's grad mode cannot be switched off from here): `block()` refuses then.
It takes about 0.5 s (most of it the operator tables and the sweep). pdb and breakpoint() are
refused after it (they call sys.settrace), and count as uses.

What keeps working (tests/self/test_autograd_block.py checks each bit for bit, and runs every
reference solution and every right variant after block()): float64 tensors and all forward
operations, in-place ops, indexing, random numbers, numpy interop, torch.nn.functional's
forward functions (conv2d, max_pool2d, avg_pool2d, layer_norm, gelu, softmax, cross_entropy,
...), printing tensors, `torch.no_grad()` as a context manager and decorator,
set_grad_enabled(False), inference_mode(), `requires_grad` read and set (no graph is recorded),
`.detach()`, a `.grad` set by hand, torch.optim's step on such gradients (SGD, AdamW),
torch.func.vmap, a custom torch.autograd.Function's forward.
"""
from __future__ import annotations

import ctypes
import functools
import gc
import importlib
import os
import re
import sys
import threading
import types
import warnings

EVENT = "backprop_kit.autograd"  # sys.audit(EVENT, what): a closed route was reached
USES_EVENT = "backprop_kit.autograd.uses"  # sys.audit(USES_EVENT, box): the hook appends the count

_audit = sys.audit  # the original: a submission replacing sys.audit does not change this one
_blocked_already = False
LEFT: list[str] = []  # holders of an original that _replace_everywhere could not rewrite (descriptions)
EXEC_FORBIDDEN: bool | None = None  # after block(): whether Landlock now refuses every execve


class AutogradBlocked(RuntimeError):
    pass


def _message(what: str) -> str:
    return (f"{what} reaches torch's autograd (or a way around its block), which a submission must not "
            f"use: derive the gradient by hand")


def _refuse(what: str):
    _audit(EVENT, what)  # the hook counts the use and raises AutogradBlocked
    raise AutogradBlocked(_message(what))  # only when sys.audit's hook did not run


def _blocked(what: str):
    """A function that refuses whatever it is called with."""
    def blocked(*args, **kwargs):
        _refuse(what)
    blocked.__name__ = blocked.__qualname__ = what.rsplit(".", 1)[-1].replace("(True)", "")
    blocked.__doc__ = f"Closed by grading.autograd_block: {what}."
    return blocked


def uses() -> int:
    """How many times a closed route was reached since block(); 0 before it. Never decreases."""
    box: list[int] = []
    _audit(USES_EVENT, box)
    return box[0] if box else 0


def used_since(mark: int) -> bool:
    return uses() != mark


# ---- the tables -------------------------------------------------------------------------------

# (module, attribute names): Python entry points, replaced by name (the mechanisms below close
# what they reach anyway; by name, the message says what was called)
PYTHON_NAMES = (
    ("torch.autograd", ("backward", "grad")),
    ("torch.autograd.graph", ("_engine_run_backward",)),
    ("torch.autograd.functional", ("vjp", "jvp", "jacobian", "hessian", "hvp", "vhp")),
    # (not unpack_dual: printing a tensor calls it; outside a dual level it returns no tangent)
    ("torch.autograd.forward_ad", ("make_dual", "dual_level", "enter_dual_level", "exit_dual_level")),
    ("torch.func", ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize")),
    ("torch._functorch.eager_transforms", ("grad_impl", "grad_and_value_impl", "_autograd_grad",
                                           "_vjp_with_argnums", "_jvp_with_argnums", "_linearize")),
    ("torch.nn.grad", ("conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight",
                       "conv3d_input", "conv3d_weight")),
    ("torch._C._distributed_autograd", ("backward", "get_gradients")),
)

# torch._C functions that switch a mode on when given True, and off when given False
OFF_ONLY = ("_set_grad_enabled", "_set_fwd_grad_enabled")

# forward AD: a dual level is where tangents live; entering one is closed
FORWARD_AD = ("_enter_dual_level", "_exit_dual_level")

# TorchScript: compiling, tracing, loading or interpreting a graph runs ops without Python
JIT = ("CompilationUnit", "parse_ir", "import_ir_module", "import_ir_module_from_buffer",
       "_import_ir_module_from_package", "_create_function_from_graph", "_create_function_from_trace",
       "_create_function_from_trace_with_dict", "_create_method_from_trace", "_create_module_with_type",
       "_jit_script_compile", "_jit_script_compile_overload", "_jit_script_class_compile",
       "_jit_script_interface_compile", "_jit_interpret_graph", "_jit_trace_graph", "_jit_trace_module",
       "_jit_to_backend", "_jit_to_backend_selective", "_jit_to_static_module", "_jit_run_cpp_tests",
       "_load_for_lite_interpreter", "_load_for_lite_interpreter_from_buffer", "_load_jit_module_from_bytes",
       "_load_jit_module_from_file", "_load_mobile_module_from_bytes", "_load_mobile_module_from_file",
       "_compile_graph_to_code_table")
# ... and the methods of what already exists (torch.jit keeps a CompilationUnit from its import on)
JIT_METHODS = (("CompilationUnit", ("define", "create_function")),
               ("ScriptModule", ("_define", "_create_method_from_trace", "_create_method_from_trace_with_dict")),
               ("ConcreteModuleType", ("_create_methods_and_properties",)),
               ("ScriptFunction", ("__call__",)), ("ScriptMethod", ("__call__",)),
               ("ScriptClass", ("__call__",)), ("ScriptClassFunction", ("__call__",)),
               ("LiteScriptModule", ("run_method", "forward")), ("StaticModule", ("__call__", "runAsync")))

# TorchScript operators that switch grad mode (aten::enable_grad is only a name in its builtin table)
GRAD_MODE_OPS = frozenset({"aten::set_grad_enabled", "aten::enable_grad", "aten::_set_grad_enabled"})

# operators that compute a derivative themselves: these base names, and any name containing
# "backward" or ending in "_jvp"
DERIVATIVE_OPS = frozenset({"_make_dual", "_make_dual_copy", "_unpack_dual", "_fw_primal", "_fw_primal_copy",
                            "grad", "set_grad_enabled", "get_gradients", "_dirichlet_grad",
                            "_standard_gamma_grad"})

# Python modules whose functions named like derivative operators are closed (their decompositions)
DECOMPOSITION_MODULES = ("torch._decomp", "torch._refs", "torch._prims")

# audit events refused after block(): event -> why
REFUSED_EVENTS = {
    "gc.get_objects": "gc.get_objects (walking the heap for the originals)",
    "gc.get_referrers": "gc.get_referrers (walking the heap for the originals)",
    "gc.get_referents": "gc.get_referents (walking the heap for the originals)",
    "sys.settrace": "sys.settrace (a tracer can rewrite running frames)",
    "sys.setprofile": "sys.setprofile (a profiler sees every call)",
    "ctypes.dlopen": "ctypes.CDLL (calling libtorch's C++ directly)",
    "ctypes.dlsym": "a ctypes symbol look-up (calling libtorch's C++ directly)",
    "ctypes.dlsym/handle": "a ctypes symbol look-up (calling libtorch's C++ directly)",
    "ctypes.cdata": "ctypes from_address (reading and writing the process's memory)",
    "ctypes.cdata/buffer": "ctypes from_buffer (reading and writing the process's memory)",
    "ctypes.addressof": "ctypes.addressof (reading and writing the process's memory)",
    "ctypes.call_function": "ctypes calling a C address (calling libtorch's C++ directly)",
    "ctypes.string_at": "ctypes.string_at (reading the process's memory)",
    "ctypes.wstring_at": "ctypes.wstring_at (reading the process's memory)",
    "subprocess.Popen": "starting a program (a fresh Python has all of autograd)",
    "os.system": "os.system (a fresh Python has all of autograd)",
    "os.exec": "os.exec* (a fresh Python has all of autograd)",
    "os.posix_spawn": "os.posix_spawn (a fresh Python has all of autograd)",
    "os.spawn": "os.spawn* (a fresh Python has all of autograd)",
    "os.startfile": "os.startfile (a fresh Python has all of autograd)",
}
# a sub-interpreter runs without this audit hook: these modules are imported, and their functions
# that start one closed (in their init-time dict copy too, so a fresh instance has them closed)
SUBINTERPRETERS = (("_xxsubinterpreters", ("create", "run_string")), ("_testcapi", ("run_in_subinterp",)))
# modules whose import statement is refused (those of other Python versions, with the same powers)
REFUSED_IMPORTS = frozenset({"_xxsubinterpreters", "_xxinterpchannels", "_interpreters", "_interpchannels",
                             "_testcapi", "_testinternalcapi", "_testmultiphase", "_testsinglephase"})


# ---- block() ------------------------------------------------------------------------------------

def block() -> None:
    """Close every route to autograd this module knows of, in this process, for good."""
    global _blocked_already
    if _blocked_already:
        return
    if threading.active_count() > 1:
        raise RuntimeError("autograd_block.block() must run while this is the only thread: grad mode is "
                           "per thread, and another thread's cannot be switched off from here")
    import torch
    import torch.autograd.forward_ad
    import torch.autograd.functional
    import torch.autograd.graph
    import torch.func
    import torch.nn.grad
    import torch._decomp  # noqa: F401  (its tables are emptied below; importing later would refill them)

    swaps: dict[int, tuple[object, object]] = {}  # id(original) -> (original, stand-in)
    _close_threads(swaps)
    _close_subinterpreters(swaps)
    _seal_grad_mode(torch, swaps)
    _close_engine(torch, swaps)
    _close_nodes(torch)
    _close_new_programs(swaps)
    _close_bound_methods(swaps)
    _close_derivative_ops(torch, swaps)
    _close_operator_lookup(torch, swaps)
    _close_jit(torch, swaps)
    _close_python_names(torch, swaps)
    _replace_everywhere(swaps)
    swaps.clear()  # the last references to the originals: now they are freed
    global EXEC_FORBIDDEN
    EXEC_FORBIDDEN = _forbid_exec()
    _install_hook()
    _blocked_already = True


def _swap(swaps: dict | None, holder, name: str, new) -> None:
    """holder.name = new, remembering the original for _replace_everywhere (unless swaps is None:
    for objects nothing else holds, as the sweep's time grows with the number of originals)."""
    old = getattr(holder, name, None)
    if old is None:
        return
    if swaps is not None:
        swaps[id(old)] = (old, new)
    if isinstance(holder, type):
        _set_type_attribute(holder, name, new)
    else:
        setattr(holder, name, new)


# ---- grad mode ------------------------------------------------------------------------------------

def _off_only(what: str):
    """A mode setter that accepts False (the mode is off already: nothing to do) and refuses True."""
    def setter(mode):
        if mode is False:
            return None
        if type(mode) is not bool:
            raise TypeError(f"{what}() takes a bool, not {type(mode).__name__}")
        _refuse(f"{what}(True)")
    setter.__name__ = setter.__qualname__ = what.rsplit(".", 1)[-1]
    return setter


class _NothingToDo:
    """What _InferenceMode(True) returns now: grad mode is off already, so entering does nothing.
    (Tensors made inside are ordinary tensors, not inference tensors.)"""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _inference_mode(mode):
    if mode is True:
        return _NothingToDo()
    _refuse("torch._C._InferenceMode(False)")  # it switches grad mode and forward-grad mode on


def _seal_grad_mode(torch, swaps) -> None:
    torch._C._set_grad_enabled(False)
    torch._C._set_fwd_grad_enabled(False)  # forward AD reads no tangent while this is off
    for name in OFF_ONLY:
        _swap(swaps, torch._C, name, _off_only(f"torch._C.{name}"))
    _swap(swaps, torch._C, "_InferenceMode", _inference_mode)
    for name in FORWARD_AD:
        _swap(swaps, torch._C, name, _blocked(f"torch._C.{name}"))


# ---- threads ------------------------------------------------------------------------------------------

def _close_threads(swaps) -> None:
    for name in sys.builtin_module_names:  # later imports of these never need _imp.create_builtin
        importlib.import_module(name)
    import _imp
    import _thread
    _swap(swaps, _thread, "start_new_thread", _blocked("starting a thread (its grad mode would be on)"))
    _swap(swaps, _thread, "start_new", _blocked("starting a thread (its grad mode would be on)"))
    _swap(swaps, _imp, "create_builtin", _blocked("_imp.create_builtin (a fresh _thread module)"))


def _close_new_programs(swaps) -> None:
    """subprocess and os raise audit events (refused by the hook); this one does not. The kernel
    closes execve itself in _forbid_exec."""
    import _posixsubprocess
    _swap(swaps, _posixsubprocess, "fork_exec", _blocked("_posixsubprocess.fork_exec (a fresh Python)"))


def _close_subinterpreters(swaps) -> None:
    for module_name, names in SUBINTERPRETERS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # not built into this Python
        for name in names:
            _swap(swaps, module, name, _blocked(f"{module_name}.{name} (a sub-interpreter runs without the block)"))


# ---- C types -------------------------------------------------------------------------------------------

IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: set on every static (C) type since Python 3.10


@functools.cache
def _tp_flags_offset() -> int:
    """Where tp_flags sits in a type object: found by reading, so no struct layout is assumed."""
    known = (int, str, dict, type, object, float)
    for offset in range(8, 512, 8):
        if all(ctypes.c_ulong.from_address(id(t) + offset).value == t.__flags__ for t in known):
            return offset
    raise RuntimeError("cannot find tp_flags in a type object")


def _set_type_attribute(cls: type, name: str, value) -> None:
    """setattr on a class, also on a C type: Python refuses to change one ("immutable type"),
    so its immutable flag is cleared for the one setattr (which updates the C slots properly,
    e.g. tp_call for __call__) and set again, so that a submission cannot change it back."""
    if not cls.__flags__ & IMMUTABLE_TYPE:
        setattr(cls, name, value)
        return
    flags = ctypes.c_ulong.from_address(id(cls) + _tp_flags_offset())
    flags.value &= ~IMMUTABLE_TYPE
    try:
        setattr(cls, name, value)
    finally:
        flags.value |= IMMUTABLE_TYPE


CLOSED_METHODS: dict[type, set[str]] = {}  # C types whose methods were replaced: for bound copies


def _close_engine(torch, swaps) -> None:
    engine = type(torch.autograd.variable.Variable._execution_engine)  # torch._C._ImperativeEngine
    for name in ("run_backward", "queue_callback"):
        _swap(swaps, engine, name, _blocked(f"the autograd engine's {name}"))
        CLOSED_METHODS.setdefault(engine, set()).add(name)


def _close_nodes(torch) -> None:
    for name, node in vars(torch._C._functions).items():
        if isinstance(node, type) and "__call__" in vars(node):  # (not swept: 663 slot wrappers
            _swap(None, node, "__call__", _blocked(f"calling a grad_fn node ({name})"))  # no one holds)
            CLOSED_METHODS.setdefault(node, set()).add("__call__")


def _close_bound_methods(swaps) -> None:
    """A method taken from an instance before block() (engine.run_backward, node.__call__) is a
    separate C object that calls the C function directly: each one found is replaced too."""
    bound_kinds = (type(len), type((0).__add__))  # builtin method, method-wrapper
    for method in gc.get_objects():
        if type(method) in bound_kinds:
            closed = CLOSED_METHODS.get(type(getattr(method, "__self__", None)))
            if closed and method.__name__ in closed:
                swaps[id(method)] = (method, _blocked(f"a saved {type(method.__self__).__name__}.{method.__name__}"))


# ---- operators -------------------------------------------------------------------------------------------

def is_derivative_op(qualified: str) -> bool:
    """'aten::sigmoid_backward.grad_input' -> True: the op computes a derivative itself."""
    base = qualified.split("::", 1)[-1].split(".", 1)[0]
    return "backward" in base or base.endswith("_jvp") or base in DERIVATIVE_OPS


KERNEL_LINE = re.compile(r"^(\w+)(?:\[alias\])?: registered at", re.M)


def _close_derivative_ops(torch, swaps) -> None:
    """A refusing kernel for every derivative operator, at every key it has a kernel for.

    The registrations live as long as the library handle; the handle is deliberately leaked
    (one reference that nothing will ever drop), so that no Python object can undo them."""
    # vmap registers Python decompositions (of backward ops among others) on its first use, looking
    # them up by name: done now, so that vmap keeps working and the kernels below come last
    from torch._functorch.predispatch import lazy_load_decompositions
    lazy_load_decompositions()
    libraries = {}
    for name in torch._C._dispatch_get_all_op_names():
        if not is_derivative_op(name):
            continue
        namespace, op = name.split("::", 1)
        if namespace not in libraries:
            libraries[namespace] = torch._C._dispatch_library("IMPL", namespace, "", "autograd_block", 0)
        keys = set(KERNEL_LINE.findall(torch._C._dispatch_dump(name))) | {"Autograd", "CPU"}
        keys &= set(torch._C.DispatchKey.__members__)  # the dump has other lines ("debug: ...")
        keys.discard("Tracer")  # a fallthrough: the call goes on to the keys below it
        kernel = _blocked(f"torch.ops.{namespace}.{op}")
        with warnings.catch_warnings():  # "Overriding a previously registered kernel": on purpose
            warnings.simplefilter("ignore")
            for key in sorted(keys):
                libraries[namespace].impl(op, key, kernel)
    for library in libraries.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))  # the leak: alive until the process ends
    libraries.clear()

    # operators already looked up (torch.ops.aten.X objects): a dispatcher operator's C function
    # now reaches the kernels above; a TorchScript-only one's (aten::grad) does not, so it is
    # replaced, here and wherever else it is held. (Not the former: an OpOverload hashes by it.)
    from torch._ops import OpOverload, OpOverloadPacket
    dispatched = {name.split(".", 1)[0] for name in torch._C._dispatch_get_all_op_names()}
    for op in gc.get_objects():
        if issubclass(type(op), (OpOverload, OpOverloadPacket)):  # type(): no __class__ look-up runs
            qualified = op._qualified_op_name if isinstance(op, OpOverloadPacket) else op._name
            if is_derivative_op(qualified):
                if qualified.split(".", 1)[0] not in dispatched:
                    for attribute in ("_op", "_op_dk"):
                        _swap(swaps, op, attribute, _blocked(f"torch.ops.{qualified.replace('::', '.')}"))
                if isinstance(op, OpOverload):
                    op.py_kernels.clear()  # Python kernels (decompositions) for the Python dispatcher

    # torch._decomp's tables of Python decompositions, and the functions themselves
    import torch._decomp
    for table in torch._decomp.global_decomposition_table.values():
        for op in [op for op in table if is_derivative_op(str(getattr(op, "_name", op)))]:
            del table[op]
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(DECOMPOSITION_MODULES):
            continue
        for attribute, value in list(vars(module).items()):
            if callable(value) and not isinstance(value, type) and is_derivative_op(attribute):
                _swap(swaps, module, attribute, _blocked(f"{module_name}.{attribute}"))


def _close_operator_lookup(torch, swaps) -> None:
    """torch.ops.<ns>.<name> looks operators up by name with two C functions, which also find
    TorchScript's own operators (aten::grad, aten::backward, aten::set_grad_enabled: they run the
    engine or switch grad mode without the dispatcher). Both are replaced by:
    - look-ups in tables made now of every other operator: what they return is what the
      originals returned;
    - for a dispatcher operator registered after block() (torch defines some of its own when a
      module is first imported, e.g. by torch.optim), a call through the dispatcher by its
      handle, which reaches dispatcher kernels only (and every derivative one refuses).
    TorchScript's derivative operators are refused; any other name is not found. (Dispatcher
    derivative operators are found: torch names them in tables when its modules are imported,
    and calling one reaches the refusing kernels of _close_derivative_ops.)"""
    schemas = torch._C._jit_get_all_schemas()
    dispatched = {n.split(".", 1)[0] for n in torch._C._dispatch_get_all_op_names()}
    refused = frozenset(s.name for s in schemas if is_derivative_op(s.name) and s.name not in dispatched)
    operations = {}
    for name in {s.name for s in schemas} | dispatched:
        if name not in refused:
            found = torch._C._jit_get_operation(name)
            if found[0] is not None:
                operations[name] = found
    overloads = {}
    for schema in schemas:
        if schema.name not in refused:
            try:
                overloads[(schema.name, schema.overload_name)] = torch._C._get_operation_overload(
                    schema.name, schema.overload_name)
            except RuntimeError:
                pass  # a schema without a runnable kernel
    find_schema, call_boxed, all_names = (torch._C._dispatch_find_schema_or_throw, torch._C._dispatch_call_boxed,
                                          torch._C._dispatch_get_all_op_names)
    key_set = torch._C.DispatchKeySet

    def through_dispatcher(qualified_name: str, overload_name: str):
        handle = find_schema(qualified_name, overload_name)  # RuntimeError when there is none
        call = functools.partial(call_boxed, handle)
        return call, lambda key, *args, **kwargs: handle.redispatch_boxed(key_set(key), *args, **kwargs)

    def checked(qualified_name, overload_name="") -> None:
        if type(qualified_name) is not str or type(overload_name) is not str:
            raise TypeError("operator names are str")
        if qualified_name in refused:
            _refuse(f"torch.ops look-up of TorchScript's {qualified_name}")

    def _jit_get_operation(qualified_name):
        checked(qualified_name)
        found = operations.get(qualified_name)
        if found is None:
            names = [n.split(".", 1)[1] if "." in n else "" for n in all_names() if n.split(".", 1)[0] == qualified_name]
            if not names:
                raise RuntimeError(f"No such operator {qualified_name}")
            found = through_dispatcher(qualified_name, "" if "" in names else names[0])[0], names
        return found

    def _get_operation_overload(qualified_name, overload_name):
        checked(qualified_name, overload_name)
        found = overloads.get((qualified_name, overload_name))
        return found if found is not None else (*through_dispatcher(qualified_name, overload_name), [])

    _swap(swaps, torch._C, "_jit_get_operation", _jit_get_operation)
    _swap(swaps, torch._C, "_get_operation_overload", _get_operation_overload)


def _close_jit(torch, swaps) -> None:
    for type_name, methods in JIT_METHODS:
        cls = getattr(torch._C, type_name, None)
        for method in methods if isinstance(cls, type) else ():
            _swap(swaps, cls, method, _blocked(f"TorchScript's {type_name}.{method}"))
    for name in JIT:
        _swap(swaps, torch._C, name, _blocked(f"torch._C.{name}"))
    # TorchScript's table of Python functions it compiles as operators (id(function) -> name):
    # ids of freed originals could come back as other objects' ids
    import torch.jit._builtins as builtins
    table = builtins._get_builtin_table()
    for key in [key for key, name in table.items() if is_derivative_op(name) or name in GRAD_MODE_OPS]:
        del table[key]
    builtins._builtin_ops[:] = [(f, name) for f, name in builtins._builtin_ops
                                if not (is_derivative_op(name) or name in GRAD_MODE_OPS)]


def _close_python_names(torch, swaps) -> None:
    _swap(swaps, torch.Tensor, "backward", _blocked("Tensor.backward"))
    for module_name, names in PYTHON_NAMES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name in names:
            _swap(swaps, module, name, _blocked(f"{module_name}.{name}"))


# ---- every holder -----------------------------------------------------------------------------------------

def _replace_everywhere(swaps: dict, depth: int = 0) -> None:
    """Replace each original by its stand-in in every container gc knows holds it.

    Dicts (module and class dicts, caches, the extension module's init-time copy of its dict),
    lists, sets and cells are rewritten in place; a tuple is rebuilt, and the tuple itself
    replaced in its holders the same way (functions' __defaults__ too), three levels up.
    What cannot be rewritten is described in LEFT."""
    if not swaps:
        return
    originals = tuple(old for old, _ in swaps.values())  # passed as it is to get_referrers below
    mine = {id(swaps), id(originals), *map(id, swaps.values())}  # this function's own references

    def new_for(value):
        found = swaps.get(id(value))
        return found[1] if found is not None and found[0] is value else value

    def held(value) -> bool:
        return new_for(value) is not value

    tuples: dict[int, tuple[object, object]] = {}
    for holder in gc.get_referrers(*originals):
        kind = type(holder)
        if id(holder) in mine or kind is types.FrameType or id(holder) in swaps:  # (a type holds itself)
            continue
        if kind is dict:
            for key, value in list(holder.items()):
                if held(value):
                    holder[key] = new_for(value)
        elif kind is list:
            for i, value in enumerate(holder):
                if held(value):
                    holder[i] = new_for(value)
        elif kind is set:
            for value in [v for v in holder if held(v)]:
                holder.discard(value)
                holder.add(new_for(value))
        elif kind is types.CellType:
            holder.cell_contents = new_for(holder.cell_contents)
        elif kind is tuple:
            if not any(isinstance(v, type) and v.__mro__ is holder for v in holder):  # (a class's own mro)
                tuples[id(holder)] = (holder, tuple(new_for(v) for v in holder))
        elif kind is types.FunctionType and holder.__defaults__ and any(held(d) for d in holder.__defaults__):
            holder.__defaults__ = tuple(new_for(d) for d in holder.__defaults__)
        elif type(getattr(holder, "__dict__", None)) is dict and any(map(held, vars(holder).values())):
            for key, value in list(vars(holder).items()):  # an object's own attributes (3.11 keeps
                if held(value):                             # them in the object: gc names the object)
                    setattr(holder, key, new_for(value))
        else:
            name = holder.__qualname__ if isinstance(holder, type) else ""
            LEFT.append(f"{kind.__module__}.{kind.__qualname__} {name}".strip())
    sys._clear_type_cache()  # class dicts were changed behind the method cache's back
    if depth < 3:
        _replace_everywhere(tuples, depth + 1)
    else:
        LEFT.extend("tuple" for _ in tuples)


# ---- new programs ---------------------------------------------------------------------------------------

LANDLOCK_CREATE_RULESET, LANDLOCK_RESTRICT_SELF, PR_SET_NO_NEW_PRIVS = 444, 446, 38
LANDLOCK_EXECUTE = 1 << 0


def _forbid_exec() -> bool:
    """Landlock: a ruleset that handles only "execute" and allows it nowhere, so this process
    and every process it forks can never execve again (loading shared libraries is not execve:
    extension modules still import). False when the kernel has no Landlock."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syscall(LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), 1) < 1:  # the ABI version
            return False
        handled = ctypes.c_uint64(LANDLOCK_EXECUTE)  # struct landlock_ruleset_attr, first field only
        ruleset = libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(handled), ctypes.c_size_t(8), 0)
    except (OSError, AttributeError):
        return False
    if ruleset < 0:
        return False
    try:
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


# ---- the audit hook ---------------------------------------------------------------------------------------

def _install_hook() -> None:
    """The hook counts every closed route and refuses REFUSED_EVENTS. It cannot be removed, and
    it reads nothing a submission can change: what it needs is bound here, in its closure, and
    no Python object leads to the hook itself (gc is what could, and gc is refused). A traceback
    through it shows its frame, whose variables can be read there but not changed (that takes a
    tracer, and tracers are refused); it holds no original."""
    count = 0
    refused, refused_imports = dict(REFUSED_EVENTS), REFUSED_IMPORTS
    error, message = AutogradBlocked, _message
    my_event, uses_event = EVENT, USES_EVENT

    def hook(event, args):
        nonlocal count
        if type(event) is not str:  # a str subclass could run code in a comparison
            return
        if event == my_event:
            count += 1
            what = args[0] if args and type(args[0]) is str else "this"
            raise error(message(what))
        if event == uses_event:
            if len(args) == 1 and type(args[0]) is list:
                list.append(args[0], count)
            return
        why = refused.get(event)
        if why is None and event == "import" and args and type(args[0]) is str and args[0] in refused_imports:
            why = f"importing {args[0]} (a sub-interpreter runs without the block)"
        if why is not None:
            count += 1
            raise error(message(why))

    sys.addaudithook(hook)
