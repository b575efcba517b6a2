"""Moodle's "Download all submissions": a folder (or flat files) per participant, named by the participant id.

Moodle (mod/assign/classes/downloader.php) names each student's part of the zip by their full
name (its "_" made spaces; "Participant" under blind marking) and their participant id, the
number its grading worksheet shows as "Participant 678", then the submission plugin:

    Ada Lovelace_678_assignsubmission_file/ch1_sensitivity.py    "Download submissions in folders"
    Ada Lovelace_678_assignsubmission_file_/ch1_sensitivity.py   the same, before Moodle 4.1
    Ada Lovelace_678_assignsubmission_file_ch1_sensitivity.py    with that option off: flat files
    Ada Lovelace_678_assignsubmission_onlinetext/onlinetext.html a text entry: never read

A student's folder is read as an entry (its top and one folder down: their subfolders); flat
files are gathered by participant id; a student's .zip is read when no module is beside it
(grading/layouts/parts.py). Another plugin's folder or file (onlinetext, ...) is listed in the
report and never read. The key (the roster's submission column) is the participant id
("Participant 678" in a roster is read as 678). In a team assignment Moodle names the part by
the group and its id instead: the group is graded as one student, keyed by the group id.
"""
from __future__ import annotations

import re

from grading.entry_files import NotRead
from grading.layouts.download import FILE_KIND, FOLDER_KIND, Download
from grading.layouts.parts import FolderPart, LoosePart, ZipFolderPart, ZipLoosePart
from grading.roster import Person
from grading.submissions import Submission, SubmissionsError

NAME = "moodle"
TITLE = "Moodle's Download all submissions"

_PART = re.compile(r"(?P<name>[^_]*)_(?P<id>[0-9]{1,20})_assignsubmission_(?P<plugin>[a-z0-9]{1,40})"
                   r"(?P<rest>_.*)?", re.DOTALL)


def found(download: Download) -> list[str]:
    return [n for n in download.visible() if _PART.fullmatch(n)]


def normalize(key: str) -> str:
    return re.sub(r"(?i)^participant\s*", "", key.strip())


def read(download: Download) -> tuple[list[Submission], list[str]]:
    folders: dict[str, str] = {}
    loose: dict[str, dict[str, object]] = {}
    extras: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    notes = []
    for entry, kind in sorted(download.visible().items()):
        named = _PART.fullmatch(entry)
        if named is None:
            notes.append(f"skipped {entry}: Moodle names no submission so")
            continue
        pid, plugin, rest = named["id"], named["plugin"], named["rest"] or ""
        names.setdefault(pid, named["name"])
        if plugin != "file":
            extras.setdefault(pid, []).append(f"{entry}{'/' if kind == FOLDER_KIND else ''} "
                                              f"(the {plugin} plugin's, not read)")
        elif kind == FOLDER_KIND and rest in ("", "_") and pid not in folders:
            folders[pid] = entry
        elif kind != FOLDER_KIND and len(rest) > 1:
            loose.setdefault(pid, {})[rest[1:]] = entry if kind == FILE_KIND else NotRead(f"{kind}, not read")
        else:  # a link or special file where Moodle puts a folder, a second folder, a file with no name
            why = kind if kind not in (FILE_KIND, FOLDER_KIND) else "not named as Moodle names a file"
            extras.setdefault(pid, []).append(f"{entry}{'/' if kind == FOLDER_KIND else ''} ({why}, not read)")
    submissions = []
    for pid in sorted(names, key=lambda p: (len(p), p)):
        more = tuple(extras.get(pid, ()))
        if pid in folders:
            more += tuple(f"{entry} (beside the folder, not read)" for entry in loose.get(pid, {}).values()
                          if isinstance(entry, str))
            label = folders[pid]
            part = (ZipFolderPart(download.path, f"{download.prefix}{label}/", label, more) if download.zipped
                    else FolderPart(download.path, label, label, more))
        else:
            files = loose.get(pid, {})
            label = f"{names[pid]}_{pid}_assignsubmission_file_"
            if download.zipped:
                members = {n: download.prefix + m for n, m in files.items() if isinstance(m, str)}
                part = ZipLoosePart(download.path, members, label, more)
            else:
                part = LoosePart(download.path, files, label, more)
        person = Person(pid, name=names[pid])
        submissions.append(Submission(pid, download.path, label=label, part=part, people=(person,)))
    if not submissions:
        raise SubmissionsError(f"{download.shown} holds nothing named as Moodle names a submission "
                               f"(<full name>_<participant id>_assignsubmission_file)")
    return submissions, notes
