"""`kit grade --roster FILE.csv`: who each submission is in the LMS, from the instructor's CSV file of the class.

The roster has a header row, then a row per student. Column names are read without regard to
case, spaces, "-" or "_" ("SIS Login ID" is sis_login_id); the aliases in parentheses are the
names Canvas's and Moodle's own exports give the column:

    submission  required: the submission's key, as the layout gives it: the folder's or zip's
                name (folders), the Canvas user id in the file names (canvas: 12345, or anon_x1Y2z
                when anonymous), the participant id in the folder names (moodle: 678, or
                "Participant 678" as in its grading worksheet), the submitter's email or
                student id (gradescope)
    name        the student's name (student, full name): Canvas's Student column
    login       the login (sis login id, username): Canvas's SIS Login ID, Moodle's username
    sis_id      the student number (sis user id, idnumber, id number): Canvas's SIS User ID,
                Moodle's ID number
    email       the email address (email address): Moodle's email
    canvas_id   Canvas's numeric user id: Canvas's ID column, its surest match (a column named
                only "ID" is not read as it: it might be another ID; the canvas layout's key is it)
    section     Canvas's Section column (optional)

A student's id in grades.csv and the pages is their login, else email, else sis_id, else the
submission key. The file may be UTF-8 (with or without a BOM), UTF-16 with a BOM (Excel's
"Unicode text"), or Windows-1252 (then a note says so); comma-, semicolon- or tab-separated;
an Excel text cell ="00123" is read as 00123; spaces around a cell are dropped.

Nothing is lost: a missing or unreadable file, a missing header or `submission` column, two
rows with one key (or one login, email, sis_id, canvas_id), a cell holding a control character
are errors (RosterError) before anything is graded; a submission not in the roster is graded
and listed under its own key, with a note; a roster student without a submission gets a zero
row, "no submission", in every grade book; a cell that a spreadsheet would read as a formula
gets a note (it is written neutralised, with a leading ', where grade books need its value).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

MAX_ROSTER = 8 << 20  # bytes
MAX_ROWS = 100_000
MAX_CELL = 320
COLUMNS = ("submission", "name", "login", "sis_id", "email", "canvas_id", "section")
ALIASES = {"key": "submission", "student": "name", "full_name": "name", "sis_login_id": "login",
           "username": "login", "sis_user_id": "sis_id", "idnumber": "sis_id", "id_number": "sis_id",
           "email_address": "email"}  # never "id": Canvas matches its ID column first, a university's ID is not it
UNIQUE = ("login", "sis_id", "email", "canvas_id")  # identities no two students share
NO_SUBMISSION = "no submission"
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # they reorder what a terminal shows
SHOWN = 10  # names a note lists before "and N more"


class RosterError(Exception):
    """The roster cannot be used: nothing is graded (the message says what to fix)."""


@dataclass(frozen=True)
class Person:
    """Who handed in a submission, as the layout knows them: `key` is matched against the
    roster's submission column (and `also`, Gradescope's student id beside the email); the rest
    is what the download says of them, used when they are not in the roster."""

    key: str
    also: tuple[str, ...] = ()
    name: str = ""
    email: str = ""
    canvas_id: str = ""


@dataclass(frozen=True)
class Identity:
    """A student in the LMS: the roster's row (`listed`), or what the download says of them."""

    key: str
    name: str = ""
    login: str = ""
    sis_id: str = ""
    email: str = ""
    canvas_id: str = ""
    section: str = ""
    listed: bool = True
    line: int = 0  # the roster's line

    @property
    def id(self) -> str:
        """The student's id in grades.csv and the pages."""
        return (self.login or self.email or self.sis_id or self.key) if self.listed else self.key


@dataclass
class Roster:
    students: list[Identity]
    notes: list[str]


def load(path: Path) -> Roster:
    """The roster at `path`; RosterError when it cannot be used."""
    where = f"--roster {path}"
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_ROSTER + 1)
    except FileNotFoundError:
        raise RosterError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise RosterError(f"{where} is a folder, not a CSV file") from None
    except OSError as error:
        raise RosterError(f"{where}: cannot be read ({error.strerror})") from None
    if len(data) > MAX_ROSTER:
        raise RosterError(f"{where} is larger than {MAX_ROSTER >> 20} MB; is it the class's roster?")
    notes: list[str] = []
    text = _decode(data, where, notes)
    rows = _rows(text, where)
    header = [_column(cell) for cell in rows[0]]
    if "submission" not in header:
        raise RosterError(f"{where}: its first row names no `submission` column (it reads {_names(rows[0])}); "
                          f"the header row names the columns: submission, and any of {', '.join(COLUMNS[1:])}")
    doubled = sorted({c for c in header if c and header.count(c) > 1})
    if doubled:
        raise RosterError(f"{where}: the header names {', '.join(doubled)} twice")
    unused = [cell for cell, c in zip(rows[0], header) if c not in COLUMNS and cell.strip()]
    if unused:
        notes.append(f"roster: columns not used: {_names(unused)}")
    students: list[Identity] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {c: _value(cell, where, number) for c, cell in zip(header, row) if c in COLUMNS}
        students.append(Identity(**{c: cells.get(c, "") for c in COLUMNS if c != "submission"},
                                 key=cells.get("submission", ""), line=number))
    if not students:
        raise RosterError(f"{where} has a header row but no student")
    for s in students:
        if not s.id:
            raise RosterError(f"{where}: line {s.line} has no submission key, login, email or sis_id: "
                              f"nothing to match or list the student by")
    _check_unique(students, where)
    formulas = [f"line {s.line} ({c})" for s in students for c in ("key", *UNIQUE)
                if _formula(getattr(s, c))]
    if formulas:
        notes.append(f"roster: cells that a spreadsheet reads as a formula are written with a leading ' in "
                     f"the grade books (so the LMS may not match them): {_some(formulas)}")
    return Roster(students, notes)


# ---- matching the submissions ------------------------------------------------------------------

@dataclass
class Matched:
    identities: dict[str, Identity]  # student id -> who they are in the LMS
    absent: list[Identity]  # roster students without a submission
    groups: dict[str, tuple[str, ...]]  # a group's graded student -> the group's other students
    notes: list[str]


def match(submissions, roster: Roster | None, normalize=str) -> Matched:
    """Give each submission its student id (and identities for the grade books), from the roster
    if there is one; `normalize(key)` is how the layout compares keys (Gradescope's emails in
    any case). A person not in the roster keeps their key as id; ids are made unique."""
    rows: dict[str, Identity] = {}
    for row in roster.students if roster else []:
        key = normalize(row.key) if row.key else ""
        if key in rows:
            raise RosterError(f"--roster: lines {rows[key].line} and {row.line} name one submission "
                              f"({rows[key].key}, {row.key})")
        if key:
            rows[key] = row
    used: dict[int, str] = {}  # roster line -> the submission that matched it
    identities: dict[str, Identity] = {}
    groups: dict[str, tuple[str, ...]] = {}
    unlisted: list[str] = []
    for submission in submissions:
        ids = []
        for person in submission.people or (_person_of(submission),):
            matches = {rows[k].line: rows[k] for k in map(normalize, (person.key, *person.also)) if k in rows}
            if len(matches) > 1:
                raise RosterError(f"--roster: lines {' and '.join(map(str, sorted(matches)))} are one student "
                                  f"({', '.join((person.key, *person.also))}); keep one row for them")
            found = next(iter(matches.values()), None)
            if found is not None and found.line in used:
                raise RosterError(f"--roster: line {found.line} ({found.key}) matches two submissions: "
                                  f"{used[found.line]} and {submission.label or submission.entry.name}")
            if found is not None:
                used[found.line] = submission.label or submission.entry.name
                who = replace(found, name=found.name or person.name, email=found.email or person.email,
                              canvas_id=found.canvas_id or person.canvas_id)
            else:
                who = Identity(person.key, name=person.name, email=person.email, canvas_id=person.canvas_id,
                               listed=False)
                if roster:
                    unlisted.append(person.key)
            student = who.id
            if student in identities and roster and not who.listed:  # a key not in the roster: someone's login
                student = f"{student} (not in the roster)"
            if student in identities:
                raise RosterError(f"two submissions are for {student!r} (the second: "
                                  f"{submission.label or submission.entry.name}); check the download"
                                  + (" and the roster" if roster else ""))
            identities[student] = who
            ids.append(student)
        submission.student = ids[0]
        if len(ids) > 1:
            groups[ids[0]] = tuple(ids[1:])
    notes = list(roster.notes) if roster else []
    if unlisted:
        notes.append(f"roster: not in the roster, so graded and listed under their own key ({len(unlisted)}): "
                     f"{_some(unlisted)}")
    absent = [s for s in roster.students if s.line not in used] if roster else []
    if absent:
        notes.append(f"roster: no submission, so a zero row \"{NO_SUBMISSION}\" ({len(absent)}): "
                     f"{_some([s.id for s in absent])}")
    taken = set(identities)
    for s in absent:
        if s.id in taken:
            raise RosterError(f"--roster: line {s.line} ({s.id}) has no submission, but a submission not in the "
                              f"roster has that id too; add that submission's key to the roster")
        identities[s.id] = s
        taken.add(s.id)
    return Matched(identities, absent, groups, notes)


def no_submission(student: Identity, points: dict[str, float], exercises: list[str]):
    """The zero row of a roster student without a submission."""
    from grading.results import Result, StudentResult
    from kit.statuses import Status

    results = [Result(eid, Status.MISSING, 0, points[eid], f"{NO_SUBMISSION}.", label=NO_SUBMISSION)
               for eid in exercises]
    return StudentResult(student.id, "", NO_SUBMISSION, results)


def _person_of(submission) -> Person:
    return Person(submission.student)


# ---- reading the file ----------------------------------------------------------------------------

def _decode(data: bytes, where: str, notes: list[str]) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterError(f"{where}: it starts as UTF-16 but is not; save it as CSV UTF-8") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise RosterError(f"{where} is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8") from None
    notes.append("roster: the file is not UTF-8; it was read as Windows-1252 (Western European): if a name looks "
                 "wrong, save the roster as CSV UTF-8")
    return text


def _rows(text: str, where: str) -> list[list[str]]:
    if "\0" in text:
        raise RosterError(f"{where} holds NUL characters: it is not a CSV text file")
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if not first.strip():
        raise RosterError(f"{where} is empty: it needs a header row (submission, ...) and a row per student")
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\r\n"), newline=""), delimiter=delimiter, strict=True)
        rows = []
        for row in reader:
            if len(rows) > MAX_ROWS:
                raise RosterError(f"{where} has more than {MAX_ROWS} rows")
            rows.append(row)
    except csv.Error as error:
        raise RosterError(f"{where}: line {reader.line_num} is not valid CSV ({error})") from None
    return rows


def _column(cell: str) -> str:
    name = re.sub(r"[\s_-]+", "_", cell.strip().lower()).strip("_")
    return ALIASES.get(name, name)


def _value(cell: str, where: str, number: int) -> str:
    value = cell.strip()
    excel = re.fullmatch(r'="(.*)"', value)  # Excel's way to keep a number's leading zeros
    value = excel.group(1).strip() if excel else value
    if len(value) > MAX_CELL:
        raise RosterError(f"{where}: line {number} has a cell longer than {MAX_CELL} characters")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI for c in value):
        raise RosterError(f"{where}: line {number} has a cell with a control character ({value!r}); remove it")
    return value


def _check_unique(students: list[Identity], where: str) -> None:
    for column in ("key", *UNIQUE, "id"):
        seen: dict[str, int] = {}
        for s in students:
            value = getattr(s, column)
            if column == "id" and value in seen:
                raise RosterError(f"{where}: lines {seen[value]} and {s.line} would both be listed as {value!r} "
                                  f"(a student's id is their login, else email, else sis_id, else submission)")
            value = value.lower() if column == "email" else value
            if value and value in seen:
                named = "submission" if column == "key" else column
                raise RosterError(f"{where}: lines {seen[value]} and {s.line} have the same {named}, {value!r}; "
                                  f"each student is one row")
            seen.setdefault(value, s.line)


def _formula(value: str) -> bool:
    first = unicodedata.normalize("NFKC", value.lstrip(" \"'"))[:1]
    return first in ("=", "+", "-", "@")


def _names(cells) -> str:
    return ", ".join(repr(c) for c in list(cells)[:8]) or "nothing"


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
