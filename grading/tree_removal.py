"""Removing a tree a submission may have filled while it ran: any depth, no link followed, never raising.

The grader removes its prepared folders with `remove_tree` (grading/grader.py) once every
child is dead; a student may have made the tree as deep as the system allows, made folders
unreadable or files undeletable, and swapped links in: none of that stops the clean-up.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from grading.entry_files import FOLDER


def remove_tree(path: Path) -> list[str]:
    """Remove `path` and everything in it, never following a symbolic link; never raises.
    Returns what could not be removed, each with the reason (empty when all of it is gone).

    A tree of any depth: it is not descended into, which would need one open folder, or one
    more path component, a level (Python's recursion limit, the system's limits on open files
    and on the length of a path). Each folder found is moved up to the top of the tree first,
    then emptied and removed, so that at most two folders are open at a time."""
    left: list[str] = []
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
        else:
            _remove_folder(path, left)
    except FileNotFoundError:
        pass
    except Exception as error:  # the grader's clean-up: it must not stop the class either
        left.append(f"{path} ({error})")
    return left


def _remove_folder(path: Path, left: list[str]) -> None:
    top = _open_to_remove(path)
    try:
        taken = set(os.listdir(top))  # names a folder moved up must not take
        pending = [""]  # folders directly in the top left to empty; "" is the top itself
        while pending:
            name = pending.pop()
            try:
                folder = _open_to_remove(name, top) if name else os.dup(top)
            except OSError as error:
                left.append(f"{path / name} ({error.strerror})")
                continue
            try:
                for item in os.listdir(folder):
                    try:
                        if not stat.S_ISDIR(os.stat(item, dir_fd=folder, follow_symlinks=False).st_mode):
                            os.unlink(item, dir_fd=folder)
                        elif name:
                            up = _fresh(taken)
                            os.rename(item, up, src_dir_fd=folder, dst_dir_fd=top)
                            pending.append(up)
                        else:
                            pending.append(item)
                    except OSError as error:
                        left.append(f"{path / name / item} ({error.strerror})")
            except OSError as error:
                left.append(f"{path / name} ({error.strerror})")
            finally:
                os.close(folder)
            if name:
                try:
                    os.rmdir(name, dir_fd=top)
                except OSError as error:
                    left.append(f"{path / name} ({error.strerror})")
    finally:
        os.close(top)
    if not left:
        os.rmdir(path)


def _open_to_remove(name, dir_fd: int | None = None) -> int:
    """A folder of the tree being removed, opened (never through a link) and made writable: a
    student may have made a folder of theirs unreadable, or its files undeletable."""
    try:
        folder = os.open(name, FOLDER, dir_fd=dir_fd)
    except PermissionError:
        try:
            os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
        except (OSError, NotImplementedError, ValueError):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES)) from None
        folder = os.open(name, FOLDER, dir_fd=dir_fd)
    try:
        os.fchmod(folder, 0o700)
    except OSError:
        pass  # not ours to change: its files may still go
    return folder


def _fresh(taken: set[str]) -> str:
    """A name for a folder moved up to the top of the tree that no other there has."""
    n = len(taken)
    while f"up{n}" in taken:
        n += 1
    taken.add(f"up{n}")
    return f"up{n}"
