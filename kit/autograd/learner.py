"""The learner's own run checks autograd as grading does: the same scan, the same run-time block.

kit/implementation.py loads and calls the learner's code through these hooks: two decorators on
its methods, given the error class they raise (kit.implementation.LearnerError), and `run`
around the two places where the learner's code runs:

    @autograd.loads(LearnerError)                          # on Implementation._import
    ...     autograd.run(spec.loader.exec_module, module)  # the module's own code
    @autograd.calls(LearnerError)                          # on Implementation.call
    ...     answer = autograd.run(exercise.run, module, exercise.name, given)

- `run`: the learner's code runs inside `block.learner_code()`, and nothing else does (not the
  kit's time limit around it, whose watchdog is a thread: kit/implementation.py);
- `loads`: the folder is scanned (kit/autograd/scan, once per state of its modules); code that
  reached autograd on import fails every exercise of the module, as the grader's load does;
- `calls`: an exercise the scan refuses fails at once, without running (the grader zeroes it
  without running it); a closed route reached while it ran, even one whose error the code
  caught, fails it.

Each failure has the grader's status, "autograd" (kit/statuses.py), and the grader's sentence
(kit/messages/scan.py for the scan, kit/messages/sandbox.py's USED_AUTOGRAD and IMPORT_STOPPED
for the block), followed by AS_GRADED: that graded, the exercise would score zero.

The block applies only while learner code runs: torch.autograd works for the kit's references
between calls (kit/autograd/block.py: install_gate). Chapter 7's own engine, the learner's
`Value.backward`, is the learner's code and not torch's autograd: neither the scan (its rules
for the submission's own names) nor the block flags it.

In a grading child, where block() closed everything for good (grading/zygote.py), the hooks
only call through: grading/child.py counts the uses, and the grader scans the submission
itself (grading/student_grader.py). This module is one of the child's sources
(grading/isolation.py: CHILD_MODULES), so it imports only the standard library, kit.statuses,
kit.messages.sandbox and the block; the scan, which reads the curriculum's registry (no child
holds it), is imported where it runs, in a learner's run only.
"""
from __future__ import annotations

import functools
import os
import weakref
from pathlib import Path

from kit.autograd.block import blocked_for_good, install_gate, learner_code, used_since, uses
from kit.messages import sandbox as said
from kit.statuses import Status

_scanned: dict[Path, tuple[tuple, dict[str, str]]] = {}  # folder -> (its modules' state, the scan's findings)
_found: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # implementation -> the findings for its folder


def as_graded(sentence: str) -> str:
    """The grader's sentence for a use, then why the exercise would score zero when graded."""
    return f"{sentence}\n{said.AS_GRADED}"


def findings(folder: Path) -> dict[str, str]:
    """{exercise id: the scan's sentence} for the curriculum modules in `folder` as they are now."""
    from kit.autograd.scan import scan  # (learner runs only: the scan reads kit.registry)
    from kit.registry import CHAPTERS

    state = tuple(_state(folder / f"{module}.py") for module in CHAPTERS)
    known = _scanned.get(folder)
    if known is None or known[0] != state:
        known = _scanned[folder] = (state, scan(folder))
    return known[1]


def _state(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _findings_for(impl) -> dict[str, str]:
    """The findings for an implementation's folder, read when it first loads or calls (a fresh
    Implementation, as `kit watch` makes on each save, reads the folder again)."""
    found = _found.get(impl)
    if found is None:
        found = _found[impl] = findings(Path(impl.folder))
    return found


def run(function, *args):
    """`function(*args)`, a call into the learner's code, inside the block (a grading child: as it is)."""
    if blocked_for_good():
        return function(*args)
    with learner_code():
        return function(*args)


def loads(error: type[Exception]):
    """Decorator of Implementation._import(self, name): the scan, and an import that reached autograd."""
    def decorate(load):
        @functools.wraps(load)
        def loading(impl, name: str):
            if blocked_for_good():
                return load(impl, name)
            install_gate()  # (here, before the time limit starts: it takes about half a second, once)
            _findings_for(impl)
            mark = uses()
            try:
                module = load(impl, name)
            except error as failure:
                if used_since(mark) and failure.status != Status.AUTOGRAD:
                    text = said.IMPORT_STOPPED.format(module=name, text=failure.text)
                    raise error(Status.AUTOGRAD, as_graded(text)) from None
                raise
            if used_since(mark):  # reached, and the module caught the error
                text = said.IMPORT_STOPPED.format(module=name, text=said.CAUGHT_AUTOGRAD)
                raise error(Status.AUTOGRAD, as_graded(text))
            return module
        return loading
    return decorate


def calls(error: type[Exception]):
    """Decorator of Implementation.call(self, exercise, args): the scan's verdict, and a call that
    reached autograd."""
    def decorate(call):
        @functools.wraps(call)
        def calling(impl, exercise, args):
            if blocked_for_good():
                return call(impl, exercise, args)
            install_gate()
            refused = _findings_for(impl).get(exercise.id)
            if refused is not None:
                raise error(Status.AUTOGRAD, as_graded(refused))
            mark = uses()
            try:
                answer = call(impl, exercise, args)
            except error as failure:
                if used_since(mark) and failure.status != Status.AUTOGRAD:
                    text = said.USED_AUTOGRAD.format(exercise=exercise.id, text=failure.text)
                    raise error(Status.AUTOGRAD, as_graded(text)) from None
                raise
            if used_since(mark):  # reached, and the code caught the error
                text = said.USED_AUTOGRAD.format(exercise=exercise.id, text=said.CAUGHT_AUTOGRAD)
                raise error(Status.AUTOGRAD, as_graded(text))
            return answer
        return calling
    return decorate
