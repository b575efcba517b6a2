"""Package data (pages, styles, shell scripts, the workflow), read with importlib.resources and rendered with jinja2.

A name is a path under the grading package: "templates/report.html.j2",
"platforms/files/run_autograder.sh". Each language has its environment, and in each, the one
filter that makes a value safe in it:

- HTML (autoescape on): `text`, for every text that may come from a student: its control
  characters shown (grading.text.printable, `keep` the ones that stay), truncated
  (grading.gradebook.clip), escaped with html.escape; anything else a page prints is escaped by
  jinja2's autoescape. `points` writes points as the grade book shows them.
- shell scripts and YAML (autoescape off): `shell` (shlex.quote) and `yaml` (a scalar, plain when
  YAML reads it back as that string or int, else JSON-quoted, which is YAML too).
"""
from __future__ import annotations

import functools
import html
import json
import re
import shlex
from importlib.resources import files

from grading.gradebook import clip, number
from grading.text import printable


@functools.cache
def read(name: str) -> str:
    """The text of a file of the grading package's data, e.g. "templates/report.css" (read once)."""
    return files("grading").joinpath(name).read_text(encoding="utf-8")


def render(name: str, **context) -> str:
    """The template `name`, rendered; HTML (autoescape) when its name ends in .html.j2."""
    return _environment(name.endswith(".html.j2")).get_template(name).render(**context)


def text(value, limit: int = 300, keep: str = "\n\t"):
    """Student text for a page: control characters shown (`keep`: those that stay), truncated, escaped."""
    from markupsafe import Markup

    return Markup(html.escape(clip(printable(str(value), keep), limit)))


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./@-]*(?: [A-Za-z0-9_./@-]+)*")
_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}  # YAML 1.1 would read these as values


def yaml(value) -> str:
    """A YAML scalar: an int as it is, a string plain when safe, else JSON-quoted."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"yaml: not a string or an int: {value!r}")
    if isinstance(value, int):
        return str(value)
    plain = _PLAIN.fullmatch(value) and value.lower() not in _WORDS
    return value if plain else json.dumps(value, ensure_ascii=False)


@functools.cache
def _environment(for_html: bool):
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(read), autoescape=for_html, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    environment.filters.update({"text": text, "points": number} if for_html else {"shell": shlex.quote, "yaml": yaml})
    return environment
