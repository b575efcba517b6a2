"""The report's pictures of chapter 11: the size of the gradient at each step of a long sequence.

One fixed sequence of 16 steps (kit/chapters/ch11_recurrence/inputs.py) gets an outside
gradient at its last step only; what reaches each earlier step has come back through every
step after it, and its size, log10 ‖dxs[t]‖, shows how fast it fades. The learner's curve is
drawn over torch's.
"""
from __future__ import annotations

import math

from kit import pictures
from kit.chapters.ch11_recurrence import inputs


def sizes_per_step(answer) -> list[float | None]:
    """log10 of the norm of answer["xs"][t] for each t; None where that cannot be read."""
    try:
        found = []
        for step in answer["xs"]:
            norm = float(step.norm())
            found.append(math.log10(norm) if norm > 0 and math.isfinite(norm) else None)
        return found
    except Exception:  # a learner's answer of another kind: no curve
        return []


def gradient_sizes(exercise_id: str, args: tuple, what: str):
    def picture(impl) -> str:
        from kit import registry

        exercise = registry.get(exercise_id)
        torch_sizes = sizes_per_step(exercise.reference(*args))
        try:
            yours, _ = impl.call(exercise, args)
            note = ""
        except Exception as error:  # not attempted, or broken: torch's curve alone
            yours, note = None, str(error).splitlines()[0] if str(error) else type(error).__name__
        steps = range(len(torch_sizes))
        title = f"{exercise.name} ({what}): log10 ‖dxs[t]‖, upstream at step {inputs.PICTURE_STEPS - 1} only"
        return pictures.line_plot(steps, sizes_per_step(yours) if yours is not None else None, torch_sizes,
                                  title, "step t", "log10 ‖dxs[t]‖", note)
    return picture


rnn_picture = gradient_sizes(
    "ch11_recurrence.rnn_backward",
    (inputs.PICTURE_XS, inputs.PICTURE_H0, *inputs.PICTURE_RNN_WEIGHTS, inputs.PICTURE_UPSTREAM), "a tanh RNN")
lstm_picture = gradient_sizes(
    "ch11_recurrence.lstm_backward",
    (inputs.PICTURE_XS, inputs.PICTURE_H0, inputs.PICTURE_C0, *inputs.PICTURE_LSTM_WEIGHTS, inputs.PICTURE_UPSTREAM),
    "an LSTM")
