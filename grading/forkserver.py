"""The forkserver every process of the grader's comes from: submissions, checkers, drawers.

It imports torch and the kit once; each child then starts in milliseconds. This module
imports neither, so `kit grade` can start the forkserver first thing, and the forkserver's
imports (~3 s) run on one core while the grader's own run on the other.
"""
from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver

_context = None


def context():
    """The forkserver context every child comes from, set up once per grading process."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["__main__", "grading.sandbox", "grading.cases", "grading.checker"])
    return _context


def start() -> None:
    """Start the forkserver now, if it is not running yet; it boots while the grader works."""
    context()
    forkserver.ensure_running()
