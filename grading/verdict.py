"""Reading a submission's reply and finding the first answer kit.check would reject.

Used by the grader and by its checker processes (grading/checker.py). A reply is JSON:
{"seq": n, "answers": [[encoded answer, changed argument or null], ...], "stop": null or
{"status", "text", "in_call"}} (grading/child.py writes it); anything else is a WireError.

Only this comparison decides that an exercise passes: every input answered, and every
answer accepted by kit.compare against torch's. What else a reply says (a stop status, a
count, a message) can only lower the score: a stop status outside kit.statuses.CHILD_STOPS
("passed", say) is a malformed reply, and so is a reply with more answers than inputs.
"""
from __future__ import annotations

from typing import Any, TypedDict

import kit.registry
from grading import wire
from kit.check import all_pass, fault
from kit.compare import Mismatch
from kit.exercise import Exercise
from kit.statuses import CHILD_STOPS, Status

MALFORMED = Status.CRASHED  # a reply that is not the answers: the submission broke its own process


class Stop(TypedDict):
    """Why a submission's process stopped answering: a stop record, checked (stop_record)."""

    status: Status  # one of CHILD_STOPS
    text: str
    in_call: bool


Answer = tuple[object, str | None]  # a decoded answer, and the argument it changed in place (or None)


def parse(body: bytes, seq: int) -> dict[str, wire.Json]:
    reply = wire.loads(body)
    if type(reply) is not dict or reply.get("seq") != seq:
        raise wire.WireError("a reply to another request")
    return reply


def answers(reply: dict[str, wire.Json]) -> tuple[list[Answer], Stop | None]:
    """The decoded answers and the stop record of a reply; WireError if it is malformed."""
    found, stop = reply.get("answers"), reply.get("stop")
    if type(found) is not list:
        raise wire.WireError("no list of answers")
    decoded: list[Answer] = []
    for item in found:
        if type(item) is not list or len(item) != 2 or not (item[1] is None or type(item[1]) is str):
            raise wire.WireError("a malformed answer")
        decoded.append((wire.decode(item[0]), item[1]))
    return decoded, stop_record(stop)


def stop_record(stop: Any) -> Stop | None:  # Any: a reply's JSON, checked here field by field
    if stop is None:
        return None
    if type(stop) is not dict or type(stop.get("status")) is not str or stop["status"] not in CHILD_STOPS \
            or type(stop.get("text")) is not str:
        raise wire.WireError("a malformed error report")
    return {"status": Status(stop["status"]), "text": wire.short(stop["text"]), "in_call": stop.get("in_call") is True}


def failure_label(status: str, text: str = "", mismatch: str = "") -> str:
    """The kind of a failure, for the class summary: "wrong value", "error: KeyError", "timeout"."""
    if status == Status.WRONG:
        return f"wrong {mismatch}" if mismatch else "wrong"
    if status == Status.ERROR:
        last = text.strip().splitlines()[-1] if text.strip() else ""
        kind = last.split(":", 1)[0].strip()
        return f"error: {kind}" if kind.replace(".", "").replace("_", "").isalnum() else "error"
    return status


def first_failure(exercise: Exercise, expected: tuple[object, ...], found: list[Answer], stop: Stop | None,
                  names: list[str]) -> tuple[Status, str, int]:
    """(status, label, index) of the first answer kit.check would reject, in the order it asks;
    (Status.PASSED, "", -1) when there is none. `found` and `stop` are those of `answers`."""
    if len(found) > len(expected):
        return MALFORMED, MALFORMED, len(expected)
    if stop is None and all_pass(exercise, expected, found):  # the usual case, checked at once
        return Status.PASSED, "", -1
    for i, (actual, changed) in enumerate(found):
        if changed is not None and changed not in names:
            return MALFORMED, MALFORMED, i
        found_fault = fault(exercise, expected[i], actual, changed)
        if isinstance(found_fault, Mismatch):
            return Status.WRONG, failure_label(Status.WRONG, mismatch=found_fault.kind), i
        if found_fault:
            return Status.WRONG, "wrong: changed its input", i
    if stop is not None and len(found) < len(expected):
        return stop["status"], failure_label(stop["status"], stop["text"]), len(found)
    if stop is not None or len(found) != len(expected):
        return MALFORMED, MALFORMED, min(len(found), max(len(expected) - 1, 0))
    return Status.PASSED, "", -1


def judge(exercise: Exercise, expected: tuple[object, ...], body: bytes, seq: int,
          names: list[str]) -> tuple[Status, str, int]:
    """first_failure of a raw reply; (MALFORMED, why, -1) when it cannot be read."""
    try:
        found, stop = answers(parse(body, seq))
        return first_failure(exercise, expected, found, stop, names)
    except Exception as error:  # WireError, or anything else a forged reply could provoke
        return MALFORMED, f"the code sent the grader something unreadable ({wire.short(str(error), 200)})", -1


def registered(exercise_id: str) -> Exercise:
    return kit.registry.EXERCISES[exercise_id]
