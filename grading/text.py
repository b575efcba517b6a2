"""Students' text for a human to read: `printable`, used wherever such text is shown outside
HTML's own escaping (the terminal, the CSV files, and the pages; see grading/reports.py).

A student id is a file name: it may hold any character but '/' and NUL. Feedback, printed output
and exception messages may hold anything at all.
"""
from __future__ import annotations

import re

# What a terminal, a spreadsheet or an editor acts on instead of showing: C0 and C1 controls and
# DEL (CR, LF, ESC sequences), the bidi controls (Unicode's Bidi_Control: they reorder what
# follows, "\u202ecod.exe"), the line and paragraph separators (str.splitlines splits at them),
# and lone surrogates (a file name's bytes that are not UTF-8: no UTF-8 file or terminal takes them).
HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, keep: str = "") -> str:
    """`text` with each of those characters written as a visible escape: \\r, \\x1b, \\u202e, and
    \\xff for the byte 0xff of a name that is not UTF-8. The characters in `keep` (e.g. "\\n\\t"
    for a text of several lines) stay. For a human to read: backslashes are not doubled."""
    return HIDDEN.sub(lambda match: match[0] if match[0] in keep else visible(match[0]), text)


def visible(char: str) -> str:
    """One character as `printable` shows it."""
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # os.listdir's surrogateescape: the byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
