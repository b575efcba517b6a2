"""Closing what the process offers around the autograd block: threads, sub-interpreters, new programs; the hook.

Part of kit/autograd/block.py (the rows close_threads, close_subinterpreters, forbid_exec and
install_hook of its table). A new thread would start with grad mode on, a sub-interpreter or a
new program would run without the block; the audit hook counts every closed route and refuses
what would undo the rest (walking the heap, tracers, ctypes' look-ups, starting programs).
Under the learner's gate (kit/autograd/refusal.py: Gate) the same stand-ins and the same hook
refuse only while learner code runs, and forbid_exec is not used (it cannot be undone).
Imports only the standard library: a student's process loads it from its source
(grading/isolation.py: CHILD_MODULES).
"""
from __future__ import annotations

import ctypes
import importlib
import os
import sys

from kit.autograd.refusal import EVENT, USES_EVENT, AutogradBlocked, Gate, Swaps, message, refusing, swap

# audit events refused after block(): event -> why
REFUSED_EVENTS = {
    "gc.get_objects": "gc.get_objects (walking the heap for the originals)",
    "gc.get_referrers": "gc.get_referrers (walking the heap for the originals)",
    "gc.get_referents": "gc.get_referents (walking the heap for the originals)",
    "sys.settrace": "sys.settrace (a tracer can rewrite running frames)",
    "sys.setprofile": "sys.setprofile (a profiler sees every call)",
    "ctypes.dlopen": "ctypes.CDLL (calling libtorch's C++ directly)",
    "ctypes.dlsym": "a ctypes symbol look-up (calling libtorch's C++ directly)",
    "ctypes.dlsym/handle": "a ctypes symbol look-up (calling libtorch's C++ directly)",
    "ctypes.cdata": "ctypes from_address (reading and writing the process's memory)",
    "ctypes.cdata/buffer": "ctypes from_buffer (reading and writing the process's memory)",
    "ctypes.addressof": "ctypes.addressof (reading and writing the process's memory)",
    "ctypes.call_function": "ctypes calling a C address (calling libtorch's C++ directly)",
    "ctypes.string_at": "ctypes.string_at (reading the process's memory)",
    "ctypes.wstring_at": "ctypes.wstring_at (reading the process's memory)",
    "subprocess.Popen": "starting a program (a fresh Python has all of autograd)",
    "os.system": "os.system (a fresh Python has all of autograd)",
    "os.exec": "os.exec* (a fresh Python has all of autograd)",
    "os.posix_spawn": "os.posix_spawn (a fresh Python has all of autograd)",
    "os.spawn": "os.spawn* (a fresh Python has all of autograd)",
    "os.startfile": "os.startfile (a fresh Python has all of autograd)",
}
# a sub-interpreter runs without this audit hook: these modules are imported, and their functions
# that start one closed (in their init-time dict copy too, so a fresh instance has them closed)
SUBINTERPRETERS = (("_xxsubinterpreters", ("create", "run_string")), ("_testcapi", ("run_in_subinterp",)))
# what the learner's gate lets learner code do all the same: a debugger (breakpoint(), pdb, an IDE's)
# sets a tracer, and the README promises breakpoint() inside an exercise; the grader refuses it
LEARNER_ALLOWED = frozenset({"sys.settrace", "sys.setprofile"})
# modules whose import statement is refused (those of other Python versions, with the same powers)
REFUSED_IMPORTS = frozenset({"_xxsubinterpreters", "_xxinterpchannels", "_interpreters", "_interpchannels",
                             "_testcapi", "_testinternalcapi", "_testmultiphase", "_testsinglephase"})


# ---- threads ------------------------------------------------------------------------------------------

def close_threads(swaps: Swaps) -> None:
    for name in sys.builtin_module_names:  # later imports of these never need _imp.create_builtin
        importlib.import_module(name)
    import _imp
    import _thread
    swap(swaps, _thread, "start_new_thread", refusing("starting a thread (its grad mode would be on)"))
    swap(swaps, _thread, "start_new", refusing("starting a thread (its grad mode would be on)"))
    swap(swaps, _imp, "create_builtin", refusing("_imp.create_builtin (a fresh _thread module)"))


def close_new_programs(swaps: Swaps) -> None:
    """subprocess and os raise audit events (refused by the hook); this one does not. The kernel
    closes execve itself in forbid_exec."""
    import _posixsubprocess
    swap(swaps, _posixsubprocess, "fork_exec", refusing("_posixsubprocess.fork_exec (a fresh Python)"))


def close_subinterpreters(swaps: Swaps) -> None:
    for module_name, names in SUBINTERPRETERS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # not built into this Python
        for name in names:
            swap(swaps, module, name, refusing(f"{module_name}.{name} (a sub-interpreter runs without the block)"))


# ---- new programs ---------------------------------------------------------------------------------------

LANDLOCK_CREATE_RULESET, LANDLOCK_RESTRICT_SELF, PR_SET_NO_NEW_PRIVS = 444, 446, 38
LANDLOCK_EXECUTE = 1 << 0


def forbid_exec() -> bool:
    """Landlock: a ruleset that handles only "execute" and allows it nowhere, so this process
    and every process it forks can never execve again (loading shared libraries is not execve:
    extension modules still import). False when the kernel has no Landlock."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syscall(LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), 1) < 1:  # the ABI version
            return False
        handled = ctypes.c_uint64(LANDLOCK_EXECUTE)  # struct landlock_ruleset_attr, first field only
        ruleset = libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(handled), ctypes.c_size_t(8), 0)
    except (OSError, AttributeError):
        return False
    if ruleset < 0:
        return False
    try:
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


# ---- the audit hook ---------------------------------------------------------------------------------------

def install_hook(gate: Gate | None = None) -> None:
    """The hook counts every closed route and refuses REFUSED_EVENTS. It cannot be removed, and
    it reads nothing a submission can change: what it needs is bound here, in its closure, and
    no Python object leads to the hook itself (gc is what could, and gc is refused). A traceback
    through it shows its frame, whose variables can be read there but not changed (that takes a
    tracer, and tracers are refused); it holds no original.

    Under the learner's `gate` it refuses REFUSED_EVENTS (but LEARNER_ALLOWED) only while learner
    code runs in the thread that raises them; the closed routes' own event is only ever raised
    there."""
    count = 0
    refused, refused_imports = dict(REFUSED_EVENTS), REFUSED_IMPORTS
    if gate is not None:
        refused = {event: why for event, why in refused.items() if event not in LEARNER_ALLOWED}
    local = gate.local if gate is not None else None
    error, words = AutogradBlocked, message
    my_event, uses_event = EVENT, USES_EVENT

    def hook(event, args):
        nonlocal count
        if type(event) is not str:  # a str subclass could run code in a comparison
            return
        if event == my_event:
            count += 1
            what = args[0] if args and type(args[0]) is str else "this"
            raise error(words(what))
        if event == uses_event:
            if len(args) == 1 and type(args[0]) is list:
                list.append(args[0], count)
            return
        if local is not None and not getattr(local, "depth", 0):
            return  # the learner's gate, outside learner code: nothing is refused
        why = refused.get(event)
        if why is None and event == "import" and args and type(args[0]) is str and args[0] in refused_imports:
            why = f"importing {args[0]} (a sub-interpreter runs without the block)"
        if why is not None:
            count += 1
            raise error(words(why))

    sys.addaudithook(hook)
