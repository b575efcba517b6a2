"""Walking a unit's code: the scopes it enters, the names it refers to, and each node given to judge.

`Walker` is the part of kit/autograd/scan/module.py's `Module` that goes through the code of one
unit (kit/autograd/scan/units.py) in its scopes, skipping what never runs (annotations, the body of
`if __name__ == "__main__":`), reading code given to eval/exec/compile like the rest, and
recording the units each name refers to; whether a node uses autograd is kit/autograd/scan/uses.py's.
"""
from __future__ import annotations

import ast
from dataclasses import replace

from kit.autograd.scan.syntax import COMPREHENSIONS, FUNCTIONS, never_on_import, source
from kit.autograd.scan.units import Context, Unit, Use
from kit.messages import scan as messages
from kit.registry import CHAPTERS


class Walker:
    """Mixin of `Module`: reads its bindings and the state `units()` keeps (kit/autograd/scan/units.py)."""

    def _walk(self, node: ast.AST, ctx: Context, parent: ast.AST | None) -> None:
        """Judge `node` and the code under it that runs, each in its scope; `parent` is its parent."""
        if isinstance(node, FUNCTIONS + (ast.Lambda,)):
            extra = node.decorator_list if not isinstance(node, ast.Lambda) else []
            for expr in extra + node.args.defaults + [d for d in node.args.kw_defaults if d]:
                self._walk(expr, ctx, node)
            inner = replace(ctx, scope=self.scopes[id(node)], now=False)
            for stmt in node.body if isinstance(node.body, list) else [node.body]:
                self._walk(stmt, inner, node)
            return
        if isinstance(node, ast.ClassDef):  # a class inside a function or class: part of that unit
            for expr in node.decorator_list + node.bases + [k.value for k in node.keywords]:
                self._walk(expr, ctx, node)
            inner = replace(ctx, scope=self.scopes[id(node)])
            for stmt in node.body:
                self._walk(stmt, inner, node)
            return
        if isinstance(node, COMPREHENSIONS):
            ctx = replace(ctx, scope=self.scopes[id(node)])
        elif isinstance(node, ast.AnnAssign):  # the annotation is not code that runs for the exercise
            self._judge_store(node.target, node.value, ctx)
            for child in (node.target, node.value):
                if child is not None:
                    self._walk(child, ctx, node)
            return
        elif isinstance(node, ast.If) and never_on_import(node):
            for stmt in node.orelse:
                self._walk(stmt, ctx, node)
            return
        self._judge(node, ctx, parent)
        for child in ast.iter_child_nodes(node):
            self._walk(child, ctx, node)

    def _use(self, ctx: Context, node: ast.AST, text: str) -> None:
        """Record a use of autograd at `node`, quoted as `text` (kit/messages/scan.py)."""
        ctx.unit.uses.append(Use(getattr(node, "lineno", 0), text))

    def _judge(self, node: ast.AST, ctx: Context, parent: ast.AST | None) -> None:
        """Record what autograd `node` uses, and which units it refers to."""
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self._refer_to_name(node, ctx)
            self._torch_name(node, ctx, parent)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            self._torch_name(node, ctx, parent)
            self._attribute_access(node, ctx, parent)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            self._torch_name(node, ctx, parent)
            self._dynamic(node, ctx, parent)
        elif isinstance(node, ast.Call):
            self._torch_name(node, ctx, parent)
            self._call(node, ctx, parent)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._judge_store(target, node.value, ctx)
            if not ctx.now and all(isinstance(t, ast.Name) for t in node.targets) and self._pure_path(node.value, ctx):
                self._aliases.add(id(node.value))  # a local alias of torch's: judged where it is used
        elif isinstance(node, ast.AugAssign):
            self._judge_store(node.target, node.value, ctx)

    def _pure_path(self, node: ast.AST, ctx: Context) -> bool:
        """Whether `node` is one of torch's names written as a name and attributes (`torch.autograd`)."""
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and bool(self.info(node, ctx.scope).torch_paths)

    def _refer_to_name(self, node: ast.Name, ctx: Context) -> None:
        """Record the units a name read in code refers to."""
        if id(node) in self._suppressed:
            return
        found = self.lookup(ctx.scope, node.id)
        unit = ctx.unit
        if found is self.top:
            records = found.bindings[node.id]
            if ctx.cls and node.id == ctx.cls.name and ctx.scope.kind != "module":
                unit.refers.add(ctx.cls.core)  # the class made or named inside its own methods
            elif all(r[0] == "from" and r[1] in CHAPTERS for r in records):
                unit.refers |= {(r[1], r[2]) for r in records}  # from ch7_engine import Value: Value itself
            elif ctx.now:
                unit.refers |= self._current.get(node.id, set())
            else:
                unit.refers.add((self.name, node.id))
        elif found is not None and found.kind == "class" and ctx.cls and node.id in ctx.cls.members:
            unit.refers.add(ctx.cls.members[node.id])  # __radd__ = __add__
        elif found is not None:
            for record in found.bindings[node.id]:
                if record[0] == "from" and record[1] in CHAPTERS:
                    unit.refers.add((record[1], record[2]))
        else:
            for star in self.top.stars:
                if star in CHAPTERS:
                    unit.refers.add((star, node.id))

    def _code(self, text: str, call: ast.Call, ctx: Context) -> None:
        """Code given to eval/exec/compile, read like the rest, in the scope of the call."""
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # it never runs
        self._kept.append(tree)  # its nodes' ids key self.scopes and self.parents
        scope = self.bindings.read_code(tree, ctx.scope)
        self.parents.update({id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)})
        temp = Unit(self.name, "<code>")
        inner = replace(ctx, scope=scope, unit=temp, depth=ctx.depth + 1)
        for stmt in tree.body:
            self._walk(stmt, inner, None)
        for use in temp.uses:
            self._use(ctx, call, messages.runs(source(call), use.code))
        ctx.unit.refers |= temp.refers

