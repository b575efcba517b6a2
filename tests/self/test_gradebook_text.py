"""Grade book text is inert: whatever a student id (a file name: any character but '/' and NUL),
a message or printed output holds, it stays in its own CSV cell and row, is never a spreadsheet
formula, never breaks out of HTML, reaches the terminal with its control characters shown, and
never names a file of the grade book's own.

Most tests build the results and call grading.reports.write_all (fast); one runs `kit grade` on
a class of odd names.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grading.grader import Progress, Result, StudentResult
from grading.reports import clip, student_folder, write_all
from grading.text import printable
from kit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = "ch1_sensitivity.scale_sensitivity"
FORMATS = ("csv", "canvas", "moodle")
OWN_FILES = {"grades.csv", "index.html", "canvas.csv", "moodle.csv", "students"}  # OUT's top, whatever the ids
HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

# id -> its cell in every CSV file: control characters shown, formulas with a leading '
CELLS = {
    "ada": "ada",
    "bob": "bob",
    "x\rbob": "x\\rbob",  # a CR must not start a row for bob
    "x\nbob": "x\\nbob",
    "x\r\nbob,1,1,1": "x\\r\\nbob,1,1,1",
    "\rbob": "\\rbob",
    "bob\n": "bob\\n",
    "x\u2028bob": "x\\u2028bob",  # str.splitlines splits there
    "x\x85bob": "x\\x85bob",  # NEL, a C1 line break
    '"quoted", "x","1': '"quoted", "x","1',
    "a,b": "a,b",
    "a;=cmd|' /C calc'!A0": "a;'=cmd|' /C calc'!A0",  # a spreadsheet splitting at ';' starts a cell there
    "a,=1": "a,'=1",  # as would a reader ignoring CSV's quotes
    "a, -1;\"@x": "a,' -1;'\"@x",
    "a;＝1": "a;'＝1",
    '=HYPERLINK("http://evil.example","click")': '\'=HYPERLINK("http://evil.example","click")',
    "+1": "'+1",
    "-1": "'-1",
    "@SUM(A1)": "'@SUM(A1)",
    "\t=1": "\\t=1",  # the tab is shown: the cell starts with a backslash
    "\r=1": "\\r=1",
    " =1": "' =1",
    "\u3000=1": "'\u3000=1",  # an ideographic space
    '"=1': '\'"=1',
    "'=1": "''=1",
    "＝1+1": "'＝1+1",  # full-width forms
    "＋1": "'＋1",
    "－1": "'－1",
    "＠x": "'＠x",
    "﹦1": "'﹦1",  # a small form
    "1-2": "1-2",
    "a=b": "a=b",
    "\x1b[2J\x1b[31mred\x1b[0m": "\\x1b[2J\\x1b[31mred\\x1b[0m",
    "\x1b]0;pwned\x07": "\\x1b]0;pwned\\x07",
    "\x9b31m": "\\x9b31m",  # C1 CSI
    "del\x7f": "del\\x7f",
    "\u202eexe.doc": "\\u202eexe.doc",
    "\u2066iso\u2069": "\\u2066iso\\u2069",
    "rlm\u200f": "rlm\\u200f",
    "caf\udce9": "caf\\xe9",  # the byte 0xe9 of a latin-1 name, as os.listdir gives it
    "<script>alert(1)<\\script>": "<script>alert(1)<\\script>",  # no '/': a file name cannot hold one
    '"><img src=x onerror=alert(1)>': '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)": "' onmouseover='alert(1)",
    "javascript:alert(1)": "javascript:alert(1)",
    "&amp;&#0;": "&amp;&#0;",
    ".": ".",
    "..": "..",
    "...": "...",
    "index.html": "index.html",
    "grades.csv": "grades.csv",
    "canvas.csv": "canvas.csv",
    "moodle.csv": "moodle.csv",
    "students": "students",
    "results.json": "results.json",
    "report.html": "report.html",
    "Ada": "Ada",
    "ADA": "ADA",
    "con": "con",
    "NUL.txt": "NUL.txt",
    "aux.": "aux.",
    "trailing ": "trailing ",
    "José": "José",
    "李雷": "李雷",
    "x" * 255: "x" * 255,
    "é" * 127: "é" * 127,
    "a~b": "a~b",
    "a\\b": "a\\b",
}
IDS = list(CELLS)


def student(i: int, name: str) -> StudentResult:
    """Student number i: score i of 100 (so each row shows whose it is), and hostile text everywhere."""
    feedback = f"{name} returned <script>alert(1)</script>\x1b[2J\u202e\ntwo lines"
    output = f"printed {name}\r\n\x1b[31m"
    return StudentResult(student=name, source=f"{name}.zip/exercises/", problem=f"{name}.zip: broken {name}",
                         results=[Result(exercise=EXERCISE, status="wrong", score=i, max_score=100, feedback=feedback,
                                         output=output, label=f"error: {name}")],
                         skipped=(f"{name}.txt",), import_output={"ch1_sensitivity": f"{name}\x1b[0m"})


CLASS = [student(i, name) for i, name in enumerate(IDS)]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradebook") / "out"
    write_all(folder, CLASS, FORMATS)
    return folder


def read_csv(path: Path, delimiter: str = ",") -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f, delimiter=delimiter))


def is_formula(cell: str) -> bool:
    """What a spreadsheet may run: = + - @ first, also after spaces or quotes, or full-width; tab
    or CR first. A leading ' makes the cell text."""
    first = unicodedata.normalize("NFKC", re.sub(r"^[\s\"']+", "", cell)[:1])
    return not cell.startswith("'") and (first[:1] in ("=", "+", "-", "@") or cell[:1] in ("\t", "\r"))


# ---- printable: the one function for the terminal, the CSV cells and the pages --------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("x\rbob", "x\\rbob"), ("a\nb\tc", "a\\nb\\tc"), ("\x00\x01\x1f", "\\x00\\x01\\x1f"), ("\x7f", "\\x7f"),
    ("\x80\x85\x9b\x9f", "\\x80\\x85\\x9b\\x9f"), ("\x1b[31mred", "\\x1b[31mred"),
    ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
    ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"), ("\u061c\u200e\u200f", "\\u061c\\u200e\\u200f"),
    ("\u2028\u2029", "\\u2028\\u2029"), ("a\udcffb\udc80", "a\\xffb\\x80"), ("\ud800", "\\ud800"),
    ("José 李雷 ~ \\ \" ' <a> ＝", "José 李雷 ~ \\ \" ' <a> ＝"), ("", ""),
])
def test_printable_shows_every_control_character(text, shown):
    assert printable(text) == shown


def test_printable_escapes_the_whole_of_c0_c1_del_and_the_bidi_controls():
    codes = [*range(0x20), 0x7f, *range(0x80, 0xa0), *range(0x202a, 0x202f), *range(0x2066, 0x206a)]
    for code in codes:
        named = {0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r"}.get(code)
        assert printable(chr(code)) == (named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")), hex(code)


def test_printable_leaves_every_printable_character_alone():
    text = "".join(chr(c) for c in range(0x110000) if chr(c).isprintable())
    assert printable(text) == text


def test_printable_keeps_only_what_it_is_told():
    assert printable("a\nb\tc\rd\x1b", keep="\n\t") == "a\nb\tc\\rd\\x1b"


# ---- CSV: one row per student, its own; no formula -------------------------------------------------

def test_grades_csv_has_one_row_per_student_with_its_own_cells(out):
    rows = read_csv(out / "grades.csv")
    assert rows[0] == ["student", "score", "max_score", EXERCISE]
    assert rows[1:] == [[CELLS[name], str(i), "100", str(i)] for i, name in enumerate(IDS)]


def test_canvas_csv_has_one_row_per_student_with_its_own_cells(out):
    rows = read_csv(out / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "backprop-kit"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "100"]
    assert rows[2:] == [[CELLS[name], "", "", CELLS[name], "", str(i)] for i, name in enumerate(IDS)]


def test_moodle_csv_has_one_row_per_student_with_its_own_cells(out):
    rows = read_csv(out / "moodle.csv")
    assert rows[0] == ["username", "backprop-kit", "feedback"]
    assert rows[1:] == [[CELLS[name], str(i), f"{i} of 100 points; 0 of 1 exercises passed"]
                        for i, name in enumerate(IDS)]


@pytest.mark.parametrize("name", ["grades.csv", "canvas.csv", "moodle.csv"])
def test_every_line_of_a_csv_file_is_one_row_whoever_reads_it(out, name):
    text = (out / name).read_bytes().decode("utf-8")  # strict: valid UTF-8, no surrogate left
    assert not HIDDEN.search(text.replace("\n", ""))
    lines = text.splitlines()  # at every line break Python knows, \r, \x85, \u2028 ... included
    assert len(lines) == len(read_csv(out / name)) == len(IDS) + 1 + (name == "canvas.csv")
    for line, row in zip(lines, read_csv(out / name)):
        assert next(csv.reader([line])) == row  # no cell spans two lines


@pytest.mark.parametrize("name", ["grades.csv", "canvas.csv", "moodle.csv"])
@pytest.mark.parametrize("delimiter", [",", ";"])  # ';' is the separator of spreadsheets in many locales
def test_no_cell_of_a_csv_file_is_a_formula(out, name, delimiter):
    cells = [cell for row in read_csv(out / name, delimiter) for cell in row]
    lines = (out / name).read_text(encoding="utf-8").splitlines()
    cells += [cell for line in lines for cell in next(csv.reader([line], delimiter=delimiter))]  # line by line
    assert len(cells) > 2 * len(IDS)
    assert [cell for cell in cells if is_formula(cell)] == []


def test_the_lines_of_grades_csv_as_written(out):
    lines = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    semicolon, comma, quote = (IDS.index(name) for name in ("a;=cmd|' /C calc'!A0", "a,b", '"quoted", "x","1'))
    assert lines[1 + semicolon] == f"a;'=cmd|' /C calc'!A0,{semicolon},100,{semicolon}"
    assert lines[1 + comma] == f'"a,b",{comma},100,{comma}'
    assert lines[1 + quote] == f'"""quoted"", ""x"",""1",{quote},100,{quote}'
    assert lines[1] == "ada,0,100,0"  # plain ids stay plain, as LMS imports expect


# ---- HTML: escaped everywhere, links only to the grade book's own folders ---------------------------

class Page(HTMLParser):
    """The tags, attributes and texts of a page, as a browser parses them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.links, self.anchors, self.texts, self.title = [], [], [], [], None
        self.inside = None  # "a" or "title" while in one
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(name for name, _ in attrs)))
        if tag == "a":
            self.links.append(dict(attrs)["href"])
            self.anchors.append("")
            self.inside = tag
        elif tag == "title" and self.title is None:  # the page's, not an SVG bar's
            self.title, self.inside = "", tag

    def handle_endtag(self, tag):
        if tag == self.inside:
            self.inside = None

    def handle_data(self, data):
        self.texts.append(data)
        if self.inside == "a":
            self.anchors[-1] += data
        elif self.inside == "title":
            self.title += data


# every tag and attribute the kit writes; a student's text breaking out would add one
TAGS = {"html": ("lang",), "head": (), "meta": ("charset",), "title": (), "style": (), "body": (), "h1": (),
        "h2": (), "p": ("class",), "table": (), "tr": (), "th": ("class",), "td": ("class",), "a": ("href",),
        "span": ("class", "style"), "pre": (), "div": ("class",),
        "svg": ("xmlns", "width", "height", "role", "aria-label"), "rect": ("x", "y", "width", "height", "fill"),
        "text": ("x", "y", "font-size", "text-anchor")}


def assert_only_the_kits_tags(page: Page):
    for tag, attributes in page.tags:
        assert tag in TAGS and set(attributes) <= set(TAGS[tag]), (tag, attributes)


def test_index_links_every_student_to_a_folder_of_the_grade_book(out):
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    assert_only_the_kits_tags(page)
    assert page.links == [f"students/{student_folder(name)}/report.html" for name in IDS]
    assert page.anchors == [clip(printable(name), 100) for name in IDS]
    for link in page.links:
        assert re.fullmatch(r"students/[A-Za-z0-9._~-]+/report\.html", link) and (out / link).is_file()
    notes = [clip(printable(f"{name}.zip: broken {name}", "\n\t"), 200) for name in IDS]
    assert [text for text in page.texts if text in notes] == notes


@pytest.mark.parametrize("i", range(len(IDS)))
def test_a_report_shows_the_students_text_and_nothing_else_runs(out, i):
    name = IDS[i]
    text = (out / "students" / student_folder(name) / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert_only_the_kits_tags(page)
    assert page.links == ["../../index.html"]
    shown = clip(printable(name), 100)
    assert page.title == f"{shown}: backprop-kit grades"
    assert f"{shown}: {i} / 100 points" in page.texts  # the <h1>
    feedback = f"{name} returned <script>alert(1)</script>\x1b[2J\u202e\ntwo lines"
    assert clip(printable(feedback, "\n\t"), 3000) in page.texts  # in <pre>: its lines kept, the rest shown
    assert clip(printable(f"printed {name}\r\n\x1b[31m", "\n\t"), 2000) in page.texts
    assert not HIDDEN.search(text.replace("\n", "").replace("\t", ""))
    assert "<script" not in text and "<img" not in text and "javascript:" not in page.links[0]


# ---- the grade book's own names: never a student's -------------------------------------------------

def test_the_top_of_the_grade_book_holds_only_its_own_files(out):
    assert {p.name for p in out.iterdir()} == OWN_FILES


def test_each_student_has_a_folder_of_their_own_on_any_file_system(out):
    folders = [student_folder(name) for name in IDS]
    assert sorted(p.name for p in (out / "students").iterdir()) == sorted(folders)
    assert len({f.lower() for f in folders}) == len(IDS)  # distinct on a file system blind to case
    for folder in folders:  # valid on Linux, macOS and Windows (so FAT, NTFS, SMB) alike
        assert re.fullmatch(r"[A-Za-z0-9._~-]{1,64}", folder) and folder not in (".", "..")
        assert not folder.endswith(".") and not folder.startswith(("-", "."))
        assert not re.fullmatch(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", folder, re.IGNORECASE)
        assert {p.name for p in (out / "students" / folder).iterdir()} == {"results.json", "report.html"}


@pytest.mark.parametrize(("name", "folder"), [
    ("ada", "ada"), ("index.html", "index.html"), ("students", "students"), ("a-b_c.d", "a-b_c.d"),
    ("Ada", "Ada~99a563ab2f6e21e9"), ("José", "Jos_~24c2ab65b7adab7e"), (".", "_~cdb4ee2aea69cc6a"),
    ("..", "_~5ec1f7e700f37c3d"), ("con", "con~1143da2bc54c495c"), ("a.", "a_~5ab640fad553cbf9"),
    ("a\udcffb", "a_b~253d5effb552378f"), ("-rf", "_rf~686c39acd6327bbd"),
])
def test_a_students_folder_is_the_id_when_plain_else_a_hash(name, folder):
    assert student_folder(name) == folder


def test_results_json_is_gradescopes_with_the_students_text_kept(out):
    for i, name in enumerate(IDS):
        raw = (out / "students" / student_folder(name) / "results.json").read_bytes().decode("utf-8")
        data = json.loads(raw)
        kept = name.replace("\udce9", "\\xe9")  # a lone surrogate cannot be UTF-8: shown, as printable does
        assert data["score"] == i and data["max_score"] == 100
        assert data["output"] == f"{i} of 100 points. {clip(f'{kept}.zip: broken {kept}', 500)}"
        assert data["tests"][0]["output"].startswith(f"{kept} returned <script>alert(1)</script>\x1b[2J\u202e\n")


# ---- the terminal ----------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("name", IDS)
def test_the_progress_bar_shows_an_id_with_its_control_characters_visible(monkeypatch, tty, name):
    monkeypatch.setenv("COLUMNS", "1000")  # wide enough for every id in full
    stream = Terminal() if tty else io.StringIO()
    Progress(1, stream).step(name, 1, 2)  # a class of one: its line is drawn
    text = stream.getvalue()
    line = text.removeprefix("\r").rstrip(" \n") if tty else text.removesuffix("\n")
    assert text.count("\n") == 1 and not HIDDEN.search(line)  # the bar's own \r and \n, nothing else
    assert line.endswith(f"(last: {printable(name)}, 1/2)")


def one_line(err: str, quoted: str) -> bool:
    """A usage error on one line, quoting `quoted`; its wording is grading/submissions.py's."""
    return (err.startswith("kit grade: error: ") and err.endswith("\n") and quoted in err
            and not HIDDEN.search(err[:-1]))


def test_a_usage_error_shows_the_control_characters_of_a_name(tmp_path, capsys):
    missing = tmp_path / "class\x1b[2J\rfake"
    assert main(["grade", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert one_line(capsys.readouterr().err, printable(str(missing)))
    twice = tmp_path / "twice"
    (twice / "x\rbob\u202e").mkdir(parents=True)
    (twice / "x\rbob\u202e.zip").write_bytes(b"")
    assert main(["grade", str(twice), "--out", str(tmp_path / "out")]) == 2
    assert one_line(capsys.readouterr().err, "x\\rbob\\u202e.zip")


# ---- `kit grade` on a class of odd names, end to end -----------------------------------------------

# entry in SUBMISSIONS (a folder unless .zip) -> its cell in the CSV files, its score of 2
ODD = {
    "x\rbob": ("x\\rbob", 2),  # the solution: a row of its own, and none for bob
    "bob": ("bob", 0),
    "=HYPERLINK(1)": ("'=HYPERLINK(1)", 0),
    "\x1b[31mred": ("\\x1b[31mred", 0),
    "\u202eevil": ("\\u202eevil", 0),
    "caf\udce9": ("caf\\xe9", 0),  # the byte 0xe9: not UTF-8
    "index.html": ("index.html", 0),
    "canvas.csv": ("canvas.csv", 0),  # with --format canvas
    "students": ("students", 0),
    "Ada": ("Ada", 0),
    "ada": ("ada", 0),
    '"><img src=x onerror=alert(1)>': ('"><img src=x onerror=alert(1)>', 0),
    "zipped\u202e.zip": ("zipped\\u202e", 2),  # the solution, zipped
    "zip\x1b]0;pwned\x07.zip": ("zip\\x1b]0;pwned\\x07", 0),  # not a zip: zero, named on stderr
}
NOTE = "note\x1b[2J.txt"  # not a submission: skipped, with a note


def test_kit_grade_on_a_class_of_odd_names(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    solution = (ROOT / "solutions" / "ch1_sensitivity.py").read_text()
    for entry in ODD:
        if not entry.endswith(".zip"):
            (submissions / entry).mkdir()
    (submissions / "x\rbob" / "ch1_sensitivity.py").write_text(solution)
    with zipfile.ZipFile(submissions / "zipped\u202e.zip", "w") as z:
        z.writestr("ch1_sensitivity.py", solution)
    (submissions / "zip\x1b]0;pwned\x07.zip").write_bytes(b"PK\x03\x04 not a zip")
    (submissions / NOTE).write_text("")
    ids = [entry.removesuffix(".zip") for entry in ODD]
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "kit.cli", "grade", str(submissions), "--out", str(out),
                           "--only", "1", "-j", "1", "--timeout", "5", "--format", "canvas", "--format", "moodle"],
                          capture_output=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    err = done.stderr.decode("utf-8")  # strict: no raw byte of a name
    assert done.returncode == 1, err  # graded, and an entry could not be read

    # the terminal: every line is one line, control characters shown
    assert not HIDDEN.search(err.replace("\n", ""))
    lines = err.splitlines()
    assert [line for line in lines if line.startswith("kit grade: ") and printable(NOTE) in line] != []
    broken = printable("zip\x1b]0;pwned\x07")
    zero = [line for line in lines if " scored zero: " in line]
    assert len(zero) == 1 and zero[0].startswith(f"kit grade: {broken} scored zero: {broken}.zip")
    progress = [re.search(r"\(last: (.*), ([02])/2\)$", line) for line in lines if line.startswith("grading [")]
    assert sorted((m[1], int(m[2])) for m in progress) == sorted((printable(i), s)
                                                                 for i, (_, s) in zip(ids, ODD.values()))

    # the grade book: its own names, and every student in every file, in a row of their own
    assert {p.name for p in out.iterdir()} == OWN_FILES
    expected = sorted([cell, str(score)] for cell, score in ODD.values())
    for name, column in (("grades.csv", 1), ("canvas.csv", 5), ("moodle.csv", 1)):
        rows = read_csv(out / name)[2 if name == "canvas.csv" else 1:]
        assert sorted([row[0], row[column]] for row in rows) == expected, name
        assert [cell for row in rows for cell in row if is_formula(cell)] == []
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    assert_only_the_kits_tags(page)
    assert sorted(page.links) == sorted(f"students/{student_folder(name)}/report.html" for name in ids)
    assert sorted(page.anchors) == sorted(printable(name) for name in ids)
    assert len({student_folder(name) for name in ids}) == len(ids)
    for name in ids:
        folder = out / "students" / student_folder(name)
        assert json.loads((folder / "results.json").read_text(encoding="utf-8"))["max_score"] == 2
        assert_only_the_kits_tags(Page((folder / "report.html").read_text(encoding="utf-8")))
