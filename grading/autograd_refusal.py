"""How a closed route to autograd refuses: the error, the refusing stand-ins, and putting them in place.

The base that every module closing a route imports (grading/autograd_torch.py,
grading/autograd_operators.py, grading/autograd_process.py; grading/autograd_block.py runs
them). A stand-in made by `refusing(what)` reaches the audit event `EVENT`, which the hook
(autograd_process.install_hook) counts and turns into `AutogradBlocked`; `swap` puts one in
place of an original and remembers the original for the sweep (grading/autograd_sweep.py).
Imports only the standard library: a student's process loads it from its source
(grading/isolation.py: CHILD_MODULES).
"""
from __future__ import annotations

import ctypes
import functools
import sys

EVENT = "backprop_kit.autograd"  # sys.audit(EVENT, what): a closed route was reached
USES_EVENT = "backprop_kit.autograd.uses"  # sys.audit(USES_EVENT, box): the hook appends the count

audit = sys.audit  # the original: a submission replacing sys.audit does not change this one


class AutogradBlocked(RuntimeError):
    pass


def message(what: str) -> str:
    return (f"{what} reaches torch's autograd (or a way around its block), which a submission must not "
            f"use: derive the gradient by hand")


def refuse(what: str):
    audit(EVENT, what)  # the hook counts the use and raises AutogradBlocked
    raise AutogradBlocked(message(what))  # only when sys.audit's hook did not run


def refusing(what: str):
    """A function that refuses whatever it is called with."""
    def blocked(*args, **kwargs):
        refuse(what)
    blocked.__name__ = blocked.__qualname__ = what.rsplit(".", 1)[-1].replace("(True)", "")
    blocked.__doc__ = f"Closed by grading.autograd_block: {what}."
    return blocked


def swap(swaps: dict | None, holder, name: str, new) -> None:
    """holder.name = new, remembering the original for the sweep (autograd_sweep.replace_everywhere;
    unless swaps is None: for objects nothing else holds, as the sweep's time grows with the
    number of originals)."""
    old = getattr(holder, name, None)
    if old is None:
        return
    if swaps is not None:
        swaps[id(old)] = (old, new)
    if isinstance(holder, type):
        set_type_attribute(holder, name, new)
    else:
        setattr(holder, name, new)


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


def set_type_attribute(cls: type, name: str, value) -> None:
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
