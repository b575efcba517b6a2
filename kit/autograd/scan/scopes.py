"""The scopes of one module and the names each binds, read as Python resolves names.

`Bindings(tree)` records, for the module and every function, lambda, class and comprehension in
it, each binding of each name (the records are listed in `Scope`); `lookup` finds the scope
whose binding a name in code reads. What a binding's value may be is kit/autograd/scan/values.py's.
"""
from __future__ import annotations

import ast

from kit.autograd.scan.syntax import COMPREHENSIONS, FUNCTIONS


class Scope:
    """A module, function, lambda, class or comprehension: the names it binds, and to what.

    A binding is ("value", expression, scope), ("iter", expression it loops over, scope),
    ("import", dotted module), ("from", module, name), ("def", node), ("param", function, arg,
    default) or ("unknown",)."""

    def __init__(self, kind: str, parent: Scope | None):
        self.kind, self.parent = kind, parent  # kind: "module", "function", "class" or "comprehension"
        self.bindings: dict[str, list[tuple]] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.stars: list[str] = []  # modules of `from m import *`


class Bindings:
    """Every scope of one module (by the id of its node; the module's own is `top`) and its bindings."""

    def __init__(self, tree: ast.Module):
        self.scopes: dict[int, Scope] = {}
        self.top = Scope("module", None)
        self.read(tree.body, self.top)

    def read(self, body: list, scope: Scope) -> None:
        """Record the bindings of the statements `body` of `scope`, and the scopes nested in them."""
        self._declarations(body, scope)
        for stmt in body:
            self._collect(stmt, scope)

    def read_code(self, tree: ast.Module, parent: Scope) -> Scope:
        """Code given to eval/exec/compile: a scope of its own inside the scope of the call."""
        scope = self._new_scope("function", tree, parent)
        self.read(tree.body, scope)
        return scope

    def _new_scope(self, kind: str, node: ast.AST, parent: Scope) -> Scope:
        scope = Scope(kind, parent)
        self.scopes[id(node)] = scope  # the trees are kept by the module, so ids are not reused
        return scope

    def _declarations(self, body: list, scope: Scope) -> None:
        todo = list(body)
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Global):
                scope.globals.update(node.names)
            elif isinstance(node, ast.Nonlocal):
                scope.nonlocals.update(node.names)
            elif not isinstance(node, FUNCTIONS + (ast.ClassDef, ast.Lambda) + COMPREHENSIONS):
                todo.extend(ast.iter_child_nodes(node))

    def _bind(self, scope: Scope, name: str, record: tuple) -> None:
        if name in scope.globals:
            scope = self.top
        elif name in scope.nonlocals:
            outer = scope.parent
            while outer is not None and (outer.kind != "function" or name not in outer.bindings) \
                    and outer.parent is not None:
                outer = outer.parent
            scope = outer or scope
        scope.bindings.setdefault(name, []).append(record)

    def _bind_target(self, target: ast.AST, value: ast.AST | None, scope: Scope, kind: str = "value") -> None:
        if isinstance(target, ast.Name):
            self._bind(scope, target.id, (kind, value, scope) if value is not None else ("unknown",))
        elif isinstance(target, (ast.Tuple, ast.List)):
            pairs = isinstance(value, (ast.Tuple, ast.List)) and kind == "value" and \
                len(value.elts) == len(target.elts) and not any(isinstance(e, ast.Starred) for e in value.elts)
            for i, element in enumerate(target.elts):
                self._bind_target(element, value.elts[i] if pairs else None, scope)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, None, scope)
        else:
            self._collect(target, scope)

    def _params(self, function: ast.AST, scope: Scope) -> None:
        args = function.args
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(positional + args.kwonlyargs, defaults + list(args.kw_defaults)):
            self._bind(scope, arg.arg, ("param", function, arg, default))
        for arg in (args.vararg, args.kwarg):
            if arg:
                self._bind(scope, arg.arg, ("unknown",))

    def _collect(self, node: ast.AST, scope: Scope) -> None:
        """Record the bindings of `node` in `scope`, and make the scopes nested in it."""
        if isinstance(node, FUNCTIONS + (ast.Lambda,)):
            if not isinstance(node, ast.Lambda):
                self._bind(scope, node.name, ("def", node))
                for decorator in node.decorator_list:
                    self._collect(decorator, scope)
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
                self._collect(default, scope)
            inner = self._new_scope("function", node, scope)
            self._params(node, inner)
            self.read(node.body if isinstance(node.body, list) else [node.body], inner)
        elif isinstance(node, ast.ClassDef):
            self._bind(scope, node.name, ("def", node))
            for expr in node.decorator_list + node.bases + [k.value for k in node.keywords]:
                self._collect(expr, scope)
            self.read(node.body, self._new_scope("class", node, scope))
        elif isinstance(node, COMPREHENSIONS):
            inner = self._new_scope("comprehension", node, scope)
            for generator in node.generators:
                self._collect(generator.iter, inner)
                self._bind_target(generator.target, generator.iter, inner, "iter")
                for condition in generator.ifs:
                    self._collect(condition, inner)
            for part in (getattr(node, "elt", None), getattr(node, "key", None), getattr(node, "value", None)):
                if part is not None:
                    self._collect(part, inner)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind_target(target, node.value, scope)
            self._collect(node.value, scope)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._bind_target(node.target, node.value, scope)
                self._collect(node.value, scope)
        elif isinstance(node, ast.AugAssign):
            self._bind_target(node.target, None, scope)
            self._collect(node.value, scope)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind_target(node.target, node.iter, scope, "iter")
            for child in [node.iter] + node.body + node.orelse:
                self._collect(child, scope)
        elif isinstance(node, ast.NamedExpr):
            home = scope
            while home.kind == "comprehension":
                home = home.parent
            self._bind(home, node.target.id, ("value", node.value, scope))
            self._collect(node.value, scope)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._bind(scope, alias.asname, ("import", alias.name))
                else:
                    root = alias.name.split(".")[0]
                    self._bind(scope, root, ("import", root))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    scope.stars.append(node.module or "")
                elif node.level or not node.module:
                    self._bind(scope, alias.asname or alias.name, ("unknown",))
                else:
                    self._bind(scope, alias.asname or alias.name, ("from", node.module, alias.name))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            self._bind(scope, node.id, ("unknown",))  # with ... as x, except ... as x, del, and the like
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(scope, node.name, ("unknown",))
            for child in ast.iter_child_nodes(node):
                self._collect(child, scope)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self._bind(scope, node.name, ("unknown",))
            for child in ast.iter_child_nodes(node):
                self._collect(child, scope)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self._bind(scope, node.rest, ("unknown",))
            for child in ast.iter_child_nodes(node):
                self._collect(child, scope)
        else:
            for child in ast.iter_child_nodes(node):
                self._collect(child, scope)

    def lookup(self, scope: Scope, name: str) -> Scope | None:
        """The scope whose binding of `name` code in `scope` reads; None for a builtin or a star."""
        current, first = scope, True
        while current is not None:
            if current.kind == "class" and not first:  # a class's names are not seen by its methods
                current = current.parent
                continue
            if name in current.globals and current.kind != "module":
                return self.top if name in self.top.bindings else None
            if name in current.bindings:
                return current
            first, current = False, current.parent
        return None
