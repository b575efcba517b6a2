"""How a closed route to autograd refuses: the error, the refusing stand-ins, and putting them in place.

The base that every module closing a route imports (kit/autograd/routes.py,
kit/autograd/operators.py, kit/autograd/process.py; kit/autograd/block.py runs them). A
stand-in made by `refusing(what)` reaches the audit event `EVENT`, which the hook
(process.install_hook) counts and turns into `AutogradBlocked`; `swap` puts one in place of an
original and remembers the original for the sweep (kit/autograd/sweep.py).

Two ways to close, one set of mechanisms (`Swaps` says which):
- for good (`block()`, the grader's child): each stand-in refuses always, and the originals are
  freed once every holder is rewritten;
- the learner's gate (`install_gate()`, the learner's own run): each stand-in is a `Gate`'s,
  which refuses only while learner code runs in the calling thread (`Gate.depth`) and otherwise
  calls the original, which the gate keeps (`Gate.originals`, left alone by the sweep). So the
  kit's own torch.autograd references keep working between the learner's calls.

Imports only the standard library: a student's process loads it from its source
(grading/isolation.py: CHILD_MODULES).
"""
from __future__ import annotations

import ctypes
import functools
import sys
import threading

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
    blocked.__doc__ = f"Closed by kit.autograd.block: {what}."
    return blocked


class Gate:
    """The learner's gate: stand-ins that refuse only while learner code runs in this thread.

    `depth` counts the calls into learner code the current thread is inside of (a module's
    import inside an exercise's call makes two); kit/autograd/block.py's `learner_code()`
    raises and lowers it. Outside learner code a gated stand-in calls its original, which
    `originals` keeps: a list the sweep never rewrites (`holders()`), reached by index, so no
    closure holds an original for the sweep to replace."""

    def __init__(self):
        self.local = threading.local()
        self.originals: list = []
        self.setters: list = []  # the original grad-mode setters, for learner_code() (kit/autograd/block.py)

    def depth(self) -> int:
        return getattr(self.local, "depth", 0)

    def holders(self) -> set[int]:
        """The ids of the gate's own containers of originals, which the sweep leaves alone."""
        return {id(self.originals), id(self.setters)}

    def wrap(self, old, new):
        """`new` while learner code runs in the calling thread; `old` otherwise."""
        index = len(self.originals)
        self.originals.append(old)
        originals, local = self.originals, self.local

        def gated(*args, **kwargs):
            if getattr(local, "depth", 0):
                return new(*args, **kwargs)
            return originals[index](*args, **kwargs)
        return _named(gated, old)

    def checked(self, old, check):
        """`old`, after `check(*args)` (which refuses what it must) while learner code runs."""
        index = len(self.originals)
        self.originals.append(old)
        originals, local = self.originals, self.local

        def gated(*args, **kwargs):
            if getattr(local, "depth", 0):
                check(*args, **kwargs)
            return originals[index](*args, **kwargs)
        return _named(gated, old)


def _named(gated, old):
    """The gated stand-in named as the original (tracebacks, help()), without __wrapped__: a
    reference to the original that the sweep would rewrite."""
    for attribute in ("__name__", "__qualname__", "__doc__"):
        value = getattr(old, attribute, None)
        if type(value) is str:
            setattr(gated, attribute, value)
    return gated


class Swaps(dict):
    """id(original) -> (original, stand-in): what the sweep replaces (kit/autograd/sweep.py).

    `gate` is None for `block()`, the learner's `Gate` for `install_gate()`: every mechanism
    asks it how to close (the stand-ins, and what differs: see kit/autograd/block.py)."""

    def __init__(self, gate: Gate | None = None):
        super().__init__()
        self.gate = gate


def stand_in(swaps: Swaps, old, new):
    """What takes `old`'s place: `new`, or under the learner's gate one that is `new` only while
    learner code runs."""
    return new if swaps.gate is None else swaps.gate.wrap(old, new)


def swap(swaps: Swaps, holder, name: str, new, sweep: bool = True) -> None:
    """holder.name = the stand-in for `new`, remembering the original for the sweep
    (sweep.replace_everywhere; unless `sweep` is False: for objects nothing else holds, as the
    sweep's time grows with the number of originals)."""
    old = getattr(holder, name, None)
    if old is None:
        return
    new = stand_in(swaps, old, new)
    if sweep:
        swaps[id(old)] = (old, new)
    if isinstance(holder, type):
        set_type_attribute(holder, name, new)
    else:
        setattr(holder, name, new)


def guard(swaps: Swaps, holder, name: str, check) -> None:
    """Under the learner's gate only: holder.name = the original, called after `check(*args)` (which
    refuses what it must) while learner code runs."""
    old = getattr(holder, name)
    new = swaps.gate.checked(old, check)
    swaps[id(old)] = (old, new)
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
