"""What every file of the grade book shares: points as shown, texts clipped, each student's folder.

Standard library only: the platforms' grade books import it when `kit`
builds its command line.
"""
from __future__ import annotations

import hashlib
import re

MAX_FEEDBACK = 3000  # characters of a message, in results.json and the pages
MAX_PRINTED = 2000  # characters of printed output
STUDENTS_FOLDER = "students"  # OUT/students/<folder>/: beside the grade book's own files there is no student's
_DEVICES = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?")  # names Windows (and so SMB, NTFS) refuses


def number(value: float):
    """Points as the grade book shows them: 3, not 3.0; 1.5 stays 1.5."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters)"


def student_folder(student: str) -> str:
    """The name of a student's folder under OUT/students/, from the id alone.

    A plain id (lowercase ASCII letters, digits, . _ -; a letter or digit first, no "." last; up
    to 64; not a Windows device name like "con") is its own folder: students/ada/. Any other id
    (".", "..", "Ada", "José", "x\\rbob", a long one) is its ASCII letters and digits, "~" and 16
    hex digits of its SHA-256: students/Jos_~24c2ab65b7adab7e/. No plain name holds "~", two
    hashed ones differ in their hash, plain names are lowercase: no two ids share a folder, even
    on a file system blind to case, and every folder name is valid on any file system."""
    if (re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", student) and not student.endswith(".")
            and not _DEVICES.fullmatch(student)):
        return student
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9]+', '_', student)[:40]}~{digest}"
