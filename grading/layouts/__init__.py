"""How SUBMISSIONS is laid out, `kit grade --layout NAME`: the kit's own folders, or a platform's bulk download.

    folders.py     one folder or .zip per student, named by the student id (grading/submissions.py)
    gradescope.py  Gradescope's Export Submissions: submission_<id>/ folders and submission_metadata.yml
    canvas.py      Canvas's Download Submissions: flat files <name>_<user id>_<attachment id>_<file>
    moodle.py      Moodle's Download all submissions: <full name>_<participant id>_assignsubmission_file/

Each layout module has NAME, TITLE, `read(download) -> (submissions, notes)` and
`normalize(key)` (how its keys compare with a roster's); all but folders have `found(download)`,
what of the download's top is theirs, for `--layout auto`. Each makes the Submission records
discover() makes (grading/submissions.py), one per submission, with the Persons who handed it in,
so that the grader needs nothing else; a part of a download is read by grading/layouts/parts.py
under the bounds of an entry. `read_class` lists SUBMISSIONS (a folder or the platform's zip,
grading/layouts/download.py), detects or takes the layout, and maps the people through the
roster (grading/roster.py); `Class.complete` adds, after grading, a row per other member of a
group submission (the same grade) and a zero row per roster student without a submission.

Detection: a submission_metadata.yml at the top is Gradescope's; when most names at the top are
Moodle's (_assignsubmission_) and none is Canvas's, Moodle's; when most are files named as Canvas
names them and none is Moodle's, Canvas's (the other names are skipped with a note); when most
are neither, the folders layout. Gradescope's export unzipped as it is, all in one folder
assignment_<id>_export/, is read in that folder (a named --layout looks into any folder that is
alone at the top; auto does not, so that a class of one, as Gradescope's run_autograder grades,
is never read by its student's file names). A tie, or names of both Moodle and Canvas, is
ambiguous: a usage error asks for --layout.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

LAYOUTS = ("auto", "folders", "gradescope", "canvas", "moodle")
MODULES = LAYOUTS[1:]
LAYOUT_HELP = ("how SUBMISSIONS is laid out: folders (one folder or .zip per student, named by its id), "
               "gradescope (Gradescope's Export Submissions, its zip or that zip unzipped), canvas (Canvas's "
               "Download Submissions), moodle (Moodle's Download all submissions, in folders or not); default "
               "auto: detected from its shape, and said on stderr")


def module(name: str):
    return importlib.import_module(f"{__name__}.{name}")


@dataclass
class Class:
    """The class to grade: its submissions (not yet prepared), notes to show, and who is who."""

    submissions: list
    notes: list[str]
    layout: str
    identities: dict = field(default_factory=dict)  # student id -> grading.roster.Identity
    absent: list = field(default_factory=list)  # roster students without a submission
    groups: dict = field(default_factory=dict)  # a group's graded student -> the other members' ids

    def complete(self, results: list, points: dict[str, float], exercises: list[str] | None) -> list:
        """The grade book's students: the results, a copy for each other member of a group, and
        a zero row per roster student without a submission; sorted by student id."""
        from grading.roster import no_submission
        from kit.registry import EXERCISES

        students = list(results)
        graded = {r.student: r for r in results}
        for student, others in self.groups.items():
            students += [replace(graded[student], student=other) for other in others if student in graded]
        ids = list(exercises or EXERCISES)
        students += [no_submission(who, points, ids) for who in self.absent]
        return sorted(students, key=lambda s: s.student)


def read_class(path: Path, layout: str = "auto", roster: Path | None = None) -> Class:
    """SUBMISSIONS read in `layout` ("auto": detected), mapped through the roster file if one is
    given. SubmissionsError or RosterError for bad usage, before anything is graded."""
    from grading import roster as rosters
    from grading.layouts.download import look

    download = look(path)
    detected = layout == "auto"
    if detected:
        layout, download = detect(download)
    elif layout != "folders":
        download = _locate(download, module(layout))
    chosen = module(layout)
    submissions, notes = chosen.read(download)
    notes = download.notes + notes
    if detected:  # one line: which layout auto took
        notes.insert(0, f"{download.shown}: {len(submissions)} submissions, read as {chosen.TITLE} "
                        f"(--layout {layout}; name another with --layout)")
    matched = rosters.match(submissions, rosters.load(roster) if roster else None, chosen.normalize)
    return Class(submissions, notes + matched.notes, layout, matched.identities, matched.absent, matched.groups)


def detect(download):
    """(the layout, the download as it is read: in its one folder when it is all in one)."""
    found = _signature(download)
    if found:
        return found, download
    top = download.visible()
    alone = next(iter(top)) if len(top) == 1 else ""
    if re.fullmatch(r"assignment_[0-9]+_export", alone) and top[alone] == "folder":
        from grading.layouts import gradescope
        from grading.layouts.download import inside

        down = inside(download, alone)
        if gradescope.found(down):
            return "gradescope", down
    if download.zipped:
        from grading.submissions import SubmissionsError

        raise SubmissionsError(f"{download.path} is a zip file, but not Gradescope's, Canvas's or Moodle's "
                               f"download; unzip it (the folders layout reads a folder), or name its layout "
                               f"with --layout")
    return "folders", download


def _signature(download) -> str | None:
    from grading.layouts import canvas, gradescope, moodle
    from grading.submissions import SubmissionsError

    if gradescope.found(download):
        return "gradescope"
    top = download.visible()
    moodles = set(moodle.found(download))
    canvases = set(canvas.found(download)) - moodles
    others = sorted(set(top) - moodles - canvases)
    if moodles and not canvases and len(moodles) > len(others):
        return "moodle"
    if canvases and not moodles and len(canvases) > len(others):
        return "canvas"
    if (moodles and canvases) or len(moodles) + len(canvases) == len(others) > 0:
        shown = [f"{len(moodles)} named as Moodle names a submission"] if moodles else []
        shown += [f"{len(canvases)} files named as Canvas names them"] if canvases else []
        shown += [f"{len(others)} other entries (e.g. {others[0]!r})"] if others else []
        raise SubmissionsError(f"cannot tell how {download.shown} is laid out: it holds {', '.join(shown)}; "
                               f"name its layout with --layout {{{','.join(MODULES)}}}")
    return None


def _locate(download, layout):
    """The download, or its one folder when everything is in it and the layout finds itself there."""
    if layout.found(download):
        return download
    top = download.visible()
    if len(top) == 1 and next(iter(top.values())) == "folder":
        from grading.layouts.download import inside

        down = inside(download, next(iter(top)))
        if layout.found(down):
            return down
    return download
