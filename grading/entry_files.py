"""Reading one file of an entry, a folder's or a zip's: bounded, never through a link, and why not when it cannot be.

grading/submissions.py lists an entry (bounded: MAX_NAMES, MAX_ZIP_TABLE) and chooses which of
its files are the student's modules; it reads each with `read_file` (a folder) or `read_member`
(a zip), at most MAX_MODULE_BYTES of it (of a notebook, MAX_NOTEBOOK_BYTES: its bytes are
copied, never parsed here; the student's process reads them, grading/notebooks.py). Whatever
cannot be read raises `Refused`, a reason the student can read; a name that is listed but never read is a `NotRead`.
"""
from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_MODULE_BYTES = 1 << 20  # a module of the curriculum is a few KB
MAX_NOTEBOOK_BYTES = 16 << 20  # a notebook (.ipynb) with its outputs and pictures; grading/notebooks.py
MAX_NOTEBOOKS = 32  # notebooks taken from one entry
MAX_NOTEBOOKS_BYTES = 64 << 20  # all of one entry's notebooks together
NOTEBOOK_HINT = "clear its outputs (Jupyter: Edit > Clear All Outputs) and hand it in again"

FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO swapped in cannot block


class Refused(Exception):
    """Why an entry cannot be graded, for the student to read; it follows the entry's name."""


def unreadable(why: str) -> Refused:
    return Refused(f" could not be read: {why}")


def refused(why: str) -> Refused:
    return Refused(f": {why}")


@dataclass(frozen=True)
class NotRead:
    """A name in the entry that is listed in the report but never read, and why."""
    why: str


@dataclass(frozen=True)
class Twice:
    """A name two members of a zip have: which one is the student's module is not known."""


# ---- a folder's file, a zip's members -------------------------------------------------------------

MODULE_HINT = "check that it is your module"


def too_large(name: str, limit: int, hint: str) -> str:
    return f"{name} is larger than {limit} bytes ({limit >> 20} MB); {hint}"


def read_file(top: int, name: str, key: tuple[str, str], limit: int = MAX_MODULE_BYTES,
              hint: str = MODULE_HINT) -> bytes:
    """A regular file of a folder entry, at most `limit` bytes, or Refused with the reason."""
    folder, base = key
    where = os.open(folder, FOLDER, dir_fd=top) if folder else top
    try:
        fd = os.open(base, FILE, dir_fd=where)
    except PermissionError:
        raise refused(f"{name} cannot be read (permission denied); make it readable") from None
    finally:
        if folder:
            os.close(where)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refused(f"{name} changed while it was read; hand it in again")
        data = f.read(limit + 1) if info.st_size <= limit else b""
    if info.st_size > limit or len(data) > limit:
        raise refused(too_large(name, limit, hint))
    return data


def zip_files(archive: zipfile.ZipFile, prefix: str = "", most: int | None = None) -> dict[str, object]:
    """{relative posix path: ZipInfo, Twice or NotRead} for the members at the top and one
    folder down (of `prefix`, a folder inside the zip, when given; at most `most` of them). A
    name is only ever a key here (nothing is extracted); a name that would escape a folder, or
    holds a NUL that zipfile would cut it at, is listed and never read."""
    files: dict[str, object] = {}
    for info in archive.infolist():
        name = info.orig_filename.replace("\\", "/")  # a backslash separates folders in some zips
        if name.endswith("/") or not name.startswith(prefix):
            continue  # a folder, or outside `prefix`
        if most is not None and len(files) >= most:
            raise refused(f"it holds more than {most} files; hand in only your exercises")
        name = name[len(prefix):]
        parts = PurePosixPath(name).parts
        if "\0" in name or name.startswith("/") or ".." in parts:
            files[name] = NotRead("an unsafe name, never read")
        elif len(parts) in (1, 2):
            key = "/".join(parts)
            files[key] = Twice() if key in files else info
    return files


def read_member(archive: zipfile.ZipFile, name: str, info, limit: int = MAX_MODULE_BYTES,
                hint: str = MODULE_HINT) -> bytes:
    """A member of a zip entry, decompressed at most `limit` bytes far, or Refused with the reason."""
    if isinstance(info, Twice):
        raise refused(f"two members are named {name}; re-create the zip with only one")
    if info.flag_bits & 0x1:
        raise refused(f"the member {name} is encrypted; zip it again without a password")
    if info.file_size > limit or info.compress_size > limit + (64 << 10):
        raise refused(too_large(f"the member {name}", limit, hint))
    try:
        with archive.open(info) as f:
            data = f.read(limit + 1)  # decompressed only this far: its header may lie
    except RuntimeError:  # NotImplementedError, or a compression module missing from this Python
        raise refused(f"the member {name} is compressed in a way the grader cannot read (method "
                      f"{info.compress_type}); zip it again with the usual compression") from None
    except OSError as error:
        if error.errno:  # the disk, not the zip
            raise
        raise refused(f"the member {name} is damaged ({_damage(error)}); re-create the zip") from None
    except Exception as error:  # zlib.error, lzma.LZMAError, BadZipFile, EOFError, ...
        raise refused(f"the member {name} is damaged ({_damage(error)}); re-create the zip") from None
    if len(data) > limit:
        raise refused(too_large(f"the member {name}", limit, hint))
    return data


def _damage(error: Exception) -> str:
    if isinstance(error, zipfile.BadZipFile) and "CRC" in str(error):
        return "its contents do not match its checksum"
    if isinstance(error, EOFError):
        return "it ends too early"
    if isinstance(error, zipfile.BadZipFile):
        return sentence(error)
    return "its compressed data is corrupt"


# ---- words ---------------------------------------------------------------------------------------

def kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def sentence(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:1].lower() + text[1:]
