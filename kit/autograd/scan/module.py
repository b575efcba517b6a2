"""One module of a submission: its scopes, the words it uses, and the names its own code defines.

`Module` is put together from parts by job: what an expression may be (values.py), the
constants it may spell (constants.py), the units its top level is cut into (units.py), and the
walk that judges its code (walker.py, uses.py). They share the module's bindings (scopes.py),
its memo of answers, and the program it belongs to (program.py): the other modules, and the
names being resolved, against cycles.
"""
from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from kit.autograd.scan.constants import Constants
from kit.autograd.scan.scopes import Bindings, Scope
from kit.autograd.scan.syntax import FUNCTIONS, assigned_names, first_parameter, running, setattr_on
from kit.autograd.scan.units import Units
from kit.autograd.scan.uses import Uses
from kit.autograd.scan.values import Values
from kit.autograd.scan.walker import Walker
from kit.registry import CHAPTERS

if TYPE_CHECKING:
    from kit.autograd.scan.program import Program


class Module(Values, Constants, Units, Walker, Uses):
    """A curriculum module of the submission, read (never imported) from its syntax tree."""

    def __init__(self, program: Program, name: str, tree: ast.Module):
        self.program, self.name, self.tree = program, name, tree
        self.memo: dict[tuple, object] = {}  # info and strings, by node and scope
        self.bindings = Bindings(tree)
        self.top, self.scopes = self.bindings.top, self.bindings.scopes
        self.parents: dict[int, ast.AST] = {}
        self.loads: dict[str, list[ast.Name]] = {}  # name -> the nodes that read it
        self.indirect: set[str] = set()  # the module's attributes, imported names and strings
        modules = set()  # what it imports, and the strings that may name a module
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self.loads.setdefault(node.id, []).append(node)
            elif isinstance(node, ast.Attribute):
                self.indirect.add(node.attr)
            elif isinstance(node, ast.alias):
                self.indirect.add(node.asname or node.name)
                modules.add(node.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.indirect.add(node.value)
                modules.add(node.value)
        self.words = self.indirect | set(self.loads)  # every word another module may reach this one by
        self.mentions = modules & CHAPTERS.keys()  # the curriculum modules it imports or names
        self.own_attrs, self.own_params = self._own_names()
        self._kept: list[ast.AST] = []  # code read from strings
        self.own: set[str] = set()  # filled in by the program, for the module's component
        self.own_keywords: set[str] = set()

    def lookup(self, scope: Scope, name: str) -> Scope | None:
        """The scope whose binding of `name` code in `scope` reads; None for a builtin or a star."""
        return self.bindings.lookup(scope, name)

    def _own_names(self) -> tuple[set[str], set[str]]:
        """(attribute names the submission's own classes and objects define, parameter names)."""
        attrs, params = set(), set()
        ours = {name for name, records in self.top.bindings.items()
                if any(r[0] == "def" or r[0] == "from" and r[1] in CHAPTERS for r in records)}
        for node in running(self.tree):
            if isinstance(node, FUNCTIONS + (ast.Lambda,)):
                params |= {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if isinstance(stmt, FUNCTIONS + (ast.ClassDef,)):
                        attrs.add(stmt.name)
                        first = first_parameter(stmt)
                        for inner in ast.walk(stmt) if first else ():
                            if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) \
                                    and inner.value.id == first and not isinstance(inner.ctx, ast.Load):
                                attrs.add(inner.attr)
                            elif setattr_on(inner, {first}):
                                attrs |= self.strings(inner.args[1], self.top) or set()
                    elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                        names = assigned_names(stmt)
                        attrs.update(names)
                        if "__slots__" in names and stmt.value is not None:
                            attrs |= {c.value for c in ast.walk(stmt.value)
                                      if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load) \
                    and isinstance(node.value, ast.Name) and node.value.id in ours:
                attrs.add(node.attr)  # Value.backward = ...
            elif isinstance(node, ast.Call):
                callee = node.func.id if isinstance(node.func, ast.Name) else \
                    node.func.attr if isinstance(node.func, ast.Attribute) else None
                if setattr_on(node, ours):
                    attrs |= self.strings(node.args[1], self.top) or set()
                elif callee == "type" and len(node.args) == 3:  # type("Value", bases, {"backward": ...})
                    namespace = node.args[2]
                    if isinstance(namespace, ast.Dict):
                        attrs |= {k.value for k in namespace.keys
                                  if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                    elif isinstance(namespace, ast.Call):
                        attrs |= {k.arg for k in namespace.keywords if k.arg}
                elif callee in ("namedtuple", "NamedTuple", "make_dataclass"):
                    attrs |= {word for a in node.args[1:] for c in ast.walk(a)
                              if isinstance(c, ast.Constant) and isinstance(c.value, str)
                              for word in re.findall(r"[A-Za-z_]\w*", c.value)}
                elif callee == "SimpleNamespace":
                    attrs |= {k.arg for k in node.keywords if k.arg}
                    for k in node.keywords:
                        if k.arg is None and isinstance(k.value, ast.Dict):
                            attrs |= {c.value for c in k.value.keys
                                      if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        return attrs, params
