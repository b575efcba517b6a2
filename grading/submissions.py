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
path in a zip can write anywhere.

An entry that cannot be read (a broken zip, a module over the size limit) is not a usage
error: the student scores zero with the reason, the rest of the class is graded, and
`kit grade` exits with status 1 to say that some entries need a look.
"""
from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kit.registry import CHAPTERS

MAX_MODULE_BYTES = 1 << 20
RESERVED = {"index.html", "grades.csv"}  # names in OUT that a student id must not take


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
        if path.is_symlink():
            notes.append(f"skipped {name}: a symbolic link, not a submission")
            continue
        if path.is_dir():
            student = name
        elif name.lower().endswith(".zip") and path.is_file():
            student = name[:-4]
        else:
            notes.append(f"skipped {name}: not a folder or a .zip")
            continue
        if not student or student in RESERVED:
            raise SubmissionsError(f"{path}: {student!r} cannot be a student id (it names a file of the output)")
        if student in found:
            raise SubmissionsError(f"two entries for student {student!r}: {found[student].entry.name} and {name}")
        found[student] = Submission(student, path)
    if not found:
        raise SubmissionsError(f"{root} holds no submissions (one folder or .zip per student)")
    return [found[s] for s in sorted(found)], notes


def prepare(submission: Submission, into: Path) -> Submission:
    """Copy the entry's curriculum modules into the empty folder `into`; note any problem."""
    into.mkdir(parents=True, exist_ok=True)
    submission.folder = into
    entry = submission.entry
    try:
        if entry.is_dir():
            _copy(submission, _folder_files(entry), _read_file)
        else:
            with zipfile.ZipFile(entry) as archive:
                _copy(submission, _zip_files(archive), lambda info: _read_member(archive, info))
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, RuntimeError, EOFError) as error:
        submission.problem = f"{entry.name} could not be read: {error}"
        for path in into.iterdir():
            path.unlink()
    return submission


def _copy(submission: Submission, files: dict[str, object], read) -> None:
    chosen, others, problem = _choose(files)
    submission.skipped = tuple(sorted(others))[:50]
    if problem:
        submission.problem = f"{submission.entry.name}: {problem}"
        return
    if chosen is None:
        return  # no modules at all: every exercise is "missing"
    folder, modules = chosen
    submission.source = submission.entry.name + (f"/{folder}/" if folder else "")
    for module, key in sorted(modules.items()):
        try:
            data = read(key)
        except ValueError as error:
            raise ValueError(f"{module}.py is {error}") from None
        (submission.folder / f"{module}.py").write_bytes(data)


def _folder_files(root: Path) -> dict[str, object]:
    """{relative posix path: path} for the files at the top and one folder down. A symbolic
    link is listed under another name, so that it is reported and never read."""
    files = {}
    for name in sorted(os.listdir(root)):
        path = root / name
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and not name.startswith("."):
            for inner in sorted(os.listdir(path)):
                files[_entry(f"{name}/{inner}", path / inner)] = path / inner
        elif not stat.S_ISDIR(mode):
            files[_entry(name, path)] = path
    return files


def _entry(name: str, path: Path) -> str:
    mode = os.lstat(path).st_mode
    return name if stat.S_ISREG(mode) else f"{name} (a link or special file, not read)"


def _zip_files(archive: zipfile.ZipFile) -> dict[str, object]:
    files = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if len(parts) in (1, 2) and ".." not in parts and not info.filename.startswith("/"):
            files["/".join(parts)] = info
    return files


def _read_file(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_MODULE_BYTES + 1)
    if len(data) > MAX_MODULE_BYTES:
        raise ValueError(f"larger than {MAX_MODULE_BYTES} bytes")
    return data


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_MODULE_BYTES:
        raise ValueError(f"larger than {MAX_MODULE_BYTES} bytes")
    with archive.open(info) as f:
        data = f.read(MAX_MODULE_BYTES + 1)  # the header's size may lie
    if len(data) > MAX_MODULE_BYTES:
        raise ValueError(f"larger than {MAX_MODULE_BYTES} bytes")
    return data


def _choose(files: dict[str, object]):
    """((folder, {module: key}), other file names, problem): which folder holds the modules."""
    by_folder: dict[str, dict[str, object]] = {}
    for name, key in files.items():
        folder, _, base = name.rpartition("/")
        if base.endswith(".py") and base[:-3] in CHAPTERS:
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
