"""`kit notebook --out DIR`: one Jupyter notebook per chapter, generated from the stubs.

Each chapter's notebook (`ch3_power_rule.ipynb`) is made from its stub, exercises/<module>.py
(from the kit's clone, or the copy a built kit carries: kit/learner_cli.py's workspace_files),
so it never drifts from it:

- a title cell: the chapter's introduction (the module's docstring), links to the chapters
  before and after it, and how the notebook works;
- a cell that installs the kit where it is missing (Colab): INSTALL, without its torch, so that
  Colab's own stays; then `import kit` and the stub's own imports and constants;
- per function or class of the stub: its docstring as a page, a cell with the stub to fill in
  (its source, docstring and all), and, for an exercise of the registry, a check cell,
  `kit.check(square_grad)` (kit/notebook/checks.py);
- a last cell: `kit.check()`, the chapter's progress, and the links again.

Where the kit is installed from is KIT_SOURCE, a pip requirement, until the course says where
it lives: `kit notebook --source "git+https://.../backprop-kit.git"` (or a wheel's URL).
Cell ids are the chapter's and the cell's number: the same stubs give the same bytes.
"""
from __future__ import annotations

import ast
import inspect
import json
import re
import tomllib
from pathlib import Path

# the kit, as pip is told to install it in Colab: a placeholder until the course publishes it
KIT_SOURCE = "git+https://example.com/your-course/backprop-kit.git"
NOT_IN_COLAB = ("torch",)  # the kit's dependencies that the install leaves alone (Colab has its own)
INSTALL = '''\
# Installs the kit where it is missing (Colab): the kit itself without its dependencies, then
# those it needs but torch, so that this runtime's own torch stays. With the kit installed
# (a local Jupyter: pip install -e ".[notebook]"), this cell does nothing.
import importlib.util, subprocess, sys
KIT_SOURCE = {source}
KIT_DEPENDENCIES = {deps}
if importlib.util.find_spec("kit.notebook") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-deps", KIT_SOURCE])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *KIT_DEPENDENCIES])
    importlib.invalidate_caches()  # (what pip just installed, importable in this running kernel)'''
HOW = ("*How this notebook works:* under each exercise, write your answer in the cell that holds its "
       "stub (replace `raise NotImplementedError`), run that cell, then the check cell below it: "
       "`kit.check(...)` tries your function on the worked examples and on inputs drawn by hypothesis, "
       "against torch.autograd, exactly as `pytest` does in the kit's repository. The notebook stands "
       "alone: a function of an earlier chapter that you want to reuse goes in a cell above.")
DROPPED = ("Run `pytest", "Open report.html")  # paragraphs of the stubs that speak of files and pytest
LABELS = ("Derive", "Domain", "Worked number", "Worked numbers", "Points to derive")  # bold at a line's start


def dependencies(root: Path | None = None) -> list[str]:
    """The kit's own dependencies but those Colab has its own of (NOT_IN_COLAB), as pip requirements."""
    from kit.learner_cli import ROOT

    pyproject = (root or ROOT) / "pyproject.toml"
    if pyproject.is_file():
        found = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    else:  # an installed kit: its metadata
        from importlib.metadata import requires

        found = [r for r in requires("backprop-kit") or [] if "extra ==" not in r]
    return [r.replace(" ", "") for r in found if re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] not in NOT_IN_COLAB]


def notebook_name(module: str) -> str:
    return f"{module}.ipynb"


def chapter_stubs() -> dict[str, str]:
    """{module: the stub's source} of every chapter of the registry, in curriculum order."""
    from kit.learner_cli import workspace_files
    from kit.registry import CHAPTERS

    found, _ = workspace_files()
    stubs = {Path(path).stem: data.decode("utf-8") for path, data in found if path.startswith("exercises/")}
    return {module: stubs[module] for module in CHAPTERS if module in stubs}


def write(out: Path, source: str = KIT_SOURCE) -> list[Path]:
    """Write a notebook per chapter into `out`; the paths written, in curriculum order."""
    import nbformat  # (here: `kit --help` reads KIT_SOURCE, and needs nothing else of this module)

    out.mkdir(parents=True, exist_ok=True)
    stubs = chapter_stubs()
    written = []
    for module, text in stubs.items():
        path = out / notebook_name(module)
        nbformat.write(chapter_notebook(module, text, list(stubs), source), str(path))
        written.append(path)
    return written


def chapter_notebook(module: str, stub: str, modules: list[str], source: str = KIT_SOURCE):
    """The notebook of one chapter, from its stub's source; `modules`: the chapters, for the links."""
    from nbformat import v4

    from kit.registry import CHAPTERS, chapter

    tree = ast.parse(stub)
    lines = stub.splitlines()
    intro = ast.get_docstring(tree, clean=True) or ""
    exercises = {}
    for exercise in chapter(module):
        exercises.setdefault(exercise.attribute, []).append(exercise)
    setup, parts = ["import kit"], []
    for node in tree.body:
        if _is_docstring(node):
            continue
        text = _segment(lines, node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            parts.append((node, text))
        else:
            setup.append(text)
    number = modules.index(module) + 1
    title = CHAPTERS.get(module, module)
    cells = [v4.new_markdown_cell(_title(number, title, intro, module, modules))]
    cells.append(v4.new_code_cell(INSTALL.format(source=json.dumps(source), deps=json.dumps(dependencies()))))
    cells.append(v4.new_code_cell("\n".join(setup)))
    for node, text in parts:
        cells.append(v4.new_markdown_cell(_page(node)))
        cells.append(v4.new_code_cell(text))
        if node.name in exercises:
            cells.append(v4.new_code_cell(f"kit.check({node.name})"))
    cells.append(v4.new_markdown_cell(f"## Your progress in chapter {number}\n\nEvery exercise of this notebook that "
                                      f"you have run, checked again:"))
    cells.append(v4.new_code_cell("kit.check()"))
    cells.append(v4.new_markdown_cell(_links(module, modules)))
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "backprop_kit": {"chapter": module},
    })
    for index, cell in enumerate(notebook.cells):  # stable ids: the same stubs, the same file
        cell["id"] = f"{module.split('_')[0]}-{index:02d}"
    return notebook


def _is_docstring(node) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _segment(lines: list[str], node) -> str:
    """The statement's source, with its decorators and the comment lines right above it."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[start:node.end_lineno]).rstrip()


def _title(number: int, title: str, intro: str, module: str, modules: list[str]) -> str:
    head, _, body = intro.partition("\n")
    heading = head.rstrip(".") if head.lower().startswith("chapter") else f"Chapter {number}: {title}"
    paragraphs = [p for p in body.strip().split("\n\n") if p.strip() and not p.lstrip().startswith(DROPPED)]
    return "\n\n".join([f"# {heading}", _links(module, modules), *map(_markdown, paragraphs), HOW])


def _page(node) -> str:
    """An exercise's (or a helper's) page: its signature as the heading, its docstring as the text."""
    if isinstance(node, ast.ClassDef):
        heading = f"## `class {node.name}`"
    else:
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        heading = f"## `{node.name}({ast.unparse(node.args)}){returns}`"
    doc = inspect.cleandoc(ast.get_docstring(node, clean=False) or "")
    return "\n\n".join([heading, *map(_markdown, doc.split("\n\n"))]) if doc else heading


def _markdown(paragraph: str) -> str:
    """A docstring's paragraph as markdown: its labels bold; indented lines stay code, as markdown reads them."""
    pattern = r"(^|\n)( {0,3})(" + "|".join(map(re.escape, sorted(LABELS, key=len, reverse=True))) + r"):"
    return re.sub(pattern, r"\1\n\2**\3:**", paragraph).strip("\n")


def _links(module: str, modules: list[str]) -> str:
    """Links to the chapters before and after this one: relative, as the notebooks sit side by side."""
    from kit.registry import CHAPTERS

    at = modules.index(module)
    links = []
    if at > 0:
        before = modules[at - 1]
        links.append(f"[← Chapter {at}: {CHAPTERS.get(before, before)}]({notebook_name(before)})")
    if at + 1 < len(modules):
        after = modules[at + 1]
        links.append(f"[Chapter {at + 2}: {CHAPTERS.get(after, after)} →]({notebook_name(after)})")
    return " · ".join(links)
