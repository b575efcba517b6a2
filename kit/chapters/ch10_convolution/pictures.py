"""The report's pictures of chapter 10: the learner's gradients beside torch's, as heat maps.

Each picture runs the learner's function on one fixed input and shows one 2-D slice of each
gradient (dx[0, 0], dw[0, 0], ...), yours beside torch's, the cells that differ outlined.
"""
from __future__ import annotations

from kit import pictures


def part(answer, key, index):
    """answer[key][index]: one 2-D slice of one gradient, or None when the answer has no such part
    (a learner's answer of another kind)."""
    try:
        found = answer[key] if key is not None else answer
        return found[index]
    except (TypeError, KeyError, IndexError, RuntimeError):
        return None


def heat_picture(exercise_id: str, args: tuple, parts, title: str):
    """picture(impl): for each (label, key, index) of `parts`, answer[key][index], yours beside
    torch's, on `args`."""
    def picture(impl) -> str:
        from kit import registry

        exercise = registry.get(exercise_id)
        expected = exercise.reference(*args)
        try:
            yours, note = impl.call(exercise, args)[0], ""
        except Exception as error:  # not attempted, or broken: show torch's maps alone
            yours, note = None, str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        rows = [(label, part(yours, key, index), part(expected, key, index)) for label, key, index in parts]
        return pictures.heat_maps(rows, title, note)
    return picture
