"""The table of what is autograd: torch's banned modules and names, and the attributes only autograd has.

The rest of the scan decides where a name is reached; this module alone decides whether
reaching it is use (see the package's docstring for what counts)."""
from __future__ import annotations

import builtins

TORCH_ROOTS = ("torch", "functorch")
BANNED_MODULES = ("torch.autograd", "torch.func", "torch._functorch", "functorch")
# Attributes only autograd has: they count on any object (see own names, kit/autograd/scan/module.py).
BANNED_ATTRIBUTES = frozenset({
    "autograd", "forward_ad", "functorch", "_functorch", "_execution_engine", "_ImperativeEngine",
    "_EngineBase", "run_backward", "make_dual", "unpack_dual", "requires_grad_", "backward",
    "next_functions", "grad_fn"})
GRAD_OFF = frozenset({"no_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled"})
SWITCHES = frozenset({"set_grad_enabled", "_set_grad_enabled", "_set_fwd_grad_enabled", "requires_grad_"})
# Callables that only look at a value: `print(y.grad_fn)` does not use the node.
READERS = frozenset({"print", "repr", "str", "type", "isinstance", "id", "bool", "format", "callable"})
BUILTINS = frozenset(dir(builtins))


def path_use(path: str, call, false) -> bool:
    """Whether using torch's `path` (called by `call`, when it is) is autograd use.

    `false(call, index, keyword)` says whether the call's argument at that position or keyword
    is always False (set_grad_enabled(False), Parameter(x, requires_grad=False))."""
    parts = path.split(".")
    if parts[0] == "functorch":
        return True
    if parts[0] != "torch" or len(parts) == 1:
        return False
    last = parts[-1]
    if last in GRAD_OFF:
        return False
    if last in SWITCHES:  # on, unless switched off: set_grad_enabled(False), requires_grad_(False)
        return call is None or not false(call, 0, "mode" if "grad_enabled" in last else "requires_grad")
    if last == "Parameter":  # a Parameter requires grad unless told not to
        return call is not None and not false(call, 1, "requires_grad")
    if parts[1] == "func":
        return True
    return any(p in BANNED_ATTRIBUTES or p == "enable_grad" or "autograd" in p.lower() for p in parts[1:])


def banned_module(name: str) -> bool:
    """Whether importing the module `name` (`__import__("torch.func")`) is autograd use."""
    return any(name == m or name.startswith(m + ".") for m in BANNED_MODULES)
