"""Finding autograd in a submission's source, and the exercises whose code uses it.

The curriculum forbids autograd: `.backward()`, `torch.autograd`, `torch.func`, `requires_grad`
graphs. `scan(folder)` reads (never imports) every curriculum module of a submission and
returns, for each exercise whose code uses autograd, the reason with its line. It must never
flag code that does not use autograd: what it misses is still stopped at run time, where the
sandbox replaces autograd's entry points with ones that raise (grading/sandbox.py).

What counts as use. Names are resolved as Python resolves them (parameters and local variables
shadow module names; `T = torch`, `import torch.autograd as ag`, `from torch import *`,
`__import__("torch")`, `sys.modules["torch"]` are torch), and only code that runs counts:
comments, docstrings, type annotations, the body of `if __name__ == "__main__":` and of
`if TYPE_CHECKING:` never do.
- torch's autograd by name: `torch.autograd...` (but `torch.autograd.no_grad`), `torch.func...`,
  functorch, `torch.Tensor.backward`, `torch._C._EngineBase.run_backward`, `torch.enable_grad`,
  `torch.set_grad_enabled(...)` and `torch.nn.Parameter(...)` unless given False, reached
  through any alias; an import binds such a name, and using the name is the use.
  `torch.no_grad()`, `torch.inference_mode()`, `.detach()`, reading `.grad` or
  `.requires_grad` are not use: they switch autograd off or only look.
- on any object: `.backward`, `.requires_grad_(...)` unless False, `.grad_fn` called, looked into
  or passed on (not compared or printed), `.next_functions`, `.autograd`, `._execution_engine`,
  ...; assigning `.requires_grad`
  anything but False; a call with `requires_grad=` anything but False. Where the submission's
  own classes or objects define an attribute of that name (chapter 7's `Value.backward`, by
  inheritance, by `type(...)` or `setattr`, imported from another module), it counts only on
  torch and its tensors, in the modules that define or import that class (connected by imports,
  either way). A call to the submission's own function or class with `requires_grad=` is not use.
  A name is False when every value it is given is: `requires_grad = False`, or a parameter
  whose default is False and that no call passes.
- a string counts only where it reaches autograd: the attribute of getattr/setattr (not
  hasattr, which only asks), of `vars(x)[...]`, `x.__dict__[...]`, `globals()[...]`,
  `x.__getattribute__`, `operator.attrgetter`/`methodcaller`; the module of `__import__`,
  `importlib.import_module`, `sys.modules[...]`; code given to eval/exec/compile (read like
  the rest). Strings built from pieces count there too (`"auto" + "grad"`, f-strings,
  `"".join(...)`, `chr(95)`, a variable, a loop over constants). A string anywhere else (a
  message, a dict key, a comparison, `step = "backward"`) is never use.

Which exercises score zero. Each module-level function, class and binding is a unit: the uses
in its code, and the units it refers to.
- A use in a function (nested functions and lambdas included) taints the module-level function
  it is in. A unit that refers to a tainted unit is tainted: by name, by `module.name`, by
  `from module import name` (across modules), by getattr. A function refers to what the name
  is bound to when the module has been imported (the last definition of it, or each of those an
  if or a try may leave); module-level code to what it is bound to then.
- At module level, a statement taints the names it binds (`slope = torch.autograd.grad`), and
  those whose object it changes (`Value.backward = f`, `setattr(Value, ...)`,
  `TABLE.append(f)`), never the others; a statement that binds and changes no name (a call at
  import) taints the whole module, whose import then fails at run time anyway. An unused import
  taints nothing.
- A class is its header (bases, decorators, statements of its body) and its methods. Chapter 7's
  exercises share `Value` but their checks do not call the same methods: an operation's
  exercise reaches the class's header and every method no other exercise owns (`__init__`,
  helpers) and its own methods (`add`: `__add__`, `__radd__`; `exp`: `exp`; ...); `backward`
  (which owns `backward` and the operators built from the others, `-a`, `a - b`, `a / b`), whose
  graphs use every operation, reaches the whole class. A method reaches the methods it names
  (`self.exp()`); operators are not followed (`a * b` may be floats).
- An exercise scores zero when its unit, or the module's top-level code, is tainted.

What the scan does not follow, and leaves to the run-time block: torch passed in or returned as
a value (`def f(t): return t.func.grad(g)`, with torch as `t`), a tensor's `.backward()` in the
modules of a class that defines `backward` when the scan cannot tell the value is a tensor,
strings built from parts it cannot evaluate (a function's result, input, a file), code read from
files, and the methods an operator calls (`a * b`).
"""
from __future__ import annotations

import ast
import builtins
import itertools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from kit.registry import CHAPTERS, EXERCISES

TORCH_ROOTS = ("torch", "functorch")
BANNED_MODULES = ("torch.autograd", "torch.func", "torch._functorch", "functorch")
# Attributes only autograd has: they count on any object (see own names).
BANNED_ATTRIBUTES = frozenset({
    "autograd", "forward_ad", "functorch", "_functorch", "_execution_engine", "_ImperativeEngine",
    "_EngineBase", "run_backward", "make_dual", "unpack_dual", "requires_grad_", "backward",
    "next_functions", "grad_fn"})
GRAD_OFF = frozenset({"no_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled"})
SWITCHES = frozenset({"set_grad_enabled", "_set_grad_enabled", "_set_fwd_grad_enabled", "requires_grad_"})
READERS = frozenset({"print", "repr", "str", "type", "isinstance", "id", "bool", "format", "callable"})
BUILTINS = frozenset(dir(builtins))

# Chapter 7: the methods of the class that only one exercise's check calls (kit/chapters/ch7_engine.py:
# an operation's check builds one node with its operator; backward's graphs use every operation
# and the operators built from them, so it reaches the whole class).
OPERATION_METHODS = {
    "add": ("__add__", "__radd__", "__iadd__"),
    "mul": ("__mul__", "__rmul__", "__imul__"),
    "pow": ("__pow__", "__rpow__", "__ipow__"),
    "exp": ("exp",), "log": ("log",), "relu": ("relu",), "sigmoid": ("sigmoid",), "tanh": ("tanh",),
}
GRAPH_METHODS = ("backward", "__neg__", "__sub__", "__rsub__", "__truediv__", "__rtruediv__")
OWNED_METHODS = frozenset(itertools.chain(GRAPH_METHODS, *OPERATION_METHODS.values()))

MAX_STRINGS = 16  # alternatives a string expression may have before the scan stops guessing
MAX_TEXT = 20_000  # longest string the scan builds or reads as code
DEPTH = 40  # how deep the scan follows names and expressions


@dataclass
class Unit:
    """A module-level function, class, method or binding, "<module>" for the code that binds no name."""

    module: str
    name: str  # as messages show it: "helper", "Value.tanh"
    uses: list[str] = field(default_factory=list)  # "12: `.backward()`"
    refers: set[tuple[str, str]] = field(default_factory=set)  # keys of the units it refers to
    transparent: bool = False  # a name's final bindings: messages skip it


def scan(folder: Path) -> dict[str, str]:
    """{exercise id: why it scores zero} for every exercise whose code uses autograd."""
    trees = {}
    for module in CHAPTERS:
        path = folder / f"{module}.py"
        try:
            trees[module] = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=path.name)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # missing or broken: the run reports it
    return _Program(trees).findings()


def _line(use: str) -> int:
    return int(use.split(":", 1)[0])


class _Program:
    """All modules of one submission: their units, and the taint that flows between them."""

    def __init__(self, trees: dict[str, ast.Module]):
        self.guard: set = set()  # names being resolved, against cycles
        self.modules: dict[str, _Module] = {}
        for name, tree in trees.items():
            try:
                self.modules[name] = _Module(self, name, tree)
            except RecursionError:
                continue  # too deep to read: the run-time block still applies
        for component in self._components():
            attrs = set().union(*(self.modules[m].own_attrs for m in component))
            params = set().union(*(self.modules[m].own_params for m in component))
            for m in component:
                self.modules[m].own, self.modules[m].own_keywords = attrs, attrs | params
        self.units: dict[tuple[str, str], Unit] = {}
        self.classes: dict[tuple[str, str], tuple] = {}  # class unit -> (core unit, {method: unit})
        for module in self.modules.values():
            try:
                units, classes = module.units()
            except RecursionError:
                continue
            self.units.update(units)
            self.classes.update(classes)

    def _components(self) -> list[set[str]]:
        """Modules connected by imports, either way: the objects of one may reach the other."""
        near = {m: set() for m in self.modules}
        for m, module in self.modules.items():
            for other in module.mentions & near.keys() - {m}:
                near[m].add(other)
                near[other].add(m)
        components, seen = [], set()
        for start in near:
            if start in seen:
                continue
            component, todo = set(), [start]
            while todo:
                m = todo.pop()
                if m not in component:
                    component.add(m)
                    todo.extend(near[m])
            seen |= component
            components.append(component)
        return components

    def global_info(self, module: str, name: str) -> Info:
        found = self.modules.get(module)
        return found.name_info(name, found.top, 0) if found else UNKNOWN

    def findings(self) -> dict[str, str]:
        why = {key: f"autograd at line {min(unit.uses, key=_line)}" for key, unit in self.units.items() if unit.uses}
        changed = True
        while changed:  # taint flows to whatever refers to a tainted unit
            changed = False
            for key, unit in self.units.items():
                if key in why:
                    continue
                for ref in sorted(unit.refers):
                    if ref in why:
                        why[key] = why[ref] if unit.transparent else f"{self._show(ref, key[0])}, which uses {why[ref]}"
                        changed = True
                        break
        found = {}
        for exercise in EXERCISES.values():
            for key in self._entries(exercise):
                if key in why:
                    subject = "the module's top-level code" if key[1] == "<module>" else self.units[key].name
                    found[exercise.id] = (f"{exercise.id}: {subject} uses {why[key]}. Exercises derive "
                                          f"gradients by hand; code that uses autograd scores zero.")
                    break
        return found

    def _entries(self, exercise) -> list[tuple[str, str]]:
        """The units an exercise's check runs first: its function or class, and the module's top level."""
        module = exercise.module
        entries = [(module, "<module>")]
        name = self.units.get((module, exercise.attribute))
        if name is None:
            return entries
        methods = OPERATION_METHODS.get(exercise.name) if exercise.attribute != exercise.name else None
        for key in sorted(name.refers):
            if methods is not None and key in self.classes:
                core, members = self.classes[key]
                entries += [core] + [members[m] for m in methods if m in members]
            else:
                entries.append(key)
        return entries

    def _show(self, ref: tuple[str, str], here: str) -> str:
        name = self.units[ref].name
        return name if ref[0] == here else f"{ref[0]}.{name}"


# ---- what an expression may be ------------------------------------------------------------------

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


def _path_use(path: str, call: ast.Call | None, false) -> bool:
    """Whether using torch's `path` (called by `call`, when it is) is autograd use."""
    parts = path.split(".")
    if parts[0] == "functorch":
        return True
    if parts[0] != "torch" or len(parts) == 1:
        return False
    last = parts[-1]
    if last in GRAD_OFF:
        return False
    if last in SWITCHES:  # on, unless switched off: set_grad_enabled(False), requires_grad_(False)
        return call is None or not false(call, 0, "mode" if "grad_enabled" in last else "requires_grad")
    if last == "Parameter":  # a Parameter requires grad unless told not to
        return call is not None and not false(call, 1, "requires_grad")
    if parts[1] == "func":
        return True
    return any(p in BANNED_ATTRIBUTES or p == "enable_grad" or "autograd" in p.lower() for p in parts[1:])


def _banned_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in BANNED_MODULES)


# ---- scopes ------------------------------------------------------------------------------------

class Scope:
    """A module, function, lambda, class or comprehension: the names it binds, and to what.

    A binding is ("value", expression, scope), ("iter", expression it loops over, scope),
    ("import", dotted module), ("from", module, name), ("def", node), ("param", function, arg,
    default) or ("unknown",)."""

    def __init__(self, kind: str, node: ast.AST, parent: Scope | None):
        self.kind, self.node, self.parent = kind, node, parent
        self.bindings: dict[str, list[tuple]] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.stars: list[str] = []  # modules of `from m import *`


COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _never_on_import(node: ast.If) -> bool:
    """`if __name__ == "__main__":`, `if TYPE_CHECKING:`, `if False:`: the body never runs on import."""
    test = node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        sides = [test.left, test.comparators[0]]
        return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
            any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    if isinstance(test, ast.Name) or isinstance(test, ast.Attribute):
        return (test.id if isinstance(test, ast.Name) else test.attr) == "TYPE_CHECKING"
    return isinstance(test, ast.Constant) and not test.value


def _running(tree: ast.AST):
    """ast.walk, but not into the bodies that never run on import (the __main__ guard)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _never_on_import(node):
            todo += [node.test] + node.orelse
        else:
            todo.extend(ast.iter_child_nodes(node))


def _first_parameter(node: ast.AST) -> str | None:
    if isinstance(node, FUNCTIONS):
        positional = node.args.posonlyargs + node.args.args
        return positional[0].arg if positional else None
    return None


def _target_roots(target: ast.AST) -> tuple[list[str], list[str]]:
    """(names an assignment target rebinds, names whose object it changes)."""
    if isinstance(target, ast.Name):
        return [target.id], []
    if isinstance(target, (ast.Tuple, ast.List)):
        names, changed = [], []
        for element in target.elts:
            n, c = _target_roots(element)
            names += n
            changed += c
        return names, changed
    if isinstance(target, ast.Starred):
        return _target_roots(target.value)
    while isinstance(target, (ast.Attribute, ast.Subscript)):
        target = target.value
    return ([], [target.id]) if isinstance(target, ast.Name) else ([], [])


# ---- one module --------------------------------------------------------------------------------

@dataclass
class _Class:
    name: str
    members: dict[str, tuple[str, str]]  # method or class attribute -> its unit
    core: tuple[str, str]
    first: str | None = None  # the method's first parameter, `self`


@dataclass
class _Context:
    scope: Scope
    unit: Unit
    now: bool  # the code runs while the module is imported (module level, class bodies)
    cls: _Class | None = None
    depth: int = 0  # eval inside eval


class _Module:
    def __init__(self, program: _Program, name: str, tree: ast.Module):
        self.program, self.name, self.tree = program, name, tree
        self.scopes: dict[int, Scope] = {}
        self.memo: dict[tuple, object] = {}  # info and strings, by node and scope
        self.top = Scope("module", tree, None)
        self._declarations(tree.body, self.top)
        for stmt in tree.body:
            self._collect(stmt, self.top)
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

    # ---- bindings ----

    def _new_scope(self, kind: str, node: ast.AST, parent: Scope) -> Scope:
        scope = Scope(kind, node, parent)
        self.scopes[id(node)] = scope
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
            body = node.body if isinstance(node.body, list) else [node.body]
            self._declarations(body, inner)
            for stmt in body:
                self._collect(stmt, inner)
        elif isinstance(node, ast.ClassDef):
            self._bind(scope, node.name, ("def", node))
            for expr in node.decorator_list + node.bases + [k.value for k in node.keywords]:
                self._collect(expr, scope)
            inner = self._new_scope("class", node, scope)
            self._declarations(node.body, inner)
            for stmt in node.body:
                self._collect(stmt, inner)
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

    # ---- what an expression may be ----

    def name_info(self, name: str, scope: Scope, depth: int) -> Info:
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
        result = Info(paths=frozenset({f"builtins.{name}"})) if name in BUILTINS else NOTHING
        for star in self.top.stars:
            if star in CHAPTERS:
                result |= self.program.global_info(star, name)
            elif name not in BUILTINS:
                result |= Info(paths=frozenset({f"{star}.{name}"}))
        return UNKNOWN if result.empty else result

    def _record_info(self, record: tuple, depth: int) -> Info:
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
            result = TENSOR | UNKNOWN if arg.annotation is not None and _mentions_tensor(arg.annotation) else UNKNOWN
            if default is not None:
                result |= self.info(default, self.scopes[id(function)].parent, depth)
            return result
        return UNKNOWN

    def info(self, node: ast.AST, scope: Scope, depth: int = 0) -> Info:
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
            looked_up = self._global_lookup(node, scope)
            if looked_up is not None:
                return looked_up
            return TENSOR if self.info(node.func, scope, d).torchy else UNKNOWN
        if isinstance(node, ast.Subscript):
            access = self.access(node, scope)
            if access is not None:
                base = self.info(access[0], scope, d)
                return self._union(self._attribute_info(base, name) for name in access[1])
            found = self._imported(node, scope) or self._global_lookup(node, scope)
            if found is not None:
                return found
            return TENSOR if self.info(node.value, scope, d).torchy else UNKNOWN
        if isinstance(node, ast.BinOp):
            return TENSOR if self.info(node.left, scope, d).torchy or self.info(node.right, scope, d).torchy else UNKNOWN
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
        result = Info(paths=frozenset(f"{p}.{attr}" for p in base.paths), tensor=base.tensor,
                      learner=base.learner, unknown=base.unknown)
        for module in base.modules:
            result |= self.program.global_info(module, attr)
        return UNKNOWN if result.empty else result

    def _callee(self, call: ast.AST, scope: Scope, path: str) -> bool:
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

    def _global_lookup(self, node: ast.AST, scope: Scope) -> Info | None:
        """globals()["name"], vars()["name"], locals()["name"], and their .get("name")."""
        found = self.global_lookup(node, scope)
        if found is None:
            return None
        where, names = found
        return self._union(self.name_info(n, where, 0) for n in names)

    def global_lookup(self, node: ast.AST, scope: Scope) -> tuple[Scope, frozenset] | None:
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

    # ---- the strings an expression may spell ----

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

    # ---- is it False? ----

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

    # ---- what the submission defines itself ----

    def _own_names(self) -> tuple[set[str], set[str]]:
        """(attribute names the submission's own classes and objects define, parameter names)."""
        attrs, params = set(), set()
        ours = {name for name, records in self.top.bindings.items()
                if any(r[0] == "def" or r[0] == "from" and r[1] in CHAPTERS for r in records)}
        for node in _running(self.tree):
            if isinstance(node, FUNCTIONS + (ast.Lambda,)):
                params |= {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if isinstance(stmt, FUNCTIONS + (ast.ClassDef,)):
                        attrs.add(stmt.name)
                        first = _first_parameter(stmt)
                        for inner in ast.walk(stmt) if first else ():
                            if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) \
                                    and inner.value.id == first and not isinstance(inner.ctx, ast.Load):
                                attrs.add(inner.attr)
                            elif self._setattr_on(inner, {first}):
                                attrs |= self.strings(inner.args[1], self.top) or set()
                    elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                        for target in targets:
                            names = _target_roots(target)[0]
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
                if self._setattr_on(node, ours):
                    attrs |= self.strings(node.args[1], self.top) or set()
                elif callee == "type" and len(node.args) == 3:  # type("Value", bases, {"backward": ...})
                    namespace = node.args[2]
                    if isinstance(namespace, ast.Dict):
                        attrs |= {k.value for k in namespace.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
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
                            attrs |= {c.value for c in k.value.keys if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        return attrs, params

    @staticmethod
    def _setattr_on(node: ast.AST, names: set) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
            and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id in names

    # ---- units ----

    def units(self) -> tuple[dict, dict]:
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
                self._walk(stmt, _Context(self.top, self._units[key], now=True), None)
                self._bind_now(stmt.name, key, conditional)
            elif isinstance(stmt, ast.ClassDef):
                self._class(stmt, conditional)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt, conditional)
            elif isinstance(stmt, ast.If):
                if not _never_on_import(stmt):
                    self._header([stmt.test], [], conditional)
                    self._statements(stmt.body, True)
                self._statements(stmt.orelse, True)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                self._header([stmt.iter, stmt.target], _target_roots(stmt.target)[0], conditional)
                self._statements(stmt.body + stmt.orelse, True)
            elif isinstance(stmt, ast.While):
                self._header([stmt.test], [], conditional)
                self._statements(stmt.body + stmt.orelse, True)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                names = [n for item in stmt.items if item.optional_vars for n in _target_roots(item.optional_vars)[0]]
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
            self._walk(node, _Context(self.top, temp, now=True), None)
        self._attribute(temp, names, [], conditional)

    def _simple(self, stmt: ast.stmt, conditional: bool) -> None:
        temp = Unit(self.name, "<statement>")
        self._walk(stmt, _Context(self.top, temp, now=True), None)
        names, changed = [], []
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                n, c = _target_roots(target)
                names, changed = names + n, changed + c
            if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
                names = []  # an annotation only
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                temp.refers |= self._current.get(stmt.target.id, set())  # x += ...: the old x too
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value  # TABLE.append(f), setattr(Value, "backward", f): they change TABLE, Value
            target = call.args[0] if self._setattr_on(call, set(self._current)) else \
                call.func.value if isinstance(call.func, ast.Attribute) else None
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in self._current and \
                    not any(r[0] in ("import", "from") for r in self.top.bindings.get(target.id, ())):
                changed.append(target.id)
        names += [n.target.id for n in ast.walk(stmt) if isinstance(n, ast.NamedExpr)]
        self._attribute(temp, names, changed, conditional)

    def _attribute(self, temp: Unit, names: list, changed: list, conditional: bool) -> None:
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
                continue  # its names are read where they are used (see _unbound_info)
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
            if _path_use(target, None, self._false_argument):
                unit.uses.append(f"{stmt.lineno}: `{_source(stmt)}`")
            if curriculum:
                unit.refers.add(curriculum)
            self._bind_now(local, key, conditional)

    def _class(self, stmt: ast.ClassDef, conditional: bool) -> None:
        version = next(self._versions)
        whole = (self.name, f"{stmt.name}#{version}")
        core = (self.name, f"{stmt.name}.<core>#{version}")
        members = {}
        for s in stmt.body:
            names = [s.name] if isinstance(s, FUNCTIONS + (ast.ClassDef,)) else \
                [n for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) for n in _target_roots(t)[0]] \
                if isinstance(s, (ast.Assign, ast.AnnAssign)) else []
            for name in names:
                members[name] = (self.name, f"{stmt.name}.{name}#{version}")
                self._units.setdefault(members[name], Unit(self.name, f"{stmt.name}.{name}"))
        self._units[core] = Unit(self.name, stmt.name)
        cls = _Class(stmt.name, members, core)
        header = _Context(self.top, self._units[core], now=True)
        for expr in stmt.decorator_list + stmt.bases + [k.value for k in stmt.keywords]:
            self._walk(expr, header, None)
        scope = self.scopes[id(stmt)]
        for s in stmt.body:
            if isinstance(s, FUNCTIONS + (ast.ClassDef,)):
                method = replace(cls, first=_first_parameter(s))
                self._walk(s, _Context(scope, self._units[members[s.name]], now=True, cls=method), None)
            elif isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None and \
                    [n for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) for n in _target_roots(t)[0]]:
                temp = Unit(self.name, "<statement>")
                self._walk(s, _Context(scope, temp, now=True, cls=cls), None)
                for t in s.targets if isinstance(s, ast.Assign) else [s.target]:
                    for name in _target_roots(t)[0]:
                        self._units[members[name]].uses += temp.uses
                        self._units[members[name]].refers |= temp.refers
            else:
                self._walk(s, _Context(scope, self._units[core], now=True, cls=cls), None)
        self._units[core].refers |= {key for name, key in members.items() if name not in OWNED_METHODS}
        self._units[core].refers.discard(core)
        self._units[whole] = Unit(self.name, stmt.name, refers={core, *members.values()})
        self._classes[whole] = (core, members)
        self._bind_now(stmt.name, whole, conditional)

    # ---- walking code ----

    def _walk(self, node: ast.AST, ctx: _Context, parent: ast.AST | None) -> None:
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
        elif isinstance(node, ast.If) and _never_on_import(node):
            for stmt in node.orelse:
                self._walk(stmt, ctx, node)
            return
        self._judge(node, ctx, parent)
        for child in ast.iter_child_nodes(node):
            self._walk(child, ctx, node)

    def _use(self, ctx: _Context, node: ast.AST, text: str) -> None:
        ctx.unit.uses.append(f"{getattr(node, 'lineno', 0)}: {text}")

    def _judge(self, node: ast.AST, ctx: _Context, parent: ast.AST | None) -> None:
        """Record what autograd `node` uses, and which units it refers to."""
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self._refer_to_name(node, ctx)
            self._namespace(node, ctx, parent)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            self._namespace(node, ctx, parent)
            self._attribute_access(node, ctx, parent)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            self._namespace(node, ctx, parent)
            self._dynamic(node, ctx, parent)
        elif isinstance(node, ast.Call):
            self._namespace(node, ctx, parent)
            self._call(node, ctx, parent)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._judge_store(target, node.value, ctx)
            if not ctx.now and all(isinstance(t, ast.Name) for t in node.targets) and self._pure_path(node.value, ctx):
                self._aliases.add(id(node.value))  # a local alias of torch's: judged where it is used
        elif isinstance(node, ast.AugAssign):
            self._judge_store(node.target, node.value, ctx)

    def _pure_path(self, node: ast.AST, ctx: _Context) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and bool(self.info(node, ctx.scope).torch_paths)

    def _refer_to_name(self, node: ast.Name, ctx: _Context) -> None:
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

    def _root(self, node: ast.AST) -> ast.AST:
        while True:
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "vars"):
                node = node.args[0]
            elif isinstance(node, ast.Subscript):
                node = node.value
            else:
                return node

    def _namespace(self, node: ast.AST, ctx: _Context, parent: ast.AST | None) -> None:
        """torch's own names (torch.autograd.grad, ag.grad, getattr(torch, "func")): judged whole,
        at the outermost attribute, with the call that uses them."""
        if isinstance(parent, ast.Attribute) and parent.value is node or id(node) in self._aliases:
            return
        paths = self.info(node, ctx.scope).torch_paths
        if not paths:
            return
        call = parent if isinstance(parent, ast.Call) and parent.func is node else None
        used = any(_path_use(p, call, self._false_argument_in(ctx)) for p in paths)
        root = self._root(node)
        root_info = self.info(root, ctx.scope) if isinstance(root, ast.Name) else None
        is_global = isinstance(root, ast.Name) and self.lookup(ctx.scope, root.id) is self.top
        if not used:
            if is_global and root is not node and root_info.paths and not (
                    root_info.unknown or root_info.learner or root_info.tensor or root_info.modules):
                self._suppressed.add(id(root))  # ag.no_grad(): not a use of what ag names
            return
        if is_global and any(_path_use(p, None, self._false_argument) for p in root_info.torch_paths):
            return  # the name's binding is the use (an import, `slope = torch.autograd.grad`): referred to
        self._use(ctx, node, f"`{_source(call or node)}`")

    def _attribute_access(self, node: ast.Attribute, ctx: _Context, parent: ast.AST | None) -> None:
        receiver = self.info(node.value, ctx.scope)
        for module in receiver.modules:
            ctx.unit.refers.add((module, node.attr))
        if ctx.cls and node.attr in ctx.cls.members and not receiver.paths and not receiver.modules:
            ctx.unit.refers.add(ctx.cls.members[node.attr])  # self.exp(): the method it names
        if receiver.torch_paths:
            return  # torch's names: _namespace
        call = parent if isinstance(parent, ast.Call) and parent.func is node else None
        if self._attribute_use(receiver, node.attr, node, parent, call, ctx):
            self._use(ctx, node, f"`{_source(call or node)}`")

    def _attribute_use(self, receiver: Info, attr: str, node: ast.AST, parent, call, ctx: _Context) -> bool:
        """Whether reading `attr` of a value (not one of torch's modules) is autograd use."""
        if attr not in BANNED_ATTRIBUTES:
            return False
        if attr == "grad_fn" and not self._grad_fn_used(node, parent):
            return False
        if attr == "requires_grad_" and call is not None and self._false_argument_in(ctx)(call, 0, "requires_grad"):
            return False
        if receiver.tensor:
            return True
        if not receiver.unknown:
            return False  # a curriculum module, the submission's own function or class, a library module
        return attr not in self.own

    def _grad_fn_used(self, node: ast.AST, parent: ast.AST | None) -> bool:
        """`y.grad_fn(g)`, `y.grad_fn.next_functions`, `f = y.grad_fn`; not `y.grad_fn is None`."""
        if isinstance(parent, ast.Call):
            if parent.func is node:
                return True
            callee = parent.func
            name = callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else None
            return name not in READERS
        if isinstance(parent, (ast.Attribute, ast.Subscript)):
            return parent.value is node
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            return parent.test is not node
        return not isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.FormattedValue, ast.Expr))

    def _dynamic(self, node: ast.AST, ctx: _Context, parent: ast.AST | None) -> None:
        """getattr(x, "backward"), vars(x)["grad_fn"] and the like, on values (not torch's modules)."""
        access = self.access(node, ctx.scope)
        looked_up = self.global_lookup(node, ctx.scope)
        if looked_up is not None:
            where, names = looked_up
            for name in names:
                if where is self.top:
                    ctx.unit.refers |= self._current.get(name, set()) if ctx.now else {(self.name, name)}
            return
        if access is None:
            if isinstance(node, ast.Call) and ctx.cls and ctx.cls.first and \
                    self._callee(node, ctx.scope, "builtins.getattr") and node.args and \
                    isinstance(node.args[0], ast.Name) and node.args[0].id == ctx.cls.first:
                ctx.unit.refers |= set(ctx.cls.members.values()) | {ctx.cls.core}  # getattr(self, name)
            return
        receiver_node, names = access
        receiver = self.info(receiver_node, ctx.scope)
        setter = isinstance(node, ast.Call) and self._callee(node, ctx.scope, "builtins.setattr")
        deleter = isinstance(node, ast.Call) and self._callee(node, ctx.scope, "builtins.delattr")
        for name in names:
            for module in receiver.modules:
                ctx.unit.refers.add((module, name))
            if ctx.cls and name in ctx.cls.members and not receiver.paths:
                ctx.unit.refers.add(ctx.cls.members[name])
            if receiver.torch_paths or deleter:
                continue  # torch's names: _namespace; deleting an attribute uses nothing
            if setter:
                value = node.args[2] if len(node.args) > 2 else None
                if name == "requires_grad" and self._requires_grad_set(receiver, value, ctx):
                    self._use(ctx, node, f"`{_source(node)}`")
                continue
            call = parent if isinstance(parent, ast.Call) and parent.func is node else None
            if self._attribute_use(receiver, name, node, parent, call, ctx):
                self._use(ctx, node, f"`{_source(call or node)}`")

    def _call(self, node: ast.Call, ctx: _Context, parent: ast.AST | None) -> None:
        self._dynamic(node, ctx, parent)
        callee = self.info(node.func, ctx.scope)
        for keyword in node.keywords:  # requires_grad=True, **{"requires_grad": True}
            values = [keyword.value] if keyword.arg == "requires_grad" else \
                [v for k, v in zip(keyword.value.keys, keyword.value.values)
                 if isinstance(k, ast.Constant) and k.value == "requires_grad"] \
                if keyword.arg is None and isinstance(keyword.value, ast.Dict) else []
            for value in values:
                if not self.is_false(value, ctx.scope) and self._enables(callee):
                    self._use(ctx, node, f"`requires_grad={_source(value)}`")
        paths = callee.paths
        if "builtins.__import__" in paths and node.args:
            if any(_banned_module(n) for n in self.strings(node.args[0], ctx.scope) or ()):
                self._use(ctx, node, f"`{_source(node)}`")
        if paths & {"operator.attrgetter", "operator.methodcaller"} and node.args:
            getter = "operator.attrgetter" in paths
            arguments = node.args if getter else node.args[:1]
            for name in set().union(*(self.strings(a, ctx.scope) or () for a in arguments)):
                parts = name.split(".") if getter else [name]
                switched_off = not getter and name == "requires_grad_" and len(node.args) > 1 and \
                    self.is_false(node.args[1], ctx.scope)
                if not switched_off and any(p in BANNED_ATTRIBUTES and p not in self.own for p in parts):
                    self._use(ctx, node, f"`{_source(node)}`")
        if paths & {"builtins.eval", "builtins.exec", "builtins.compile"} and node.args and ctx.depth < 3:
            for text in self.strings(node.args[0], ctx.scope) or ():
                self._code(text, node, ctx)

    def _code(self, text: str, call: ast.Call, ctx: _Context) -> None:
        """Code given to eval/exec/compile, read like the rest, in the scope of the call."""
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # it never runs
        self._kept.append(tree)  # its nodes' ids key self.scopes and self.parents
        scope = Scope("function", tree, ctx.scope)
        self.scopes[id(tree)] = scope
        self._declarations(tree.body, scope)
        for stmt in tree.body:
            self._collect(stmt, scope)
        self.parents.update({id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)})
        temp = Unit(self.name, "<code>")
        inner = replace(ctx, scope=scope, unit=temp, depth=ctx.depth + 1)
        for stmt in tree.body:
            self._walk(stmt, inner, None)
        for use in temp.uses:
            self._use(ctx, call, f"`{_source(call)}` runs {use.split(': ', 1)[1]}")
        ctx.unit.refers |= temp.refers

    def _enables(self, callee: Info) -> bool:
        """Whether requires_grad= given to this callable may switch autograd on."""
        if callee.torchy:
            return True
        if not callee.unknown and not callee.paths:
            return False  # the submission's own function or class
        return "requires_grad" not in self.own_keywords

    def _judge_store(self, target: ast.AST, value: ast.AST | None, ctx: _Context) -> None:
        """`x.requires_grad = True`, also inside a tuple of targets."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._judge_store(element, None, ctx)
        elif isinstance(target, ast.Attribute) and target.attr == "requires_grad":
            if self._requires_grad_set(self.info(target.value, ctx.scope), value, ctx):
                self._use(ctx, target, f"`{_source(target)} = ...`")

    def _requires_grad_set(self, receiver: Info, value: ast.AST | None, ctx: _Context) -> bool:
        if value is not None and self.is_false(value, ctx.scope):
            return False
        if receiver.torchy:
            return True
        return receiver.unknown and "requires_grad" not in self.own

    def _false_argument(self, call: ast.Call, index: int, keyword: str) -> bool:
        return self._false_argument_in(None)(call, index, keyword)

    def _false_argument_in(self, ctx: _Context | None):
        scope = ctx.scope if ctx else self.top

        def false(call: ast.Call, index: int, keyword: str) -> bool:
            value = next((k.value for k in call.keywords if k.arg == keyword), None)
            if value is None and len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args):
                value = call.args[index]
            return value is not None and self.is_false(value, scope)
        return false


def _product(left: set | None, right: set | None) -> set | None:
    if left is None or right is None or len(left) * len(right) > MAX_STRINGS:
        return None
    return {a + b for a in left for b in right if len(a) + len(b) <= MAX_TEXT}


def _mentions_tensor(annotation: ast.AST) -> bool:
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id == "Tensor" or isinstance(node, ast.Attribute) and node.attr == "Tensor":
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "Tensor" in node.value:
            return True
    return False


def _source(node: ast.AST, limit: int = 80) -> str:
    """The code of `node` for a message, clipped."""
    try:
        text = ast.unparse(node)
    except RecursionError:  # deeper than Python can print: the scan still reports the use
        text = type(node).__name__
    return text if len(text) <= limit else text[:limit] + "…"


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
