"""Judging one node of code: whether it uses autograd, by torch's names or on any value.

`Uses` is the part of kit/autograd/scan/module.py's `Module` that decides, for a name, an attribute,
a subscript, a call or an assignment met by the walk (kit/autograd/scan/walker.py), whether it is
use: torch's names judged whole with the call that uses them (kit/autograd/scan/banned.py), the
attributes only autograd has on values that may be tensors, the strings given to getattr,
__import__ and the like, and `requires_grad=` given anything but False.
"""
from __future__ import annotations

import ast

from kit.autograd.scan.banned import BANNED_ATTRIBUTES, READERS, banned_module, path_use
from kit.autograd.scan.syntax import source
from kit.autograd.scan.units import Context
from kit.autograd.scan.values import Info
from kit.messages import scan as messages


class Uses:
    """Mixin of `Module`: reads what its values, constants and own names tell (kit/autograd/scan/module.py)."""

    def _root(self, node: ast.AST) -> ast.AST:
        """The name an access starts from: `ag` of `ag.grad`, `getattr(ag, "grad")`, `vars(ag)["grad"]`."""
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

    def _torch_name(self, node: ast.AST, ctx: Context, parent: ast.AST | None) -> None:
        """torch's own names (torch.autograd.grad, ag.grad, getattr(torch, "func")): judged whole,
        at the outermost attribute, with the call that uses them."""
        if isinstance(parent, ast.Attribute) and parent.value is node or id(node) in self._aliases:
            return
        paths = self.info(node, ctx.scope).torch_paths
        if not paths:
            return
        call = parent if isinstance(parent, ast.Call) and parent.func is node else None
        used = any(path_use(p, call, self._false_argument_in(ctx)) for p in paths)
        root = self._root(node)
        root_info = self.info(root, ctx.scope) if isinstance(root, ast.Name) else None
        is_global = isinstance(root, ast.Name) and self.lookup(ctx.scope, root.id) is self.top
        if not used:
            if is_global and root is not node and root_info.paths and not (
                    root_info.unknown or root_info.learner or root_info.tensor or root_info.modules):
                self._suppressed.add(id(root))  # ag.no_grad(): not a use of what ag names
            return
        if is_global and any(path_use(p, None, self._false_argument) for p in root_info.torch_paths):
            return  # the name's binding is the use (an import, `slope = torch.autograd.grad`): referred to
        self._use(ctx, node, messages.code(source(call or node)))

    def _attribute_access(self, node: ast.Attribute, ctx: Context, parent: ast.AST | None) -> None:
        """`x.attr` read: the units it refers to, and whether it uses autograd on a value."""
        receiver = self.info(node.value, ctx.scope)
        for module in receiver.modules:
            ctx.unit.refers.add((module, node.attr))
        if ctx.cls and node.attr in ctx.cls.members and not receiver.paths and not receiver.modules:
            ctx.unit.refers.add(ctx.cls.members[node.attr])  # self.exp(): the method it names
        if receiver.torch_paths:
            return  # torch's names: _torch_name
        call = parent if isinstance(parent, ast.Call) and parent.func is node else None
        if self._attribute_use(receiver, node.attr, node, parent, call, ctx):
            self._use(ctx, node, messages.code(source(call or node)))

    def _attribute_use(self, receiver: Info, attr: str, node: ast.AST, parent, call, ctx: Context) -> bool:
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
            name = (callee.id if isinstance(callee, ast.Name)
                    else callee.attr if isinstance(callee, ast.Attribute) else None)
            return name not in READERS
        if isinstance(parent, (ast.Attribute, ast.Subscript)):
            return parent.value is node
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            return parent.test is not node
        return not isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.FormattedValue, ast.Expr))

    def _dynamic(self, node: ast.AST, ctx: Context, parent: ast.AST | None) -> None:
        """getattr(x, "backward"), vars(x)["grad_fn"] and the like, on values (not torch's modules)."""
        access = self.access(node, ctx.scope)
        looked_up = self.namespace_names(node, ctx.scope)
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
                continue  # torch's names: _torch_name; deleting an attribute uses nothing
            if setter:
                value = node.args[2] if len(node.args) > 2 else None
                if name == "requires_grad" and self._requires_grad_set(receiver, value, ctx):
                    self._use(ctx, node, messages.code(source(node)))
                continue
            call = parent if isinstance(parent, ast.Call) and parent.func is node else None
            if self._attribute_use(receiver, name, node, parent, call, ctx):
                self._use(ctx, node, messages.code(source(call or node)))

    def _call(self, node: ast.Call, ctx: Context, parent: ast.AST | None) -> None:
        """A call: `requires_grad=`, `__import__` of a banned module, attrgetter and methodcaller,
        and the code given to eval/exec/compile."""
        self._dynamic(node, ctx, parent)
        callee = self.info(node.func, ctx.scope)
        for keyword in node.keywords:  # requires_grad=True, **{"requires_grad": True}
            values = [keyword.value] if keyword.arg == "requires_grad" else \
                [v for k, v in zip(keyword.value.keys, keyword.value.values)
                 if isinstance(k, ast.Constant) and k.value == "requires_grad"] \
                if keyword.arg is None and isinstance(keyword.value, ast.Dict) else []
            for value in values:
                if not self.is_false(value, ctx.scope) and self._enables(callee):
                    self._use(ctx, node, messages.keyword(source(value)))
        paths = callee.paths
        if "builtins.__import__" in paths and node.args:
            if any(banned_module(n) for n in self.strings(node.args[0], ctx.scope) or ()):
                self._use(ctx, node, messages.code(source(node)))
        if paths & {"operator.attrgetter", "operator.methodcaller"} and node.args:
            getter = "operator.attrgetter" in paths
            arguments = node.args if getter else node.args[:1]
            for name in set().union(*(self.strings(a, ctx.scope) or () for a in arguments)):
                parts = name.split(".") if getter else [name]
                switched_off = not getter and name == "requires_grad_" and len(node.args) > 1 and \
                    self.is_false(node.args[1], ctx.scope)
                if not switched_off and any(p in BANNED_ATTRIBUTES and p not in self.own for p in parts):
                    self._use(ctx, node, messages.code(source(node)))
        if paths & {"builtins.eval", "builtins.exec", "builtins.compile"} and node.args and ctx.depth < 3:
            for text in self.strings(node.args[0], ctx.scope) or ():
                self._code(text, node, ctx)

    def _enables(self, callee: Info) -> bool:
        """Whether requires_grad= given to this callable may switch autograd on."""
        if callee.torchy:
            return True
        if not callee.unknown and not callee.paths:
            return False  # the submission's own function or class
        return "requires_grad" not in self.own_keywords

    def _judge_store(self, target: ast.AST, value: ast.AST | None, ctx: Context) -> None:
        """`x.requires_grad = True`, also inside a tuple of targets."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._judge_store(element, None, ctx)
        elif isinstance(target, ast.Attribute) and target.attr == "requires_grad":
            if self._requires_grad_set(self.info(target.value, ctx.scope), value, ctx):
                self._use(ctx, target, messages.store(source(target)))

    def _requires_grad_set(self, receiver: Info, value: ast.AST | None, ctx: Context) -> bool:
        """Whether setting `.requires_grad` of `receiver` to `value` (None: not known) may switch autograd on."""
        if value is not None and self.is_false(value, ctx.scope):
            return False
        if receiver.torchy:
            return True
        return receiver.unknown and "requires_grad" not in self.own

    def _false_argument(self, call: ast.Call, index: int, keyword: str) -> bool:
        """Whether a module-level call's argument (at `index` or by `keyword`) is always False."""
        return self._false_argument_in(None)(call, index, keyword)

    def _false_argument_in(self, ctx: Context | None):
        """`_false_argument` for a call in the scope of `ctx` (None: the module's)."""
        scope = ctx.scope if ctx else self.top

        def false(call: ast.Call, index: int, keyword: str) -> bool:
            value = next((k.value for k in call.keywords if k.arg == keyword), None)
            if value is None and len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args):
                value = call.args[index]
            return value is not None and self.is_false(value, scope)
        return false

