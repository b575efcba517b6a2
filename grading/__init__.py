"""Batch grading for instructors: `kit grade SUBMISSIONS --out OUT` (grading/cli.py).

    kit grade grading/sample_class --out /tmp/sample-grades --only 1-2

A class is graded as `pytest --impl STUDENT` would grade each student, with the same verdicts
and messages, on inputs drawn from the course's secret seed, and fast. Student code is hostile:
this is what the grader guarantees, and how.

The threat model
================

Trusted: the grader's process, its checkers and the processes that draw the inputs (forked
from the grader's forkserver, grading/forkserver.py), which never run a line of a submission.
Untrusted: everything a submission's code does, in its own processes (grading/child.py), and
every file of a submission. Between them: zygotes (grading/zygote.py), clean interpreters that
run no submission code and fork the students' processes.

1. Only trusted code decides a score. An exercise passes only when the grader's comparison
   (kit.compare, in a checker) accepts the answer to every input, in order (grading/verdict.py).
   A child's reply is JSON, read as plain data: a stop status can only be one of
   kit.statuses.CHILD_STOPS (all score zero), more answers than inputs or a reply heavier than four
   times torch's answers (grading/sandbox.py: reply_limit) is malformed.
2. No way out. A child holds no descriptor but its socket and its capture file, and
   - cannot open a socket of any kind (seccomp), so it reaches no process and no network, not
     even loopback, and runs in an empty network namespace where bubblewrap works;
   - cannot trace, signal (seccomp; Landlock's scope) or see (PID namespace) another process;
   - as root: runs as a user of its own (UID_BASE + its number, grading/isolation.py) with no
     capability left and no way to regain one; its folder is readable by that user alone, and
     other students' folders, the output folder and the cache (the grader's, 0700) are closed
     to it; Landlock keeps it to Python, the libraries and its own folder, so world-readable
     files such as solutions/ are closed too, and bubblewrap's mount namespace shows nothing
     else; as an unprivileged grader, Landlock and the mount namespace do the same;
   - cannot write any file (seccomp: no open for writing, no create, rename, unlink, chmod);
   - gets an environment of a few fixed variables (isolation.ENVIRONMENT), none of the grader's.
3. Nothing of the kit's answers in the child. A zygote is a fresh `python -I -S` given the
   sources of the modules a child needs (isolation.CHILD_MODULES: no chapter, no reference);
   kit.known_engine, whose local derivatives are answers, goes to a child of its own that runs
   chapter 7's `backward` and nothing else. The grader never sends torch's answers.
4. Nothing a child wrote is ever executed or unpickled by trusted code. A notebook handed in
   (.ipynb) is never parsed by trusted code either: the grader copies its bytes (bounded,
   grading/submissions.py); the child reads its JSON (bounded: size, brackets, depth) and its
   cells (ast) and runs only their definitions (grading/notebooks.py); for the autograd scan the
   grader reads back, as plain strings, the code the child took out before any line of the
   submission ran there (grading/notebook_scan.py), and parses it as it parses a .py module. Replies are JSON. The
   input cache holds case files (grading/casefile.py: JSON and raw tensor bytes, an allowlist
   of kinds, checksummed) in a 0700 folder of the grader's user; a file or folder that is
   foreign, writable by others, a link or malformed is ignored and drawn again.
5. Inputs a student cannot predict. They are drawn from the course's 128-bit seed
   (`--seed-file`, default ~/.config/backprop-kit/grading-seed, 0600; bundled in the Gradescope
   zip). The public `grading` profile only rehearses; worked examples stay public. Same seed,
   same inputs, same grades.
6. One student never stops the class. Any fault while one entry is read (grading/submissions.py)
   or graded, the grader's own included (grader.grade_one), costs that student only, with a
   reason; the grade book is written for everyone else. Student files live under
   OUT/students/<folder>, a name no id can make collide with the grade book's own files.
7. Limits per submission: memory and processes across everything it starts (a cgroup per
   student, grading/cgroups.py, where the grader may make one), no disk (2), CPU time, wall
   time and printed output per exercise, no real-time or raised priority (rlimits, seccomp).
8. Grade book text is inert: student strings are escaped in HTML, neutralised in CSV (no row
   split by CR or LF, no formula), shown, never sent raw, on the terminal (grading/text.py).
9. The autograd ban. kit/autograd/scan/ reads the source and zeroes the exercises whose functions
   reach autograd, and only those; it never counts words in strings, comments or names. At run
   time (kit/autograd/block.py) grad mode is sealed off, the engine's C type, grad_fn nodes,
   the derivative operators (aten *_backward) and TorchScript refuse, and every holder of an
   original is replaced; a use counts even when the code catches the error ("autograd").
10. The Gradescope runtime (grading/platforms/gradescope.py) runs `kit grade`, as root, so each submission runs as
    its own user; results.json is written by trusted code from kit grade's own output, in a
    folder no child can write; at the deadline, the exercises graded so far keep their scores
    (kit grade --progress-log) and the message says only that time ran out.

Where each holds: `Setting.lines()` says it before grading, for the machine at hand.

| guarantee | root + bubblewrap | root, no namespaces (a container without CAP_SYS_ADMIN: Gradescope) | unprivileged user + user namespaces |
|---|---|---|---|
| 1, 3-6, 8, 10 | yes | yes | yes (10: not applicable) |
| 2: processes, network | yes | yes, with seccomp | yes |
| 2: other students, solutions/, cache, OUT | yes | yes (own uid; world-readable files such as solutions/ only with Landlock) | yes, with Landlock |
| 7: memory, processes | per submission (cgroups) | per submission where cgroups are writable, else memory per process and processes per uid | memory per process; processes counted with the grader's user's |
| 9 | yes | yes | yes |

What does not hold, and what an instructor can do:
- Without libseccomp's bindings (python3-seccomp) a child can open sockets (UDP, unix, and TCP
  with Landlock older than ABI 4) and write files its user owns; `kit grade` says so. Install it.
- Without Landlock (Linux < 5.13) and as an unprivileged user, a child reads what the grader's
  user can read; grade as root, or in a container, where each student has its own user.
- As root without namespaces, Python and the kit must be readable by other users; kit grade
  refuses to start otherwise, with the reason.
- Autograd, honestly: in-process blocking cannot be airtight in CPython. ctypes' unaudited
  memory access (cast, memmove) could rebuild an original function or flip grad mode's flag;
  torch's own source can be read and copied, as from a book. A submission that does so passes
  the run-time block. (A compiled extension cannot be handed in: only the curriculum's .py
  modules and notebooks are copied, grading/submissions.py.) Such code needs ctypes or long copied formulas: grep the submissions for
  `ctypes`, and read any submission whose scores surprise you.
- Feedback carries inputs: a graded run's report shows what the code printed and its own
  exception text (each cut at a few thousand characters), and the failing input, shrunk. A
  student who may resubmit and read that feedback learns some graded inputs each time, enough,
  over several submissions, for a table of a scalar exercise's answers. Against that: on
  Gradescope, show results after the due date (`--visibility after_due_date`), or grade the
  final version with a new seed (`kit grade --seed-file NEW`): a table of old inputs then fails.
- The limits of the machine: a submission may use its wall time on a full core, and its memory
  limit, which other students' grading then shares.

How it is built
===============

Imports run one way: grading/ imports kit/, kit/ never imports grading/ (only the `kit` command,
kit/cli.py, hands the instructor's subcommands to grading.cli.add_instructor_commands, lazily).

- The command lines: grading/cli.py (`kit grade`; it adds `kit export` and `kit new-exercise`),
  grading/limits.py (every limit, its default and its help text), grading/rubric.py (points),
  grading/scaffold.py (`kit new-exercise`). The exercise-name grammar is kit/names.py.
- A class: grading/grader.py (zygotes, cases and workers; a thread per job), grading/class_run.py
  (what every student is graded with), grading/student_grader.py (one student: the scan, each
  exercise's batch, judged by grading/verdict.py in a checker, grading/checker.py; on the first
  failure, kit.check.check against the child so that hypothesis shrinks it), grading/results.py.
- The graded inputs: grading/cases.py (drawn once per class), grading/seed.py (the course's
  seed), grading/case_cache.py (the cache), grading/casefile.py (its data-only format),
  grading/generate.py (classes made from solutions/ and the variants, for the self-tests),
  grading/recorded.py (the course's recording of them, which every later grade uses) and
  grading/pins.py (the exact versions an export installs).
- Submissions: grading/submissions.py, grading/entry_files.py (one file of an entry, bounded),
  grading/notebooks.py (a notebook's definitions as chapter modules, in the child),
  grading/notebook_scan.py (the autograd scan of what the child took from them),
  grading/tree_removal.py; grading/layouts/ (the platforms' bulk downloads) and
  grading/roster.py (who each submission is).
- What the machine gives: grading/resources.py (CPUs and memory of the container), and
  grading/limits.py's `fitted` (the memory default that fits it); grading/progress.py.
- Where students' code runs: grading/isolation.py (the setting, bubblewrap, CHILD_MODULES: the
  only sources a child holds), grading/boot.py and grading/zygote.py (the zygote),
  grading/child.py (a student's process), grading/lockdown.py with grading/privileges.py,
  grading/syscall_filter.py and grading/landlock.py (its lockdown), kit/autograd/block.py with
  the rest of kit/autograd/ (the run-time autograd block, which learner runs use too), and
  kit/autograd/scan/ (the static one),
  grading/sandbox.py (the grader's handle on one child), grading/cgroups.py,
  grading/processes.py, grading/wire.py (what travels, and how), grading/forkserver.py.
- Statuses: kit/statuses.py's `Status`. "timeout", "out of memory", "output limit", "crashed"
  (a signal, or a malformed reply), "exited" are the sandbox's; "wrong", "error", "missing",
  "not attempted" kit.check's; and "autograd", "unreadable", "grader fault". Each costs the
  exercise it happened in. What a student reads: kit/messages/ (sandbox.py, scan.py, loading.py).
- The grade book: grading/reports.py (`write_all`, into a new folder moved into place after
  every child is dead), grading/report_csv.py, grading/report_json.py (Gradescope's schema),
  grading/report_html.py with grading/render.py and the jinja2 templates in grading/templates/,
  grading/gradebook.py (what they share), grading/text.py (student text made inert).
- Platforms: grading/platforms/, one module each (gradescope.py, github_classroom.py, canvas.py,
  moodle.py) behind the `Platform` registry of grading/platforms/__init__.py, which `kit export`
  and `kit grade --format` read; their scripts and workflow are files in grading/platforms/files/.
"""
