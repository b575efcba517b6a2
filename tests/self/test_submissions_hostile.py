"""Hostile entries in a class: each costs its own student only, with a reason they can read.

Every test makes a small class, two good students (alice, a folder; bob, a zip) beside one
hostile entry, and reads it as grading/grader.py does: discover(), then prepare() of each entry
into its own folder. `read_class` checks, for every test, what the guarantee promises beyond the
hostile student's own outcome: the good students are prepared as if alone, a prepared folder
holds curriculum modules only (none at all when the entry has a problem), and nothing outside
the prepared folders is written or changed. A zip here is often written byte by byte
(`raw_zip`), so that it can lie in ways zipfile refuses to write.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import struct
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from grading import submissions
from grading.submissions import MAX_MODULE_BYTES, MAX_NAMES, Submission, discover, prepare, remove_tree
from kit.registry import CHAPTERS

ROOT = Path(__file__).resolve().parents[2]
CH1 = (ROOT / "solutions" / "ch1_sensitivity.py").read_bytes()
CH2 = (ROOT / "solutions" / "ch2_chain_rule.py").read_bytes()
NOBODY = 65534


# ---- a class, read as the grader reads it -----------------------------------------------------

def make_class(base: Path) -> Path:
    """base/class with the two good students; a test adds its hostile entry."""
    root = base / "class"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "ch1_sensitivity.py").write_bytes(CH1)
    (root / "alice" / "ch2_chain_rule.py").write_bytes(CH2)
    with zipfile.ZipFile(root / "bob.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("exercises/ch1_sensitivity.py", CH1)
    return root


def snapshot(base: Path, skip: Path, depth: int = 4) -> dict[str, tuple]:
    """What is under `base`, a few levels down, links not followed: to see that nothing changed."""
    seen, stack = {}, [(base, 0)]
    while stack:
        folder, level = stack.pop()
        try:
            items = list(os.scandir(folder))
        except PermissionError:
            seen[str(folder)] = ("unreadable",)
            continue
        for item in items:
            if Path(item.path) == skip:
                continue
            info = item.stat(follow_symlinks=False)
            seen[item.path] = (info.st_mode, info.st_size, info.st_mtime_ns)
            if item.is_dir(follow_symlinks=False) and level < depth:
                stack.append((Path(item.path), level + 1))
    return seen


def read_class(base: Path, as_user=contextlib.nullcontext) -> tuple[dict[str, Submission], list[str]]:
    """discover() and prepare() as grade_submissions calls them, then what holds for every class."""
    root, work = base / "class", base / "work"
    work.mkdir(exist_ok=True)
    before, outside = snapshot(base, skip=work), sorted(os.listdir(base.parent))
    with as_user():
        subs, notes = discover(root)
        for i, sub in enumerate(subs):
            prepare(sub, work / f"s{i:05d}")
    assert snapshot(base, skip=work) == before  # reading an entry writes or changes nothing
    assert sorted(os.listdir(base.parent)) == outside  # nor anything beside the class
    assert sorted(os.listdir(work)) == [f"s{i:05d}" for i in range(len(subs))]
    for sub in subs:  # a prepared folder holds modules only, and none for an entry with a problem
        for name in os.listdir(sub.folder):
            assert name.removesuffix(".py") in CHAPTERS and stat.S_ISREG(os.lstat(sub.folder / name).st_mode)
        assert not sub.problem or os.listdir(sub.folder) == []
    found = {sub.student: sub for sub in subs}
    alice, bob = found["alice"], found["bob"]
    assert (alice.problem, alice.source, alice.skipped) == ("", "alice", ())
    assert (alice.folder / "ch1_sensitivity.py").read_bytes() == CH1 and alice.modules == ["ch1_sensitivity",
                                                                                          "ch2_chain_rule"]
    assert (bob.problem, bob.source, bob.modules) == ("", "bob.zip/exercises/", ["ch1_sensitivity"])
    assert (bob.folder / "ch1_sensitivity.py").read_bytes() == CH1
    return found, notes


def as_nobody():
    """Reads as an unprivileged user: root reads a chmod 000 file anyway, so a test run as root
    drops its rights (effective ids only, restored at the end) for the permission tests."""
    if os.geteuid() != 0:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def nobody():
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
        try:
            yield
        finally:
            os.seteuid(0)
            os.setegid(0)
    return nobody()


@pytest.fixture
def open_base(tmp_path):
    """A base folder the unprivileged reader can reach: pytest's tmp_path of root is 0700."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    outer = Path(tempfile.mkdtemp(prefix="kit-hostile-"))  # its own parent: /tmp changes meanwhile
    base = outer / "base"
    (base / "work").mkdir(parents=True)
    os.chmod(outer, 0o755)
    os.chown(base / "work", NOBODY, NOBODY)  # where prepare() writes, as grader.py's work folder
    yield base
    assert remove_tree(outer) == []


@pytest.fixture
def base(tmp_path):
    """tmp_path, removed with remove_tree: a tree too deep for shutil.rmtree is no worry."""
    yield tmp_path
    assert remove_tree(tmp_path) == []


def nest(folder: Path, depth: int, name: str) -> None:
    """`depth` folders inside one another, made through descriptors: the path of the deepest
    is longer than the system takes (PATH_MAX, 4096 bytes), so no path could make them."""
    fd = os.open(folder, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)


# ---- zips written byte by byte ----------------------------------------------------------------

def raw_zip(path: Path, members: list[tuple], count: int | None = None) -> None:
    """A zip of (name, data, fields) members, fields overriding what the central directory says:
    flags, method, crc, csize, size, extra. `data` is stored as given (compress it for method 8).
    `count` overrides the member count of the end record."""
    body, table = b"", b""
    for name, data, fields in members:
        name = name if isinstance(name, bytes) else name.encode()
        f = {"flags": 0, "method": 0, "crc": zlib.crc32(data), "csize": len(data), "size": len(data),
             "extra": b"", **fields}
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, f["flags"], f["method"], 0, 33, f["crc"],
                            f["csize"], f["size"], len(name), 0) + name
        table += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, f["flags"], f["method"], 0, 33, f["crc"],
                             f["csize"], f["size"], len(name), len(f["extra"]), 0, 0, 0, 0,
                             len(body)) + name + f["extra"]
        body += local + data
    n = len(members) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(table), len(body), 0)
    path.write_bytes(body + table + end)


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)  # a zip's deflate stream has no zlib header
    return packer.compress(data) + packer.flush()


def only(found: dict[str, Submission]) -> Submission:
    """The one student beside alice and bob."""
    (other,) = [sub for student, sub in found.items() if student not in ("alice", "bob")]
    return other


# ---- damaged and lying zips --------------------------------------------------------------------

def test_a_member_with_a_corrupt_deflate_stream(base):
    # 0xff: the first deflate block says "last block, type 3", a type that does not exist
    raw_zip(make_class(base) / "carl.zip", [("ch1_sensitivity.py", b"\xff" + deflated(CH1)[1:], {"method": 8})])
    carl = only(read_class(base)[0])
    assert carl.problem == ("carl.zip: the member ch1_sensitivity.py is damaged (its compressed data is corrupt); "
                            "re-create the zip")


def test_a_member_whose_declared_size_lies(base):
    # 5 MB of zeros, ~5 KB compressed, said to be 100 bytes: only 100 bytes are ever decompressed
    raw_zip(make_class(base) / "carl.zip", [("ch1_sensitivity.py", deflated(bytes(5 << 20)),
                                              {"method": 8, "size": 100, "crc": zlib.crc32(bytes(5 << 20))})])
    assert only(read_class(base)[0]).problem == ("carl.zip: the member ch1_sensitivity.py is damaged (its contents "
                                                 "do not match its checksum); re-create the zip")


def test_a_zip_bomb_member_is_refused_by_its_size(base):
    root = make_class(base)
    raw_zip(root / "carl.zip", [("ch1_sensitivity.py", deflated(bytes(8 << 20)), {"method": 8, "size": 8 << 20})])
    assert only(read_class(base)[0]).problem == (f"carl.zip: the member ch1_sensitivity.py is larger than "
                                                 f"{MAX_MODULE_BYTES} bytes (1 MB); check that it is your module")


def test_a_zip64_member_of_an_absurd_size(base):
    # sizes 0xffffffff: the true ones are in the zip64 extra field (tag 1), here 2**62 bytes
    zip64 = struct.pack("<2H2Q", 1, 16, 1 << 62, 1 << 62)
    raw_zip(make_class(base) / "carl.zip", [("ch1_sensitivity.py", CH1, {"size": 0xFFFFFFFF, "csize": 0xFFFFFFFF,
                                                                         "extra": zip64})])
    assert only(read_class(base)[0]).problem == (f"carl.zip: the member ch1_sensitivity.py is larger than "
                                                 f"{MAX_MODULE_BYTES} bytes (1 MB); check that it is your module")


def test_a_zip64_end_record_claiming_absurd_counts(base):
    root = make_class(base)
    raw_zip(root / "carl.zip", [("ch1_sensitivity.py", CH1, {})])
    data = (root / "carl.zip").read_bytes()[:-22]  # without its end record
    table_at = data.index(b"PK\x01\x02")
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1 << 60, 1 << 60, 1 << 60, table_at)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(data), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    (root / "carl.zip").write_bytes(data + record + locator + end)
    assert only(read_class(base)[0]).problem == (f"carl.zip: it holds more than {MAX_NAMES} members, or says so; "
                                                 f"zip only your exercises")


def test_an_end_record_that_lies_about_the_count(base):
    raw_zip(make_class(base) / "carl.zip", [("ch1_sensitivity.py", CH1, {})], count=60000)
    assert only(read_class(base)[0]).problem == (f"carl.zip: it holds more than {MAX_NAMES} members, or says so; "
                                                 f"zip only your exercises")


@pytest.mark.parametrize("count, says", [(None, ", or says so"), (5, "")], ids=["told", "hidden"])
def test_a_zip_of_too_many_members(base, count, says):
    # told: the end record has the true count; hidden: it says 5, and the table is read to count
    members = [(f"junk/{i}.txt", b"", {}) for i in range(MAX_NAMES)] + [("ch1_sensitivity.py", CH1, {})]
    raw_zip(make_class(base) / "carl.zip", members, count=count)
    assert only(read_class(base)[0]).problem == (f"carl.zip: it holds more than {MAX_NAMES} members{says}; "
                                                 f"zip only your exercises")


def test_an_encrypted_member(base):
    raw_zip(make_class(base) / "carl.zip", [("ch1_sensitivity.py", CH1, {"flags": 1})])
    assert only(read_class(base)[0]).problem == ("carl.zip: the member ch1_sensitivity.py is encrypted; "
                                                 "zip it again without a password")


def test_a_member_compressed_by_an_unknown_method(base):
    raw_zip(make_class(base) / "carl.zip", [("ch1_sensitivity.py", CH1, {"method": 99})])  # 99: WinZip's AES
    assert only(read_class(base)[0]).problem == ("carl.zip: the member ch1_sensitivity.py is compressed in a way the "
                                                 "grader cannot read (method 99); zip it again with the usual "
                                                 "compression")


def test_two_members_of_one_name(base):
    root = make_class(base)
    with warnings.catch_warnings(), zipfile.ZipFile(root / "carl.zip", "w") as z:
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name", and writes it
        z.writestr("ch1_sensitivity.py", CH1)
        z.writestr("ch1_sensitivity.py", b"raise SystemExit\n")
    assert only(read_class(base)[0]).problem == ("carl.zip: two members are named ch1_sensitivity.py; re-create "
                                                 "the zip with only one")


def test_a_zip_that_is_not_a_zip(base):
    root = make_class(base)
    (root / "carl.zip").write_bytes(b"PK\x03\x04 these are notes, renamed")
    (root / "dina.zip").write_bytes(b"")
    found, _ = read_class(base)
    for student in ("carl", "dina"):
        assert found[student].problem == (f"{student}.zip could not be read: it is not a zip file; make it again "
                                          f"(e.g. `zip -r`) from your folder")


def test_a_zip_with_a_damaged_table_of_contents(base):
    root = make_class(base)
    raw_zip(root / "carl.zip", [("ch1_sensitivity.py", CH1, {})])
    (root / "carl.zip").write_bytes((root / "carl.zip").read_bytes().replace(b"PK\x01\x02", b"XX\x01\x02"))
    assert only(read_class(base)[0]).problem == ("carl.zip could not be read: it is damaged (bad magic number for "
                                                 "central directory); re-create the zip")


def test_a_member_name_flagged_utf8_that_is_not(base):
    raw_zip(make_class(base) / "carl.zip", [(b"\xffch1_sensitivity.py", CH1, {"flags": 0x800})])
    assert only(read_class(base)[0]).problem == ("carl.zip could not be read: the name of a member is not valid "
                                                 "UTF-8; re-create the zip")


# ---- names in a zip: read as keys, never as paths ----------------------------------------------

def test_member_names_that_would_escape(base):
    raw_zip(make_class(base) / "carl.zip", [("../../escape/ch1_sensitivity.py", b"X = 1\n", {}),
                                            ("/tmp/ch1_sensitivity.py", b"X = 2\n", {}),
                                            ("..\\ch1_sensitivity.py", b"X = 3\n", {}),
                                            ("exercises/ch2_chain_rule.py", CH2, {})])
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules, carl.source) == ("", ["ch2_chain_rule"], "carl.zip/exercises/")
    assert carl.skipped == ("../../escape/ch1_sensitivity.py (an unsafe name, never read)",
                            "../ch1_sensitivity.py (an unsafe name, never read)",
                            "/tmp/ch1_sensitivity.py (an unsafe name, never read)")


def test_a_member_name_with_a_nul(base):
    # zipfile cuts a name at a NUL: this member would pass for ch1_sensitivity.py
    raw_zip(make_class(base) / "carl.zip", [(b"ch1_sensitivity.py\x00.txt", CH1, {})])
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules) == ("", [])
    assert carl.skipped == ("ch1_sensitivity.py\x00.txt (an unsafe name, never read)",)


def test_member_names_with_backslashes(base):
    # some Windows tools write "exercises\ch1_sensitivity.py": a folder, as the student meant
    raw_zip(make_class(base) / "carl.zip", [("exercises\\ch1_sensitivity.py", CH1, {})])
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules, carl.source) == ("", ["ch1_sensitivity"], "carl.zip/exercises/")


def test_member_names_in_another_case(base):
    raw_zip(make_class(base) / "carl.zip", [("CH1_Sensitivity.py", CH1, {})])
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules) == ("", [])
    assert carl.skipped == ("CH1_Sensitivity.py (not read: a module's name is in lower case, ch1_sensitivity.py)",)


# ---- what a .zip name may stand for --------------------------------------------------------------

def test_a_zip_that_is_a_folder(base):
    entry = make_class(base) / "carl.zip"
    entry.mkdir()
    (entry / "ch1_sensitivity.py").write_bytes(CH1)
    carl = only(read_class(base)[0])
    assert (carl.student, carl.problem, carl.source, carl.modules) == ("carl.zip", "", "carl.zip", ["ch1_sensitivity"])


def test_a_zip_that_is_a_symbolic_link(base):
    root = make_class(base)
    (root / "carl.zip").symlink_to(root / "bob.zip")  # bob's work, handed in as carl's
    assert only(read_class(base)[0]).problem == ("carl.zip could not be read: it is a symbolic link, not a folder or "
                                                 "a .zip file; hand in the folder or the .zip file itself")


def make_special(path: Path, kind: str) -> None:
    if kind == "named pipe":
        os.mkfifo(path)
    elif kind == "socket":
        here = os.getcwd()
        os.chdir(path.parent)  # a socket's path is limited to 107 bytes: bind to a short one
        try:
            with socket.socket(socket.AF_UNIX) as listener:
                listener.bind(path.name)
        finally:
            os.chdir(here)
    else:
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
        except PermissionError:
            pytest.skip("making a device node needs CAP_MKNOD, which this system does not give")


@pytest.mark.parametrize("kind", ["named pipe", "socket", "device"])
def test_a_zip_that_is_a_special_file(base, kind):
    make_special(make_class(base) / "carl.zip", kind)  # never opened: a FIFO would block the grader
    assert only(read_class(base)[0]).problem == (f"carl.zip could not be read: it is a {kind}, not a folder or "
                                                 f"a .zip file; hand in the folder or the .zip file itself")


# ---- folders ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["named pipe", "socket", "device", "symbolic link"])
def test_a_module_that_is_a_special_file(base, kind):
    entry = make_class(base) / "carl"
    entry.mkdir()
    if kind == "symbolic link":
        (entry / "ch1_sensitivity.py").symlink_to(ROOT / "solutions" / "ch1_sensitivity.py")
    else:
        make_special(entry / "ch1_sensitivity.py", kind)
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules, carl.skipped) == ("", [], (f"ch1_sensitivity.py (a {kind}, not read)",))


def test_folders_nested_past_any_path_length(base):
    entry = make_class(base) / "carl"
    (entry / "exercises").mkdir(parents=True)
    (entry / "exercises" / "ch1_sensitivity.py").write_bytes(CH1)
    nest(entry / "exercises", 1500, "a_folder_with_a_long_name")  # 38 KB of path
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules, carl.source) == ("", ["ch1_sensitivity"], "carl/exercises/")
    assert carl.skipped == ("exercises/a_folder_with_a_long_name/ (a folder two down, not looked into)",)


def test_a_folder_of_too_many_files(base, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_NAMES", 200)  # the bound, made small: files are slow to make
    entry = make_class(base) / "carl"
    (entry / "data").mkdir(parents=True)
    (entry / "ch1_sensitivity.py").write_bytes(CH1)
    for i in range(100):  # half at the top, half one down: both count
        (entry / f"{i}.txt").touch()
        (entry / "data" / f"{i}.txt").touch()
    assert only(read_class(base)[0]).problem == ("carl: it holds more than 200 files and folders at its "
                                                 "top and one folder down; hand in only your exercises")


def test_a_huge_sparse_module_is_refused_unread(base):
    entry = make_class(base) / "carl"
    entry.mkdir()
    with open(entry / "ch1_sensitivity.py", "wb") as f:
        f.truncate(10 << 30)  # 10 GB said, no block written: reading it would take minutes
    assert only(read_class(base)[0]).problem == (f"carl: ch1_sensitivity.py is larger than {MAX_MODULE_BYTES} bytes "
                                                 f"(1 MB); check that it is your module")


def test_a_module_name_in_another_case(base):
    entry = make_class(base) / "carl"
    entry.mkdir()
    (entry / "CH1_sensitivity.py").write_bytes(CH1)
    (entry / "ch2_chain_rule.py").write_bytes(CH2)
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules) == ("", ["ch2_chain_rule"])
    assert carl.skipped == ("CH1_sensitivity.py (not read: a module's name is in lower case, ch1_sensitivity.py)",)


@pytest.mark.parametrize("data", [b"# coding: latin-1\nX = '\xe9t\xe9'\n", b"X = 1\x00\n"], ids=["latin-1", "nul"])
def test_a_module_that_is_not_utf8_text_is_copied_as_it_is(base, data):
    # Python decides at import, in the sandbox, and says why: a latin-1 module with a coding
    # line is valid Python; a NUL byte is not ("source code cannot contain null bytes")
    entry = make_class(base) / "carl"
    entry.mkdir()
    (entry / "ch1_sensitivity.py").write_bytes(data)
    carl = only(read_class(base)[0])
    assert (carl.problem, carl.modules) == ("", ["ch1_sensitivity"])
    assert (carl.folder / "ch1_sensitivity.py").read_bytes() == data


def test_names_that_are_not_utf8_or_hold_a_newline(base):
    root = make_class(base)
    os.mkdir(bytes(root) + b"/carl\xff")  # a name made of bytes: listed as "carl\udcff"
    (root / "carl\udcff" / "ch1_sensitivity.py").write_bytes(CH1)
    (root / "carl\udcff" / "notes\udcfe.txt").write_text("x")
    (root / "dina\nsmith").mkdir()
    (root / "dina\nsmith" / "ch1_sensitivity.py").write_bytes(CH1)
    raw_zip(root / "erin\n.zip", [("exercises/ch1_sensitivity.py", CH1, {})])
    found, _ = read_class(base)
    carl, dina, erin = found["carl\udcff"], found["dina\nsmith"], found["erin\n"]  # ids stay the names
    assert (carl.problem, carl.modules, carl.source, carl.skipped) == ("", ["ch1_sensitivity"], "carl\udcff",
                                                                       ("notes\udcfe.txt",))
    assert (dina.problem, dina.modules, dina.source) == ("", ["ch1_sensitivity"], "dina\nsmith")
    assert (erin.problem, erin.modules, erin.source) == ("", ["ch1_sensitivity"], "erin\n.zip/exercises/")


def test_entries_that_are_no_submission_are_noted(base):
    root = make_class(base)
    os.mkfifo(root / "carl")
    (root / "dina").symlink_to(root / "alice")
    (root / ".hidden.zip").write_bytes(b"junk")
    found, notes = read_class(base)
    assert set(found) == {"alice", "bob"}
    assert notes == ["skipped carl: not a folder or a .zip", "skipped dina: a symbolic link, not a submission"]


# ---- permissions (as an unprivileged user) ---------------------------------------------------------

def test_an_unreadable_folder(open_base):
    entry = make_class(open_base) / "carl"
    entry.mkdir()
    (entry / "ch1_sensitivity.py").write_bytes(CH1)
    entry.chmod(0)
    carl = only(read_class(open_base, as_nobody)[0])
    entry.chmod(0o755)
    assert carl.problem == "carl could not be read: permission denied; make it readable and hand it in again"


def test_an_unreadable_module(open_base):
    entry = make_class(open_base) / "carl"
    entry.mkdir()
    (entry / "ch1_sensitivity.py").write_bytes(CH1)
    (entry / "ch1_sensitivity.py").chmod(0)
    assert only(read_class(open_base, as_nobody)[0]).problem == ("carl: ch1_sensitivity.py cannot be read "
                                                                 "(permission denied); make it readable")


def test_an_unreadable_folder_one_down(open_base):
    root = make_class(open_base)
    for student, top in (("carl", True), ("dina", False)):
        (root / student / "cache").mkdir(parents=True)
        (root / student / ("ch1_sensitivity.py" if top else "cache/ch1_sensitivity.py")).write_bytes(CH1)
        (root / student / "cache").chmod(0)
    found, _ = read_class(open_base, as_nobody)
    for student in ("carl", "dina"):
        (root / student / "cache").chmod(0o755)
    carl, dina = found["carl"], found["dina"]
    # carl's modules are at the top, which wins: the folder does not matter, and is listed
    assert (carl.problem, carl.modules, carl.skipped) == ("", ["ch1_sensitivity"],
                                                          ("cache/ (cannot be read: permission denied)",))
    assert dina.problem == ("dina: the folder cache/ cannot be read (permission denied), and it may hold your "
                            "modules; make it readable")


def test_an_unreadable_zip(open_base):
    root = make_class(open_base)
    shutil.copy(root / "bob.zip", root / "carl.zip")
    (root / "carl.zip").chmod(0)
    assert only(read_class(open_base, as_nobody)[0]).problem == ("carl.zip could not be read: permission denied; "
                                                                 "make it readable and hand it in again")


# ---- the unforeseen: any exception is the student's --------------------------------------------------

@pytest.mark.parametrize("error, reason", [
    (ValueError("no such thing"), "an unexpected ValueError (no such thing); tell your instructor"),
    (RecursionError("maximum recursion depth exceeded"), "it is nested too deeply"),
    (OSError(5, "Input/output error"), "input/output error"),
])
def test_an_unforeseen_error_while_reading_one_entry(base, monkeypatch, error, reason):
    # a fault no test above foresaw, made to happen while carl's entry (only) is read
    entry = make_class(base) / "carl"
    entry.mkdir()
    (entry / "ch1_sensitivity.py").write_bytes(CH1)
    choose = submissions._choose

    def faulty(files):
        if "ch2_chain_rule.py" not in files and "exercises/ch1_sensitivity.py" not in files:  # not alice's, bob's
            raise error
        return choose(files)
    monkeypatch.setattr(submissions, "_choose", faulty)
    assert only(read_class(base)[0]).problem == f"carl could not be read: {reason}"


def test_an_entry_that_cannot_be_looked_at_while_it_is_discovered(base, monkeypatch):
    root = make_class(base)
    (root / "carl.zip").write_bytes(b"")
    lstat = os.lstat

    def failing(path, *args, **kwargs):
        if str(path).endswith("carl.zip"):
            raise OSError(5, "Input/output error", str(path))
        return lstat(path, *args, **kwargs)
    monkeypatch.setattr(submissions.os, "lstat", failing)
    found, _ = read_class(base)
    assert found["carl"].problem == "carl.zip could not be read: input/output error"


# ---- removing a prepared tree ------------------------------------------------------------------------

def test_remove_tree_removes_any_depth_and_follows_no_link(tmp_path):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "file").write_text("x")
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    nest(tree / "a", 1500, "a_folder_with_a_long_name")  # what shutil.rmtree stops at (RecursionError)
    (tree / "link-to-folder").symlink_to(keep)
    (tree / "a" / "link-to-file").symlink_to(keep / "file")
    os.mkfifo(tree / "a" / "fifo")
    (tree / "locked").mkdir()
    (tree / "locked" / "file").write_text("x")
    (tree / "locked").chmod(0)  # what a student may do to its own folder
    assert remove_tree(tree) == []
    assert not os.path.lexists(tree)
    assert (keep / "file").read_text() == "x" and os.listdir(keep) == ["file"]


def test_remove_tree_of_a_link_a_file_or_nothing(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "folder")
    assert remove_tree(tmp_path / "link") == []
    assert remove_tree(tmp_path / "folder" / "file") == []
    assert remove_tree(tmp_path / "nothing") == []
    assert os.listdir(tmp_path) == ["folder"] and os.listdir(tmp_path / "folder") == []


def test_remove_tree_returns_what_it_cannot_remove(open_base):
    if os.geteuid() != 0:
        pytest.skip("needs root, to make a file that the (unprivileged) remover may not delete")
    tree = open_base / "work" / "tree"
    (tree / "theirs").mkdir(parents=True)
    (tree / "theirs" / "file").write_text("x")
    (tree / "mine").mkdir()
    os.chown(tree, NOBODY, NOBODY)
    os.chown(tree / "mine", NOBODY, NOBODY)  # "theirs" and its file stay root's
    with as_nobody():
        left = remove_tree(tree)
    assert left == [f"{tree}/theirs/file (Permission denied)", f"{tree}/theirs (Directory not empty)"]
    assert sorted(os.listdir(tree)) == ["theirs"]
