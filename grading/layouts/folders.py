"""The kit's own layout: one folder or .zip per student, named by the student's id (grading/submissions.py)."""
from __future__ import annotations

from grading.layouts.download import Download
from grading.roster import Person
from grading.submissions import Submission, SubmissionsError, discover

NAME = "folders"
TITLE = "one folder or .zip per student"


def normalize(key: str) -> str:
    return key.strip()


def read(download: Download) -> tuple[list[Submission], list[str]]:
    if download.zipped:
        raise SubmissionsError(f"{download.path} is a zip file: the folders layout reads a folder of one folder "
                               f"or .zip per student (unzip it), or name the platform it comes from with --layout")
    submissions, notes = discover(download.path)
    for submission in submissions:
        submission.people = (Person(submission.student),)
    return submissions, notes
