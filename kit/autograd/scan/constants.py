"""The constants an expression may spell: its strings (built from pieces too), its ints, whether it is False.

`Constants` is the part of kit/autograd/scan/module.py's `Module` that evaluates what it can
without running anything: `"auto" + "grad"`, f-strings, `"".join(...)`, `chr(95)`, a variable,
a loop over constants; and whether `requires_grad=` is given a value that is always False.
"""
from __future__ import annotations

import ast

from kit.autograd.scan.scopes import Scope
from kit.autograd.scan.values import DEPTH
from kit.registry import EXERCISES

MAX_STRINGS = 16  # alternatives a string expression may have before the scan stops guessing
MAX_TEXT = 20_000  # longest string the scan builds or reads as code


class Constants:
    """Mixin of `Module`: reads its bindings, memo, program and loads (kit/autograd/scan/module.py)."""

    def strings(self, node: ast.AST, scope: Scope, env: dict | None = None, depth: int = 0) -> frozenset | None:
        """Every string `node` may evaluate to, when the scan can tell (a few at most); else None."""
        if env:  # inside a comprehension being unrolled: depends on env
            return self._strings(node, scope, env, depth)
        key = ("strings", id(node), id(scope))
        if key not in self.memo:
            self.memo[key] = self._strings(node, scope, {}, depth)
        return self.memo[key]

    def _strings(self, node: ast.AST, scope: Scope, env: dict, depth: int) -> frozenset | None:
        if depth > DEPTH or node is None:
            return None
        d = depth + 1
        result = None
        if isinstance(node, ast.Constant):
            result = {node.value} if isinstance(node.value, str) else None
        elif isinstance(node, ast.JoinedStr):
            result = {""}
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    part = self.strings(value.value, scope, env, d) \
                        if value.conversion == -1 and value.format_spec is None else None
                else:
                    part = self.strings(value, scope, env, d)
                result = _product(result, part)
        elif isinstance(node, ast.BinOp):
            left, right = self.strings(node.left, scope, env, d), self.strings(node.right, scope, env, d)
            if isinstance(node.op, ast.Add):
                result = _product(left, right)
            elif isinstance(node.op, ast.Mult):
                times = self._ints(node.right, env) if left else self._ints(node.left, env)
                text = left or right
                result = {t * n for t in text for n in times if len(t) * n <= MAX_TEXT} if text and times else None
            elif isinstance(node.op, ast.Mod) and left:
                arguments = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
                values = [self.strings(a, scope, env, d) or self._ints(a, env) for a in arguments]
                if all(len(v or ()) == 1 for v in values):
                    try:
                        result = {t % tuple(next(iter(v)) for v in values) for t in left}
                    except (TypeError, ValueError, OverflowError):
                        result = None
        elif isinstance(node, ast.Call):
            result = self._string_call(node, scope, env, d)
        elif isinstance(node, ast.Subscript):
            base = self.strings(node.value, scope, env, d)
            index = node.slice
            if base and isinstance(index, ast.Slice):
                parts = (index.lower, index.upper, index.step)
                bounds = [self._int(part, env) if part is not None else None for part in parts]
                known = all(b is not None or p is None for b, p in zip(bounds, parts))
                if known and bounds[2] != 0:
                    result = {t[slice(*bounds)] for t in base}
            elif base and self._int(index, env) is not None:
                i = self._int(index, env)
                result = {t[i] for t in base if -len(t) <= i < len(t)}
        elif isinstance(node, ast.Name):
            if node.id in env:
                result = {env[node.id]} if isinstance(env[node.id], str) else None
            else:
                result = self._name_strings(node.id, scope, d)
        elif isinstance(node, ast.IfExp):
            result = _product({""}, self.strings(node.body, scope, env, d))
            other = self.strings(node.orelse, scope, env, d)
            result = result | other if result is not None and other is not None else None
        if result is None or len(result) > MAX_STRINGS or any(len(t) > MAX_TEXT for t in result):
            return None
        return frozenset(result)

    def _name_strings(self, name: str, scope: Scope, depth: int) -> set | None:
        found = self.lookup(scope, name)
        if found is None:
            return None
        key = ("strings", self.name, id(found), name)
        if key in self.program.guard:
            return None
        self.program.guard.add(key)
        try:
            result = set()
            for record in found.bindings[name]:
                if record[0] == "value":
                    part = self.strings(record[1], record[2], None, depth)
                elif record[0] == "iter" and isinstance(record[1], (ast.Tuple, ast.List, ast.Set)):
                    parts = [self.strings(e, record[2], None, depth) for e in record[1].elts]
                    part = set().union(*parts) if parts and all(p is not None for p in parts) else None
                else:
                    part = None
                if part is None:
                    return None
                result |= part
            return result
        finally:
            self.program.guard.discard(key)

    def _string_call(self, node: ast.Call, scope: Scope, env: dict, depth: int) -> set | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.strings(func.value, scope, env, depth)
            if base is None:
                return None
            args = [self.strings(a, scope, env, depth) for a in node.args]
            if func.attr == "join" and len(node.args) == 1 and not node.keywords:
                pieces = self._sequences(node.args[0], scope, env, depth)
                return {b.join(p) for b in base for p in pieces} if pieces is not None else None
            if func.attr in ("lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title",
                             "capitalize", "swapcase") and not node.args:
                return {getattr(b, func.attr)() for b in base}
            if func.attr in ("replace", "format") and all(a is not None and len(a) == 1 for a in args) \
                    and not node.keywords:
                try:
                    return {getattr(b, func.attr)(*(next(iter(a)) for a in args)) for b in base}
                except (IndexError, KeyError, ValueError):
                    return None
            return None
        paths = self.info(func, scope).paths
        if "builtins.chr" in paths and len(node.args) == 1:
            codes = self._ints(node.args[0], env)
            try:
                return {chr(c) for c in codes} if codes else None
            except (ValueError, OverflowError):
                return None
        if "builtins.str" in paths and len(node.args) == 1:
            return self.strings(node.args[0], scope, env, depth)
        return None

    def _sequences(self, node: ast.AST, scope: Scope, env: dict, depth: int) -> set | None:
        """The tuples of strings an iterable given to str.join may hold."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return _tuples(self.strings(element, scope, env, depth) for element in node.elts)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
            generator = node.generators[0]
            if generator.ifs or not isinstance(generator.target, ast.Name):
                return None
            items = self._constants(generator.iter, scope, env, depth)
            if items is None:
                return None
            inner = self.scopes.get(id(node), scope)
            return _tuples(self.strings(node.elt, inner, {**env, generator.target.id: item}, depth) for item in items)
        if isinstance(node, ast.Call) and len(node.args) == 1 and \
                self.info(node.func, scope).paths & {"builtins.reversed", "builtins.list", "builtins.tuple"}:
            text = self.strings(node.args[0], scope, env, depth)
            reverse = "builtins.reversed" in self.info(node.func, scope).paths
            return {tuple(reversed(t)) if reverse else tuple(t) for t in text} if text else None
        text = self.strings(node, scope, env, depth)
        return {tuple(t) for t in text} if text else None

    def _constants(self, node: ast.AST, scope: Scope, env: dict, depth: int) -> list | None:
        """The items of a tuple, list or string of constants, or of range(constants)."""
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) <= MAX_TEXT:
            items = []
            for element in node.elts:
                text = self.strings(element, scope, env, depth)
                number = self._int(element, env)
                if text is not None and len(text) == 1:
                    items.append(next(iter(text)))
                elif number is not None:
                    items.append(number)
                else:
                    return None
            return items
        if isinstance(node, ast.Call) and "builtins.range" in self.info(node.func, scope).paths:
            bounds = [self._int(a, env) for a in node.args]
            if bounds and all(b is not None for b in bounds):
                numbers = range(*bounds)
                return list(numbers) if len(numbers) <= MAX_TEXT else None
            return None
        text = self.strings(node, scope, env, depth)
        return list(next(iter(text))) if text and len(text) == 1 else None

    def _int(self, node: ast.AST, env: dict) -> int | None:
        """The int `node` spells, when the scan can tell."""
        if isinstance(node, ast.Constant):
            return node.value if type(node.value) is int else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self._int(node.operand, env)
            return -inner if inner is not None else None
        if isinstance(node, ast.Name) and node.id in env:
            return env[node.id] if type(env[node.id]) is int else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = self._int(node.left, env), self._int(node.right, env)
            if left is not None and right is not None:
                return left + right if isinstance(node.op, ast.Add) else left - right
        return None

    def _ints(self, node: ast.AST, env: dict) -> set | None:
        number = self._int(node, env)
        return {number} if number is not None and abs(number) <= MAX_TEXT else None

    def is_false(self, node: ast.AST, scope: Scope, depth: int = 0) -> bool:
        """Whether `node` is always False, 0 or None: requires_grad=False, a name only ever False."""
        if isinstance(node, ast.Constant):
            return node.value is None or node.value is False or (type(node.value) in (int, float) and node.value == 0)
        if not isinstance(node, ast.Name) or depth > DEPTH:
            return False
        found = self.lookup(scope, node.id)
        if found is None:
            return False
        key = ("false", self.name, id(found), node.id)
        if key in self.program.guard:
            return False
        self.program.guard.add(key)
        try:
            return all(self._record_false(r, depth + 1) for r in found.bindings[node.id])
        finally:
            self.program.guard.discard(key)

    def _record_false(self, record: tuple, depth: int) -> bool:
        if record[0] == "value":
            return self.is_false(record[1], record[2], depth)
        if record[0] == "param":
            function, arg, default = record[1], record[2], record[3]
            return default is not None and self.is_false(default, self.scopes[id(function)].parent, depth) \
                and self._never_passed(function, arg)
        return False

    def _never_passed(self, function: ast.AST, arg: ast.arg) -> bool:
        """Whether every call of `function` leaves `arg` at its default (so the kit's calls too)."""
        home = self.scopes[id(function)].parent
        if isinstance(function, ast.Lambda) or home.kind == "class":
            return False  # a lambda or a method: called through values the scan does not follow
        name = function.name
        positional = [a.arg for a in function.args.posonlyargs + function.args.args]
        index = positional.index(arg.arg) if arg.arg in positional else None
        if home is self.top:
            for exercise in EXERCISES.values():  # the kit calls an exercise with its contract's arguments
                if (exercise.module, exercise.attribute) == (self.name, name) and index is not None \
                        and index < len(exercise.parameter_names()):
                    return False
            if any(name in m.words for m in self.program.modules.values() if m is not self):
                return False
        if name in self.indirect:
            return False  # reached as an attribute, an import or from a string: the scan cannot tell how
        for node in self.loads.get(name, ()):
            call = self.parents.get(id(node))
            if not (isinstance(call, ast.Call) and call.func is node):
                return False
            if any(isinstance(a, ast.Starred) for a in call.args) or \
                    (index is not None and len(call.args) > index) or \
                    any(k.arg is None or k.arg == arg.arg for k in call.keywords):
                return False
        return True


def _product(left: set | None, right: set | None) -> set | None:
    if left is None or right is None or len(left) * len(right) > MAX_STRINGS:
        return None
    return {a + b for a in left for b in right if len(a) + len(b) <= MAX_TEXT}



def _tuples(parts) -> set | None:
    """Every tuple with one string from each part, in order; None when a part is unknown (None)
    or there would be more than MAX_STRINGS."""
    result = {()}
    for part in parts:
        if part is None:
            return None
        result = {r + (p,) for r in result for p in part}
        if len(result) > MAX_STRINGS:
            return None
    return result
