"""Loading a learner's modules from a folder, and calling into them.

`Implementation(folder)` finds `<folder>/<module>.py` for any curriculum module. A module is
imported once, under a private name, so two folders never shadow each other; while it is
imported its folder is first on sys.path, so `import ch6_functions` inside ch9 works.
Every failure to load or call is a `LearnerError` that carries the learner's own lines.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

import torch

from kit.messages import loading
from kit.statuses import Status


class LearnerError(Exception):
    """The learner's code could not be loaded or called. `status` names the case."""

    def __init__(self, status: Status, text: str, in_call: bool = False):
        super().__init__(text)
        self.status = status  # one of statuses.LEARNER_STATUSES
        self.text = text
        self.in_call = in_call  # raised by the exercise's function itself, not while loading it


def learner_traceback(exc: BaseException, folder: Path) -> str:
    """The exception as the learner should read it: only the frames of files in `folder`."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _inside(f.filename, folder)]
    if isinstance(exc, SyntaxError) and exc.filename and _inside(exc.filename, folder):
        lines = traceback.format_exception_only(type(exc), exc)
        return "".join(lines).rstrip()
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _inside(filename: str, folder: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


class Implementation:
    """A folder of curriculum modules: the learner's `exercises/`, `solutions/`, or any other."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).resolve()
        self._tag = hashlib.sha1(str(self.folder).encode()).hexdigest()[:10]
        self._modules: dict[str, ModuleType | LearnerError] = {}

    def __repr__(self) -> str:
        return f"Implementation({str(self.folder)!r})"

    def path(self, module: str) -> Path:
        """Where the module lives, relative to the working directory when it is below it."""
        path = self.folder / f"{module}.py"
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            try:
                self._modules[name] = self._import(name)
            except LearnerError as error:
                self._modules[name] = error
        found = self._modules[name]
        if isinstance(found, LearnerError):
            raise found
        return found

    def _import(self, name: str) -> ModuleType:
        path = self.path(name)
        if not path.is_file():
            raise LearnerError(Status.MISSING, loading.missing_module(path, name, self.folder))
        private = f"_kit_impl_{self._tag}.{name}"
        spec = importlib.util.spec_from_file_location(private, path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(self.folder))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the learner's module itself is broken
            raise LearnerError(Status.ERROR,
                               loading.broken_module(path.name, learner_traceback(exc, self.folder))) from None
        finally:
            sys.path.remove(str(self.folder))
        sys.modules[private] = module
        return module

    def call(self, exercise, args: tuple):
        """(answer, changed): the driver's answer on copies of `args`, and the name of the first
        argument the learner's code changed in place (or None). Errors become a LearnerError."""
        module = self.module(exercise.module)
        if not hasattr(module, exercise.attribute):
            raise LearnerError(Status.MISSING,
                               loading.missing_name(self.path(exercise.module).name, exercise.attribute))
        given = copy_args(args)
        try:
            answer = exercise.run(module, exercise.name, given)
        except NotImplementedError:
            raise LearnerError(Status.NOT_ATTEMPTED, loading.not_attempted(exercise.name, self.path(exercise.module))) \
                from None
        except Exception as exc:
            raise LearnerError(Status.ERROR, learner_traceback(exc, self.folder), in_call=True) from None
        if unchanged(args, given):
            return answer, None
        names = exercise.parameter_names()
        return answer, next((n for n, a, g in zip(names, args, given) if not unchanged(a, g)), None)


_PLAIN = frozenset({float, int, bool, str, type(None)})  # immutable: nothing to copy or check


def copy_args(value):
    """Fresh tensors (in lists, tuples and dicts too) for the learner, so the originals stay."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)([copy_args(v) for v in value])
    if isinstance(value, dict):
        return {k: copy_args(v) for k, v in value.items()}
    return value


def unchanged(original, given) -> bool:
    """Whether the learner's copy still holds the original: an identity check, so bit-exact."""
    if type(original) in _PLAIN:
        return True
    if isinstance(original, torch.Tensor):
        return isinstance(given, torch.Tensor) and given.shape == original.shape and torch.equal(given, original)
    if isinstance(original, (list, tuple)):
        if len(original) != len(given):
            return False
        for o, g in zip(original, given):
            if not unchanged(o, g):
                return False
        return True
    if isinstance(original, dict):
        return original.keys() == given.keys() and all(unchanged(original[k], given[k]) for k in original)
    return True
