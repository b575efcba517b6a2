"""A student's part of a platform's download, read as grading/submissions.py reads an entry: bounded, no link followed.

A layout makes one `Part` per student and puts it in the Submission (`part`); prepare() then
calls `part.read(submission)` instead of reading a folder or zip of its own. The four kinds:

    FolderPart     a folder at the top of a downloaded folder (submission_<id>/, Moodle's folders)
    LoosePart      files at the top of a downloaded folder, named by the student's id (Canvas, Moodle)
    ZipFolderPart  the same folder, in the downloaded zip (a member prefix)
    ZipLoosePart   the same files, members of the downloaded zip

Each lists the student's files (a folder: its top and one down, as an entry; loose files: as the
platform names them, with its own prefix taken off) and hands them to submissions.py, which
chooses the modules and copies them under the usual bounds: nothing is opened through a link,
a zip is read, never extracted, at most MAX_MODULE_BYTES of a module. When no module is among
them but one .zip is (a student may hand in a zip of their exercises), that zip is read, at
most MAX_ATTACHMENT bytes of it, in memory, as an entry zip is. Whatever goes wrong raises
`Refused`: that student scores zero with the reason.
"""
from __future__ import annotations

import contextlib
import io
import os
import zipfile
from pathlib import Path

from grading import submissions
from grading.entry_files import (
    FOLDER,
    NotRead,
    Twice,
    read_file,
    read_member,
    refused,
    zip_files,
)
from grading.layouts.download import open_zip

MAX_ATTACHMENT = 16 << 20  # a student's zip of their exercises, read into memory


class Part:
    """A student's part of the download: `label` names it in the report; `extras` are names the
    report lists beside the files not graded (an earlier upload, an online text)."""

    def __init__(self, label: str, extras: tuple[str, ...] = ()):
        self.label, self.extras = label, extras

    def opened(self):
        """A context manager giving (files, read, closed) as submissions._copy takes them, and
        attach(name, key), which reads one of the files whole (at most MAX_ATTACHMENT bytes)."""
        raise NotImplementedError

    def where(self, name: str, key) -> str:
        """How the report names the student's file `name` (whose key is `key`)."""
        return f"{self.label}/{name}"

    def read(self, submission) -> None:
        submission.label = self.label
        with self.opened() as (files, read, closed, attach):
            chosen, _, problem = submissions._choose(files)
            zips = sorted(n for n, key in files.items()
                          if "/" not in n and n.lower().endswith(".zip") and not isinstance(key, NotRead))
            if chosen is None and not problem and len(zips) > 1:
                raise refused(f"no module, and several zip files ({', '.join(zips[:5])}); hand in one")
            if chosen is None and not problem and zips:
                data = attach(zips[0], files[zips[0]])
                submission.label = self.where(zips[0], files[zips[0]])  # what the report and a problem name
                with submissions._open_zip(io.BytesIO(data)) as archive:
                    submissions._copy(submission, zip_files(archive),
                                      lambda n, info, *bound: read_member(archive, n, info, *bound))
                others = [submissions._listed(n, files[n]) for n in files if n != zips[0]]
                submission.skipped = tuple(sorted((*submission.skipped, *others)))[:50]
            else:
                submissions._copy(submission, files, read, closed)
        if self.extras:
            submission.skipped = tuple(sorted((*submission.skipped, *self.extras)))[:50]


class FolderPart(Part):
    """The folder `name` at the top of the downloaded folder `root`."""

    def __init__(self, root: Path, name: str, label: str = "", extras: tuple[str, ...] = ()):
        super().__init__(label or name, extras)
        self.root, self.name = root, name

    @contextlib.contextmanager
    def opened(self):
        top = os.open(self.root, FOLDER)
        try:
            try:
                folder = os.open(self.name, FOLDER, dir_fd=top)  # O_NOFOLLOW: a link is refused
            except OSError as error:
                raise refused(f"the folder {self.name}/ cannot be read ({error.strerror})") from None
            try:
                files, closed = submissions._folder_files(folder)
                yield (files, lambda name, key, *bound: read_file(folder, name, key, *bound), closed,
                       lambda name, key: _read_bounded(folder, key[0], key[1], name))
            finally:
                os.close(folder)
        finally:
            os.close(top)


class LoosePart(Part):
    """Files at the top of the downloaded folder `root`: {name the student gave it: name in root},
    or a NotRead for a name that is not a regular file."""

    def __init__(self, root: Path, files: dict[str, object], label: str, extras: tuple[str, ...] = ()):
        super().__init__(label, extras)
        self.root, self.files = root, files

    @contextlib.contextmanager
    def opened(self):
        top = os.open(self.root, FOLDER)
        try:
            files = {name: real if isinstance(real, NotRead) else ("", real) for name, real in self.files.items()}
            yield (files, lambda name, key, *bound: read_file(top, name, key, *bound), [],
                   lambda name, key: _read_bounded(top, "", key[1], name))
        finally:
            os.close(top)

    def where(self, name: str, key) -> str:
        return key[1]  # the file's name in the download


class ZipFolderPart(Part):
    """The members under `prefix` ("assignment_1_export/submission_7/") of the downloaded zip."""

    def __init__(self, path: Path, prefix: str, label: str, extras: tuple[str, ...] = ()):
        super().__init__(label, extras)
        self.path, self.prefix = path, prefix

    @contextlib.contextmanager
    def opened(self):
        with _class_zip(self.path) as archive:
            yield (zip_files(archive, self.prefix, submissions.MAX_NAMES),
                   lambda name, info, *bound: read_member(archive, name, info, *bound), [],
                   lambda name, info: _read_member_bounded(archive, info, name))


class ZipLoosePart(Part):
    """Members at the top of the downloaded zip: {name the student gave it: member name}."""

    def __init__(self, path: Path, files: dict[str, str], label: str, extras: tuple[str, ...] = ()):
        super().__init__(label, extras)
        self.path, self.files = path, files

    @contextlib.contextmanager
    def opened(self):
        with _class_zip(self.path) as archive:
            by_name: dict[str, object] = {}
            for info in archive.infolist():
                by_name[info.orig_filename] = Twice() if info.orig_filename in by_name else info
            files = {name: by_name.get(member, NotRead("gone from the zip since it was listed"))
                     for name, member in self.files.items()}
            yield (files, lambda name, info, *bound: read_member(archive, name, info, *bound), [],
                   lambda name, info: _read_member_bounded(archive, info, name))

    def where(self, name: str, key) -> str:
        return self.files[name].rpartition("/")[2]  # the member's name in the download


# ---- the downloaded zip, and bounded reads of an attachment -------------------------------------

@contextlib.contextmanager
def _class_zip(path: Path):
    try:
        archive = open_zip(path)
    except submissions.SubmissionsError as error:  # it was read when the class was listed
        raise refused(f"the download could not be read again ({error})") from None
    with archive:
        yield archive


ATTACHMENT_HINT = "zip only your exercises"


def _read_bounded(top: int, folder: str, base: str, name: str) -> bytes:
    try:
        return read_file(top, name, (folder, base), MAX_ATTACHMENT, ATTACHMENT_HINT)
    except OSError as error:  # a link, a vanished file: read_file opens nothing through them
        raise refused(f"{name} cannot be read ({error.strerror})") from None


def _read_member_bounded(archive: zipfile.ZipFile, info, name: str) -> bytes:
    return read_member(archive, name, info, MAX_ATTACHMENT, ATTACHMENT_HINT)
