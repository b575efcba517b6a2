"""Batch grading for instructors: `kit grade SUBMISSIONS --out OUT` (grading/cli.py).

    kit grade grading/sample_class --out /tmp/sample-grades --only 1-2

A class is graded as `pytest --impl STUDENT --hypothesis-profile grading` would grade each
student, with the same verdicts and the same messages, but safely, fairly and fast. The grader
runs code written by students, so it treats it as hostile.

How it is built, and why:

- Trusted and untrusted processes. The grader's own process (trusted) draws the inputs,
  computes torch's answers, compares, and writes the grade book; it never imports a line of a
  submission. Each submission runs in a child process of its own (grading/sandbox.py), which
  gets pickled arguments from the grader and answers with JSON only: nothing a submission
  sends can run code in the grader (grading/wire.py decodes and validates plain data; an
  unknown kind of value comes back as its type name and repr). The comparison
  (kit.compare) runs in the grader, with a torch that no submission touched, so patching
  torch.allclose or Tensor.__sub__ in a submission changes only that submission's answers.

- One forkserver. Children are forked from a multiprocessing forkserver that imported torch
  and the kit once: a child starts in milliseconds, with nothing of the grader in it. The
  child locks itself down before it imports the submission: its own session, only its socket
  of the inherited files, stdout/stderr to a capped file, no core dumps, a CPU-time backstop,
  sys.path = its folder + standard library + site-packages (solutions/ cannot be imported),
  autograd's entry points replaced by ones that raise, Landlock (when the kernel has it: read
  only Python and system libraries and its own folder, write only there, no TCP, no signals
  to other processes), and RLIMIT_AS at its size after torch plus the memory limit.

- Limits and statuses. Each exercise has a wall-time limit (--timeout, for all its inputs
  together), memory (--memory, 2G) and printed output (--output-limit, 1M). A breach is its
  own status: "timeout", "out of memory", "output limit", "crashed" (a signal), "exited"
  (sys.exit, os._exit), beside kit.check's "wrong", "error", "missing", "not attempted",
  and "autograd". It costs the affected exercise only: the child is killed, with everything
  it started (process group; orphans that escaped it are swept up, the grader being a child
  subreaper), and a new child carries on with the next exercise. A hang or crash while a
  module is imported costs that module's exercises, once.

- Autograd. Found in the source first (grading/scan.py: imports, attributes, requires_grad,
  `.backward()`, and the same names spelled as strings for getattr/__import__), attributed to
  the function that uses it and to whatever calls that function, so only those exercises
  score zero; then blocked at run time in the child, where anything the scan missed raises
  and is reported as "autograd" even when the submission catches the error.

- Same inputs for everyone, fast (grading/cases.py). Under the `grading` hypothesis profile
  (derandomized, no database) kit.check tries a fixed sequence of inputs. The grader records
  that sequence once per class, with torch's answers, by running kit.check itself against an
  implementation that answers torch's answer. Per student and exercise, the whole list of
  inputs goes to the child in one message and every answer comes back in one; the grader
  compares them in order. A submission that passes all of them passes kit.check (it would
  be asked exactly these); at the first failing one, the grader runs kit.check against the
  child (RemoteImpl), so hypothesis shrinks the input and the learner reads the message
  pytest would show, diagnosis included. The recorded inputs are cached, keyed by a hash of
  the kit's sources and library versions; the first class draws them in parallel processes.
  Students are graded -j at a time, by threads of the grader, each with its own child and its
  own checker: a trusted process, forked from the same forkserver, that decodes the answers
  and compares them (grading/checker.py), so that this work, most of the grader's, does not
  queue for the grader's GIL.

- Submissions (grading/submissions.py). A folder or a .zip per student; only the curriculum
  modules are copied (top level, or one folder down), never a conftest.py, .pth, pytest.ini,
  symlink or helper module; zip members are read, never extracted. A broken entry scores
  zero with the reason, the class is graded, and the exit status is 1.

- The grade book (grading/reports.py, grading/cli.py): grades.csv, <student>/results.json
  (Gradescope's schema; the kit's status in extra_data), <student>/report.html, index.html.
  Student text is escaped and truncated everywhere. It is written into a new folder beside
  OUT and moved into place when complete, after every child is dead: whatever a submission
  wrote into OUT while it ran is gone. A non-empty OUT is refused unless --force.

- Limits of the sandbox. Without Landlock (kernels before 5.13), a submission runs with the
  grader's user rights: it cannot import solutions/ or reach the grader's memory, but it
  could read files the user can read or signal the user's processes. For a class you do not
  trust at all, run kit grade in a container as a throwaway user.
"""
