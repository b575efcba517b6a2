"""Cutting a module's top level into units: each function, class, method and binding, and what it uses.

A unit is what taint is counted on (see the package's docstring): `Units` walks the module's
statements in order, as the import runs them, and gives each statement's uses and references
to the names it binds or changes, else to the module's top-level code. The walk itself, that
finds the uses, is kit/autograd/scan/walker.py's.
"""
from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from kit.autograd.scan.banned import path_use
from kit.autograd.scan.entries import OWNED_METHODS
from kit.autograd.scan.scopes import Scope
from kit.autograd.scan.syntax import (
    FUNCTIONS,
    assigned_names,
    first_parameter,
    never_on_import,
    setattr_on,
    source,
    target_roots,
)
from kit.messages import scan as messages
from kit.registry import CHAPTERS


class Use(NamedTuple):
    """One use of autograd: its line, and its code as the message quotes it."""

    line: int
    code: str  # "`x.backward()`"


@dataclass
class Unit:
    """A module-level function, class, method or binding, "<module>" for the code that binds no name."""

    module: str
    name: str  # as messages show it: "helper", "Value.tanh"
    uses: list[Use] = field(default_factory=list)
    refers: set[tuple[str, str]] = field(default_factory=set)  # keys of the units it refers to
    transparent: bool = False  # a name's final bindings: messages skip it


@dataclass
class EnclosingClass:
    """The module-level class whose body or method is being walked."""

    name: str
    members: dict[str, tuple[str, str]]  # method or class attribute -> its unit
    core: tuple[str, str]
    first: str | None = None  # the method's first parameter, `self`


@dataclass
class Context:
    """Where the walk is: the scope, the unit its uses go to, and whether the code runs on import."""

    scope: Scope
    unit: Unit
    now: bool  # the code runs while the module is imported (module level, class bodies)
    cls: EnclosingClass | None = None
    depth: int = 0  # eval inside eval


class Units:
    """Mixin of `Module` (kit/autograd/scan/module.py): `units()` gives its units, and its classes'."""

    def units(self) -> tuple[dict, dict]:
        """({key: unit}, {class unit: (its core unit, {member: unit})}) of the module's top level."""
        self._units: dict[tuple[str, str], Unit] = {}
        self._classes: dict[tuple[str, str], tuple] = {}
        self._current: dict[str, set] = {}  # module-level name -> the units bound to it now
        self._versions = itertools.count()
        self._suppressed: set[int] = set()  # Name nodes whose reference is not one (torch.autograd.no_grad)
        self._aliases: set[int] = set()  # local `ag = torch.autograd`: judged where ag is used
        self._unit("<module>", (self.name, "<module>"))
        self._statements(self.tree.body, conditional=False)
        for name, keys in self._current.items():
            self._units[(self.name, name)] = Unit(self.name, name, refers=set(keys), transparent=True)
        return self._units, self._classes

    def _unit(self, name: str, key: tuple[str, str] | None = None) -> tuple[str, str]:
        key = key or (self.name, f"{name}#{next(self._versions)}")
        self._units.setdefault(key, Unit(self.name, name))
        return key

    def _bind_now(self, name: str, key, conditional: bool, add: bool = False) -> None:
        if conditional or add:
            self._current[name] = self._current.get(name, set()) | {key}
        else:
            self._current[name] = {key}

    def _statements(self, body: list, conditional: bool) -> None:
        for stmt in body:
            if isinstance(stmt, FUNCTIONS):
                key = self._unit(stmt.name)
                self._walk(stmt, Context(self.top, self._units[key], now=True), None)
                self._bind_now(stmt.name, key, conditional)
            elif isinstance(stmt, ast.ClassDef):
                self._class(stmt, conditional)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt, conditional)
            elif isinstance(stmt, ast.If):
                if not never_on_import(stmt):
                    self._header([stmt.test], [], conditional)
                    self._statements(stmt.body, True)
                self._statements(stmt.orelse, True)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                self._header([stmt.iter, stmt.target], target_roots(stmt.target)[0], conditional)
                self._statements(stmt.body + stmt.orelse, True)
            elif isinstance(stmt, ast.While):
                self._header([stmt.test], [], conditional)
                self._statements(stmt.body + stmt.orelse, True)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                names = [n for item in stmt.items if item.optional_vars for n in target_roots(item.optional_vars)[0]]
                self._header([i.context_expr for i in stmt.items], names, conditional)
                self._statements(stmt.body, conditional)
            elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                self._statements(stmt.body, True)
                for handler in stmt.handlers:
                    self._header([handler.type] if handler.type else [], [handler.name] if handler.name else [], True)
                    self._statements(handler.body, True)
                self._statements(stmt.orelse + stmt.finalbody, True)
            else:
                self._simple(stmt, conditional)

    def _header(self, nodes: list, names: list, conditional: bool) -> None:
        """The expressions of a compound statement: they taint the names it binds, else the module."""
        temp = Unit(self.name, "<statement>")
        for node in nodes:
            self._walk(node, Context(self.top, temp, now=True), None)
        self._credit(temp, names, [], conditional)

    def _simple(self, stmt: ast.stmt, conditional: bool) -> None:
        """A statement that is not compound: what it binds, and what it changes (`Value.backward = f`)."""
        temp = Unit(self.name, "<statement>")
        self._walk(stmt, Context(self.top, temp, now=True), None)
        names, changed = [], []
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                n, c = target_roots(target)
                names, changed = names + n, changed + c
            if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
                names = []  # an annotation only
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                temp.refers |= self._current.get(stmt.target.id, set())  # x += ...: the old x too
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value  # TABLE.append(f), setattr(Value, "backward", f): they change TABLE, Value
            target = call.args[0] if setattr_on(call, set(self._current)) else \
                call.func.value if isinstance(call.func, ast.Attribute) else None
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in self._current and \
                    not any(r[0] in ("import", "from") for r in self.top.bindings.get(target.id, ())):
                changed.append(target.id)
        names += [n.target.id for n in ast.walk(stmt) if isinstance(n, ast.NamedExpr)]
        self._credit(temp, names, changed, conditional)

    def _credit(self, temp: Unit, names: list, changed: list, conditional: bool) -> None:
        """Give a statement's uses and references to the names it binds and those whose object it
        changes (added to what they were); to the module's top-level code when there are none."""
        for name, add in [(n, False) for n in names] + [(n, True) for n in changed]:
            key = self._unit(name)
            self._units[key].uses += temp.uses
            self._units[key].refers |= temp.refers
            self._bind_now(name, key, conditional, add)
        if not names and not changed:
            self._units[(self.name, "<module>")].uses += temp.uses
            self._units[(self.name, "<module>")].refers |= temp.refers

    def _import(self, stmt: ast.stmt, conditional: bool) -> None:
        """An import binds names: a use only when the name is autograd itself; a curriculum name refers on."""
        for alias in stmt.names:
            if alias.name == "*":
                continue  # its names are read where they are used (see Values._unbound_info)
            if isinstance(stmt, ast.Import):
                local = alias.asname or alias.name.split(".")[0]
                target = alias.name if alias.asname else local
                curriculum = None
            else:
                local = alias.asname or alias.name
                target = f"{stmt.module}.{alias.name}" if stmt.module and not stmt.level else ""
                curriculum = (stmt.module, alias.name) if stmt.module in CHAPTERS and not stmt.level else None
            key = self._unit(local)
            unit = self._units[key]
            if path_use(target, None, self._false_argument):
                unit.uses.append(Use(stmt.lineno, messages.code(source(stmt))))
            if curriculum:
                unit.refers.add(curriculum)
            self._bind_now(local, key, conditional)

    def _class(self, stmt: ast.ClassDef, conditional: bool) -> None:
        """A class: its core (header, body, the members no exercise owns), each member, and the whole."""
        version = next(self._versions)
        whole = (self.name, f"{stmt.name}#{version}")
        core = (self.name, f"{stmt.name}.<core>#{version}")
        members = {}
        for s in stmt.body:
            names = [s.name] if isinstance(s, FUNCTIONS + (ast.ClassDef,)) else \
                assigned_names(s) if isinstance(s, (ast.Assign, ast.AnnAssign)) else []
            for name in names:
                members[name] = (self.name, f"{stmt.name}.{name}#{version}")
                self._units.setdefault(members[name], Unit(self.name, f"{stmt.name}.{name}"))
        self._units[core] = Unit(self.name, stmt.name)
        cls = EnclosingClass(stmt.name, members, core)
        header = Context(self.top, self._units[core], now=True)
        for expr in stmt.decorator_list + stmt.bases + [k.value for k in stmt.keywords]:
            self._walk(expr, header, None)
        scope = self.scopes[id(stmt)]
        for s in stmt.body:
            if isinstance(s, FUNCTIONS + (ast.ClassDef,)):
                method = replace(cls, first=first_parameter(s))
                self._walk(s, Context(scope, self._units[members[s.name]], now=True, cls=method), None)
            elif isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None and assigned_names(s):
                temp = Unit(self.name, "<statement>")
                self._walk(s, Context(scope, temp, now=True, cls=cls), None)
                for name in assigned_names(s):
                    self._units[members[name]].uses += temp.uses
                    self._units[members[name]].refers |= temp.refers
            else:
                self._walk(s, Context(scope, self._units[core], now=True, cls=cls), None)
        self._units[core].refers |= {key for name, key in members.items() if name not in OWNED_METHODS}
        self._units[core].refers.discard(core)
        self._units[whole] = Unit(self.name, stmt.name, refers={core, *members.values()})
        self._classes[whole] = (core, members)
        self._bind_now(stmt.name, whole, conditional)
