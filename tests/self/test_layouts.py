"""Platforms' bulk downloads, read as `kit grade --layout` reads them: Gradescope's export, Canvas's and
Moodle's downloads, as a zip and unzipped, detected, and each student's part prepared as the grader
prepares an entry (grading/layouts/). No grading here: tests/self/test_layouts_graded.py grades
one download per platform end to end.

The builders write each download the way its platform does (the module docstrings of
grading/layouts/ say where each form comes from); `read` reads one as grade_submissions does:
read_class(), then prepare() of each submission into its own folder, and checks what holds for
every class: a prepared folder holds curriculum modules only, none when the entry has a problem,
and nothing of the download is changed.
"""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from grading.layouts import canvas, detect, gradescope, metadata, parts, read_class
from grading.layouts.download import look
from grading.submissions import MAX_MODULE_BYTES, SubmissionsError, prepare, remove_tree
from kit.registry import CHAPTERS

ROOT = Path(__file__).resolve().parents[2]
CH1 = (ROOT / "solutions" / "ch1_sensitivity.py").read_text()
CH2 = (ROOT / "solutions" / "ch2_chain_rule.py").read_text()
# a wrong chapter 1: numeric_sensitivity redefined with a one-sided difference (scale_sensitivity stays right)
WRONG_CH1 = CH1 + "\n\ndef numeric_sensitivity(f, x, h=1e-5):\n    return (f(x + h) - f(x)) / h\n"
SIDE_NOTE = "I could not finish chapter 2.\n"


# ---- the downloads, as each platform writes them -------------------------------------------------

def gradescope_export(base: Path, submissions: dict[int, tuple[list[dict], dict[str, str]]],
                      zipped: bool, assignment: int = 4242) -> Path:
    """Gradescope's Export Submissions: assignment_<id>_export.zip of assignment_<id>_export/, with
    submission_metadata.yml (Ruby's YAML: symbol keys, quoted sids, a tagged :results: hash with a
    block scalar) and a submission_<id>/ folder per submission ({id: (submitters, files)}; files
    None: the folder is missing)."""
    top = f"assignment_{assignment}_export"
    members = {f"{top}/submission_metadata.yml": metadata_yml(submissions)}
    for number, (_, files) in submissions.items():
        for name, text in (files or {}).items():
            members[f"{top}/submission_{number}/{name}"] = text
    return _write(base / f"{top}.zip", members, zipped, folders=True)


def metadata_yml(submissions: dict[int, tuple[list[dict], object]]) -> str:
    lines = ["---"]
    for number, (submitters, _) in submissions.items():
        lines.append(f"submission_{number}:")
        lines.append("  :submitters:" + ("" if submitters else " []"))
        for person in submitters:
            fields = [(key, person[key]) for key in ("name", "sid", "email") if key in person]
            for k, (key, value) in enumerate(fields):
                shown = f"'{value}'" if key == "sid" else value
                lines.append(("  - " if k == 0 else "    ") + f":{key}: {shown}")
        lines += ["  :created_at: 2024-03-01 12:00:00.000000000 -08:00", "  :score: 0.0", "  :status: processed",
                  "  :results: !ruby/hash:ActiveSupport::HashWithIndifferentAccess", "    score: 0.0",
                  "    output: |-", "      a block scalar the reader never parses:", "      :submitters: *alias",
                  "  :history: []"]
    return "\n".join(lines) + "\n"


def canvas_name(sortable: str, user: int | str, attachment: int, display: str, late: bool = False) -> str:
    """Canvas's name for an attachment (lib/content_zipper.rb): the sortable name in lower case, only
    word characters left, [LATE,] the user id, then the attachment id and the file's display name."""
    name = "".join(c for c in sortable.lower() if c.isalnum() or c == "_")
    return "_".join([name, *(["LATE"] if late else []), str(user)]) + f"_{attachment}_{display}"


def canvas_download(base: Path, files: dict[str, str | bytes], zipped: bool) -> Path:
    """Canvas's Download Submissions: every attachment flat at the zip's top."""
    return _write(base / "backprop-Assignment_1_submissions.zip", files, zipped)


def moodle_prefix(full_name: str, participant: int) -> str:
    """Moodle's name for a participant's part (mod/assign/classes/downloader.php)."""
    return f"{full_name.replace('_', ' ')}_{participant}"


def moodle_download(base: Path, files: dict[str, str | bytes], zipped: bool) -> Path:
    """Moodle's Download all submissions: the participants' folders (or flat files) at the zip's top."""
    return _write(base / "BK101-Assignment 1-17.zip", files, zipped)


def _write(zip_path: Path, members: dict[str, str | bytes], zipped: bool, folders: bool = False) -> Path:
    """The zip the platform gives, or that zip unzipped into a folder of its name (without .zip)."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    if zipped:
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
            written: set[str] = set()
            for name, data in members.items():
                for k in range(1, name.count("/") + 1) if folders else ():
                    folder = "/".join(name.split("/")[:k]) + "/"
                    if folder not in written:
                        z.writestr(folder, "")
                        written.add(folder)
                z.writestr(name, data)
        return zip_path
    root = zip_path.with_suffix("")
    for name, data in members.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


def zipped_modules(files: dict[str, str]) -> bytes:
    """A student's own zip of their exercises, as bytes."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buffer.getvalue()


# ---- reading a download as the grader does -------------------------------------------------------

def snapshot(path: Path) -> dict[str, tuple]:
    if path.is_file():
        info = path.stat()
        return {str(path): (info.st_size, info.st_mtime_ns)}
    return {str(p): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime_ns) for p in path.rglob("*")}


def read(path: Path, work: Path, layout: str = "auto", roster: Path | None = None):
    """read_class() and prepare() as `kit grade` and grade_submissions call them; {id: Submission}
    and the Class, after checking what holds for every download."""
    before = snapshot(path)
    klass = read_class(path, layout, roster)
    work.mkdir(parents=True, exist_ok=True)
    for i, submission in enumerate(klass.submissions):
        prepare(submission, work / f"s{i:05d}")
        for name in os.listdir(submission.folder):
            assert name.removesuffix(".py") in CHAPTERS and stat.S_ISREG(os.lstat(submission.folder / name).st_mode)
        assert not submission.problem or os.listdir(submission.folder) == []
    assert snapshot(path) == before  # reading the download writes or changes nothing in it
    assert len({s.student for s in klass.submissions}) == len(klass.submissions)
    return {s.student: s for s in klass.submissions}, klass


def module_text(submission, module: str = "ch1_sensitivity") -> str:
    return (submission.folder / f"{module}.py").read_text()


@pytest.fixture
def base(tmp_path):
    yield tmp_path
    assert remove_tree(tmp_path) == []


# ---- Gradescope ------------------------------------------------------------------------------------

GRADESCOPE = {
    101: ([{"name": "Ada Lovelace", "sid": "1815", "email": "Ada@Example.edu"}], {"ch1_sensitivity.py": CH1}),
    102: ([{"name": "Bob Babbage", "sid": "1791", "email": "bob@example.edu"},  # a group of two
           {"name": "Cy Clerk", "sid": "1800"}],
          {"exercises/ch1_sensitivity.py": WRONG_CH1, "exercises/ch2_chain_rule.py": CH2, "README.md": "hi"}),
    103: ([], {"ch1_sensitivity.py": CH1}),  # no submitter: skipped with a note
    104: ([{"name": "Dee Missing", "email": "dee@example.edu"}], None),  # listed, but no folder
}


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "unzipped"])
def test_gradescope_export(base, zipped):
    path = gradescope_export(base / "download", GRADESCOPE, zipped)
    (base / "download" / "stray").mkdir() if not zipped else None
    found, klass = read(path, base / "work")
    assert klass.layout == "gradescope"
    assert klass.notes[0].endswith("read as Gradescope's Export Submissions (--layout gradescope; name another "
                                   "with --layout)")
    assert "skipped submission_103: submission_metadata.yml names no submitter for it" in klass.notes
    assert set(found) == {"Ada@Example.edu", "bob@example.edu", "dee@example.edu"}
    ada, bob, dee = found["Ada@Example.edu"], found["bob@example.edu"], found["dee@example.edu"]
    assert (ada.source, ada.modules, module_text(ada)) == ("submission_101", ["ch1_sensitivity"], CH1)
    assert bob.source == "submission_102/exercises/" and module_text(bob) == WRONG_CH1
    assert bob.modules == ["ch1_sensitivity", "ch2_chain_rule"] and bob.skipped == ("README.md",)
    assert dee.problem == ("submission_104: submission_metadata.yml lists this submission, but the export has "
                           "no folder submission_104/")
    assert klass.groups == {"bob@example.edu": ("1800",)}  # a group: graded once, a row for each
    assert klass.identities["1800"].name == "Cy Clerk" and klass.identities["Ada@Example.edu"].email


def test_gradescope_export_in_a_folder_of_its_own_or_named(base):
    path = gradescope_export(base / "download", GRADESCOPE, zipped=False)
    found, klass = read(path / "assignment_4242_export", base / "work", layout="gradescope")
    assert set(found) == {"Ada@Example.edu", "bob@example.edu", "dee@example.edu"}
    found, _ = read(path, base / "again", layout="gradescope")  # the export's folder is found inside
    assert set(found) == {"Ada@Example.edu", "bob@example.edu", "dee@example.edu"}


def test_gradescope_metadata_shapes_it_is_written_in():
    text = ("submission_1:\n  :submitters:\n  - :name: \"Eve \\e[31m \\u00e9\\\n      e\"\n    :sid: 7\n"
            "    :email: 'o''neil@example.edu'  # a comment\n  - :name: ~\n    :sid: '8'\n"
            "  :results:\n    output: |\n      :submitters:\n      - :name: forged\n"
            "submission_2:\n  :submitters: []\n")
    assert metadata.read_metadata(text.encode()) == {
        "submission_1": [{"name": "Eve \x1b[31m ée", "sid": "7", "email": "o'neil@example.edu"}, {"sid": "8"}],
        "submission_2": []}


@pytest.mark.parametrize("text, says", [
    (b"students:\n  - ada\n", "line 1: expected a submission_<id>: key"),
    (b"submission_1:\n  :submitters:\n  - :name: &a Ada\n", "line 3: a submitter's field is not a plain text"),
    (b"submission_1:\n  :submitters:\n  - :name: *a\n", "line 3: a submitter's field is not a plain text"),
    (b"submission_1:\n  :submitters:\n  - :email: !ruby/object:Mail x\n", "not a plain text"),
    (b"submission_1:\n  :submitters: [{name: x}]\n", "line 2: :submitters: is not a plain list"),
    (b"submission_1:\n  :submitters:\n  - :name: |\n      Ada\n", "not a plain text"),
    (b"submission_1:\n\t:submitters: []\n", "line 2: a tab in the indentation"),
    (b"submission_1:\n  :submitters: []\nsubmission_1:\n  :submitters: []\n", "submission_1 is listed twice"),
    (b"submission_1:\n  :submitters:\n  - :name: 'Ada\n", "a quoted field that does not end"),
    (b"submission_1:\n  :submitters:\n  - :name: \"\\q\"\n", "an unknown escape \\q"),
    (b"submission_1:\n  :submitters:\n  - :name: " + b"a" * 400 + b"\n", "longer than 320 characters"),
    (b"\xff\xfe:", "it is not UTF-8 text"),
    (b"  :submitters: []\n", "before any submission_<id>: key"),
], ids=range(13))
def test_gradescope_metadata_that_is_not_as_gradescope_writes_it(base, text, says):
    export = base / "export"
    (export / "submission_1").mkdir(parents=True)
    (export / "submission_metadata.yml").write_bytes(text)
    with pytest.raises(SubmissionsError, match="is not as Gradescope writes it") as error:
        read_class(export, "gradescope")
    assert says in str(error.value)


def test_gradescope_metadata_that_is_huge_or_not_a_file(base, monkeypatch):
    export = base / "export"
    (export / "submission_1").mkdir(parents=True)
    (export / "submission_metadata.yml").write_bytes(b"submission_1:\n  :submitters: []\n" + b"# padding\n" * 100)
    monkeypatch.setattr(gradescope, "MAX_METADATA", 64)  # the bound, made small
    monkeypatch.setattr(metadata, "MAX_METADATA", 64)
    with pytest.raises(SubmissionsError, match="is larger than"):
        read_class(export, "gradescope")
    zipped = gradescope_export(base / "zipped", {1: ([{"sid": "1"}], {"ch1_sensitivity.py": CH1})}, zipped=True)
    with zipfile.ZipFile(zipped, "a") as z:
        z.writestr("assignment_4242_export/pad.txt", "x")
    monkeypatch.setattr(gradescope, "MAX_METADATA", 10)
    with pytest.raises(SubmissionsError, match="larger than"):
        read_class(zipped)
    monkeypatch.undo()
    (export / "submission_metadata.yml").unlink()
    (export / "submission_metadata.yml").symlink_to(ROOT / "pyproject.toml")  # a link is never followed
    with pytest.raises(SubmissionsError, match="cannot be read|not a regular file|has no submission_metadata"):
        read_class(export, "gradescope")


def test_gradescope_export_whose_metadata_points_at_missing_folders_only(base):
    path = gradescope_export(base / "d", {7: ([{"email": "a@x.edu"}], None), 8: ([{"sid": "9"}], None)}, True)
    found, _ = read(path, base / "work")
    assert [s.problem.split(":")[0] for s in found.values()] == ["submission_7", "submission_8"]


# ---- Canvas ---------------------------------------------------------------------------------------

def canvas_class() -> dict[str, str | bytes]:
    return {
        canvas_name("Lovelace, Ada", 4211, 9001, "ch1_sensitivity.py"): WRONG_CH1,  # uploaded twice:
        canvas_name("Lovelace, Ada", 4211, 9002, "ch1_sensitivity-1.py"): CH1,  # Canvas renamed the second
        canvas_name("Lovelace, Ada", 4211, 9003, "ch2_chain_rule.py"): CH2,
        canvas_name("Babbage, Bob", 17, 9010, "ch1_sensitivity.py", late=True): WRONG_CH1,
        canvas_name("Clerk, Cy", 5, 9020, "exercises.zip"): zipped_modules({"exercises/ch1_sensitivity.py": CH1}),
        canvas_name("Clerk, Cy", 5, 9021, "notes.txt"): SIDE_NOTE,
        "knuthdon_9_text.html": "<p>my answer, in words</p>",  # a text entry: never read
        "anon_Xy12Z_9030_ch1_sensitivity.py": CH1,  # anonymous grading
        "LATE_anon_Qr5tu_9031_ch1_sensitivity.py": WRONG_CH1,
    }


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "unzipped"])
def test_canvas_download(base, zipped):
    path = canvas_download(base / "download", canvas_class(), zipped)
    found, klass = read(path, base / "work")
    assert klass.layout == "canvas" and "Canvas's Download Submissions" in klass.notes[0]
    assert set(found) == {"4211", "17", "5", "9", "anon_Xy12Z", "anon_Qr5tu"}
    ada = found["4211"]
    assert ada.modules == ["ch1_sensitivity", "ch2_chain_rule"] and module_text(ada) == CH1  # the highest -N
    assert ada.source == "lovelaceada_4211"
    assert ada.skipped == ("ch1_sensitivity.py (an earlier upload; ch1_sensitivity-1.py is graded)",)
    assert module_text(found["17"]) == WRONG_CH1 and found["17"].source == "babbagebob_LATE_17"
    cy = found["5"]
    assert cy.source == "clerkcy_5_9020_exercises.zip/exercises/" and module_text(cy) == CH1
    assert cy.skipped == ("notes.txt",)
    assert found["9"].modules == [] and "knuthdon_9_text.html (a text entry" in found["9"].skipped[0]
    assert module_text(found["anon_Xy12Z"]) == CH1 and module_text(found["anon_Qr5tu"]) == WRONG_CH1
    assert klass.identities["4211"].canvas_id == "4211" and klass.identities["anon_Xy12Z"].canvas_id == ""


@pytest.mark.parametrize("name, parsed", [
    ("lovelaceada_4211_9001_ch1_sensitivity.py", ("4211", "lovelaceada_4211", 9001, "ch1_sensitivity.py")),
    ("babbage_LATE_17_9010_ch1_sensitivity-2.py", ("17", "babbage_LATE_17", 9010, "ch1_sensitivity-2.py")),
    ("_3_4_x.py", ("3", "_3", 4, "x.py")),  # a student without a name
    ("o_neil_12_34_56_hw_1.py", ("12", "o_neil_12", 34, "56_hw_1.py")),  # Canvas's rule: the first two numbers
    ("anon_Xy12Z_9030_a_b.py", ("anon_Xy12Z", "anon_Xy12Z", 9030, "a_b.py")),
    ("LATE_anon_Qr5tu_9031_c.py", ("anon_Qr5tu", "LATE_anon_Qr5tu", 9031, "c.py")),
    ("knuthdon_9_link.html", ("9", "knuthdon_9", 0, "link.html")),
    ("ch1_sensitivity.py", None), ("readme_1_notes.txt", None), ("x_1_2_..", None), ("x_1_2_", None),
    ("x_１_２_y.py", None),  # full-width digits are not Canvas's
])
def test_canvas_file_names(name, parsed):
    file = canvas.parse(name)
    assert (file and (file.user, file.head, file.attachment, file.original)) == parsed


@pytest.mark.parametrize("original, uploaded", [
    ("ch1_sensitivity.py", ("ch1_sensitivity.py", 0)), ("ch1_sensitivity-1.py", ("ch1_sensitivity.py", 1)),
    ("ch1_sensitivity-12.py", ("ch1_sensitivity.py", 12)), ("a-b-3.tar.gz", ("a-b.tar.gz", 3)),
    ("exercises-2", ("exercises", 2)),
    ("ch1_sensitivity-0f8fad5b-d9cb-469f-a165-70867728950e.py", ("ch1_sensitivity.py", 8)),
])
def test_canvas_undoes_its_copy_numbers(original, uploaded):
    assert canvas.uploaded(original) == uploaded


def test_canvas_hostile_files(base, monkeypatch):
    files = {
        canvas_name("A", 1, 10, "a.zip"): zipped_modules({"ch1_sensitivity.py": CH1}),
        canvas_name("A", 1, 11, "b.zip"): zipped_modules({"ch1_sensitivity.py": CH1}),  # two zips: which?
        canvas_name("B", 2, 20, "exercises.zip"): b"PK\x03\x04 not a zip at all",
        canvas_name("C", 3, 30, "big.zip"): zipped_modules({"ch1_sensitivity.py": CH1, "pad.bin": os.urandom(4096)}),
        canvas_name("D", 4, 40, ".."): CH1,  # a name that would escape: never read
        canvas_name("E\x1b[31m", 5, 50, "ch1_sensitivity.py"): CH1,  # a control character in the name
        canvas_name("F", 6, 60, "ch1_sensitivity.py"): "x" * (MAX_MODULE_BYTES + 1),
    }
    path = canvas_download(base / "d", files, zipped=False)
    (path / canvas_name("G", 7, 70, "ch1_sensitivity.py")).symlink_to(ROOT / "solutions" / "ch1_sensitivity.py")
    monkeypatch.setattr(parts, "MAX_ATTACHMENT", 4000)
    found, klass = read(path, base / "work")
    assert found["1"].problem == "a_1: no module, and several zip files (a.zip, b.zip); hand in one"
    assert found["2"].problem == ("b_2_20_exercises.zip could not be read: it is not a zip file; make it again "
                                  "(e.g. `zip -r`) from your folder")
    assert found["3"].problem == "c_3: big.zip is larger than 4000 bytes (0 MB); zip only your exercises"
    assert "skipped d_4_40_..: Canvas names no submission's file so" in klass.notes and "4" not in found
    assert module_text(found["5"]) == CH1 and found["5"].source == "e31m_5"
    assert "larger than 1048576 bytes" in found["6"].problem
    assert found["7"].modules == [] and found["7"].skipped == ("ch1_sensitivity.py (a symbolic link, not read)",)


# ---- Moodle ---------------------------------------------------------------------------------------

def moodle_class(form: str) -> dict[str, str | bytes]:
    """Ada, Bob (exercises in a subfolder), Cy (a zip), Dee (online text only), in one of Moodle's forms:
    "folders" (4.1 on), "folders_" (before 4.1: a trailing _), "flat" (folders off)."""
    people = {"ada": (moodle_prefix("Ada Lovelace", 678), {"ch1_sensitivity.py": CH1}),
              "bob": (moodle_prefix("Bob_Babbage", 679), {"exercises/ch1_sensitivity.py": WRONG_CH1}),
              "cy": (moodle_prefix("Cy Clerk", 12), {"mine.zip": zipped_modules({"ch1_sensitivity.py": CH1})})}
    files: dict[str, str | bytes] = {}
    for prefix, uploads in people.values():
        for name, data in uploads.items():
            if form == "flat":
                files[f"{prefix}_assignsubmission_file_{name.rpartition('/')[2]}"] = data
            else:
                files[f"{prefix}_assignsubmission_file{'_' if form == 'folders_' else ''}/{name}"] = data
    dee = moodle_prefix("Dee Dee", 700)
    text = "<p>the answer</p>"
    if form == "flat":
        files[f"{dee}_assignsubmission_onlinetext_onlinetext.html"] = text
    else:
        files[f"{dee}_assignsubmission_onlinetext{'_' if form == 'folders_' else ''}/onlinetext.html"] = text
    return files


@pytest.mark.parametrize("form", ["folders", "folders_", "flat"])
@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "unzipped"])
def test_moodle_download(base, form, zipped):
    path = moodle_download(base / "download", moodle_class(form), zipped)
    found, klass = read(path, base / "work")
    assert klass.layout == "moodle" and "Moodle's Download all submissions" in klass.notes[0]
    assert set(found) == {"678", "679", "12", "700"}
    assert module_text(found["678"]) == CH1 and klass.identities["678"].name == "Ada Lovelace"
    assert module_text(found["679"]) == WRONG_CH1 and klass.identities["679"].name == "Bob Babbage"
    assert module_text(found["12"]) == CH1 and "mine.zip" in found["12"].source
    assert found["700"].modules == [] and "onlinetext" in found["700"].skipped[0]
    if form != "flat":
        assert found["679"].source == f"Bob Babbage_679_assignsubmission_file{form[7:]}/exercises/"


def test_moodle_hostile_parts(base):
    files = {f"{moodle_prefix('Eve', 5)}_assignsubmission_file/ch1_sensitivity.py": CH1,
             f"{moodle_prefix('Eve', 5)}_assignsubmission_file/conftest.py": "raise SystemExit",
             "Mallory\n_6_assignsubmission_file_ch1_sensitivity.py": CH1}  # a newline in a name
    path = moodle_download(base / "d", files, zipped=False)
    (path / "Trudy_7_assignsubmission_file").symlink_to(ROOT / "solutions")  # a link to a folder: not followed
    found, klass = read(path, base / "work")
    assert found["5"].modules == ["ch1_sensitivity"] and found["5"].skipped == ("conftest.py",)
    assert module_text(found["6"]) == CH1 and klass.identities["6"].name == "Mallory\n"  # only "_" is not in it
    assert found["7"].modules == [] and "a symbolic link, not read" in found["7"].skipped[0]


def test_moodle_roster_keys_read_participant_numbers():
    from grading.layouts import moodle

    assert moodle.normalize("Participant 678") == moodle.normalize("participant678") == "678"


# ---- detection, and bad usage ---------------------------------------------------------------------

def test_the_kits_own_folders_stay_the_folders_layout(base):
    (base / "class" / "ada").mkdir(parents=True)
    (base / "class" / "ada" / "ch1_sensitivity.py").write_text(CH1)
    (base / "class" / "x_1_2_ch1_sensitivity.py").write_text(CH1)  # one Canvas-like name of two: not most
    with pytest.raises(SubmissionsError, match=r"cannot tell how class is laid out: it holds 1 files named as "
                                               r"Canvas names them, 1 other entries .*--layout"):
        read_class(base / "class")
    (base / "class" / "bob").mkdir()
    found, klass = read(base / "class", base / "work")
    assert klass.layout == "folders" and set(found) == {"ada", "bob"}
    assert klass.notes[0] == "class: 2 submissions, read as one folder or .zip per student (--layout folders; " \
                             "name another with --layout)"
    assert "skipped x_1_2_ch1_sensitivity.py: not a folder or a .zip" in klass.notes
    found, klass = read(base / "class", base / "again", layout="folders")  # named: no line about it
    assert not any("--layout" in note for note in klass.notes)


def test_a_mix_of_platforms_is_ambiguous(base):
    files = {**canvas_class(), **moodle_class("flat")}
    path = canvas_download(base / "d", files, zipped=False)
    with pytest.raises(SubmissionsError, match=r"4 named as Moodle names a submission, 9 files named as Canvas "
                                               r"names them; name its layout with --layout"):
        read_class(path)
    found, _ = read(path, base / "work", layout="canvas")  # named, the others are skipped with a note
    assert set(found) == {"4211", "17", "5", "9", "anon_Xy12Z", "anon_Qr5tu"}


def test_a_zip_that_is_no_platforms_download(base):
    with zipfile.ZipFile(base / "class.zip", "w") as z:
        z.writestr("ada/ch1_sensitivity.py", CH1)
        z.writestr("bob/ch1_sensitivity.py", CH1)
    with pytest.raises(SubmissionsError, match="not Gradescope's, Canvas's or Moodle's download; unzip it"):
        read_class(base / "class.zip")
    with pytest.raises(SubmissionsError, match="is a zip file: the folders layout reads a folder"):
        read_class(base / "class.zip", "folders")
    (base / "broken.zip").write_bytes(b"PK\x05\x06 broken")
    with pytest.raises(SubmissionsError, match="is a damaged zip file|not a folder or a zip file"):
        read_class(base / "broken.zip")
    with pytest.raises(SubmissionsError, match="no such folder or zip file"):
        read_class(base / "nothing")


def test_a_named_layout_that_does_not_fit(base):
    path = canvas_download(base / "d", canvas_class(), zipped=True)
    with pytest.raises(SubmissionsError, match="holds nothing named as Moodle names a submission"):
        read_class(path, "moodle")
    with pytest.raises(SubmissionsError, match="has no submission_metadata.yml at its top"):
        read_class(path, "gradescope")


def test_a_downloaded_zip_with_unsafe_member_names(base):
    path = canvas_download(base / "d", canvas_class(), zipped=True)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("../../escape_1_2_ch1_sensitivity.py", CH1)
        z.writestr("/abs_3_4_ch1_sensitivity.py", CH1)
    download = look(path)
    assert download.notes == ["never read 2 members of backprop-Assignment_1_submissions.zip with an unsafe name "
                              "(\"..\", a leading \"/\" or a NUL), e.g. '../../escape_1_2_ch1_sensitivity.py'"]
    found, klass = read(path, base / "work")
    assert "1" not in found and "3" not in found and klass.notes[1].startswith("never read 2 members")


def test_detection_looks_into_gradescopes_export_folder_only(base):
    path = gradescope_export(base / "d", GRADESCOPE, zipped=False)
    layout, download = detect(look(path))
    assert (layout, download.path) == ("gradescope", path / "assignment_4242_export")
    # a class of one (Gradescope's run_autograder): the student's own file names never change how it is read
    (base / "class" / "submission").mkdir(parents=True)
    for name, data in {**canvas_class(), "submission_metadata.yml": "submission_1:\n  :submitters: []\n"}.items():
        (base / "class" / "submission" / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    found, klass = read(base / "class", base / "work")
    assert klass.layout == "folders" and list(found) == ["submission"] and found["submission"].modules == []
    wrapper = moodle_download(base / "m", moodle_class("folders"), zipped=False).parent
    assert detect(look(wrapper))[0] == "folders"  # a Moodle download in a folder of its own: --layout moodle
    found, _ = read(wrapper, base / "again", layout="moodle")
    assert set(found) == {"678", "679", "12", "700"}


def test_the_download_itself_is_bounded(base, monkeypatch):
    from grading import submissions
    from grading.layouts import download

    files = {canvas_name("A", n, 10 + n, "ch1_sensitivity.py"): CH1 for n in range(1, 6)}
    folder, zipped = canvas_download(base / "f", files, zipped=False), canvas_download(base / "z", files, zipped=True)
    monkeypatch.setattr(download, "MAX_CLASS_NAMES", 3)  # the bounds, made small
    with pytest.raises(SubmissionsError, match="holds more than 3 files and folders"):
        read_class(folder)
    with pytest.raises(SubmissionsError, match="holds more than 3 members, or says so"):
        read_class(zipped)
    monkeypatch.undo()
    export = gradescope_export(base / "g", {1: ([{"sid": "1"}], {f"f{n}.txt": "x" for n in range(3)}),
                                            2: ([{"sid": "2"}], {"ch1_sensitivity.py": CH1})}, zipped=True)
    monkeypatch.setattr(submissions, "MAX_NAMES", 2)
    found, _ = read(export, base / "work")
    assert found["1"].problem == "submission_1: it holds more than 2 files; hand in only your exercises"
    assert module_text(found["2"]) == CH1  # the bound is each student's


def test_a_part_of_a_zip_is_read_never_extracted(base):
    export = gradescope_export(base / "g", {1: ([{"sid": "1"}], {"exercises/ch1_sensitivity.py": CH1})}, zipped=True)
    with zipfile.ZipFile(export, "a") as z:
        z.writestr("assignment_4242_export/submission_1/../../../../escaped.py", "raise SystemExit")
        z.writestr("assignment_4242_export/submission_1/a/b/c/ch2_chain_rule.py", CH2)  # too deep: not looked at
    found, klass = read(export, base / "work")
    one = found["1"]
    assert one.modules == ["ch1_sensitivity"] and one.source == "submission_1/exercises/"
    assert "../../../../escaped.py (an unsafe name, never read)" in one.skipped
    assert not (base / "escaped.py").exists() and not list(base.rglob("escaped.py"))
    assert not any("ch2_chain_rule" in name for name in one.skipped)  # two folders down: never listed


def test_a_students_zip_in_the_downloaded_zip(base):
    files = {canvas_name("A", 1, 10, "mine.zip"): zipped_modules({"ch1_sensitivity.py": CH1}),
             canvas_name("B", 2, 20, "broken.zip"): zipped_modules({"ch1_sensitivity.py": CH1})[:-30]}
    found, _ = read(canvas_download(base / "d", files, zipped=True), base / "work")
    assert module_text(found["1"]) == CH1 and found["1"].source == "a_1_10_mine.zip"
    assert found["2"].problem.startswith("b_2_20_broken.zip could not be read: ")
