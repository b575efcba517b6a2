"""Finding autograd in a submission's source, and the exercises whose code uses it.

The curriculum forbids autograd: `.backward()`, `torch.autograd`, `torch.func`, `requires_grad`
graphs. `scan(folder)` reads (never imports) every curriculum module of a submission and
returns, for each exercise whose code uses autograd, the reason with its line.

What counts as use, in a module's code (docstrings and comments aside):
- an import of torch.autograd, torch.func, functorch (or `from torch import autograd, func`);
- an attribute `.autograd`, `.forward_ad`, `._execution_engine`, `.run_backward`, ...;
  `torch.func`; a call `.requires_grad_(...)`, `requires_grad=` other than False, an
  assignment to `.requires_grad`;
- a call `.backward(...)`, unless the submission defines its own `backward` method (the
  chapter 7 engine), in which case only `torch....backward` counts here;
- the same names spelled as strings: `getattr(torch, "autograd")`, `__import__("torch.func")`,
  `"auto" + "grad"`.
Use is attributed to the module's top-level function or class it is in, then to every
function or class that refers to that one (also across modules: `from ch8_tensors import f`);
use at module level taints the names it binds, or the whole module when it binds none.

Anything the scan misses is still stopped at run time: the sandbox replaces autograd's entry
points with ones that raise (grading/sandbox.py).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from kit.registry import CHAPTERS, EXERCISES

BANNED_MODULES = ("torch.autograd", "torch.func", "torch._functorch", "functorch")
BANNED_ATTRIBUTES = {"autograd", "forward_ad", "functorch", "_functorch", "_execution_engine",
                     "_ImperativeEngine", "_EngineBase", "run_backward", "make_dual", "unpack_dual",
                     "requires_grad_"}
BANNED_WORDS = BANNED_ATTRIBUTES | {"requires_grad"}  # in identifier-like strings
DOTTED = re.compile(r"[A-Za-z_][\w.]*")


@dataclass
class Unit:
    """A top-level function or class of a module, or "<module>" for the code around them."""

    module: str
    name: str
    uses: list[str] = field(default_factory=list)  # "line 12: `.backward()`"
    refers: set[tuple[str, str]] = field(default_factory=set)  # (module, name) it refers to


def scan(folder: Path) -> dict[str, str]:
    """{exercise id: why it scores zero} for every exercise whose code uses autograd."""
    trees = {}
    for module in CHAPTERS:
        path = folder / f"{module}.py"
        try:
            trees[module] = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=path.name)
        except (OSError, SyntaxError, ValueError, RecursionError):
            continue  # missing or broken: the run reports it
    own_backward = any(isinstance(node, ast.FunctionDef) and node.name == "backward"
                       for tree in trees.values() for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
                       for node in cls.body)
    units: dict[tuple[str, str], Unit] = {}
    for module, tree in trees.items():
        units.update(_Module(module, tree, own_backward).units())

    why = {key: f"autograd at line {min(unit.uses, key=_line)}" for key, unit in units.items() if unit.uses}
    changed = True
    while changed:  # taint flows to whatever refers to a tainted unit
        changed = False
        for key, unit in units.items():
            if key in why:
                continue
            for ref in sorted(unit.refers):
                if ref in why:
                    why[key] = f"{_show(ref, key[0])}, which uses {why[ref]}"
                    changed = True
                    break

    found = {}
    for exercise in EXERCISES.values():
        for key in ((exercise.module, exercise.attribute), (exercise.module, "<module>")):
            if key in why:
                subject = "the module's top-level code" if key[1] == "<module>" else key[1]
                found[exercise.id] = (f"{exercise.id}: {subject} uses {why[key]}. Exercises derive "
                                      f"gradients by hand; code that uses autograd scores zero.")
                break
    return found


def _line(use: str) -> int:
    return int(use.split(":", 1)[0])


def _show(ref: tuple[str, str], here: str) -> str:
    module, name = ref
    return name if module == here else f"{module}.{name}"


class _Module:
    """The units of one module, with what each uses and refers to."""

    def __init__(self, module: str, tree: ast.Module, own_backward: bool):
        self.module, self.tree, self.own_backward = module, tree, own_backward
        self.torch_names = {"torch"}  # local names bound to the torch package
        self.imported: dict[str, tuple[str, str]] = {}  # local name -> (module, name) of a curriculum module
        self.module_aliases: dict[str, str] = {}  # local name -> curriculum module
        self.tainted_names: dict[str, str] = {}  # module-level names bound through autograd -> why

    def units(self) -> dict[tuple[str, str], Unit]:
        body = self.tree.body
        self._bindings(body)
        top = {n.name for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        found: dict[tuple[str, str], Unit] = {}
        module_unit = Unit(self.module, "<module>")
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                unit = Unit(self.module, node.name)
                self._visit(node, unit, top)
                found[(self.module, node.name)] = unit
                continue
            if _is_docstring(node) or _is_main_block(node):
                continue
            unit = Unit(self.module, "<statement>")
            self._visit(node, unit, top)
            names = _bound_names(node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                continue  # imports only bind names (see _bindings)
            for name in names:
                binding = Unit(self.module, name, list(unit.uses), set(unit.refers))
                found.setdefault((self.module, name), binding)
            if not names:
                module_unit.uses += unit.uses
                module_unit.refers |= unit.refers
        for name, why in self.tainted_names.items():
            found[(self.module, name)] = Unit(self.module, name, [why])
        found[(self.module, "<module>")] = module_unit
        return found

    def _bindings(self, body) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "torch" or alias.name.startswith("torch.") and not alias.asname:
                        self.torch_names.add(alias.asname or "torch")
                    if _banned_module(alias.name) and alias.asname:
                        self.tainted_names[alias.asname] = f"{node.lineno}: `import {alias.name}`"
                    if alias.name in CHAPTERS:
                        self.module_aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    local = alias.asname or alias.name
                    if _banned_module(node.module) or _banned_module(full):
                        self.tainted_names[local] = f"{node.lineno}: `from {node.module} import {alias.name}`"
                    elif node.module in CHAPTERS:
                        self.imported[local] = (node.module, alias.name)

    def _visit(self, root: ast.AST, unit: Unit, top: set[str]) -> None:
        for node in ast.walk(root):
            use = self._use(node)
            if use:
                unit.uses.append(f"{node.lineno}: {use}")
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in top or node.id in self.tainted_names:
                    unit.refers.add((self.module, node.id))
                elif node.id in self.imported:
                    unit.refers.add(self.imported[node.id])
                else:
                    unit.refers.add((self.module, node.id))  # a module-level variable, maybe tainted
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in self.module_aliases:
                unit.refers.add((self.module_aliases[node.value.id], node.attr))
        unit.refers.discard((self.module, unit.name))

    def _use(self, node: ast.AST) -> str | None:
        """What autograd this one node uses, in words, or None."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            if any(_banned_module(n) for n in names):
                return f"`{ast.unparse(node)}`"
        elif isinstance(node, ast.Attribute):
            if self._banned_attribute(node.value, node.attr, called=False):
                return f"`{_clip(ast.unparse(node))}`"
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and self._banned_attribute(func.value, func.attr, called=True):
                return f"`{_clip(ast.unparse(node))}`"
            if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "hasattr", "delattr") \
                    and len(node.args) >= 2:
                name = _constant_string(node.args[1])
                if name and self._banned_attribute(node.args[0], name, called=True):
                    return f"`{_clip(ast.unparse(node))}`"
            for keyword in node.keywords:
                if keyword.arg == "requires_grad" and not _is_false(keyword.value):
                    return f"`requires_grad={_clip(ast.unparse(keyword.value))}`"
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "requires_grad" \
                        and not _is_false(node.value):
                    return f"`{_clip(ast.unparse(target))} = ...`"
        elif isinstance(node, (ast.Constant, ast.BinOp, ast.JoinedStr)):
            text = _constant_string(node)
            if text and DOTTED.fullmatch(text) and self._banned_string(text):
                return f"the string {text!r}"
        return None

    def _banned_attribute(self, base: ast.AST, attr: str, called: bool) -> bool:
        if attr in BANNED_ATTRIBUTES:
            return True
        on_torch = self._rooted_at_torch(base)
        if attr == "func" and on_torch:
            return True
        if attr == "backward" and called:
            return on_torch or not self.own_backward
        return False

    def _banned_string(self, text: str) -> bool:
        parts = text.split(".")
        if any(p in BANNED_WORDS for p in parts) or _banned_module(text):
            return True
        return parts[-1] == "backward" and (not self.own_backward or parts[0] == "torch")

    def _rooted_at_torch(self, node: ast.AST) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in self.torch_names


def _banned_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in BANNED_MODULES)


def _constant_string(node: ast.AST) -> str | None:
    """The string a constant expression spells: "a", "a" + "b", f"{'a'}b"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_string(node.left), _constant_string(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                value = value.value
            text = _constant_string(value)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, 0, None)


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_main_block(node: ast.AST) -> bool:
    """`if __name__ == "__main__":`, which never runs when the module is imported."""
    return isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and \
        isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"


def _bound_names(node: ast.AST) -> list[str]:
    names = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            names.append(child.id)
        elif isinstance(child, ast.alias):
            names.append((child.asname or child.name).split(".")[0])
    return names


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
