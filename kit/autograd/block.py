"""Closing torch's autograd inside the process that runs a submission: `block()`, then `uses()`.

The grader's child calls `block()` once, before it imports a line of the submission and after
its own uses of threads, ctypes and gc (see "Order"). From then on no route this module knows
of gives a derivative that torch computed:

    from kit.autograd import block as autograd_block
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

What is closed, and how (one function per mechanism, in the modules named after the table):

| mechanism             | what it closes                                                       |
|-----------------------|----------------------------------------------------------------------|
| seal_grad_mode        | Grad mode and forward-grad mode are switched off, and what could     |
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
| close_threads         | Grad mode is per thread in C++, and a new thread starts with it on.  |
|                       | No thread can start: _thread.start_new_thread (and threading's copy) |
|                       | refuse; every built-in module is imported first, so that             |
|                       | _imp.create_builtin can refuse too (it would make a fresh _thread).  |
| close_subinterpreters | A sub-interpreter runs without the audit hook: _xxsubinterpreters.   |
|                       | create/run_string and _testcapi.run_in_subinterp refuse (also in the |
|                       | module's init-time copy of its dict, which a fresh instance gets).   |
| close_engine          | run_backward and queue_callback on the engine's C type (torch._C.    |
|                       | _ImperativeEngine), so every instance, new instance or subclass      |
|                       | refuses; close_bound_methods replaces bound copies made earlier.     |
| close_nodes           | Calling a grad_fn node (SigmoidBackward0, AccumulateGrad and the 660 |
|                       | others in torch._C._functions) refuses, for nodes made before block. |
| close_derivative_ops  | Every dispatcher operator that computes a derivative itself (the     |
|                       | aten *_backward ops, *_jvp, _make_dual, _unpack_dual, _fw_primal,    |
|                       | _backward: 276 with their overloads) gets a refusing kernel at every |
|                       | dispatch key it has a kernel for (CPU, Autograd, composite, sparse,  |
|                       | batched, Meta, ...). So torch.ops.aten.X, torch.X, torch._VF.X, an   |
|                       | OpOverload's call, decompose(), redispatch(), _dispatch_call_boxed,  |
|                       | vmap, sparse inputs, calls below the autograd keys, the Python       |
|                       | dispatcher and torch.nn.grad.conv2d_input all refuse. Their Python   |
|                       | decompositions (torch._decomp's tables and functions, py_kernels)    |
|                       | are dropped.                                                         |
| close_operator_lookup | torch.ops look-ups (torch._C._jit_get_operation, _get_operation_     |
|                       | overload) would also find TorchScript's own aten::grad, aten::       |
|                       | backward, aten::set_grad_enabled, which bypass the dispatcher. They  |
|                       | are replaced by tables of every other operator, plus a call through  |
|                       | the dispatcher for operators registered later (torch registers some  |
|                       | when a module is first imported, e.g. by torch.optim).               |
| close_jit             | TorchScript's compilers, tracers, loaders and interpreters (torch.   |
|                       | jit.script, trace, load, parse_ir, CompilationUnit, the one torch.jit|
|                       | keeps, ScriptFunction calls, ...), and the derivative and grad-mode  |
|                       | entries of its table of Python functions it compiles as operators.   |
| close_python_names    | The Python entry points, by name, for a clear message: Tensor.       |
|                       | backward, torch.autograd.grad/backward, autograd.functional.*,       |
|                       | forward_ad.make_dual, torch.func.*, torch.nn.grad.*, distributed     |
|                       | autograd.                                                            |
| replace_everywhere    | Each replaced object is replaced in every dict, list, set, cell,     |
|                       | object attribute and tuple that holds it (found with gc before gc is |
|                       | closed): `from torch._C import _enter_dual_level` copies, torch.func |
|                       | and torch._functorch sharing one function, TorchScript's tables,     |
|                       | caches, extension modules' init-time dict copies. LEFT lists what    |
|                       | could not be rewritten (nothing, with torch 2.13).                   |
| forbid_exec           | Landlock, when the kernel has it: this process and its children can  |
|                       | never execve again, so no fresh Python with autograd intact (even    |
|                       | through a fresh _posixsubprocess); shared libraries still load.      |
| install_hook          | The audit hook refuses what would undo the rest: gc.get_objects /    |
|                       | get_referrers / get_referents (walking the heap), sys.settrace /     |
|                       | setprofile (rewriting running frames), ctypes dlopen, dlsym,         |
|                       | from_address, from_buffer, addressof, string_at (calling libtorch's  |
|                       | C++ by name, reading memory), starting programs (subprocess,         |
|                       | os.system, os.exec*, os.posix_spawn, os.spawn*), importing the       |
|                       | sub-interpreter modules of other Python versions.                    |

Where each lives: kit/autograd/routes.py (seal_grad_mode, close_engine, close_nodes,
close_bound_methods, close_python_names), kit/autograd/operators.py (close_derivative_ops,
close_operator_lookup, close_jit), kit/autograd/process.py (close_threads,
close_subinterpreters, close_new_programs, forbid_exec, install_hook), kit/autograd/sweep.py
(replace_everywhere, LEFT); what they put in place refuses through kit/autograd/refusal.py.
All of them are sent to a student's process as sources (grading/isolation.py: CHILD_MODULES).

The learner's gate. The learner's own run checks autograd as the grader does, with the same
mechanisms (kit/autograd/learner.py), but torch.autograd must keep working there for the kit's
own references, between two calls into the learner's code. `install_gate()` runs every
mechanism of the table with a `Gate` (kit/autograd/refusal.py): each stand-in refuses only
while the calling thread is inside `learner_code()`, and calls the original otherwise; the
originals stay, in the gate, which the sweep leaves alone. What differs from `block()`:
- grad mode and forward-grad mode are switched off on entering learner_code() and put back on
  leaving it, in the thread that entered (the setters refuse True in between);
- the derivative operators keep their kernels (the kit's backward passes run them): a refusing
  kernel sits at one key above every other (operators.GATE_KEY), which learner_code() adds to
  the thread's dispatch keys, and OpOverload.redispatch and decompose, which name a lower key
  themselves, refuse a derivative operator. Lower still (an OpOverload's _op_dk, its
  _handle.redispatch_boxed, both private) nothing refuses in a learner's run;
- torch.ops look-ups keep their originals, refusing TorchScript's derivative operators first;
- no Landlock (it cannot be undone), and the hook lets a debugger's tracer be set
  (process.LEARNER_ALLOWED: breakpoint() works in an exercise, as the README says; the
  grader's zygote makes breakpoint() do nothing, grading/zygote.py);
- block() refuses to run after install_gate() (the gate keeps every original alive).
A thread started by the learner's code is refused, as in a grading child; the kit's own threads
(the time limit's watchdog, kit/implementation.py) start outside learner_code(). The count
(`uses()`) is the same hook's. tests/self/test_learner_autograd.py runs every route and every
by-hand operation of tests/self/test_autograd_block.py inside learner_code(), and names the
differences above that a route shows.

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
  (kit/autograd/scan): tests/self/test_autograd_block.py shows the union read working.
- A compiled extension module shipped in the submission folder runs arbitrary C code when
  imported (the same power as ctypes). `_imp.create_dynamic` stays open, as legitimate lazy
  imports need it; it can also make a fresh instance of a multi-phase C module, such as
  `_posixsubprocess`, whose fork_exec is then open again: only Landlock stops the execve.
- Without Landlock (kernels before 5.13, or disabled), that fresh fork_exec starts a new
  Python, which has all of autograd. tests/self/test_autograd_block.py shows Landlock refusing
  it, where the kernel has Landlock. (grading/landlock.py could also drop EXECUTE from its
  read rules: execve is not needed once the child runs.)
- `importlib.import_module` raises no "import" audit event, so REFUSED_IMPORTS only stops
  import statements (the modules of this Python version are closed by SUBINTERPRETERS; both
  tables are kit/autograd/process.py's).
- functorch's C++ layer stack (torch._C._functorch) was not examined beyond its Python API: a
  grad layer restores a remembered grad mode when it hands an operation down. A graph made
  that way could still not be evaluated (engine, nodes, kernels, forward AD are closed).
- `uses()` reads the hook through sys.audit; a submission can rebind these modules' names
  (this one's `_audit` and `uses`, autograd_refusal's `audit`) or sys.audit so that the count
  stays unchanged, and a tiny recursion limit can make the hook fail before it counts. The
  route still fails and no derivative is gained; a grader that must trust the count should
  capture `uses` before the submission runs and also treat a changed module as use.
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

import contextlib
import threading

from kit.autograd.operators import GATE_KEY, close_derivative_ops, close_jit, close_operator_lookup
from kit.autograd.process import close_new_programs, close_subinterpreters, close_threads, forbid_exec, install_hook
from kit.autograd.refusal import EVENT, USES_EVENT, AutogradBlocked, Gate, Swaps  # noqa: F401  (the API: EVENT...)
from kit.autograd.refusal import audit as _audit  # the original sys.audit, read by uses()
from kit.autograd.routes import close_bound_methods, close_engine, close_nodes, close_python_names, seal_grad_mode
from kit.autograd.sweep import LEFT, replace_everywhere  # noqa: F401  (LEFT: this module's API)

_blocked_already = False
EXEC_FORBIDDEN: bool | None = None  # after block(): whether Landlock now refuses every execve
_gate: Gate | None = None  # the learner's gate, once install_gate() has put it in place


def uses() -> int:
    """How many times a closed route was reached since block() or install_gate(); 0 before. Never decreases."""
    box: list[int] = []
    _audit(USES_EVENT, box)
    return box[0] if box else 0


def used_since(mark: int) -> bool:
    return uses() != mark


def blocked_for_good() -> bool:
    """Whether block() has run in this process (a grading child): then nothing is gated, all is closed."""
    return _blocked_already


def _imports():
    import torch
    import torch._decomp  # noqa: F401  (its tables are emptied below; importing later would refill them)
    import torch.autograd.forward_ad
    import torch.autograd.functional
    import torch.autograd.graph
    import torch.func
    import torch.nn.grad
    return torch


def _close(torch, swaps: Swaps) -> None:
    """Every mechanism of the table, in order, then the sweep: for good, or under `swaps.gate`."""
    close_threads(swaps)
    close_subinterpreters(swaps)
    seal_grad_mode(torch, swaps)
    close_engine(torch, swaps)
    close_nodes(torch, swaps)
    close_new_programs(swaps)
    close_bound_methods(swaps)
    close_derivative_ops(torch, swaps)
    close_operator_lookup(torch, swaps)
    close_jit(torch, swaps)
    close_python_names(torch, swaps)
    keep = frozenset(swaps.gate.holders()) if swaps.gate is not None else frozenset()
    replace_everywhere(swaps, keep=keep)
    swaps.clear()  # the last references to the originals (but the gate's): now they are freed


def block() -> None:
    """Close every route to autograd this module knows of, in this process, for good."""
    global _blocked_already
    if _blocked_already:
        return
    if threading.active_count() > 1:
        raise RuntimeError("autograd_block.block() must run while this is the only thread: grad mode is "
                           "per thread, and another thread's cannot be switched off from here")
    if _gate is not None:
        raise RuntimeError("block() after install_gate(): the gate keeps every original, so nothing would be "
                           "closed for good")
    _close(_imports(), Swaps())
    global EXEC_FORBIDDEN
    EXEC_FORBIDDEN = forbid_exec()
    install_hook()
    _blocked_already = True


def install_gate() -> Gate:
    """The learner's gate: the same mechanisms as block(), whose stand-ins refuse only inside
    `learner_code()` (in the thread that entered it) and call the originals everywhere else.
    Once per process (about as long as block()); later calls return the gate in place."""
    global _gate
    if _gate is None:
        if _blocked_already:
            raise RuntimeError("install_gate() after block(): everything is closed already")
        torch = _imports()
        gate = Gate()
        gate.setters += [torch._C._set_grad_enabled, torch._C._set_fwd_grad_enabled]  # the originals, kept
        _close(torch, Swaps(gate))
        install_hook(gate)
        _gate = gate
    return _gate


@contextlib.contextmanager
def learner_code():
    """While learner code runs: the thread's grad mode and forward-grad mode off (and what would
    switch them on refusing), the derivative operators refused at GATE_KEY, every gated
    stand-in refusing, the hook refusing what it refuses for the grader (but a debugger).
    Re-entrant (an import inside a call); the outermost exit puts the thread's modes back."""
    gate = install_gate()
    local = gate.local
    depth = getattr(local, "depth", 0)
    if depth:
        local.depth = depth + 1
        try:
            yield gate
        finally:
            local.depth -= 1
        return
    import torch
    key = getattr(torch._C.DispatchKey, GATE_KEY)
    grad, forward, included = (torch.is_grad_enabled(), torch._C._is_fwd_grad_enabled(),
                               torch._C._dispatch_tls_is_dispatch_key_included(key))
    set_grad, set_forward = gate.setters
    set_grad(False)
    set_forward(False)
    torch._C._dispatch_tls_set_dispatch_key_included(key, True)
    local.depth = 1
    try:
        yield gate
    finally:
        local.depth = 0
        torch._C._dispatch_tls_set_dispatch_key_included(key, included)
        set_forward(forward)
        set_grad(grad)
