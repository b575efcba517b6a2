"""Finding autograd in a submission's source, and the exercises whose code uses it.

The curriculum forbids autograd: `.backward()`, `torch.autograd`, `torch.func`, `requires_grad`
graphs. `scan(folder)` reads (never imports) every curriculum module of a submission and
returns, for each exercise whose code uses autograd, the reason with its line. The grader
(grading/student_grader.py) and the learner's own run (kit/autograd/learner.py) call it alike.
It must never flag code that does not use autograd: what it misses is still stopped at run
time, where the block replaces autograd's entry points with ones that raise
(kit/autograd/block.py).

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

The scan, by job (each module's docstring says more):
- program.py: `scan(folder)`, the entry point, and the taint that flows between units
- entries.py: which units an exercise's check runs first (chapter 7's table of methods)
- module.py: one module of the submission, put together from the parts below
- units.py: its top level cut into units, statement by statement
- walker.py: walking a unit's code in its scopes, and the names it refers to
- uses.py: whether a node of code uses autograd
- banned.py: the table of torch's banned modules, names and attributes
- values.py: what an expression may evaluate to (`Info`)
- constants.py: the strings and ints an expression may spell, and whether it is always False
- scopes.py: the scopes of a module and the names each binds
- syntax.py: questions about Python's syntax tree that know nothing of torch
The sentences a student reads are kit/messages/scan.py's.
"""
from __future__ import annotations

from kit.autograd.scan.entries import GRAPH_METHODS, OPERATION_METHODS
from kit.autograd.scan.module import Module as _Module
from kit.autograd.scan.program import Program as _Program
from kit.autograd.scan.program import scan

# the grader calls scan; the self-tests also read the chapter 7 tables and reach into the parts
__all__ = ["GRAPH_METHODS", "OPERATION_METHODS", "_Module", "_Program", "scan"]
