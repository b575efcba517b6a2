"""Closing torch's own ways to a derivative: grad mode, the engine, grad_fn nodes and the named entry points.

Part of kit/autograd/block.py (the rows seal_grad_mode, close_engine, close_nodes,
close_bound_methods and close_python_names of its table). Each function gets torch as an
argument and puts refusing stand-ins in place (kit/autograd/refusal.py: swap). Imports only
the standard library (and the torch it is given): a student's process loads it from its
source (grading/isolation.py: CHILD_MODULES).
"""
from __future__ import annotations

import gc
import sys

from kit.autograd.refusal import Swaps, refuse, refusing, stand_in, swap

# (module, attribute names): Python entry points, replaced by name (the other mechanisms close
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


# ---- grad mode ------------------------------------------------------------------------------------

def _off_only(what: str):
    """A mode setter that accepts False (the mode is off already: nothing to do) and refuses True."""
    def setter(mode):
        if mode is False:
            return None
        if type(mode) is not bool:
            raise TypeError(f"{what}() takes a bool, not {type(mode).__name__}")
        refuse(f"{what}(True)")
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
    refuse("torch._C._InferenceMode(False)")  # it switches grad mode and forward-grad mode on


def seal_grad_mode(torch, swaps: Swaps) -> None:
    if swaps.gate is None:  # (the learner's gate switches both off while learner code runs: block.learner_code)
        torch._C._set_grad_enabled(False)
        torch._C._set_fwd_grad_enabled(False)  # forward AD reads no tangent while this is off
    for name in OFF_ONLY:
        swap(swaps, torch._C, name, _off_only(f"torch._C.{name}"))
    swap(swaps, torch._C, "_InferenceMode", _inference_mode)
    for name in FORWARD_AD:
        swap(swaps, torch._C, name, refusing(f"torch._C.{name}"))


# ---- the engine and its nodes -------------------------------------------------------------------------

CLOSED_METHODS: dict[type, set[str]] = {}  # C types whose methods were replaced: for bound copies


def close_engine(torch, swaps: Swaps) -> None:
    engine = type(torch.autograd.variable.Variable._execution_engine)  # torch._C._ImperativeEngine
    for name in ("run_backward", "queue_callback"):
        swap(swaps, engine, name, refusing(f"the autograd engine's {name}"))
        CLOSED_METHODS.setdefault(engine, set()).add(name)


def close_nodes(torch, swaps: Swaps) -> None:
    for name, node in vars(torch._C._functions).items():
        if isinstance(node, type) and "__call__" in vars(node):  # (not swept: 663 slot wrappers no one holds)
            swap(swaps, node, "__call__", refusing(f"calling a grad_fn node ({name})"), sweep=False)
            CLOSED_METHODS.setdefault(node, set()).add("__call__")


def close_bound_methods(swaps: Swaps) -> None:
    """A method taken from an instance before block() (engine.run_backward, node.__call__) is a
    separate C object that calls the C function directly: each one found is replaced too."""
    bound_kinds = (type(len), type((0).__add__))  # builtin method, method-wrapper
    for method in gc.get_objects():
        if type(method) in bound_kinds:
            closed = CLOSED_METHODS.get(type(getattr(method, "__self__", None)))
            if closed and method.__name__ in closed:
                closed_copy = refusing(f"a saved {type(method.__self__).__name__}.{method.__name__}")
                swaps[id(method)] = (method, stand_in(swaps, method, closed_copy))


# ---- the Python entry points ------------------------------------------------------------------------

def close_python_names(torch, swaps: Swaps) -> None:
    swap(swaps, torch.Tensor, "backward", refusing("Tensor.backward"))
    for module_name, names in PYTHON_NAMES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name in names:
            swap(swaps, module, name, refusing(f"{module_name}.{name}"))

