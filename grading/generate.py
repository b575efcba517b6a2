"""Classes of submissions made from the repository's solutions/ and the self-test variants.

For the grader's self-tests and benchmark (needs a checkout: solutions/, tests/self/variants/).
A variant student hands in solutions/ with one module changed: that module's solution source,
then the variants file run in a namespace of its own, then one line that puts the chosen
WRONG or RIGHT replacement in place. A WRONG student must lose that exercise, a RIGHT one must
get full marks: the grader's verdicts can be checked against kit.check run in-process on the
very same folder.
"""
from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from kit.implementation import Implementation
from kit.registry import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
VARIANTS = ROOT / "tests" / "self" / "variants"
# the variants of chapter 7 build on the solution's Value, which they import from solutions/;
# in a submission the Value defined just above is the solution's
_SOLUTION_IMPORT = re.compile(r'Implementation\([^\n]*?"solutions"\)\.module\("\w+"\)')


@dataclass(frozen=True)
class Variant:
    module: str
    kind: str  # "WRONG" or "RIGHT"
    index: int
    name: str  # the exercise's function name
    why: str

    @property
    def student(self) -> str:
        return f"{self.module}-{self.kind.lower()}-{self.index:02d}"

    @property
    def exercise(self) -> str:
        return f"{self.module}.{self.name}"


def modules() -> list[str]:
    """The curriculum modules with a solution, in curriculum order."""
    return [m for m in CHAPTERS if (SOLUTIONS / f"{m}.py").is_file()]


def variants(kinds=("WRONG", "RIGHT")) -> list[Variant]:
    loaded = Implementation(VARIANTS)
    found = []
    for module in modules():
        if not (VARIANTS / f"{module}.py").is_file():
            continue
        for kind in kinds:
            for i, (name, why, _) in enumerate(getattr(loaded.module(module), kind, [])):
                found.append(Variant(module, kind, i, name, why))
    return found


def variant_source(variant: Variant) -> str:
    solution = (SOLUTIONS / f"{variant.module}.py").read_text()
    source = _SOLUTION_IMPORT.sub("_SOLUTION", (VARIANTS / f"{variant.module}.py").read_text())
    return (f"{solution}\n\n"
            f"# ---- {variant.kind} variant {variant.index} of {variant.name}: {variant.why}\n"
            f"import types as _types\n"
            f"_variants = {{'__name__': '_variants', '_SOLUTION': _types.SimpleNamespace(**globals())}}\n"
            f"exec(compile({source!r}, 'variants/{variant.module}.py', 'exec'), _variants)\n"
            f"_replacement = _variants[{variant.kind!r}][{variant.index}][2]\n"
            f"globals().update(_replacement if isinstance(_replacement, dict) "
            f"else {{{variant.name!r}: _replacement}})\n")


def write_solutions(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules():
        shutil.copy(SOLUTIONS / f"{module}.py", folder / f"{module}.py")


def write_variant(folder: Path, variant: Variant, with_solutions: bool = True) -> None:
    """The variant's module in `folder`, beside a copy of solutions/, or else beside the solutions
    of only the curriculum modules it imports (chapter 13's imports chapters 8 and 12)."""
    if with_solutions:
        write_solutions(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = variant_source(variant)
    (folder / f"{variant.module}.py").write_text(source)
    if not with_solutions:
        for module in _imported_chapters(source):
            shutil.copy(SOLUTIONS / f"{module}.py", folder / f"{module}.py")


def _imported_chapters(source: str, seen: frozenset = frozenset()) -> set[str]:
    """The curriculum modules `source` imports (`import ch8_tensors`, `from ch12_attention import
    ...`), and those their solutions import in turn."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
        found |= {n for n in names if n in CHAPTERS and n not in seen}
    for module in list(found):
        found |= _imported_chapters((SOLUTIONS / f"{module}.py").read_text(), seen | found)
    return found


def generate_class(into: Path, size: int, kinds=("WRONG", "RIGHT")) -> list[str]:
    """`size` students in `into`: copies of solutions/ and variant students, taken in turn
    (every third student is a copy of the solutions). Their ids, in order."""
    pool = variants(kinds)
    ids = []
    for n in range(size):
        if n % 3 == 0 or not pool:
            student = f"s{n:03d}-solutions"
            write_solutions(into / student)
        else:
            variant = pool[(n - 1 - n // 3) % len(pool)]
            student = f"s{n:03d}-{variant.student}"
            write_variant(into / student, variant)
        ids.append(student)
    return ids
