"""The curriculum as a page learners read (CURRICULUM.md), generated from the registry and the stubs' docstrings.

    python -m kit.curriculum            print the page
    python -m kit.curriculum --write    write CURRICULUM.md beside exercises/

The page is never written by hand, so it cannot drift from the exercises: each chapter's
introduction is its stub module's docstring, each exercise's entry is the signature and the
docstring of the function (or, in chapter 7, the method) the learner writes, in curriculum
order and numbered as the grader numbers them (3.2: chapter 3, its second exercise).
tests/self/test_curriculum_page.py checks that the page checked in is the page generated.
The stubs are read as source (ast), never imported.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[1]
PAGE = "CURRICULUM.md"

CONVENTIONS = """\
Every exercise follows the same rules:

- An exercise is named `<module>.<function>`, e.g. `ch6_functions.sigmoid_grad`: that is its
  name in test ids, in `kit check` and `kit hint`, and in grade tables.
- Numbers are Python floats; tensors are `torch.float64` (index tensors `torch.int64`, masks
  `torch.bool`, True = kept). A function returns the kind of value it is given.
- Derivatives are computed by hand, with `math` and plain tensor operations. Autograd
  (`.backward()`, `torch.autograd`, `torch.func`, `requires_grad`) is what the answers are
  checked against, so an answer that uses it scores zero when graded.
- A function never changes the tensors, lists or dicts it is given: in a real backward pass
  they are still needed elsewhere. It returns new ones.
- Where ReLU's input is exactly 0, its slope is taken as 0, as torch does.
"""


def _module_tree(module: str) -> ast.Module:
    return ast.parse((ROOT / "exercises" / f"{module}.py").read_text(encoding="utf-8"))


def _definition(tree: ast.Module, exercise) -> ast.FunctionDef | None:
    """The def the learner writes for `exercise`: a function, or a method of chapter 7's class."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == exercise.name:
            return node
        if isinstance(node, ast.ClassDef) and node.name == exercise.symbol:
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name in (exercise.name, f"__{exercise.name}__"):
                    return method
    return None


def _signature(node: ast.FunctionDef, owner: str) -> str:
    arguments = ast.unparse(node.args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{owner}{node.name}({arguments}){returns}"


def _doc(text: str | None) -> str:
    """A docstring as Markdown: its first line a paragraph, the rest kept as written (a block)."""
    if not text:
        return ""
    first, _, rest = text.strip().partition("\n")
    rest = "\n".join(line.rstrip() for line in rest.strip("\n").splitlines())
    import textwrap

    rest = textwrap.dedent(rest).strip()
    return first + ("\n\n```text\n" + rest + "\n```" if rest else "")


def page() -> str:
    lines = ["# The curriculum", "",
             "What each chapter asks you to write, in order: the functions of `exercises/`, each with "
             "its page (the same text as in the stub). `kit hint NAME` gives a hint; `kit check NAME` checks "
             "one exercise. This page is generated from the stubs (`python -m kit.curriculum --write`).", "",
             "## The rules", "", CONVENTIONS]
    for number, (module, title) in enumerate(CHAPTERS.items(), start=1):
        tree = _module_tree(module)
        intro = ast.get_docstring(tree) or ""
        heading, _, body = intro.partition("\n")
        lines += [f"## {number}. {title} (`exercises/{module}.py`)", ""]
        if body.strip():
            lines += [body.strip(), ""]
        exercises = [e for e in EXERCISES.values() if e.module == module]
        for position, exercise in enumerate(exercises, start=1):
            node = _definition(tree, exercise)
            lines += [f"### {number}.{position} `{exercise.name}`", ""]
            if node is None:
                lines += [f"Exercise `{exercise.id}`; domain: {exercise.domain}.", ""]
                continue
            owner = f"{exercise.symbol}." if exercise.symbol else ""
            lines += [f"`{_signature(node, owner)}`", "", _doc(ast.get_docstring(node)), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = page()
    if argv == ["--write"]:
        (ROOT / PAGE).write_text(text, encoding="utf-8")
        print(f"wrote {ROOT / PAGE}", file=sys.stderr)
    elif argv:
        print("usage: python -m kit.curriculum [--write]", file=sys.stderr)
        return 2
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
