"""What an expression may evaluate to (`Info`), found by following names, attributes and imports.

`Values` is the part of kit/autograd/scan/module.py's `Module` that answers it: a name by its
bindings (kit/autograd/scan/scopes.py), across the submission's modules through the program, and
the dynamic spellings of an attribute or a module (getattr, vars, __import__, sys.modules,
globals()) through the strings they are given (kit/autograd/scan/constants.py).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from kit.autograd.scan.banned import BUILTINS, TORCH_ROOTS
from kit.autograd.scan.scopes import Scope
from kit.autograd.scan.syntax import mentions_tensor
from kit.registry import CHAPTERS

DEPTH = 40  # how deep the scan follows names and expressions


@dataclass(frozen=True)
class Info:
    """What an expression may evaluate to; several at once when the scan cannot tell."""

    paths: frozenset = frozenset()  # a module or its attribute, dotted: "torch.autograd", "builtins.getattr"
    modules: frozenset = frozenset()  # a curriculum module of the submission
    tensor: bool = False  # a value torch made (a tensor, mostly)
    learner: bool = False  # the submission's own function or class
    unknown: bool = False

    def __or__(self, other: Info) -> Info:
        return Info(self.paths | other.paths, self.modules | other.modules, self.tensor or other.tensor,
                    self.learner or other.learner, self.unknown or other.unknown)

    @property
    def torch_paths(self) -> set[str]:
        return {p for p in self.paths if p.split(".")[0] in TORCH_ROOTS}

    @property
    def torchy(self) -> bool:
        return self.tensor or bool(self.torch_paths)

    @property
    def empty(self) -> bool:
        return self == NOTHING


NOTHING = Info()
UNKNOWN = Info(unknown=True)
TENSOR = Info(tensor=True)
LEARNER = Info(learner=True)


class Values:
    """Mixin of `Module`: reads its bindings, memo and program (kit/autograd/scan/module.py)."""

    def name_info(self, name: str, scope: Scope, depth: int) -> Info:
        """What `name`, read by code in `scope`, may be: the union over its bindings."""
        found = self.lookup(scope, name)
        if found is None:
            return self._unbound_info(name)
        key = (self.name, id(found), name)
        if key in self.memo:  # a name may be given many values, each naming others: each is read once
            return self.memo[key]
        if key in self.program.guard or depth > DEPTH:
            return UNKNOWN
        self.program.guard.add(key)
        try:
            result = NOTHING
            for record in found.bindings[name]:
                result |= self._record_info(record, depth + 1)
            self.memo[key] = UNKNOWN if result.empty else result
            return self.memo[key]
        finally:
            self.program.guard.discard(key)

    def _unbound_info(self, name: str) -> Info:
        """A name the module does not bind: a builtin, or a name of `from m import *`."""
        result = Info(paths=frozenset({f"builtins.{name}"})) if name in BUILTINS else NOTHING
        for star in self.top.stars:
            if star in CHAPTERS:
                result |= self.program.global_info(star, name)
            elif name not in BUILTINS:
                result |= Info(paths=frozenset({f"{star}.{name}"}))
        return UNKNOWN if result.empty else result

    def _record_info(self, record: tuple, depth: int) -> Info:
        """What one binding (a record of kit/autograd/scan/scopes.py's `Scope`) gives its name."""
        kind = record[0]
        if kind == "value":
            return self.info(record[1], record[2], depth)
        if kind == "import":
            return Info(modules=frozenset({record[1]})) if record[1] in CHAPTERS else Info(paths=frozenset({record[1]}))
        if kind == "from":
            module, name = record[1], record[2]
            if module in CHAPTERS:
                return self.program.global_info(module, name)
            return Info(paths=frozenset({f"{module}.{name}"}))
        if kind == "def":
            node = record[1]
            if isinstance(node, ast.ClassDef) and any(self.info(b, self.top, depth).torchy for b in node.bases):
                return UNKNOWN  # a subclass of a torch class: its attributes may be torch's
            return LEARNER
        if kind == "param":
            function, arg, default = record[1], record[2], record[3]
            result = TENSOR | UNKNOWN if arg.annotation is not None and mentions_tensor(arg.annotation) else UNKNOWN
            if default is not None:
                result |= self.info(default, self.scopes[id(function)].parent, depth)
            return result
        return UNKNOWN

    def info(self, node: ast.AST, scope: Scope, depth: int = 0) -> Info:
        """What the expression `node`, in `scope`, may evaluate to (remembered)."""
        key = (id(node), id(scope))
        if key not in self.memo:
            self.memo[key] = self._info(node, scope, depth) if depth <= DEPTH else UNKNOWN
        return self.memo[key]

    def _info(self, node: ast.AST, scope: Scope, depth: int) -> Info:
        d = depth + 1
        if isinstance(node, ast.Name):
            return self.name_info(node.id, scope, d)
        if isinstance(node, ast.Attribute):
            return self._attribute_info(self.info(node.value, scope, d), node.attr)
        if isinstance(node, ast.Call):
            access = self.access(node, scope)
            if access is not None:
                receiver, names = access
                base = self.info(receiver, scope, d)
                result = NOTHING
                for name in names:
                    result |= self._attribute_info(base, name)
                return result
            imported = self._imported(node, scope)
            if imported is not None:
                return imported
            looked_up = self._namespace_info(node, scope)
            if looked_up is not None:
                return looked_up
            return TENSOR if self.info(node.func, scope, d).torchy else UNKNOWN
        if isinstance(node, ast.Subscript):
            access = self.access(node, scope)
            if access is not None:
                base = self.info(access[0], scope, d)
                return self._union(self._attribute_info(base, name) for name in access[1])
            found = self._imported(node, scope) or self._namespace_info(node, scope)
            if found is not None:
                return found
            return TENSOR if self.info(node.value, scope, d).torchy else UNKNOWN
        if isinstance(node, ast.BinOp):
            torchy = self.info(node.left, scope, d).torchy or self.info(node.right, scope, d).torchy
            return TENSOR if torchy else UNKNOWN
        if isinstance(node, ast.UnaryOp):
            return TENSOR if self.info(node.operand, scope, d).torchy else UNKNOWN
        if isinstance(node, ast.IfExp):
            return self.info(node.body, scope, d) | self.info(node.orelse, scope, d)
        if isinstance(node, ast.BoolOp):
            return self._union(self.info(v, scope, d) for v in node.values)
        if isinstance(node, ast.NamedExpr):
            return self.info(node.value, scope, d)
        return UNKNOWN

    @staticmethod
    def _union(infos) -> Info:
        result = NOTHING
        for info in infos:
            result |= info
        return UNKNOWN if result.empty else result

    def _attribute_info(self, base: Info, attr: str) -> Info:
        """What `x.attr` may be, `x` being `base`."""
        result = Info(paths=frozenset(f"{p}.{attr}" for p in base.paths), tensor=base.tensor,
                      learner=base.learner, unknown=base.unknown)
        for module in base.modules:
            result |= self.program.global_info(module, attr)
        return UNKNOWN if result.empty else result

    def _callee(self, call: ast.AST, scope: Scope, path: str) -> bool:
        """Whether `call` is a call that may be of `path` (`builtins.getattr`)."""
        return isinstance(call, ast.Call) and path in self.info(call.func, scope).paths

    def access(self, node: ast.AST, scope: Scope) -> tuple[ast.AST, frozenset] | None:
        """getattr(x, "a"), vars(x)["a"], x.__dict__["a"], x.__getattribute__("a"), setattr's
        attribute, and .get("a") of a __dict__: (x, the attribute names); None otherwise."""
        receiver = key = None
        if isinstance(node, ast.Call):
            func = node.func
            paths = self.info(func, scope).paths
            if paths & {"builtins.getattr", "builtins.setattr", "builtins.delattr"} and len(node.args) >= 2:
                receiver, key = node.args[0], node.args[1]
            elif isinstance(func, ast.Attribute) and func.attr in ("__getattribute__", "__getattr__"):
                if paths & {f"builtins.{t}.{func.attr}" for t in ("object", "type")}:
                    receiver, key = (node.args + [None, None])[:2]
                elif len(node.args) == 1:
                    receiver, key = func.value, node.args[0]
            elif isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
                receiver, key = self._dict_of(func.value, scope), node.args[0]
        elif isinstance(node, ast.Subscript):
            receiver, key = self._dict_of(node.value, scope), node.slice
        if receiver is None or key is None:
            return None
        names = self.strings(key, scope)
        return (receiver, names) if names else None

    def _dict_of(self, node: ast.AST, scope: Scope) -> ast.AST | None:
        """x, for vars(x) and x.__dict__."""
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            return node.value
        if self._callee(node, scope, "builtins.vars") and len(node.args) == 1:
            return node.args[0]
        return None

    def _imported(self, node: ast.AST, scope: Scope) -> Info | None:
        """The module of __import__("m"), importlib.import_module("m"), sys.modules["m"]."""
        names, whole = None, True
        if isinstance(node, ast.Call) and node.args:
            paths = self.info(node.func, scope).paths
            if "builtins.__import__" in paths:
                names = self.strings(node.args[0], scope)
                fromlist = node.args[3] if len(node.args) > 3 else \
                    next((k.value for k in node.keywords if k.arg == "fromlist"), None)
                whole = fromlist is not None and not (isinstance(fromlist, ast.Constant) and not fromlist.value)
            elif "importlib.import_module" in paths:
                names = self.strings(node.args[0], scope)
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "get" and \
                    "sys.modules" in self.info(node.func.value, scope).paths:
                names = self.strings(node.args[0], scope)
        elif isinstance(node, ast.Subscript) and "sys.modules" in self.info(node.value, scope).paths:
            names = self.strings(node.slice, scope)
        if not names:
            return None
        result = NOTHING
        for name in names:
            name = name if whole else name.split(".")[0]
            result |= Info(modules=frozenset({name})) if name in CHAPTERS else Info(paths=frozenset({name}))
        return result

    def _namespace_info(self, node: ast.AST, scope: Scope) -> Info | None:
        """globals()["name"], vars()["name"], locals()["name"], and their .get("name")."""
        found = self.namespace_names(node, scope)
        if found is None:
            return None
        where, names = found
        return self._union(self.name_info(n, where, 0) for n in names)

    def namespace_names(self, node: ast.AST, scope: Scope) -> tuple[Scope, frozenset] | None:
        """For globals()["name"], vars()["name"], locals()["name"] and their .get("name"): (the
        scope whose names they are, the names); None for anything else."""
        if isinstance(node, ast.Subscript):
            container, key = node.value, node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and node.args:
            container, key = node.func.value, node.args[0]
        else:
            return None
        if not (isinstance(container, ast.Call) and not container.args):
            return None
        paths = self.info(container.func, scope).paths
        if "builtins.globals" in paths:
            where = self.top
        elif paths & {"builtins.vars", "builtins.locals"}:
            where = scope
        else:
            return None
        names = self.strings(key, scope)
        return (where, names) if names else None
