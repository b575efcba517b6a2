"""Gradescope's submission_metadata.yml, read strictly: who handed in each submission_<id>/, and nothing else.

Gradescope writes the file with Ruby's YAML emitter: a top-level key per submission folder, and
under it `:submitters:`, a list of `:name:`, `:sid:`, `:email:` (then `:created_at:`, `:score:`,
`:results:` ... which may hold anything, Ruby tags and block scalars included):

    submission_123456:
      :submitters:
      - :name: Ada Lovelace
        :sid: '1815'
        :email: ada@example.edu
      :created_at: 2024-03-01 12:00:00.000000000 -08:00
      :score: 2.0

This is not a YAML parser, and it needs none: it reads the lines of that shape and refuses
anything else with the line at fault (`MetadataError`). The top level must be `submission_<id>:`
keys; their other fields are skipped by indentation, never parsed (no tag is ever constructed,
no alias expanded); a submitter's field is a plain, single- or double-quoted scalar, nothing
else (a tag, anchor, alias, block scalar or flow collection there is refused). Bounded: at most
MAX_METADATA bytes, MAX_SUBMISSIONS keys, MAX_GROUP submitters each, MAX_FIELD characters a field.
"""
from __future__ import annotations

import re

MAX_METADATA = 32 << 20
MAX_SUBMISSIONS = 100_000
MAX_GROUP = 100
MAX_FIELD = 320
FIELDS = ("name", "sid", "email")

_KEY = re.compile(r"(submission_[0-9]{1,20}):\s*(#.*)?")
_FIELD = re.compile(r":?([A-Za-z_][A-Za-z0-9_]*):(?:\s+(.*))?")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}


class MetadataError(Exception):
    """The file is not of the shape Gradescope writes; the message says where."""


def read_metadata(data: bytes) -> dict[str, list[dict[str, str]]]:
    """{"submission_<id>": [{"name": ..., "sid": ..., "email": ...} per submitter]} (a field
    absent or null is left out)."""
    if len(data) > MAX_METADATA:
        raise MetadataError(f"it is larger than {MAX_METADATA >> 20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MetadataError(f"it is not UTF-8 text (byte {error.start})") from None
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    found: dict[str, list[dict[str, str]]] = {}
    current: str | None = None
    child = 0  # the indentation of the current submission's fields
    i = 0
    while i < len(lines):
        line = lines[i]
        number = i + 1
        i += 1
        if _blank(line):
            continue
        if line.startswith("\t") or "\t" in line[:len(line) - len(line.lstrip())]:
            raise MetadataError(f"line {number}: a tab in the indentation")
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            if line.rstrip() in ("---", "...") and not found:
                continue
            key = _KEY.fullmatch(line.rstrip())
            if key is None:
                raise MetadataError(f"line {number}: expected a submission_<id>: key, found {_quote(line)}")
            current = key.group(1)
            if current in found:
                raise MetadataError(f"line {number}: {current} is listed twice")
            if len(found) >= MAX_SUBMISSIONS:
                raise MetadataError(f"it lists more than {MAX_SUBMISSIONS} submissions")
            found[current], child = [], 0
            continue
        if current is None:
            raise MetadataError(f"line {number}: indented, before any submission_<id>: key")
        child = child or indent
        if indent > child:
            continue  # inside a field of the submission (its results, history, ...): skipped unread
        if indent < child:
            raise MetadataError(f"line {number}: indented less than the fields of {current}")
        stripped = line.strip()
        field = _FIELD.fullmatch(stripped)
        if field is None and stripped != "-" and not stripped.startswith("- "):
            raise MetadataError(f"line {number}: expected a field of {current}, found {_quote(line)}")
        if field and field.group(1) == "submitters" and stripped.startswith(":"):
            found[current], i = _submitters(lines, i, indent, (field.group(2) or "").strip(), number)
    return found


def _submitters(lines: list[str], i: int, key_indent: int, rest: str, number: int):
    """The list under `:submitters:` at line `number`; (submitters, index of the next line)."""
    if rest == "[]":
        return [], i
    if rest:
        raise MetadataError(f"line {number}: :submitters: is not a plain list")
    people: list[dict[str, str]] = []
    person: dict[str, str] | None = None
    dash = None  # the indentation of the list's "- "
    while i < len(lines):
        line = lines[i]
        if _blank(line):
            i += 1
            continue
        indent = len(line) - len(line.lstrip(" "))
        stripped = line.strip()
        if dash is None:
            if indent < key_indent or not stripped.startswith("- "):
                raise MetadataError(f"line {i + 1}: :submitters: is not followed by a list")
            dash = indent
        if indent < dash or (indent == dash and not stripped.startswith("- ")):
            break  # the submission's next field, or the next submission
        if indent == dash:
            if len(people) >= MAX_GROUP:
                raise MetadataError(f"line {i + 1}: more than {MAX_GROUP} submitters")
            person = {}
            people.append(person)
            stripped = stripped[2:].lstrip()
            indent = dash + 2
        i = _field(lines, i, indent, stripped, person)
    return people, i


def _field(lines: list[str], i: int, indent: int, text: str, person) -> int:
    """One `:name: value` of a submitter at line i (its value may go on over deeper lines)."""
    number = i + 1
    field = _FIELD.fullmatch(text)
    if field is None or person is None:
        raise MetadataError(f"line {number}: expected a submitter's :name:, :sid: or :email:, found {_quote(text)}")
    i += 1
    value = [field.group(2) or ""]
    while i < len(lines) and (_blank(lines[i]) or len(lines[i]) - len(lines[i].lstrip(" ")) > indent):
        value.append(lines[i].strip())  # a value folded over lines, or (for another field) its contents
        i += 1
    name = field.group(1)
    if name in FIELDS:
        if name in person:
            raise MetadataError(f"line {number}: a submitter with two :{name}: fields")
        scalar = _scalar(value, number)
        if scalar is not None:
            person[name] = scalar
    return i


def _scalar(parts: list[str], number: int) -> str | None:
    first = parts[0].strip()
    if first[:1] in ("!", "&", "*", "|", ">", "{", "[", "%", "@", "`"):
        raise MetadataError(f"line {number}: a submitter's field is not a plain text ({_quote(first)})")
    if first.startswith("'"):
        text = _single(" ".join(p for p in parts if p), number)
    elif first.startswith('"'):
        text = _double(parts, number)
    else:
        text = " ".join(p for p in parts if p)
        text = re.sub(r"\s+#.*\Z", "", text).strip()
        if ": " in text or text.endswith(":"):
            raise MetadataError(f"line {number}: a submitter's field is not a plain text ({_quote(text)})")
        if text in ("", "~", "null", "Null", "NULL"):
            return None
    if len(text) > MAX_FIELD:
        raise MetadataError(f"line {number}: a submitter's field is longer than {MAX_FIELD} characters")
    return text


def _single(text: str, number: int) -> str:
    match = re.fullmatch(r"'((?:[^']|'')*)'\s*(#.*)?", text)
    if match is None:
        raise MetadataError(f"line {number}: a quoted field that does not end where it should")
    return match.group(1).replace("''", "'")


def _double(parts: list[str], number: int) -> str:
    joined = ""
    for k, part in enumerate(p for p in parts if p):
        if k and not joined.endswith("\\"):
            joined += " "
        joined = joined[:-1] if k and joined.endswith("\\") else joined
        joined += part
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"\s*(#.*)?', joined, re.DOTALL)
    if match is None:
        raise MetadataError(f"line {number}: a quoted field that does not end where it should")
    out, body, k = [], match.group(1), 0
    while k < len(body):
        c = body[k]
        if c != "\\":
            out.append(c)
            k += 1
            continue
        e = body[k + 1]
        width = {"x": 2, "u": 4, "U": 8}.get(e)
        if width:
            digits = body[k + 2:k + 2 + width]
            if not re.fullmatch(f"[0-9A-Fa-f]{{{width}}}", digits) or int(digits, 16) > 0x10FFFF:
                raise MetadataError(f"line {number}: a bad escape \\{e}{digits} in a quoted field")
            out.append(chr(int(digits, 16)))
            k += 2 + width
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
            k += 2
        else:
            raise MetadataError(f"line {number}: an unknown escape \\{e} in a quoted field")
    return "".join(out)


def _blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _quote(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 60 else text[:60] + "…")
