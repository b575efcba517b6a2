"""Gradescope's "Export Submissions": a submission_<id>/ folder per submission, and who handed each in.

The export is a zip, assignment_<id>_export.zip, of one folder assignment_<id>_export/ that holds
submission_metadata.yml and a folder per submission, submission_<id>/, with the files as the
student handed them in (a .zip among them, not unzipped, is read when no module is beside it).
The metadata maps each folder to its submitters (name, sid, email): grading/layouts/metadata.py
reads it, strictly.

A submitter's key (for the roster's submission column) is their email, and their sid matches
too; without a roster their id is the email, else the sid, else the folder's name. A group
submission is graded once and gives each submitter a row of their own, with the same grade.
A submission the metadata lists without a folder scores zero, saying so; a folder the metadata
does not list, or lists without a submitter, is skipped with a note.
"""
from __future__ import annotations

import os
import re
import stat

from grading.entry_files import FILE, FOLDER
from grading.layouts.download import FILE_KIND, FOLDER_KIND, Download, open_zip
from grading.layouts.metadata import MAX_METADATA, MetadataError, read_metadata
from grading.layouts.parts import FolderPart, ZipFolderPart
from grading.roster import Person
from grading.submissions import Submission, SubmissionsError

NAME = "gradescope"
TITLE = "Gradescope's Export Submissions"
METADATA = "submission_metadata.yml"


def found(download: Download) -> bool:
    return download.visible().get(METADATA) == FILE_KIND


def normalize(key: str) -> str:
    return key.strip().lower()  # an email in any case; a sid as it is


def read(download: Download) -> tuple[list[Submission], list[str]]:
    top = download.visible()
    if top.get(METADATA) != FILE_KIND:
        raise SubmissionsError(f"{download.shown} has no {METADATA} at its top: it is not Gradescope's "
                               f"export (Export Submissions), or not all of it")
    try:
        metadata = read_metadata(_metadata_bytes(download))
    except MetadataError as error:
        raise SubmissionsError(f"{download.shown}/{METADATA} is not as Gradescope writes it: {error}; "
                               f"export the submissions again") from None
    submissions, notes = [], []
    for name, submitters in sorted(metadata.items(), key=lambda item: _number(item[0])):
        if not submitters:
            notes.append(f"skipped {name}: {METADATA} names no submitter for it")
            continue
        people = tuple(_person(name, s) for s in submitters)
        if top.get(name) == FOLDER_KIND:
            part = (ZipFolderPart(download.path, f"{download.prefix}{name}/", name) if download.zipped
                    else FolderPart(download.path, name))
            submissions.append(Submission(people[0].key, download.path, label=name, part=part, people=people))
        else:
            problem = f"{name}: {METADATA} lists this submission, but the export has no folder {name}/"
            submissions.append(Submission(people[0].key, download.path, label=name, problem=problem,
                                          people=people))
    for name in sorted(set(top) - set(metadata) - {METADATA}):
        notes.append(f"skipped {name}: not a submission that {METADATA} lists")
    if not submissions:
        raise SubmissionsError(f"{download.shown}: {METADATA} lists no submission with a submitter")
    return submissions, notes


def _person(folder: str, submitter: dict[str, str]) -> Person:
    email, sid = submitter.get("email", ""), submitter.get("sid", "")
    key = email or sid or folder
    return Person(key, also=(sid,) if email and sid else (), name=submitter.get("name", ""), email=email)


def _number(name: str) -> int:
    return int(re.sub(r"\D", "", name) or 0)


def _metadata_bytes(download: Download) -> bytes:
    """The metadata file, at most MAX_METADATA (+1) bytes of it, no link followed."""
    limit = MAX_METADATA + 1
    if download.zipped:
        with open_zip(download.path) as archive:
            infos = [i for i in archive.infolist() if i.orig_filename.replace("\\", "/") == download.prefix + METADATA]
            if len(infos) != 1:
                raise SubmissionsError(f"{download.shown}: {len(infos)} members are named {METADATA}")
            if infos[0].file_size >= limit:
                raise SubmissionsError(f"{download.shown}/{METADATA} is larger than {MAX_METADATA >> 20} MB")
            try:
                with archive.open(infos[0]) as f:
                    return f.read(limit)
            except Exception as error:
                raise SubmissionsError(f"{download.shown}/{METADATA} is damaged ({type(error).__name__}); "
                                       f"export the submissions again") from None
    top = os.open(download.path, FOLDER)
    try:
        fd = os.open(METADATA, FILE, dir_fd=top)
    except OSError as error:
        raise SubmissionsError(f"{download.shown}/{METADATA}: cannot be read ({error.strerror})") from None
    finally:
        os.close(top)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SubmissionsError(f"{download.shown}/{METADATA} is not a regular file")
        return f.read(limit)
