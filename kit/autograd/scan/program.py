"""The scan's entry point: read a submission's modules, let taint flow between their units, name the exercises.

`scan(folder)` parses every curriculum module of a submission (never imports it) into one
`Program`, whose modules (kit/autograd/scan/module.py) cut their code into units
(kit/autograd/scan/units.py); a unit that uses autograd, or refers to one that does, is tainted,
and an exercise whose check runs a tainted unit (kit/autograd/scan/entries.py) scores zero, with a
reason a student can follow (kit/messages/scan.py).
"""
from __future__ import annotations

import ast
from pathlib import Path

from kit.autograd.scan.entries import entries
from kit.autograd.scan.module import Module
from kit.autograd.scan.units import Unit
from kit.autograd.scan.values import UNKNOWN, Info
from kit.messages import scan as messages
from kit.registry import CHAPTERS, EXERCISES


def scan(folder: Path) -> dict[str, str]:
    """{exercise id: why it scores zero} for every exercise whose code uses autograd."""
    return Program(module_trees(folder)).findings()


def module_trees(folder: Path) -> dict[str, ast.Module]:
    """{chapter: syntax tree} of the curriculum modules in `folder` that parse."""
    trees = {}
    for module in CHAPTERS:
        path = folder / f"{module}.py"
        try:
            trees[module] = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=path.name)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # missing or broken: the run reports it
    return trees


class Program:
    """All modules of one submission: their units, and the taint that flows between them."""

    def __init__(self, trees: dict[str, ast.Module]):
        self.guard: set = set()  # names being resolved, against cycles
        self.modules: dict[str, Module] = {}
        for name, tree in trees.items():
            try:
                self.modules[name] = Module(self, name, tree)
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
        """What the module-level `name` of the curriculum module `module` may be."""
        found = self.modules.get(module)
        return found.name_info(name, found.top, 0) if found else UNKNOWN

    def findings(self) -> dict[str, str]:
        """{exercise id: why it scores zero} for every exercise whose check runs a tainted unit."""
        why = {key: messages.at_line(*min(unit.uses, key=lambda use: use.line))
               for key, unit in self.units.items() if unit.uses}
        changed = True
        while changed:  # taint flows to whatever refers to a tainted unit
            changed = False
            for key, unit in self.units.items():
                if key in why:
                    continue
                for ref in sorted(unit.refers):
                    if ref in why:
                        why[key] = why[ref] if unit.transparent else messages.through(self._show(ref, key[0]), why[ref])
                        changed = True
                        break
        found = {}
        for exercise in EXERCISES.values():
            for key in entries(exercise, self.units, self.classes):
                if key in why:
                    subject = messages.TOP_LEVEL if key[1] == "<module>" else self.units[key].name
                    found[exercise.id] = messages.refused(exercise.id, subject, why[key])
                    break
        return found

    def _show(self, ref: tuple[str, str], here: str) -> str:
        """A unit's name as a message shows it from the module `here`: `helper`, `ch6_functions.helper`."""
        name = self.units[ref].name
        return name if ref[0] == here else f"{ref[0]}.{name}"
