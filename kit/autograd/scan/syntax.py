"""Questions about Python's syntax tree that know nothing of torch: what never runs, what a target binds.

Shared by the scopes, the units and the walker of kit/autograd/scan/."""
from __future__ import annotations

import ast

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def never_on_import(node: ast.If) -> bool:
    """`if __name__ == "__main__":`, `if TYPE_CHECKING:`, `if False:`: the body never runs on import."""
    test = node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        sides = [test.left, test.comparators[0]]
        return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
            any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    if isinstance(test, ast.Name) or isinstance(test, ast.Attribute):
        return (test.id if isinstance(test, ast.Name) else test.attr) == "TYPE_CHECKING"
    return isinstance(test, ast.Constant) and not test.value


def running(tree: ast.AST):
    """ast.walk, but not into the bodies that never run on import (the __main__ guard)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and never_on_import(node):
            todo += [node.test] + node.orelse
        else:
            todo.extend(ast.iter_child_nodes(node))


def first_parameter(node: ast.AST) -> str | None:
    """The first positional parameter of a function (a method's `self`); None for anything else."""
    if isinstance(node, FUNCTIONS):
        positional = node.args.posonlyargs + node.args.args
        return positional[0].arg if positional else None
    return None


def target_roots(target: ast.AST) -> tuple[list[str], list[str]]:
    """(names an assignment target rebinds, names whose object it changes)."""
    if isinstance(target, ast.Name):
        return [target.id], []
    if isinstance(target, (ast.Tuple, ast.List)):
        names, changed = [], []
        for element in target.elts:
            n, c = target_roots(element)
            names += n
            changed += c
        return names, changed
    if isinstance(target, ast.Starred):
        return target_roots(target.value)
    while isinstance(target, (ast.Attribute, ast.Subscript)):
        target = target.value
    return ([], [target.id]) if isinstance(target, ast.Name) else ([], [])


def assigned_names(stmt: ast.Assign | ast.AnnAssign) -> list[str]:
    """The names an assignment rebinds, over all its targets."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return [name for target in targets for name in target_roots(target)[0]]


def mentions_tensor(annotation: ast.AST) -> bool:
    """Whether a parameter's annotation names Tensor (`x: torch.Tensor`, `"Tensor"`)."""
    for node in ast.walk(annotation):
        if (isinstance(node, ast.Name) and node.id == "Tensor"
                or isinstance(node, ast.Attribute) and node.attr == "Tensor"):
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "Tensor" in node.value:
            return True
    return False


def source(node: ast.AST, limit: int = 80) -> str:
    """The code of `node` for a message, clipped."""
    try:
        text = ast.unparse(node)
    except RecursionError:  # deeper than Python can print: the scan still reports the use
        text = type(node).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def setattr_on(node: ast.AST, names: set) -> bool:
    """`setattr(X, ...)` written with the builtin's name, X one of `names`."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
        and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id in names
