"""Which units an exercise's check runs first: its function or class, and the module's top level.

Chapter 7's exercises share one class, `Value`, but their checks do not call the same methods
(kit/chapters/ch7_engine.py): an operation's check builds one node with its operator, so it
reaches the class's core and that operation's methods; backward's graphs use every operation
and the operators built from them, so it reaches the whole class.
"""
from __future__ import annotations

import itertools

# the methods of the class that only one operation's check calls
OPERATION_METHODS = {
    "add": ("__add__", "__radd__", "__iadd__"),
    "mul": ("__mul__", "__rmul__", "__imul__"),
    "pow": ("__pow__", "__rpow__", "__ipow__"),
    "exp": ("exp",), "log": ("log",), "relu": ("relu",), "sigmoid": ("sigmoid",), "tanh": ("tanh",),
}
GRAPH_METHODS = ("backward", "__neg__", "__sub__", "__rsub__", "__truediv__", "__rtruediv__")
# the methods some exercise owns; the class's core reaches every other member
OWNED_METHODS = frozenset(itertools.chain(GRAPH_METHODS, *OPERATION_METHODS.values()))


def entries(exercise, units: dict, classes: dict) -> list[tuple[str, str]]:
    """The keys of the units `exercise`'s check runs first, the module's top level the first of them.

    `units` and `classes` are the program's (kit/autograd/scan/program.py): {key: unit} and
    {class unit: (its core unit, {member: unit})}."""
    module = exercise.module
    found = [(module, "<module>")]
    name = units.get((module, exercise.attribute))
    if name is None:
        return found
    methods = OPERATION_METHODS.get(exercise.name) if exercise.attribute != exercise.name else None
    for key in sorted(name.refers):
        if methods is not None and key in classes:
            core, members = classes[key]
            found += [core] + [members[m] for m in methods if m in members]
        else:
            found.append(key)
    return found
