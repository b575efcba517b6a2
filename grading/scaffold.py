"""`kit new-exercise MODULE NAME --formula EXPR`: scaffold an exercise by the kit's conventions.

    kit new-exercise ch3_power_rule cube_grad --formula "x ** 3"
    kit new-exercise ch10_curvature wave_slope --formula "torch.sin(x) * x" --title "Curvature"

The exercise asks for the slope of the machine x ↦ EXPR at x (EXPR is a torch expression in
x); its reference is torch.autograd's derivative of EXPR. The scaffold writes, and never
overwrites:

- exercises/MODULE.py: the stub, raising NotImplementedError("MODULE.NAME"), with a docstring
  skeleton (what, Derive:, Domain:, Worked number: computed by torch at x = 2);
- solutions/MODULE.py: the solution's signature; it raises NotImplementedError until the
  instructor writes the derivative by hand;
- kit/chapters/MODULE.py: the reference and the Exercise (inputs st.tuples(reals()), the worked
  example, the domain, placeholder hints, a nudged-slope estimate);
The rubric is left as it is: a new exercise is worth what its chapter's exercises are worth
([chapters] in grading/rubric.toml, else Exercise.points), and an instructor who wants another
weight gives it under [points].

For a new MODULE (the next chapter number) it also creates the module files, the chapter's
entry in kit/registry.py CHAPTERS, tests/test_MODULE.py and tests/self/variants/MODULE.py (empty
WRONG and RIGHT lists, for the instructor to fill). Everything is checked before anything is
written: an existing exercise, a bad name or a formula torch cannot differentiate at x = 2 is
refused with the reason. --root (default: this repository) scaffolds into another copy.
"""
from __future__ import annotations

import ast
import keyword
import math
import re
import sys
import tomllib
from pathlib import Path

MODULE = re.compile(r"ch([1-9][0-9]*)_([a-z][a-z0-9]*(?:_[a-z0-9]+)*)")
WORKED_X = 2.0
LOW, HIGH = -10.0, 10.0  # kit.strategies.reals()
TODO = "TODO (kit new-exercise):"
# names the chapter module needs; an exercise named like one would hide it
HELPERS = {"st": "import hypothesis.strategies as st", "torch": "import torch",
           "Exercise": "from kit.exercise import Exercise", "derivative": "from kit.reference import derivative",
           "slope_estimate": "from kit.reference import slope_estimate", "reals": "from kit.strategies import reals"}


class ScaffoldError(Exception):
    pass


def scaffold(root: Path, module: str, name: str, formula: str, title: str | None = None) -> list[Path]:
    """Write the exercise's files under root; returns them. Raises ScaffoldError before writing."""
    files = plan(root, module, name, formula, title)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def plan(root: Path, module: str, name: str, formula: str, title: str | None = None) -> dict[Path, str]:
    """{path: its new text} for every file the scaffold writes."""
    match = MODULE.fullmatch(module)
    if not match:
        raise ScaffoldError(f"{module!r} is not a module name of the form chN_word (e.g. ch10_curvature): "
                            f"'ch', the chapter number, '_', then lowercase words joined by '_'")
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
        raise ScaffoldError(f"{name!r} is not a valid Python function name")
    if name in HELPERS or name == "EXERCISES":
        raise ScaffoldError(f"{name!r} would hide a name the chapter module uses; choose another name")
    paths = {
        "registry": root / "kit" / "registry.py",
        "chapter": _chapter_declarations(root / "kit" / "chapters", module),
        "stub": root / "exercises" / f"{module}.py",
        "solution": root / "solutions" / f"{module}.py",
        "test": root / "tests" / f"test_{module}.py",
        "variants": root / "tests" / "self" / "variants" / f"{module}.py",
        "rubric": root / "grading" / "rubric.toml",
    }
    for needed in (paths["registry"], paths["rubric"], root / "pyproject.toml", root / "exercises", root / "solutions"):
        if not needed.exists():
            raise ScaffoldError(f"{root} is not the kit's repository: {needed} not found (see --root)")
    chapters = _chapters(paths["registry"])
    worked = _worked_number(formula)
    exercise_id = f"{module}.{name}"
    rubric_text = paths["rubric"].read_text(encoding="utf-8")
    try:
        points = tomllib.loads(rubric_text).get("points", {})
    except tomllib.TOMLDecodeError as error:
        raise ScaffoldError(f"{paths['rubric']} is not valid TOML: {error}") from None
    if exercise_id in points:
        raise ScaffoldError(f"{exercise_id} already exists: grading/rubric.toml gives it points")

    files: dict[Path, str] = {}
    number = int(match.group(1))
    if module in chapters:
        for key in ("chapter", "stub", "solution"):
            if not paths[key].is_file():
                raise ScaffoldError(f"{module} is in kit/registry.py but {paths[key]} is missing")
        chapter_text = paths["chapter"].read_text(encoding="utf-8")
        for key in ("stub", "solution"):
            if name in _defined(paths[key].read_text(encoding="utf-8")):
                raise ScaffoldError(f"{exercise_id} already exists: {paths[key]} defines {name}")
        files[paths["chapter"]] = _add_to_chapter(chapter_text, module, name, formula, paths["chapter"])
        files[paths["stub"]] = _append(paths["stub"].read_text(encoding="utf-8"),
                                       stub(module, name, formula, worked))
        files[paths["solution"]] = _append(paths["solution"].read_text(encoding="utf-8"),
                                           solution(module, name, formula))
    else:
        numbers = {int(MODULE.fullmatch(m).group(1)) for m in chapters if MODULE.fullmatch(m)}
        if number != len(chapters) + 1 or number in numbers:
            raise ScaffoldError(f"a new chapter takes the next number, ch{len(chapters) + 1}_..., not {module} "
                                f"(kit grade --only counts chapters in order)")
        left = [str(paths[k]) for k in ("chapter", "stub", "solution", "test", "variants") if paths[k].exists()]
        if left:
            raise ScaffoldError(f"{module} is not in kit/registry.py, yet {', '.join(left)} exist; "
                                f"remove them or add the chapter to CHAPTERS by hand")
        title = title or match.group(2).replace("_", " ").capitalize()
        files[paths["registry"]] = _add_chapter(paths["registry"].read_text(encoding="utf-8"), module, title)
        files[paths["chapter"]] = new_chapter(module, number, title, name, formula)
        files[paths["stub"]] = (f'"""Chapter {number}: {title}.\n\n{TODO} the chapter\'s idea for the learner, '
                                f"in the tutorial's words.\n\nRun `pytest tests/test_{module}.py` to check your "
                                f'answers against torch.autograd.\n"""\n' + stub(module, name, formula, worked))
        files[paths["solution"]] = (f'"""Chapter {number}: {title}. Reference solutions, by hand."""\n'
                                    + solution(module, name, formula))
        files[paths["test"]] = TEST.format(number=number, module=module)
        files[paths["variants"]] = VARIANTS.format(number=number, todo=TODO)
    return files


# ---- checks -------------------------------------------------------------------------------------

def _chapter_declarations(chapters: Path, module: str) -> Path:
    """Where a chapter declares its exercises: its module, or a chapter package's declarations.py."""
    package = chapters / module
    return package / "declarations.py" if package.is_dir() else chapters / f"{module}.py"


def _chapters(registry: Path) -> dict[str, str]:
    """CHAPTERS of a registry.py, read without importing it (root may be another copy of the kit)."""
    node = _assignment(ast.parse(registry.read_text(encoding="utf-8")), "CHAPTERS")
    if node is None or not isinstance(node.value, ast.Dict):
        raise ScaffoldError(f"{registry}: no CHAPTERS = {{...}} found")
    return ast.literal_eval(node.value)


def _assignment(tree: ast.Module, target: str):
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id == target for t in targets):
            return node
    return None


def _defined(source: str) -> set[str]:
    """The names a module binds at its top level."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _worked_number(formula: str) -> float:
    """d(formula)/dx at x = 2, by torch.autograd; refuses what is not a torch expression in x."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as error:
        raise ScaffoldError(f"--formula {formula!r} is not a Python expression: {error.msg}") from None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if "x" not in names or names - {"x", "torch"}:
        raise ScaffoldError(f"--formula {formula!r}: use x and torch only (e.g. \"x ** 3\", \"torch.sin(x) * x\")"
                            f"{'; it does not use x' if 'x' not in names else ''}")
    import torch

    from kit.reference import derivative

    try:
        value = derivative(eval(f"lambda x: {formula}", {"torch": torch}))(WORKED_X)  # the instructor's own formula
    except Exception as error:
        raise ScaffoldError(f"--formula {formula!r}: torch.autograd cannot differentiate it at x = {WORKED_X}: "
                            f"{type(error).__name__}: {error}") from None
    if not math.isfinite(value):
        raise ScaffoldError(f"--formula {formula!r}: its slope at x = {WORKED_X} is {value}; the worked number "
                            f"must be finite")
    return value


# ---- the texts -----------------------------------------------------------------------------------

def _number(value: float) -> str:
    short = f"{value:.6g}"
    return f"== {float(short)!r}" if float(short) == value else f"≈ {short}"


def stub(module: str, name: str, formula: str, worked: float) -> str:
    return f'''

def {name}(x: float) -> float:
    """The slope of the machine x ↦ {formula}, at x: d({formula})/dx.

    {TODO} what the machine does, in the tutorial's words (machines, the hourly wage).
    Derive: {TODO} the steps to the slope (nudge x by a sliver, ...), not the answer.
    Domain: x in [{LOW:g}, {HIGH:g}].
    Worked number: {name}({WORKED_X}) {_number(worked)}.
    """
    raise NotImplementedError("{module}.{name}")
'''


def solution(module: str, name: str, formula: str) -> str:
    return f'''

def {name}(x: float) -> float:
    # {TODO} d({formula})/dx, by hand (no autograd). Until then the tests fail.
    raise NotImplementedError("{module}.{name}: the solution is not written yet")
'''


def reference(name: str, formula: str) -> str:
    return f"def {name}(x):\n    return derivative(lambda x: {formula})(x)\n"


def declaration(module: str, name: str, formula: str) -> str:
    """The reference, then its declaration (kit/exercise.py): every field by keyword."""
    return f'''

{reference(name, formula)}

EXERCISES.append(Exercise(
    module="{module}", name="{name}", reference={name},
    inputs=st.tuples(reals()),
    examples=(({WORKED_X},),),
    domain="x in [{LOW:g}, {HIGH:g}]",
    hint="{TODO} one sentence that points at the idea, not at the answer.",
    more="{TODO} a second, more direct hint.",
    estimate=slope_estimate(lambda x: {formula}),
))
'''


def new_chapter(module: str, number: int, title: str, name: str, formula: str) -> str:
    imports = [HELPERS["st"]] + ([HELPERS["torch"]] if _uses_torch(formula) else [])
    return (f'"""Chapter {number}, {title.lower()}: {TODO} the chapter\'s idea in one line."""\n'
            + "\n".join(imports) + "\n\nfrom kit.exercise import Exercise\n"
            "from kit.reference import derivative, slope_estimate\nfrom kit.strategies import reals\n\n"
            "EXERCISES: list[Exercise] = []\n" + declaration(module, name, formula))


def _uses_torch(formula: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "torch" for n in ast.walk(ast.parse(formula, mode="eval")))


TEST = '''"""Chapter {number} against torch.autograd: each exercise on the worked examples, then hypothesis' inputs."""
from kit.check import check
from kit.plugin import each_exercise


@each_exercise("{module}")
def test_exercise(exercise, impl):
    check(exercise, impl)
'''

VARIANTS = '''"""Chapter {number} variants: answers that must fail (WRONG), and answers written differently that
must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace.

{todo} every exercise needs at least two WRONG variants (the
classic mistakes) and one RIGHT variant (a right answer written differently);
tests/self/test_variants.py checks them.
"""

WRONG = []

RIGHT = []
'''


# ---- editing existing files ----------------------------------------------------------------------

def _append(source: str, text: str) -> str:
    return source.rstrip("\n") + "\n" + text


def _add_to_chapter(source: str, module: str, name: str, formula: str, path: Path) -> str:
    """The chapter's declarations with the reference and its Exercise appended last, and any
    missing import."""
    tree = ast.parse(source)
    if name in _defined(source):
        raise ScaffoldError(f"{module}.{name} already exists: {path} defines {name}")
    if _assignment(tree, "EXERCISES") is None:
        raise ScaffoldError(f"{path}: no EXERCISES: list[Exercise] = [] found")
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Exercise" and any(
                k.arg == "name" and isinstance(k.value, ast.Constant) and k.value.value == name for k in call.keywords):
            raise ScaffoldError(f"{module}.{name} already exists: {path} declares it")
    lines = _append(source, declaration(module, name, formula)).splitlines(keepends=True)
    needed = ["st", "Exercise", "derivative", "slope_estimate", "reals"] + (["torch"] if _uses_torch(formula) else [])
    missing = [HELPERS[n] + "\n" for n in needed if n not in _defined(source)]
    if missing:
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        after = imports[-1].end_lineno if imports else _docstring_end(tree)
        lines[after:after] = missing
    return "".join(lines)


def _docstring_end(tree: ast.Module) -> int:
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno
    return 0


def _append_item(source: str, literal, item: str, path: Path) -> str:
    """`item` (whole lines) as the last element of a list or dict literal whose closing bracket
    stands on a line of its own; a comma goes after the element before it when it has none."""
    lines = source.splitlines(keepends=True)
    close = literal.end_lineno - 1
    if not re.fullmatch(r"\s*[\]}]\s*(#.*)?", lines[close].rstrip("\n")):
        raise ScaffoldError(f"{path}: the closing bracket of the literal on line {literal.lineno} is not on a "
                            f"line of its own; add the entry by hand")
    elements = literal.elts if isinstance(literal, ast.List) else literal.values
    if elements:
        row, column = elements[-1].end_lineno - 1, elements[-1].end_col_offset  # a column in UTF-8 bytes
        head = lines[row].encode()[:column].decode()
        rest = [lines[row][len(head):]] + lines[row + 1:close]
        code = "".join(line.split("#")[0] for line in rest).strip()
        if not code.startswith(","):
            lines[row] = head + "," + lines[row][len(head):]
    lines[close:close] = [item]
    return "".join(lines)


def _add_chapter(source: str, module: str, title: str) -> str:
    node = _assignment(ast.parse(source), "CHAPTERS")
    return _append_item(source, node.value, f"    {module!r}: {title!r},\n".replace("'", '"'), Path("kit/registry.py"))


# ---- the command line --------------------------------------------------------------------------------

NEW_HELP = "scaffold a new exercise: stub, solution, declaration and test"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "new-exercise", help=NEW_HELP, description=NEW_HELP + ". The exercise asks for d(EXPR)/dx at x.",
        epilog="Then: write the stub's docstring and the solution by hand, the two hints in "
               "kit/chapters/MODULE.py, and WRONG/RIGHT variants in tests/self/variants/MODULE.py.")
    parser.add_argument("module", metavar="MODULE", help="the chapter module, e.g. ch3_power_rule or a new ch10_word")
    parser.add_argument("name", metavar="NAME", help="the function's name, e.g. cube_grad")
    parser.add_argument("--formula", required=True, metavar="EXPR",
                        help='the machine, a torch expression in x, e.g. "x ** 3" or "torch.sin(x) * x"')
    parser.add_argument("--title", help="a new chapter's title (default: from its module name)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the kit's repository to write into (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        written = scaffold(args.root.resolve(), args.module, args.name, args.formula, args.title)
    except ScaffoldError as error:
        print(f"kit new-exercise: error: {error}", file=sys.stderr)
        return 2
    exercise_id = f"{args.module}.{args.name}"
    print(f"kit new-exercise: {exercise_id} scaffolded; wrote:", file=sys.stderr)
    for path in written:
        print(f"  {path}", file=sys.stderr)
    print(f"Next: fill in every '{TODO}' (docstring, solution, hints), then add two WRONG and one RIGHT "
          f"variant in tests/self/variants/{args.module}.py; then `python -m kit.curriculum --write` remakes "
          f"CURRICULUM.md from the stubs. Check with:\n"
          f"  pytest --impl solutions tests/test_{args.module}.py -k {args.name}\n"
          f"  pytest --impl solutions --self-tests tests/self -k {args.module}", file=sys.stderr)
    return 0
