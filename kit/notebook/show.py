"""What a check shows in its notebook cell: rich HTML where the front end shows it (Jupyter, Colab),
plain text elsewhere (a terminal IPython, print(), a doctest).

`Result`: one exercise: ✔ and the exercise, or ✘, the message (the nudge, the diagnosis and the
hint are in it, as pytest prints them), what the code printed; then the picture, inline SVG.
`Results`: several (a class's exercises, or everything a notebook defines): the progress table
of kit/progress.py, the lines pytest ends a run with, and each exercise not done, open.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from kit.progress import MARKS, chapters, status_of, summary
from kit.statuses import Status

STYLE = ("<style>.kit-check{font-family:system-ui,sans-serif;font-size:14px;line-height:1.45}"
         ".kit-check .head{font-weight:600;margin:.2em 0}.kit-check .done{color:#1a7f37}"
         ".kit-check .failing{color:#cf222e}.kit-check .not-attempted{color:#6e7781}"
         ".kit-check pre{white-space:pre-wrap;background:#f6f8fa;color:#1f2328;padding:.6em .8em;border-radius:6px;"
         "font-size:13px;margin:.3em 0}.kit-check td{padding:0 1.2em 0 0}"
         ".kit-check .mark{font-size:18px;font-weight:bold;letter-spacing:2px}"
         ".kit-check details{margin:.4em 0}.kit-check summary{cursor:pointer}</style>")
HERE = "this notebook"  # kit/notebook/checks.py's name for the place of the learner's code
PASSED_TEXT = "passes: every input tried gives torch's answer"


@dataclass
class Result:
    """One exercise's check. `passed`, `status` (kit/statuses.py), `message` ("" when it passed)."""

    exercise: object
    status: Status
    message: str = ""
    printed: str = ""  # what the learner's code printed (kit/fixtures.py: Printed.report)
    picture: str = ""  # an HTML fragment, inline SVG ("" when the exercise has none)

    @property
    def passed(self) -> bool:
        return self.status == Status.PASSED

    @property
    def progress(self) -> str:
        """done, failing or not attempted: the progress' word for it (kit/progress.py)."""
        return status_of("passed" if self.passed else "failed", self.status)

    def __bool__(self) -> bool:
        return self.passed

    def text(self) -> str:
        head = f"{MARKS[self.progress]} {self.exercise.id}"
        if self.passed:
            lines = [f"{head} {PASSED_TEXT}"]
        else:
            lines = [f"{head} ({self.status})", self.message]
        if self.printed:
            lines.append(self.printed.rstrip())
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())

    def body_html(self) -> str:
        parts = []
        if not self.passed:
            parts.append(f"<pre class='message'>{html.escape(self.message)}</pre>")
        if self.printed:
            parts.append(f"<pre class='printed'>{html.escape(self.printed.rstrip())}</pre>")
        if self.picture:
            parts.append(f"<div class='picture'>{self.picture}</div>")
        return "".join(parts)

    def head_html(self) -> str:
        kind = self.progress.replace(" ", "-")
        words = PASSED_TEXT if self.passed else f"({html.escape(str(self.status))})"
        return (f"<span class='mark {kind}'>{MARKS[self.progress]}</span> "
                f"<code>{html.escape(self.exercise.id)}</code> <span class='{kind}'>{words}</span>")

    def _repr_html_(self) -> str:
        return f"{STYLE}<div class='kit-check'><div class='head'>{self.head_html()}</div>{self.body_html()}</div>"


@dataclass
class Results:
    """Several exercises' checks, in curriculum order: `results`, and `passed` when all did."""

    results: list[Result] = field(default_factory=list)
    summary: bool = False  # kit.check() with no argument: everything the notebook defines

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def __bool__(self) -> bool:
        return self.passed

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key):
        if isinstance(key, str):  # an exercise's id or name
            for result in self.results:
                if key in (result.exercise.id, result.exercise.name):
                    return result
            raise KeyError(key)
        return self.results[key]

    def statuses(self) -> dict[str, str]:
        return {r.exercise.id: r.progress for r in self.results}

    def lines(self) -> list[str]:
        if not self.results:
            return [NOTHING]
        lines = summary(self.statuses(), files=lambda module: HERE)
        return [line.replace("then run pytest again", "then run its check cell again") for line in lines]

    def text(self) -> str:
        parts = ["\n".join(self.lines())]
        parts += [r.text() for r in self.results if not r.passed and r.status != Status.NOT_ATTEMPTED]
        return "\n\n".join(parts)

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        if not self.results:
            return f"{STYLE}<div class='kit-check'><p>{html.escape(NOTHING)}</p></div>"
        rows = []
        for module, title, of_chapter in chapters(self.statuses()):
            marks = "".join(f"<span class='mark {s.replace(' ', '-')}'>{MARKS[s]}</span>" for s in of_chapter)
            rows.append(f"<tr><td><code>{html.escape(module)}</code></td><td>{html.escape(title)}</td>"
                        f"<td>{marks}</td><td>{of_chapter.count('done')}/{len(of_chapter)}</td></tr>")
        table_lines = {line for line in self.lines() if line.startswith(tuple(m for m, _, _ in
                                                                                  chapters(self.statuses())))}
        rest = [line for line in self.lines() if line not in table_lines]
        details, opened = [], False
        for result in self.results:
            if result.passed or result.status == Status.NOT_ATTEMPTED:
                continue
            open_ = "" if opened else " open"  # the first one not done, open; the others a click away
            opened = True
            details.append(f"<details{open_}><summary>{result.head_html()}</summary>{result.body_html()}</details>")
        return (f"{STYLE}<div class='kit-check'><table>{''.join(rows)}</table>"
                f"<pre>{html.escape(chr(10).join(rest))}</pre>{''.join(details)}</div>")


NOTHING = ("this notebook defines none of the curriculum's functions or classes yet (kit.check() looks for them "
           "by name: square_grad, sigmoid_grad, Value, ...)")
