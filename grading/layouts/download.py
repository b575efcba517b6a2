"""SUBMISSIONS as a layout sees it: a folder or a zip, its top listed once, bounded, links never followed.

A platform's bulk download is a zip (or that zip, unzipped): `look(path)` lists its top, the
names a layout and the detection read. A folder is listed with scandir, nothing followed (a link
is listed as a link, never opened); a zip's table of contents is bounded before zipfile reads it
(MAX_CLASS_NAMES members, MAX_CLASS_TABLE bytes), and a member's name is only a key: one with
"..", a leading "/" or a NUL is never read (it is noted). `inside(download, name)` looks one
folder down, for a download whose every file is in one folder (Gradescope's
assignment_<id>_export/). Nothing here reads a student's file: grading/layouts/parts.py does.
"""
from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grading.entry_files import FILE, kind, sentence
from grading.submissions import SubmissionsError

MAX_CLASS_NAMES = 50_000  # names at the top of a downloaded folder; members of a downloaded zip
MAX_CLASS_TABLE = 16 << 20  # bytes of a downloaded zip's table of contents

FILE_KIND, FOLDER_KIND = "file", "folder"
IGNORED = ("__MACOSX", "__pycache__")  # beside hidden names (".DS_Store"): never a submission


@dataclass
class Download:
    """The top of SUBMISSIONS (or of the one folder it is all in): name -> "file", "folder", or
    what else it is ("a symbolic link", ...). For a zip, `members` are its safe member names,
    relative to `prefix` (the folder looked into, "" or ending in "/")."""

    path: Path
    zipped: bool
    top: dict[str, str]
    prefix: str = ""
    members: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return self.path.name + (f"/{self.prefix}" if self.prefix else "")

    def visible(self) -> dict[str, str]:
        """The top without hidden names and the ones archivers add (__MACOSX)."""
        return {n: k for n, k in self.top.items() if not n.startswith(".") and n not in IGNORED}


def look(path: Path) -> Download:
    """SUBMISSIONS listed: a folder, or a zip file; SubmissionsError if it is neither."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise SubmissionsError(f"{path}: no such folder or zip file") from None
    except OSError as error:
        raise SubmissionsError(f"{path}: cannot be read ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        return Download(path, False, _folder_top(path))
    if stat.S_ISREG(mode):
        names, unsafe = _zip_names(path)
        download = Download(path, True, {}, members=names)
        download.top = _zip_top(names)
        if unsafe:
            download.notes.append(f"never read {len(unsafe)} members of {path.name} with an unsafe name "
                                  f"(\"..\", a leading \"/\" or a NUL), e.g. {unsafe[0]!r}")
        return download
    raise SubmissionsError(f"{path} is {kind(mode)}, not a folder or a zip file")


def inside(download: Download, name: str) -> Download:
    """The download one folder down, in its folder `name` (a folder of its top)."""
    if not download.zipped:
        down = look(download.path / name)
        down.notes = download.notes + down.notes
        return down
    prefix = download.prefix + name + "/"
    names = [m[len(name) + 1:] for m in download.members if m.startswith(name + "/")]
    return Download(download.path, True, _zip_top(names), prefix, names, download.notes)


def open_zip(path: Path) -> zipfile.ZipFile:
    """The downloaded zip, its table of contents bounded before zipfile reads it; SubmissionsError
    if it is not a zip or too large. The file is opened without following a link."""
    try:
        f = os.fdopen(os.open(path, FILE), "rb")
    except OSError as error:
        raise SubmissionsError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise SubmissionsError(f"{path} is not a regular file")
        end = zipfile._EndRecData(f)  # as grading/submissions.py reads a student's zip
        if end is None:
            raise SubmissionsError(f"{path} is not a folder or a zip file")
        if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_CLASS_NAMES or end[zipfile._ECD_SIZE] > MAX_CLASS_TABLE:
            raise SubmissionsError(f"{path} holds more than {MAX_CLASS_NAMES} members, or says so; unzip it "
                                   f"and grade the folder, or split the class")
        return zipfile.ZipFile(f)
    except zipfile.BadZipFile as error:
        f.close()
        raise SubmissionsError(f"{path} is a damaged zip file ({sentence(error)}); download it again") from None
    except UnicodeDecodeError:
        f.close()
        raise SubmissionsError(f"{path}: the name of a member is not valid UTF-8; download it again") from None
    except BaseException:
        f.close()
        raise


def member_name(info: zipfile.ZipInfo) -> str | None:
    """A member's name as a relative posix path, or None when it is unsafe (never read) or a folder."""
    name = info.orig_filename.replace("\\", "/")
    if "\0" in name or name.startswith("/") or ".." in PurePosixPath(name).parts:
        return None
    return None if name.endswith("/") else name


def _zip_names(path: Path) -> tuple[list[str], list[str]]:
    archive = open_zip(path)
    with archive:
        infos = archive.infolist()
        names = [member_name(info) for info in infos]
        unsafe = [i.orig_filename for i, n in zip(infos, names) if n is None and not i.orig_filename.endswith("/")]
        return [n for n in names if n is not None], unsafe


def _zip_top(names: list[str]) -> dict[str, str]:
    top: dict[str, str] = {}
    for name in names:
        first, slash, _ = name.partition("/")
        if first:
            top[first] = FOLDER_KIND if slash or top.get(first) == FOLDER_KIND else FILE_KIND
    return top


def _folder_top(path: Path) -> dict[str, str]:
    top: dict[str, str] = {}
    try:
        with os.scandir(path) as items:
            for item in items:
                if len(top) >= MAX_CLASS_NAMES:
                    raise SubmissionsError(f"{path} holds more than {MAX_CLASS_NAMES} files and folders; "
                                           f"split the class")
                try:
                    mode = item.stat(follow_symlinks=False).st_mode
                except OSError:
                    mode = 0
                top[item.name] = (FOLDER_KIND if stat.S_ISDIR(mode) else FILE_KIND if stat.S_ISREG(mode)
                                  else kind(mode))
    except OSError as error:
        raise SubmissionsError(f"{path}: cannot be read ({error.strerror})") from None
    return top
