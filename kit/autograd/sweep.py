"""Replacing each closed original wherever it is held, so that nothing is left to call or to restore.

Part of kit/autograd/block.py (the row replace_everywhere of its table): after every
mechanism has put its stand-ins in place, the originals are still held by copies (`from
torch._C import _enter_dual_level`, tables, caches, extension modules' init-time dicts);
gc finds each holder, and each is rewritten (under the learner's gate too, so that every route
reaches a gated stand-in; the gate's own list of originals is left alone). Imports only the
standard library: a student's process loads it from its source (grading/isolation.py:
CHILD_MODULES).
"""
from __future__ import annotations

import gc
import sys
import types

LEFT: list[str] = []  # holders of an original that replace_everywhere could not rewrite (descriptions)


def replace_everywhere(swaps: dict, depth: int = 0, keep: frozenset = frozenset()) -> None:
    """Replace each original by its stand-in in every container gc knows holds it.

    Dicts (module and class dicts, caches, the extension module's init-time copy of its dict),
    lists, sets and cells are rewritten in place; a tuple is rebuilt, and the tuple itself
    replaced in its holders the same way (functions' __defaults__ too), three levels up.
    What cannot be rewritten is described in LEFT. `keep`: the ids of containers never rewritten."""
    if not swaps:
        return
    originals = tuple(old for old, _ in swaps.values())  # passed as it is to get_referrers below
    mine = {id(swaps), id(originals), *map(id, swaps.values()), *keep}  # this function's own references

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
        replace_everywhere(tuples, depth + 1, keep)
    else:
        LEFT.extend("tuple" for _ in tuples)

