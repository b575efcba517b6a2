"""Comparing answers with torch's in trusted processes beside the grader: one per grading thread.

Decoding a student's answers and comparing them (kit.compare, some 6000 answers per student)
is the grader's own work, and in its threads it would hold the GIL and grade one student at a
time. A checker is a process forked from the clean forkserver; it gets torch's answers once,
then, for every exercise of every student, the raw reply of the student's process, and sends
back where the first failure is (grading/verdict.py). It never runs a line of a submission:
like the grader, it only reads their answers as JSON, so the grader may read its pickles.
"""
from __future__ import annotations

import pickle
import socket

from grading import wire


class Checker:
    def __init__(self, cases: dict):
        from grading.forkserver import context

        parent, child = socket.socketpair()
        self.process = context().Process(target=checker_main, args=(child,), daemon=True, name="kit-grade-check")
        self.process.start()
        child.close()
        self.sock = parent
        expected = {eid: c.expected for eid, c in cases.items()}
        wire.send(self.sock, wire.pickle_arguments(expected))

    def judge(self, exercise_id: str, body: bytes, seq: int) -> tuple[str, str, int]:
        """verdict.judge, in the checker process."""
        wire.send(self.sock, pickle.dumps((exercise_id, seq, body), protocol=pickle.HIGHEST_PROTOCOL))
        try:
            return pickle.loads(wire.recv(self.sock))
        except EOFError:
            raise RuntimeError("a checker process of the grader died") from None

    def close(self) -> None:
        self.sock.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


def checker_main(sock: socket.socket) -> None:
    from grading.processes import forked
    from grading.verdict import judge, registered

    forked()
    expected = pickle.loads(wire.recv(sock))
    while True:
        try:
            exercise_id, seq, body = pickle.loads(wire.recv(sock))
        except EOFError:
            return
        exercise = registered(exercise_id)
        verdict = judge(exercise, expected[exercise_id], body, seq, exercise.parameter_names())
        wire.send(sock, pickle.dumps(verdict))
