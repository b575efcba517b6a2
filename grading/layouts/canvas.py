"""Canvas's "Download Submissions": flat files, each named by its student's Canvas user id, grouped back per student.

Canvas names each file of a submission (lib/content_zipper.rb in canvas-lms)

    <name>_<user id>_<attachment id>_<file name>          e.g. lovelaceada_4211_90210_ch1_sensitivity.py
    <name>_LATE_<user id>_<attachment id>_<file name>     handed in after the due date
    anon_<anonymous id>_<attachment id>_<file name>       anonymous grading (LATE_ may come first)
    <name>_<user id>_text.html, <name>_<user id>_link.html   a text entry, a link: never read

where <name> is the student's sortable name, lower case, only word characters left. As Canvas's
own re-upload does (Assignment#infer_comment_context_from_filename), the user id and the
attachment id are the first two parts between "_" that are all digits; the rest is the file's
name. When a student uploads a file of a name already in their files, Canvas renames it
<stem>-1<ext>, -2, ... (Attachment.make_unique_filename; a UUID after 7 tries): the "-N" is taken
off, so ch1_sensitivity-2.py is ch1_sensitivity.py, and of several uploads of one name the
highest N is graded (then the newest attachment); the report lists the others. A student's .zip
is read when no module is beside it (grading/layouts/parts.py).

The key (the roster's submission column) is the Canvas user id, which is also Canvas's ID
column in canvas.csv; "anon_<id>" when anonymous.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from grading.entry_files import NotRead
from grading.layouts.download import FILE_KIND, FOLDER_KIND, Download
from grading.layouts.parts import LoosePart, ZipLoosePart
from grading.roster import Person
from grading.submissions import Submission, SubmissionsError

NAME = "canvas"
TITLE = "Canvas's Download Submissions"

_NUMBER = re.compile(r"[0-9]{1,20}")
_ANONYMOUS = re.compile(r"[A-Za-z0-9]{1,20}")
_COPY = re.compile(r"(.+)-([0-9]{1,9})((?:\.[A-Za-z][A-Za-z0-9]*)*(?:\.[A-Za-z0-9]*)?)", re.DOTALL)
_UUID = re.compile(r"(.+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
                   r"((?:\.[A-Za-z][A-Za-z0-9]*)*(?:\.[A-Za-z0-9]*)?)", re.DOTALL)
ONLINE = ("text.html", "link.html")


@dataclass(frozen=True)
class File:
    """One file of the download, as its name says."""

    name: str  # in the download
    user: str  # the Canvas user id, or anon_<id>
    head: str  # the name up to the user id: lovelaceada_4211, lovelaceada_LATE_4211
    attachment: int  # 0 for a text entry or link
    original: str  # the file's name as the student gave it (with Canvas's -N)


def parse(name: str) -> File | None:
    """The file a Canvas download's `name` is, or None when Canvas names no file so."""
    parts = name.split("_")
    start = 1 if parts[0] == "LATE" else 0
    if len(parts) > start + 2 and parts[start] == "anon" and _ANONYMOUS.fullmatch(parts[start + 1]):
        at = start + 1
        user = "anon_" + parts[at]
    else:
        at = next((i for i, part in enumerate(parts) if _NUMBER.fullmatch(part)), -1)
        if at < 0:
            return None
        user = parts[at]
    rest = parts[at + 1:]
    head = "_".join(parts[:at + 1])
    if len(rest) == 1 and rest[0] in ONLINE:
        return File(name, user, head, 0, rest[0])
    if len(rest) < 2 or not _NUMBER.fullmatch(rest[0]):
        return None
    original = "_".join(rest[1:])
    if not original or original in (".", ".."):
        return None
    return File(name, user, head, int(rest[0]), original)


def uploaded(original: str) -> tuple[str, int]:
    """The name the student uploaded, and Canvas's copy number: ("ch1_sensitivity.py", 2) for
    ch1_sensitivity-2.py; 0 when the name is as uploaded, 8 for a UUID (after -1 ... -7)."""
    copy = _UUID.fullmatch(original)
    if copy:
        return copy.group(1) + copy.group(3), 8
    copy = _COPY.fullmatch(original)
    if copy:
        return copy.group(1) + copy.group(3), int(copy.group(2))
    return original, 0


def found(download: Download) -> list[str]:
    """The names at the top that Canvas names so (files only)."""
    return [n for n, kind in download.visible().items() if kind == FILE_KIND and parse(n)]


def normalize(key: str) -> str:
    return key.strip()


def read(download: Download) -> tuple[list[Submission], list[str]]:
    by_user: dict[str, list[tuple[File, str]]] = {}
    notes = []
    for name, kind in sorted(download.visible().items()):
        file = parse(name)
        if file is None:
            notes.append(f"skipped {name}: Canvas names no submission's file so")
        elif kind != FOLDER_KIND:  # a file, or a link or special file: listed, never read
            by_user.setdefault(file.user, []).append((file, kind))
        else:
            notes.append(f"skipped {name}/: a folder, where Canvas puts files")
    submissions = []
    for user, files in sorted(by_user.items(), key=lambda item: (len(item[0]), item[0])):
        chosen, extras = _choose(files)
        label = min(f.head for f, _ in files)
        if download.zipped:
            members = {shown: download.prefix + f.name for shown, (f, _) in chosen.items()}
            part = ZipLoosePart(download.path, members, label, extras)
        else:
            loose = {shown: f.name if kind == FILE_KIND else NotRead(f"{kind}, not read")
                     for shown, (f, kind) in chosen.items()}
            part = LoosePart(download.path, loose, label, extras)
        person = Person(user, canvas_id=user if _NUMBER.fullmatch(user) else "")
        submissions.append(Submission(user, download.path, label=label, part=part, people=(person,)))
    if not submissions:
        raise SubmissionsError(f"{download.shown} holds no file named as Canvas names a submission's "
                               f"(<name>_<user id>_<attachment id>_<file>)")
    return submissions, notes


def _choose(files: list[tuple[File, str]]):
    """{name uploaded: (file, kind)} of the files graded, and what the report says of the rest."""
    extras = []
    by_name: dict[str, list[tuple[tuple[int, int], File, str]]] = {}
    for file, kind in files:
        if file.attachment == 0:
            extras.append(f"{file.name} (a text entry or a link, not read)")
            continue
        name, copy = uploaded(file.original)
        by_name.setdefault(name, []).append(((copy, file.attachment), file, kind))
    chosen = {}
    for name, uploads in by_name.items():
        uploads.sort(key=lambda u: u[0])
        _, file, kind = uploads[-1]
        chosen[name] = (file, kind)
        for _, earlier, _ in uploads[:-1]:
            extras.append(f"{earlier.original} (an earlier upload; {file.original} is graded)")
    return chosen, tuple(extras)
