"""Notebooks handed in (.ipynb): read, and their definitions loaded as chapter modules, in the student's process only.

A child module (grading/isolation.py: CHILD_MODULES): it imports only the standard library and
kit.implementation with what that imports. The grader (grading/submissions.py) copies a
notebook's bytes (at most entry_files.MAX_NOTEBOOK_BYTES, 16 MB: outputs and pictures make
notebooks big) into the student's folder as nb-NN.ipynb, with the name the student gave it,
and never parses it; everything below runs in the sandboxed child (grading/child.py).

Reading a notebook (`read`), bounded: at most MAX_BYTES; at most MAX_CONTAINERS brackets
(`[` and `{`, counted on the bytes before anything is parsed) and MAX_DEPTH levels of nesting;
UTF-8 (a BOM is allowed); JSON read by the standard library; nbformat 4 only (nbformat 3's
worksheets are refused with a reason); at most MAX_CELLS cells and MAX_CELL_CHARS characters of
code per cell. A notebook that fails any of these is not read at all, with a reason that every
message about a chapter it could have served repeats.

What is taken from a notebook. Only cells of type "code" (markdown and raw cells are never code,
whatever they hold); a cell's source must be a string or a list of strings (else that cell is
not read, with a note). A cell whose first line is a cell magic (`%%bash`, `%%writefile`, ...) is
not Python and is skipped, except `%%time`, `%%timeit`, `%%capture`, whose body is read as a
cell. A cell is parsed as it is; when that fails, once more with IPython's line syntax made
inert: a line that starts (after its indentation) with `!` or `%`, or `NAME = !...`/`NAME =
%...`, and a help line (`name?`), each becomes `pass`, so line numbers stay. A cell that still
does not parse is not read (a note with the syntax error): it costs the exercises it defines,
and the other cells load. Of a cell's top-level statements only the definitions run:
- `import` and `from ... import` (but not of `kit`, the learner's checks: `import kit`,
  `from kit import check`); an import that fails is noted and the cell goes on;
- `def`, `async def`, `class` (with their decorators; a class body runs, as in a module);
- an assignment `NAME = value` / `A, B = value` / `NAME: T = value` whose value is a *simple
  expression*: constants, names, attribute lookups (`torch.float64`), tuples, lists, sets and
  dicts, unary, binary, boolean and comparison operators, subscripts and slices, `x if c else
  y`, f-strings, lambdas, and calls of what the notebook does not bind itself, i.e. of the
  libraries and builtins (`math.sqrt(2 / math.pi)`, `torch.tensor([1.0])`, `float("inf")`), with
  simple arguments; not a call of a name the notebooks handed in bind at top level (by def,
  class, an assignment or a loop: `model = train()`, `v = Value(2.0)`) or imports of the kit; no
  comprehension, `await`, `yield` or `:=`.
Everything else at top level never runs: bare calls (`kit.check(f)`, `train()`, a call that
raises), loops, `if`, `with`, `try`, bare expressions, `del`, augmented assignments, plots.
Each kept statement runs on its own, in order: one that raises (but MemoryError, and exits,
which end the load as they end a module's import) is noted and costs what it would have bound.
Tracebacks and notes name the cell as `hand-in.ipynb, cell 7` (cells counted from 1, every
kind counted, as they are listed in the file).

Which notebook serves which chapter (`NotebookImplementation`): a chapter's own module, when the
entry holds one (`ch1_sensitivity.py`), is graded, and the notebooks are not looked at for it.
Otherwise the chapter is served by every readable notebook that defines (def, class or kept
assignment, as above) at least one of the names the curriculum asks of that chapter (the
exercises' functions, chapter 7's `Value`); they all run, in the order of the names the student
gave them, into one module: no tie to break, and a name two of them define is the later one's,
as re-running a cell replaces a definition. A course notebook thus serves every chapter whose
names it defines, and its whole code is each chapter's module: a definition that hangs, exits or
exhausts memory while the notebook loads (a class body, a decorator, a constant) costs every
chapter the notebook serves, as a module's top level costs all of its chapter (with one
notebook per chapter, only that chapter's). No notebook defining any of the
names: the chapter is missing, and the message says so with every note (an unreadable notebook,
a cell not read, a statement that raised). `import ch6_functions` (or `from ch6_functions import
tanh`) in a notebook imports the chapter's notebook module when notebooks serve it.

What it says is the message of the same code in a module (a wrong answer's is the very same),
naming the notebook instead of the module: "hw.ipynb has no numeric_sensitivity", "not attempted:
f in hw.ipynb", tracebacks with `File "hw.ipynb, cell 3", line 2`; a missing name adds the notes
of the notebooks that serve its chapter.

The grader's first request to a notebook submission's process, ("sources",), is answered before
any line of the submission runs: the kept statements of each chapter served (`sources`), which the
grader scans for autograd (grading/notebook_scan.py).
"""
from __future__ import annotations
import __future__

import ast
import json
import linecache
import re
import sys
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from kit.autograd import learner as autograd
from kit.implementation import Implementation, LearnerError, _caused, learner_traceback
from kit.messages import loading
from kit.statuses import Status

MAX_BYTES = 16 << 20
MAX_CONTAINERS = 1_000_000
MAX_DEPTH = 100
MAX_CELLS = 5_000
MAX_CELL_CHARS = 1 << 20
MAX_NOTES = 6
PYTHON_CELL_MAGICS = ("time", "timeit", "capture")
ALLOCATION_FAILED = ("can't allocate memory", "not enough memory", "out of memory", "std::bad_alloc")

_MAGIC_LINE = re.compile(r"^([ \t]*)(?:[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*)?[!%]")
_HELP_LINE = re.compile(r"^([ \t]*)(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})[ \t]*$")


class Unreadable(Exception):
    """Why a notebook cannot be read at all, in words for the student."""


@dataclass
class Cell:
    label: str  # "hand-in.ipynb, cell 7"
    source: str = ""  # the text that was parsed (magics made inert), for tracebacks
    statements: list = field(default_factory=list)  # the kept top-level statements (ast)
    flags: int = 0  # the cell's __future__ flags
    defines: set = field(default_factory=set)
    tree: object = None  # the cell's syntax tree


@dataclass
class Notebook:
    name: str  # as the student named it
    cells: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # cells not read, and why
    problem: str = ""  # why it could not be read at all

    @property
    def defines(self) -> set:
        return set().union(*(c.defines for c in self.cells)) if self.cells else set()


# ---- reading the file ------------------------------------------------------------------------

def read(path: Path, name: str) -> Notebook:
    """The notebook at `path` (named `name` by the student), or one with its `problem` said."""
    notebook = Notebook(name)
    try:
        notebook.cells, notebook.notes = _cells(_document(path), name)
    except Unreadable as why:
        notebook.problem = f"{name} could not be read: {why}"
    except (RecursionError, MemoryError):
        notebook.problem = f"{name} could not be read: it is nested too deeply or too large"
    return notebook


def _document(path: Path) -> dict:
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Unreadable(f"it is larger than {MAX_BYTES >> 20} MB; clear its outputs and hand it in again")
    if data.count(b"[") + data.count(b"{") > MAX_CONTAINERS:
        raise Unreadable(f"it holds more than {MAX_CONTAINERS} lists and objects; clear its outputs "
                         f"and hand it in again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unreadable(f"it is not UTF-8 text (byte {error.start} is not); save it again from Jupyter") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise Unreadable(f"it is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as error:
        raise Unreadable(f"it is not valid JSON ({_short(str(error), 200)}); save it again from Jupyter") from None
    _check_depth(document)
    if type(document) is not dict:
        raise Unreadable(f"it is not a notebook (its JSON is {_kind(document)}, not an object)")
    version = document.get("nbformat")
    if "worksheets" in document or (type(version) is int and version < 4):
        raise Unreadable(f"it is an nbformat {version} notebook; open it in a current Jupyter and save it "
                         f"(nbformat 4)")
    if type(version) is not int or version != 4:
        raise Unreadable("it does not say it is an nbformat 4 notebook (its \"nbformat\" is "
                         f"{_short(repr(version), 40)})")
    if type(document.get("cells")) is not list:
        raise Unreadable("it has no list of cells")
    if len(document["cells"]) > MAX_CELLS:
        raise Unreadable(f"it has more than {MAX_CELLS} cells")
    return document


def _check_depth(document) -> None:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Unreadable(f"it is nested more than {MAX_DEPTH} levels deep")
        if type(value) is dict:
            stack += [(v, depth + 1) for v in value.values() if type(v) in (dict, list)]
        elif type(value) is list:
            stack += [(v, depth + 1) for v in value if type(v) in (dict, list)]


def _kind(value) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false",
            type(None): "null", dict: "an object"}.get(type(value), "a value")


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most] + "…"


# ---- the cells --------------------------------------------------------------------------------

def _cells(document: dict, name: str) -> tuple[list[Cell], list[str]]:
    cells, notes = [], []
    for number, raw in enumerate(document["cells"], 1):
        label = f"{name}, cell {number}"
        if type(raw) is not dict:
            notes.append(f"{label} was not read: it is {_kind(raw)}, not a cell")
            continue
        if raw.get("cell_type") != "code":
            continue  # markdown, raw: never code
        source = raw.get("source")
        if type(source) is list and all(type(s) is str for s in source):
            source = "".join(source)
        if type(source) is not str:
            notes.append(f"{label} was not read: its source is {_kind(source)}, not text")
            continue
        if len(source) > MAX_CELL_CHARS:
            notes.append(f"{label} was not read: it holds more than {MAX_CELL_CHARS} characters")
            continue
        cell, note = parse_cell(source, label)
        if note:
            notes.append(note)
        if cell is not None:
            cells.append(cell)
    own = set().union(*(bound_names(cell.tree) for cell in cells)) if cells else set()
    for cell in cells:
        select(cell, own)
    return cells, notes


def parse_cell(source: str, label: str, own: set | None = None) -> tuple[Cell | None, str]:
    """(the cell, parsed, or None; a note, or ""). Its statements are selected at once when `own`
    (the names the notebook binds) is given, else by `select` once every cell is parsed."""
    first, _, rest = source.lstrip("\n").partition("\n")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return None, ""  # %%bash, %%writefile, ...: not Python
        lines = source.split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("%%"))
        lines[at] = ""
        source = "\n".join(lines)
    tree = _parse(source, label)
    if isinstance(tree, str):
        inert = inert_magics(source)
        again = _parse(inert, label) if inert != source else tree
        if isinstance(again, str):
            return None, f"{label} was not read: {tree}"
        source, tree = inert, again
    cell = Cell(label, source, tree=tree)
    if own is not None:
        select(cell, own)
    return cell, ""


def bound_names(tree: ast.Module) -> set[str]:
    """The names a cell's top level binds itself (def, class, any assignment or loop target) and
    those it imports of the kit (`import kit`): a call of one of them never runs at top level."""
    names = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
            continue
        if isinstance(statement, (ast.Import, ast.ImportFrom)):  # the kit's checks never run here
            if isinstance(statement, ast.Import) or (statement.level == 0 and _kit(statement.module or "")):
                names |= {(a.asname or a.name).split(".")[0] for a in statement.names
                          if isinstance(statement, ast.ImportFrom) or _kit(a.name)}
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else \
            [statement.target] if isinstance(statement, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)) else []
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def select(cell: Cell, own: set) -> None:
    """The cell's kept statements (the rule of the module docstring); `own`: the names the notebook
    binds itself, whose calls never run at top level."""
    cell.statements, cell.defines, cell.flags = [], set(), 0
    for statement in cell.tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                feature = getattr(__future__, alias.name, None)
                cell.flags |= getattr(feature, "compiler_flag", 0)
            continue
        kept = definition(statement, own)
        if kept is not None:
            cell.statements.append(kept)
            cell.defines |= defined_names(kept)


def _parse(source: str, label: str):
    try:
        return ast.parse(source, filename=label)
    except SyntaxError as error:
        return "".join(traceback.format_exception_only(type(error), error)).strip()
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        return f"{type(error).__name__}: {_short(str(error), 200)}"


def inert_magics(source: str) -> str:
    """IPython's line syntax made `pass` (line numbers kept): `!cmd`, `%magic`, `x = !cmd`, `name?`."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        found = _MAGIC_LINE.match(line) or _HELP_LINE.match(line)
        if found:
            lines[i] = found.group(1) + "pass"
    return "\n".join(lines)


def definition(statement: ast.stmt, own: set = frozenset()) -> ast.stmt | None:
    """The statement if it is a definition (the rule of the module docstring), else None; an
    import of the kit is left out of an import of several modules."""
    if isinstance(statement, ast.Import):
        names = [a for a in statement.names if not _kit(a.name)]
        if not names:
            return None
        if len(names) != len(statement.names):
            statement = ast.copy_location(ast.Import(names=names), statement)
            statement.end_lineno, statement.end_col_offset = statement.lineno, statement.col_offset
        return statement
    if isinstance(statement, ast.ImportFrom):
        return None if statement.level == 0 and _kit(statement.module or "") else statement
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement
    if isinstance(statement, ast.Assign):
        if all(_target(t) for t in statement.targets) and simple(statement.value, own):
            return statement
        return None
    if isinstance(statement, ast.AnnAssign):
        if isinstance(statement.target, ast.Name) and statement.value is not None and simple(statement.value, own):
            return statement
    return None


def _kit(module: str) -> bool:
    return module == "kit" or module.startswith("kit.")


def _target(node) -> bool:
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Starred):
        return _target(node.value)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_target(e) for e in node.elts)
    return False


_SIMPLE = (ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp,
           ast.BinOp, ast.BoolOp, ast.Compare, ast.Subscript, ast.Slice, ast.IfExp, ast.JoinedStr,
           ast.FormattedValue, ast.Starred, ast.Lambda, ast.expr_context, ast.operator, ast.unaryop,
           ast.boolop, ast.cmpop)


def simple(node, own: set = frozenset()) -> bool:
    """A simple expression: no comprehension, await, yield or :=, and no call but of what the
    notebook does not define itself (`math.sqrt(2)`, `torch.tensor([1.0])`, `float("inf")`: the
    libraries' and builtins'; not `train()`, `Value(2.0)`). A lambda's body is not run."""
    if isinstance(node, ast.Lambda):
        return True
    if isinstance(node, ast.Call):
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in own:
            return False
        return all(simple(child, own) for child in [node.func, *node.args, *(k.value for k in node.keywords)])
    if not isinstance(node, _SIMPLE):
        return False
    return all(simple(child, own) for child in ast.iter_child_nodes(node))


def defined_names(statement: ast.stmt) -> set[str]:
    """The names a kept statement binds (imports bind no curriculum name: they are not counted)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    targets = statement.targets if isinstance(statement, ast.Assign) else \
        [statement.target] if isinstance(statement, ast.AnnAssign) else []
    names = set()
    for target in targets:
        names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def kept_text(cell: Cell) -> str:
    """The cell's text with only its kept statements' lines (others blank): what the grader
    scans for autograd, at the lines the cell has them."""
    lines = cell.source.split("\n")
    keep = set()
    for statement in cell.statements:
        start = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        keep |= set(range(start, (statement.end_lineno or statement.lineno) + 1))
    return "\n".join(line if i in keep else "" for i, line in enumerate(lines, 1))


# ---- the chapters, loaded from notebooks ---------------------------------------------------------

class NotebookImplementation(Implementation):
    """A student's folder of modules and notebooks: `notebooks` is ((file in the folder, name the
    student gave it), ...); `targets` the exercises (their module and attribute: the
    curriculum's names of each chapter)."""

    def __init__(self, folder, notebooks, targets: dict):
        super().__init__(folder)
        self.files = tuple(sorted(notebooks, key=lambda n: n[1]))
        self.names: dict[str, set] = {}
        for target in targets.values():
            self.names.setdefault(target.module, set()).add(target.attribute)
        self._notebooks: list[Notebook] | None = None
        self._notes: dict[str, list[str]] = {}  # chapter -> notes of its load
        self._loading: set[str] = set()  # chapters being loaded (an import of itself is not served)
        self._finder = _ChapterFinder(self)
        sys.meta_path.insert(0, self._finder)

    def notebooks(self) -> list[Notebook]:
        if self._notebooks is None:
            self._notebooks = [read(self.folder / file, name) for file, name in self.files]
            if len(self._notebooks) > 1:  # a function one notebook defines is not called at another's top level
                cells = [cell for nb in self._notebooks for cell in nb.cells]
                own = set().union(*(bound_names(cell.tree) for cell in cells)) if cells else set()
                for cell in cells:
                    select(cell, own)
        return self._notebooks

    def has_module(self, chapter: str) -> bool:
        return (self.folder / f"{chapter}.py").is_file()

    def serving(self, chapter: str) -> list[Notebook]:
        """The notebooks that serve `chapter` (none when its module was handed in)."""
        if self.has_module(chapter) or chapter not in self.names:
            return []
        return [nb for nb in self.notebooks() if not nb.problem and nb.defines & self.names[chapter]]

    def sources(self) -> dict[str, list[list[str]]]:
        """{chapter: [[cell label, kept text], ...]} of every chapter served by notebooks."""
        return {chapter: [[cell.label, kept_text(cell)] for nb in self.serving(chapter) for cell in nb.cells]
                for chapter in sorted(self.names) if self.serving(chapter)}

    def path(self, module: str) -> Path:
        serving = self.serving(module)
        return Path(serving[0].name) if serving else super().path(module)

    def _notes_for(self, chapter: str, serving: list[Notebook]) -> str:
        notes = [nb.problem for nb in self.notebooks() if nb.problem]
        for nb in serving or self.notebooks():
            notes += nb.notes
        notes += self._notes.get(chapter, [])
        if not notes:
            return ""
        shown = notes[:MAX_NOTES] + ([f"... and {len(notes) - MAX_NOTES} more"] if len(notes) > MAX_NOTES else [])
        return "\nIn your notebooks:\n" + "\n".join(f"- {n}" for n in shown)

    @autograd.loads(LearnerError)
    def _import(self, name: str) -> types.ModuleType:
        if self.has_module(name) or not self.files:
            return Implementation._import.__wrapped__(self, name)
        serving = self.serving(name)
        if not serving:
            text = loading.missing_module(super().path(name), name, self.folder)
            wanted = ", ".join(sorted(self.names.get(name, ())))
            text += f"; and no notebook handed in defines {wanted}" + self._notes_for(name, [])
            raise LearnerError(Status.MISSING, text)
        private = f"_kit_impl_{self._tag}.{name}"
        module = types.ModuleType(private)
        self._loading.add(name)
        module.__file__ = serving[0].name
        notes = self._notes.setdefault(name, [])
        for notebook in serving:
            for cell in notebook.cells:
                linecache.cache[cell.label] = (len(cell.source), None, cell.source.splitlines(True), cell.label)
                for statement in cell.statements:
                    try:
                        self._run(statement, cell, module, notes)
                    except BaseException:
                        self._loading.discard(name)
                        raise
        self._loading.discard(name)
        sys.modules[private] = module
        return module

    def _run(self, statement, cell: Cell, module, notes: list[str]) -> None:
        try:
            code = compile(ast.Module([statement], []), cell.label, "exec", flags=cell.flags, dont_inherit=True)
        except (SyntaxError, ValueError) as error:
            notes.append(f"{cell.label}, line {statement.lineno} was not run: {_short(str(error), 200)}")
            return
        try:
            autograd.run(exec, code, module.__dict__)
        except ImportError as error:
            if getattr(error, "name", None) in self._loading:
                return  # the chapter being loaded imports itself: its names are here already
            notes.append(f"{cell.label}, line {statement.lineno}: the import failed ({_short(str(error), 200)})")
        except Exception as error:
            if isinstance(error, MemoryError) or (isinstance(error, RuntimeError)
                                                  and any(s in str(error) for s in ALLOCATION_FAILED)):
                text = loading.broken_module(cell.label, learner_traceback(error, self.folder))
                raise _caused(LearnerError(Status.ERROR, text), error) from None
            shown = learner_traceback(error, self.folder)
            notes.append(f"{cell.label}, line {statement.lineno} raised, so what it defines is missing:\n"
                         + _short(shown, 1500))

    @autograd.calls(LearnerError)
    def call(self, exercise, args):
        serving = self.serving(exercise.module)
        if serving:
            module = self.module(exercise.module)
            if not hasattr(module, exercise.attribute):
                names = ", ".join(nb.name for nb in serving)
                text = loading.missing_name(names, exercise.attribute) + self._notes_for(exercise.module, serving)
                raise LearnerError(Status.MISSING, text)
        return Implementation.call.__wrapped__(self, exercise, args)


class _ChapterFinder:
    """`import ch6_functions` in a notebook: the chapter's notebook module, when notebooks serve it."""

    def __init__(self, impl: NotebookImplementation):
        self.impl = impl

    def find_spec(self, fullname, path=None, target=None):
        if "." in fullname or fullname in self.impl._loading or not self.impl.serving(fullname):
            return None
        import importlib.machinery
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return self.impl.module(spec.name)  # a LearnerError fails the import that asked

    def exec_module(self, module):
        pass
