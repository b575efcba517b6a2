"""A class's submissions: one entry per student, copied into clean folders of modules and notebooks only.

SUBMISSIONS holds one entry per student, a folder or a `.zip`; the student id is the entry's
name without `.zip`. Hidden entries (".name", __MACOSX) are skipped, other files with a note.

From each entry only the curriculum's modules are taken (`ch1_sensitivity.py`, ...: the names
in kit.registry.CHAPTERS), from its top, or else from one folder down (`exercises/`, or the
entry's own name inside a zip). When several folders one down hold modules, `exercises/` is
taken if it is one of them; otherwise the entry is ambiguous and scores zero, with the
reason. Notebooks (`*.ipynb`, any name; not hidden ones, not Jupyter's `-checkpoint.ipynb`
copies, nothing in a hidden folder such as .ipynb_checkpoints/) count as modules do when the
folder is chosen, and are taken from the same folder: at most MAX_NOTEBOOKS of them, each at
most MAX_NOTEBOOK_BYTES (16 MB: outputs make notebooks big), MAX_NOTEBOOKS_BYTES together. The
grader copies a notebook's bytes as they are, as nb-01.ipynb, ... with the name the student gave
it in `Submission.notebooks`, and never parses or believes it: the student's process reads it
(grading/notebooks.py, which says what is taken from it and which chapters it serves; a
chapter's .py module, when there is one, is graded instead of any notebook). Nothing else is
copied, so a conftest.py, a .pth file, a pytest.ini or a helper module is never imported.
Symbolic links are not followed (a link to solutions/ would otherwise pass); modules over
1 MB are refused. Zip members are read, never extracted: no
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

How one file of an entry is read is grading/entry_files.py's; `remove_tree`, which removes a
prepared tree of any depth without following links, grading/tree_removal.py's. A platform's
download is read by grading/layouts/: a student's part of it is a Submission with a `part`.
"""
from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

# this module's API too: the grader and tests/self/test_submissions_hostile.py import them here
from grading.entry_files import (
    FILE,
    FOLDER,
    MAX_MODULE_BYTES,  # noqa: F401
    MAX_NOTEBOOK_BYTES,
    MAX_NOTEBOOKS,
    MAX_NOTEBOOKS_BYTES,
    NOTEBOOK_HINT,
    NotRead,
    Refused,
    kind,
    read_file,
    read_member,
    refused,
    sentence,
    unreadable,
    zip_files,
)
from grading.tree_removal import remove_tree  # noqa: F401
from kit.registry import CHAPTERS

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
    label: str = ""  # how the report names a part of a platform's download (else the entry's name)
    part: object = None  # grading/layouts/: reads this student's part of a platform's download
    people: tuple = ()  # grading/layouts/: who handed it in, for the roster (several in a group)
    notebooks: tuple = ()  # ((file in `folder`, name the student gave it), ...): grading/notebooks.py

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
    try:
        into.mkdir(parents=True, exist_ok=True)
        if not submission.problem:  # a problem found by discover() stands
            _read_entry(submission)
    except Refused as refusal:
        submission.problem = f"{_shown(submission)}{refusal}"
    except Exception as error:  # unforeseen: still this student's only
        submission.problem = f"{_shown(submission)} could not be read: {_why(error)}"
    if submission.problem:
        submission.source = ""
        submission.notebooks = ()
        try:
            for module in os.listdir(into):  # only the modules copied above, a flat folder
                os.unlink(into / module)
        except OSError:
            pass  # the grader removes `into` at the end in any case
    return submission


# ---- reading one entry ------------------------------------------------------------------------

def _shown(submission: Submission) -> str:
    return submission.label or submission.entry.name


def _read_entry(submission: Submission) -> None:
    if submission.part is not None:  # a part of a platform's download: grading/layouts/parts.py
        return submission.part.read(submission)
    entry = submission.entry
    mode = os.lstat(entry).st_mode
    if stat.S_ISDIR(mode):
        top = os.open(entry, FOLDER)  # O_NOFOLLOW: a link put in its place since is refused
        try:
            files, closed = _folder_files(top)
            _copy(submission, files, lambda name, key, *bound: read_file(top, name, key, *bound), closed)
        finally:
            os.close(top)
    elif stat.S_ISREG(mode):
        with os.fdopen(os.open(entry, FILE), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise unreadable("it changed while it was read; hand it in again")
            archive = _open_zip(f)
            with archive:
                _copy(submission, zip_files(archive),
                      lambda name, info, *bound: read_member(archive, name, info, *bound))
    else:
        raise unreadable(f"it is {kind(mode)}, not a folder or a .zip file; hand in the folder or "
                         f"the .zip file itself")


def _copy(submission: Submission, files: dict[str, object], read, closed: list[str] = ()) -> None:
    chosen, others, problem = _choose(files)
    submission.skipped = tuple(sorted(_listed(name, files[name]) for name in others))[:50]
    if problem:
        raise refused(problem)
    if closed and (chosen is None or chosen[0] != ""):  # the modules may be in the folder not seen
        raise refused(f"the folder {closed[0]}/ cannot be read (permission denied), and it may hold "
                      f"your modules; make it readable")
    if chosen is None:
        return  # no modules at all: every exercise is "missing"
    folder, modules = chosen
    submission.source = _shown(submission) + (f"/{folder}/" if folder else "")
    notebooks = sorted(base for base in modules if not base.endswith(".py"))
    if len(notebooks) > MAX_NOTEBOOKS:
        raise refused(f"it holds more than {MAX_NOTEBOOKS} notebooks; hand in one for the course or one per chapter")
    total = 0
    for base, key in sorted(modules.items()):
        name = f"{folder}/{base}" if folder else base
        if base in notebooks:  # its bytes only: the student's process reads it (grading/notebooks.py)
            data = read(name, key, MAX_NOTEBOOK_BYTES, NOTEBOOK_HINT)
            total += len(data)
            if total > MAX_NOTEBOOKS_BYTES:
                raise refused(f"its notebooks weigh more than {MAX_NOTEBOOKS_BYTES >> 20} MB together; {NOTEBOOK_HINT}")
            file = f"nb-{len(submission.notebooks) + 1:02d}.ipynb"
            (submission.folder / file).write_bytes(data)
            submission.notebooks += ((file, base),)
        else:
            (submission.folder / base).write_bytes(read(name, key))


def _listed(name: str, key: object) -> str:
    """The name as the report lists it, with why it was not read when that is not plain."""
    base = name.rpartition("/")[2]
    if isinstance(key, NotRead):
        return f"{name} ({key.why})"
    if base.lower().endswith(".py") and base[:-3].lower() in CHAPTERS and base[:-3] not in CHAPTERS:
        return f"{name} (not read: a module's name is in lower case, {base.lower()})"
    return name


# ---- what of an entry is looked at: bounded ----------------------------------------------------

def _folder_files(top: int) -> tuple[dict[str, object], list[str]]:
    """{relative posix path: (folder, name) to read it, or NotRead} for what is at the top and
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
            files[name] = NotRead(f"{kind(mode)}, not read")
        elif not name.startswith("."):
            try:
                inside = _list_folder(top, name, MAX_NAMES - seen)
            except PermissionError:  # the entry is the student's: its modes are not changed
                files[f"{name}/"] = NotRead("cannot be read: permission denied")
                closed.append(name)
                continue
            seen += len(inside)
            for inner, inner_mode in inside:
                path = f"{name}/{inner}"
                if stat.S_ISREG(inner_mode):
                    files[path] = (name, inner)
                elif stat.S_ISDIR(inner_mode):
                    files[f"{path}/"] = NotRead("a folder two down, not looked into")
                else:
                    files[path] = NotRead(f"{kind(inner_mode)}, not read")
    return files, sorted(closed)


def _list_folder(top: int, name: str, room: int) -> list[tuple[str, int]]:
    folder = os.open(name, FOLDER, dir_fd=top)
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
                raise refused(f"it holds more than {MAX_NAMES} files and folders at its top and one "
                              f"folder down; hand in only your exercises")
            found.append((item.name, item.stat(follow_symlinks=False).st_mode))
    return found


def _open_zip(f) -> zipfile.ZipFile:
    """The zip, its table of contents bounded before zipfile reads all of it into memory."""
    try:
        end = zipfile._EndRecData(f)  # the end record zipfile itself reads first (private, in every Python 3)
        if end is None:
            raise unreadable("it is not a zip file; make it again (e.g. `zip -r`) from your folder")
        if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_NAMES or end[zipfile._ECD_SIZE] > MAX_ZIP_TABLE:
            raise refused(f"it holds more than {MAX_NAMES} members, or says so; zip only your exercises")
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile as error:
        raise unreadable(f"it is damaged ({sentence(error)}); re-create the zip") from None
    except UnicodeDecodeError:  # a name flagged UTF-8 that is not
        raise unreadable("the name of a member is not valid UTF-8; re-create the zip") from None
    if len(archive.infolist()) > MAX_NAMES:
        archive.close()
        raise refused(f"it holds more than {MAX_NAMES} members; zip only your exercises")
    return archive


# ---- which folder holds the modules -------------------------------------------------------------

def _choose(files: dict[str, object]):
    """((folder, {file name: key}), other file names, problem): which folder holds the modules
    (the curriculum's .py modules, and notebooks: grading/notebooks.py)."""
    by_folder: dict[str, dict[str, object]] = {}
    for name, key in files.items():
        folder, _, base = name.rpartition("/")
        if isinstance(key, NotRead):
            continue
        if (base.endswith(".py") and base[:-3] in CHAPTERS) or _notebook(folder, base):
            by_folder.setdefault(folder, {})[base] = key
    if "" in by_folder:
        folder = ""
    elif len(by_folder) == 1:
        folder = next(iter(by_folder))
    elif "exercises" in by_folder:
        folder = "exercises"
    elif not by_folder:
        return None, list(files), ""
    else:
        return None, list(files), (f"curriculum modules or notebooks in several folders "
                                   f"({', '.join(sorted(by_folder))}); keep one folder of them, e.g. exercises/")
    taken = {f"{folder}/{m}" if folder else m for m in by_folder[folder]}
    return (folder, by_folder[folder]), [n for n in files if n not in taken], ""


def _notebook(folder: str, base: str) -> bool:
    """A notebook handed in: .ipynb, not hidden (._x.ipynb), not Jupyter's checkpoint copy."""
    return (base.lower().endswith(".ipynb") and not base.startswith(".") and not folder.startswith((".", "__MACOSX"))
            and not base.lower().endswith("-checkpoint.ipynb"))


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
