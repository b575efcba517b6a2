"""The child run's pytest plugin for kit/classroom.py: a JSON line per test outcome, kept if the run is stopped.

Loaded with `-p kit.classroom_log` in the one pytest run of GitHub Classroom's grading step. Each
line goes to the file named by $KIT_CLASSROOM_LOG: the tests collected and the exercise each
checks, then every report (its outcome and the first line of a failure), then the end. Standard
library only, as kit/classroom.py.
"""
from __future__ import annotations

import json
import os

LOG = "KIT_CLASSROOM_LOG"  # the child run's record of each test, one JSON object a line
MESSAGE_LIMIT = 500


def pytest_collection_finish(session):
    tests = {}
    for item in session.items:
        if item.get_closest_marker("kit_exercise") is not None and hasattr(item, "callspec"):
            exercise = item.callspec.params.get("exercise")
            if exercise is not None:
                tests[item.nodeid] = exercise.id
    _record({"event": "collected", "tests": tests})


def pytest_runtest_logreport(report):
    entry = {"event": "test", "nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
             "duration": report.duration}
    if not report.passed:
        entry["message"] = _first_line(report.longrepr)
    _record(entry)


def pytest_sessionfinish(session, exitstatus):
    _record({"event": "finished", "exitstatus": int(exitstatus)})


def _record(entry: dict) -> None:
    path = os.environ.get(LOG)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


def _first_line(longrepr) -> str:
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        text = crash.message
    elif isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        text = str(longrepr[2])
    else:
        text = str(longrepr or "")
        text = next((line for line in reversed(text.splitlines()) if line.strip()), "")
    return _clip(text.splitlines()[0] if text else "")


def _clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"
