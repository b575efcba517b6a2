"""A class's submissions: one entry per student, copied into clean folders of modules only.

SUBMISSIONS holds one entry per student, a folder or a `.zip`; the student id is the entry's
name without `.zip`. Hidden entries (".name", __MACOSX) are skipped, other files with a note.

From each entry only the curriculum's modules are taken (`ch1_sensitivity.py`, ...: the names
in kit.registry.CHAPTERS), from its top, or else from one folder down (`exercises/`, or the
entry's own name inside a zip). When several folders one down hold modules, `exercises/` is
taken if it is one of them; otherwise the entry is ambiguous and scores zero, with the
reason. Nothing else is copied, so a conftest.py, a .pth file, a pytest.ini or a helper
module is never imported. Symbolic links are not followed (a link to solutions/ would
otherwise pass); files over 1 MB are refused. Zip members are read, never extracted: no
path in a zip can write anywhere; a member's name is only a key (one with "..", a leading
"/" or a NUL is listed in the report and never read; a backslash separates folders).

Entries are hostile, so reading one is bounded and cannot stop the class:
- bounded: at most MAX_NAMES files and folders are looked at in a folder entry (its top and
  one folder down; nothing deeper, however deep), at most MAX_NAMES members and MAX_ZIP_TABLE
  bytes of table of contents in a zip (checked in its end record, before zipfile reads the
  table), at most MAX_MODULE_BYTES read of each module (a zip member is decompressed only
  that far, whatever its header says);
- nothing is opened through a link, and nothing but a regular file is opened at all: a FIFO,
  socket or device is listed, never opened (and files are opened O_NONBLOCK, in case);
- any exception while one entry is read (a corrupt deflate stream, an encrypted member, an
  unreadable file, or anything unforeseen) becomes that student's `problem`, a reason they
  can read: the student scores zero with it, the rest of the class is graded, and `kit grade`
  exits with status 1 to say that some entries need a look. A usage error (SubmissionsError)
  is only about SUBMISSIONS as a whole.
A module's bytes are copied as they are: whether they are Python (a NUL byte, an encoding)
is for the import in the sandbox to say, as it would for the student.

`remove_tree` removes a prepared tree, which a submission may have filled while it ran, of
any depth, without following links, and never raises.
"""
from __future__ import annotations

import errno
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kit.registry import CHAPTERS

MAX_MODULE_BYTES = 1 << 20  # a module of the curriculum is a few KB
MAX_NAMES = 10_000  # files and folders looked at in a folder entry (top and one down), members of a zip
MAX_ZIP_TABLE = 4 << 20  # bytes of a zip's table of contents: what zipfile reads into memory


class SubmissionsError(Exception):
    """Bad usage: no such folder, no entries, two entries for one student."""


@dataclass
class Submission:
    student: str
    entry: Path  # the folder or zip in SUBMISSIONS
    folder: Path | None = None  # the clean copy of its modules, once prepared
    source: str = ""  # where in the entry the modules were found, e.g. "alice.zip/exercises/"
    problem: str = ""  # why the entry could not be read (then it scores zero)
    skipped: tuple[str, ...] = ()  # other files in the entry, never copied (for the report)

    @property
    def modules(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("ch*.py")) if self.folder else []


def discover(root: Path) -> tuple[list[Submission], list[str]]:
    """The class's entries, sorted by student id, and notes about what was skipped."""
    if not root.exists():
        raise SubmissionsError(f"{root}: no such folder")
    if not root.is_dir():
        raise SubmissionsError(f"{root} is not a folder (it should hold one folder or .zip per student)")
    try:
        names = sorted(os.listdir(root))
    except OSError as error:
        raise SubmissionsError(f"{root}: cannot be read ({error.strerror})") from None
    found: dict[str, Submission] = {}
    notes = []
    for name in names:
        path = root / name
        if name.startswith(".") or name in ("__MACOSX", "__pycache__"):
            continue
        problem = ""
        try:
            mode = os.lstat(path).st_mode
        except Exception as error:  # gone, or an I/O error: a problem of that entry, not of the class
            mode, problem = 0, f"{name} could not be read: {_why(error)}"
        if stat.S_ISDIR(mode):  # a link to a folder is not a folder
            student = name
        elif name.lower().endswith(".zip") or problem:  # even a link or a FIFO: prepare says why not
            student = name[:-4] if name.lower().endswith(".zip") else name
        elif stat.S_ISLNK(mode):
            notes.append(f"skipped {name}: a symbolic link, not a submission")
            continue
        else:
            notes.append(f"skipped {name}: not a folder or a .zip")
            continue
        if not student:  # any other name is an id: grading/reports.py gives each its own folder
            raise SubmissionsError(f"{path}: {student!r} cannot be a student id")
        if student in found:
            raise SubmissionsError(f"two entries for student {student!r}: {found[student].entry.name} and {name}")
        found[student] = Submission(student, path, problem=problem)
    if not found:
        raise SubmissionsError(f"{root} holds no submissions (one folder or .zip per student)")
    return [found[s] for s in sorted(found)], notes


def prepare(submission: Submission, into: Path) -> Submission:
    """Copy the entry's curriculum modules into the empty folder `into`; note any problem.

    Never raises for a fault of the entry: whatever goes wrong while it is read becomes the
    student's `problem` (then `into` is left empty), so one entry never stops the class."""
    submission.folder = into
    name = submission.entry.name
    try:
        into.mkdir(parents=True, exist_ok=True)
        if not submission.problem:  # a problem found by discover() stands
            _read_entry(submission)
    except _Refused as refused:
        submission.problem = f"{name}{refused}"
    except Exception as error:  # unforeseen: still this student's only
        submission.problem = f"{name} could not be read: {_why(error)}"
    if submission.problem:
        submission.source = ""
        try:
            for module in os.listdir(into):  # only the modules copied above, a flat folder
                os.unlink(into / module)
        except OSError:
            pass  # the grader removes `into` at the end in any case
    return submission


def remove_tree(path: Path) -> list[str]:
    """Remove `path` and everything in it, never following a symbolic link; never raises.
    Returns what could not be removed, each with the reason (empty when all of it is gone).

    A tree of any depth: it is not descended into, which would need one open folder, or one
    more path component, a level (Python's recursion limit, the system's limits on open files
    and on the length of a path). Each folder found is moved up to the top of the tree first,
    then emptied and removed, so that at most two folders are open at a time."""
    left: list[str] = []
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
        else:
            _remove_folder(path, left)
    except FileNotFoundError:
        pass
    except Exception as error:  # the grader's clean-up: it must not stop the class either
        left.append(f"{path} ({error})")
    return left


def _remove_folder(path: Path, left: list[str]) -> None:
    top = _open_to_remove(path)
    try:
        taken = set(os.listdir(top))  # names a folder moved up must not take
        pending = [""]  # folders directly in the top left to empty; "" is the top itself
        while pending:
            name = pending.pop()
            try:
                folder = _open_to_remove(name, top) if name else os.dup(top)
            except OSError as error:
                left.append(f"{path / name} ({error.strerror})")
                continue
            try:
                for item in os.listdir(folder):
                    try:
                        if not stat.S_ISDIR(os.stat(item, dir_fd=folder, follow_symlinks=False).st_mode):
                            os.unlink(item, dir_fd=folder)
                        elif name:
                            up = _fresh(taken)
                            os.rename(item, up, src_dir_fd=folder, dst_dir_fd=top)
                            pending.append(up)
                        else:
                            pending.append(item)
                    except OSError as error:
                        left.append(f"{path / name / item} ({error.strerror})")
            except OSError as error:
                left.append(f"{path / name} ({error.strerror})")
            finally:
                os.close(folder)
            if name:
                try:
                    os.rmdir(name, dir_fd=top)
                except OSError as error:
                    left.append(f"{path / name} ({error.strerror})")
    finally:
        os.close(top)
    if not left:
        os.rmdir(path)


def _open_to_remove(name, dir_fd: int | None = None) -> int:
    """A folder of the tree being removed, opened (never through a link) and made writable: a
    student may have made a folder of theirs unreadable, or its files undeletable."""
    try:
        folder = os.open(name, _FOLDER, dir_fd=dir_fd)
    except PermissionError:
        try:
            os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
        except (OSError, NotImplementedError, ValueError):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES)) from None
        folder = os.open(name, _FOLDER, dir_fd=dir_fd)
    try:
        os.fchmod(folder, 0o700)
    except OSError:
        pass  # not ours to change: its files may still go
    return folder


def _fresh(taken: set[str]) -> str:
    """A name for a folder moved up to the top of the tree that no other there has."""
    n = len(taken)
    while f"up{n}" in taken:
        n += 1
    taken.add(f"up{n}")
    return f"up{n}"


# ---- reading one entry ------------------------------------------------------------------------

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO swapped in cannot block


class _Refused(Exception):
    """Why an entry cannot be graded, for the student to read; it follows the entry's name."""


def _unreadable(why: str) -> _Refused:
    return _Refused(f" could not be read: {why}")


def _refused(why: str) -> _Refused:
    return _Refused(f": {why}")


@dataclass(frozen=True)
class _NotRead:
    """A name in the entry that is listed in the report but never read, and why."""
    why: str


@dataclass(frozen=True)
class _Twice:
    """A name two members of a zip have: which one is the student's module is not known."""


def _read_entry(submission: Submission) -> None:
    entry = submission.entry
    mode = os.lstat(entry).st_mode
    if stat.S_ISDIR(mode):
        top = os.open(entry, _FOLDER)  # O_NOFOLLOW: a link put in its place since is refused
        try:
            files, closed = _folder_files(top)
            _copy(submission, files, lambda name, key: _read_file(top, name, key), closed)
        finally:
            os.close(top)
    elif stat.S_ISREG(mode):
        with os.fdopen(os.open(entry, _FILE), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise _unreadable("it changed while it was read; hand it in again")
            archive = _open_zip(f)
            with archive:
                _copy(submission, _zip_files(archive), lambda name, info: _read_member(archive, name, info))
    else:
        raise _unreadable(f"it is {_kind(mode)}, not a folder or a .zip file; hand in the folder or "
                          f"the .zip file itself")


def _copy(submission: Submission, files: dict[str, object], read, closed: list[str] = ()) -> None:
    chosen, others, problem = _choose(files)
    submission.skipped = tuple(sorted(_listed(name, files[name]) for name in others))[:50]
    if problem:
        raise _refused(problem)
    if closed and (chosen is None or chosen[0] != ""):  # the modules may be in the folder not seen
        raise _refused(f"the folder {closed[0]}/ cannot be read (permission denied), and it may hold "
                       f"your modules; make it readable")
    if chosen is None:
        return  # no modules at all: every exercise is "missing"
    folder, modules = chosen
    submission.source = submission.entry.name + (f"/{folder}/" if folder else "")
    for module, key in sorted(modules.items()):
        data = read(f"{folder}/{module}.py" if folder else f"{module}.py", key)
        (submission.folder / f"{module}.py").write_bytes(data)


def _listed(name: str, key: object) -> str:
    """The name as the report lists it, with why it was not read when that is not plain."""
    base = name.rpartition("/")[2]
    if isinstance(key, _NotRead):
        return f"{name} ({key.why})"
    if base.lower().endswith(".py") and base[:-3].lower() in CHAPTERS and base[:-3] not in CHAPTERS:
        return f"{name} (not read: a module's name is in lower case, {base.lower()})"
    return name


def _folder_files(top: int) -> tuple[dict[str, object], list[str]]:
    """{relative posix path: (folder, name) to read it, or _NotRead} for what is at the top and
    one folder down (nothing deeper is looked at), and the folders one down that cannot be
    listed. A link or special file is listed, never opened."""
    files: dict[str, object] = {}
    closed = []
    listed = _list(top, MAX_NAMES)
    seen = len(listed)  # names looked at, the bound on the work done
    for name, mode in listed:
        if stat.S_ISREG(mode):
            files[name] = ("", name)
        elif not stat.S_ISDIR(mode):
            files[name] = _NotRead(f"{_kind(mode)}, not read")
        elif not name.startswith("."):
            try:
                inside = _list_folder(top, name, MAX_NAMES - seen)
            except PermissionError:  # the entry is the student's: its modes are not changed
                files[f"{name}/"] = _NotRead("cannot be read: permission denied")
                closed.append(name)
                continue
            seen += len(inside)
            for inner, inner_mode in inside:
                path = f"{name}/{inner}"
                if stat.S_ISREG(inner_mode):
                    files[path] = (name, inner)
                elif stat.S_ISDIR(inner_mode):
                    files[f"{path}/"] = _NotRead("a folder two down, not looked into")
                else:
                    files[path] = _NotRead(f"{_kind(inner_mode)}, not read")
    return files, sorted(closed)


def _list_folder(top: int, name: str, room: int) -> list[tuple[str, int]]:
    folder = os.open(name, _FOLDER, dir_fd=top)
    try:
        return _list(folder, room)
    finally:
        os.close(folder)


def _list(folder: int, room: int) -> list[tuple[str, int]]:
    """(name, mode) of each thing in the open folder, links not followed; at most `room`."""
    found = []
    with os.scandir(folder) as items:
        for item in items:
            if len(found) >= room:
                raise _refused(f"it holds more than {MAX_NAMES} files and folders at its top and one "
                               f"folder down; hand in only your exercises")
            found.append((item.name, item.stat(follow_symlinks=False).st_mode))
    return found


def _read_file(top: int, name: str, key: tuple[str, str]) -> bytes:
    folder, base = key
    where = os.open(folder, _FOLDER, dir_fd=top) if folder else top
    try:
        fd = os.open(base, _FILE, dir_fd=where)
    except PermissionError:
        raise _refused(f"{name} cannot be read (permission denied); make it readable") from None
    finally:
        if folder:
            os.close(where)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refused(f"{name} changed while it was read; hand it in again")
        data = f.read(MAX_MODULE_BYTES + 1) if info.st_size <= MAX_MODULE_BYTES else b""
    if info.st_size > MAX_MODULE_BYTES or len(data) > MAX_MODULE_BYTES:
        raise _refused(f"{name} is larger than {MAX_MODULE_BYTES} bytes (1 MB); check that it is your module")
    return data


def _open_zip(f) -> zipfile.ZipFile:
    """The zip, its table of contents bounded before zipfile reads all of it into memory."""
    try:
        end = zipfile._EndRecData(f)  # the end record zipfile itself reads first (private, in every Python 3)
        if end is None:
            raise _unreadable("it is not a zip file; make it again (e.g. `zip -r`) from your folder")
        if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_NAMES or end[zipfile._ECD_SIZE] > MAX_ZIP_TABLE:
            raise _refused(f"it holds more than {MAX_NAMES} members, or says so; zip only your exercises")
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile as error:
        raise _unreadable(f"it is damaged ({_sentence(error)}); re-create the zip") from None
    except UnicodeDecodeError:  # a name flagged UTF-8 that is not
        raise _unreadable("the name of a member is not valid UTF-8; re-create the zip") from None
    if len(archive.infolist()) > MAX_NAMES:
        archive.close()
        raise _refused(f"it holds more than {MAX_NAMES} members; zip only your exercises")
    return archive


def _zip_files(archive: zipfile.ZipFile) -> dict[str, object]:
    """{relative posix path: ZipInfo, _Twice or _NotRead} for the members at the top and one
    folder down. A name is only ever a key here (nothing is extracted); a name that would
    escape a folder, or holds a NUL that zipfile would cut it at, is listed and never read."""
    files: dict[str, object] = {}
    for info in archive.infolist():
        name = info.orig_filename.replace("\\", "/")  # a backslash separates folders in some zips
        parts = PurePosixPath(name).parts
        if name.endswith("/"):
            continue  # a folder
        if "\0" in name or name.startswith("/") or ".." in parts:
            files[name] = _NotRead("an unsafe name, never read")
        elif len(parts) in (1, 2):
            key = "/".join(parts)
            files[key] = _Twice() if key in files else info
    return files


def _read_member(archive: zipfile.ZipFile, name: str, info) -> bytes:
    if isinstance(info, _Twice):
        raise _refused(f"two members are named {name}; re-create the zip with only one")
    if info.flag_bits & 0x1:
        raise _refused(f"the member {name} is encrypted; zip it again without a password")
    if info.file_size > MAX_MODULE_BYTES or info.compress_size > MAX_MODULE_BYTES + (64 << 10):
        raise _refused(f"the member {name} is larger than {MAX_MODULE_BYTES} bytes (1 MB); "
                       f"check that it is your module")
    try:
        with archive.open(info) as f:
            data = f.read(MAX_MODULE_BYTES + 1)  # decompressed only this far: its header may lie
    except RuntimeError:  # NotImplementedError, or a compression module missing from this Python
        raise _refused(f"the member {name} is compressed in a way the grader cannot read (method "
                       f"{info.compress_type}); zip it again with the usual compression") from None
    except OSError as error:
        if error.errno:  # the disk, not the zip
            raise
        raise _refused(f"the member {name} is damaged ({_damage(error)}); re-create the zip") from None
    except Exception as error:  # zlib.error, lzma.LZMAError, BadZipFile, EOFError, ...
        raise _refused(f"the member {name} is damaged ({_damage(error)}); re-create the zip") from None
    if len(data) > MAX_MODULE_BYTES:
        raise _refused(f"the member {name} is larger than {MAX_MODULE_BYTES} bytes (1 MB); "
                       f"check that it is your module")
    return data


def _damage(error: Exception) -> str:
    if isinstance(error, zipfile.BadZipFile) and "CRC" in str(error):
        return "its contents do not match its checksum"
    if isinstance(error, EOFError):
        return "it ends too early"
    if isinstance(error, zipfile.BadZipFile):
        return _sentence(error)
    return "its compressed data is corrupt"


def _choose(files: dict[str, object]):
    """((folder, {module: key}), other file names, problem): which folder holds the modules."""
    by_folder: dict[str, dict[str, object]] = {}
    for name, key in files.items():
        folder, _, base = name.rpartition("/")
        if base.endswith(".py") and base[:-3] in CHAPTERS and not isinstance(key, _NotRead):
            by_folder.setdefault(folder, {})[base[:-3]] = key
    if "" in by_folder:
        folder = ""
    elif len(by_folder) == 1:
        folder = next(iter(by_folder))
    elif "exercises" in by_folder:
        folder = "exercises"
    elif not by_folder:
        return None, list(files), ""
    else:
        return None, list(files), (f"curriculum modules in several folders ({', '.join(sorted(by_folder))}); "
                                   f"keep one folder of modules, e.g. exercises/")
    taken = {f"{folder}/{m}.py" if folder else f"{m}.py" for m in by_folder[folder]}
    return (folder, by_folder[folder]), [n for n in files if n not in taken], ""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _why(error: BaseException) -> str:
    """An exception in words for a student: the system's reason, or its type and message."""
    if isinstance(error, PermissionError):
        return "permission denied; make it readable and hand it in again"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror[:1].lower()}{error.strerror[1:]}"
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    text = str(error)
    text = text if len(text) <= 200 else text[:200] + "…"
    return f"an unexpected {type(error).__name__}" + (f" ({text})" if text else "") + "; tell your instructor"


def _sentence(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:1].lower() + text[1:]
