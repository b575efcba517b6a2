"""Every sentence the grader tells a student about how their code ran in its sandbox.

Three places speak: a student's own process (grading/child.py), about what the code did there
(it exited, ran out of memory, used autograd, gave an answer that cannot be sent); the grader's
handle on that process (grading/sandbox.py), about a limit the code broke or how its process
died; and the grader (grading/grader.py, grading/student_grader.py), which puts each into the
sentence the student reads, for an exercise or for the import of a module. The learner's own
run (kit/autograd/learner.py) says the grader's sentences for autograd, then AS_GRADED.

Each sentence is a template, filled with str.format by the place that says it:

    from kit.messages import sandbox as said
    said.TIMED_OUT.format(seconds=10)    # "did not finish within 10 s (the time allowed ...)"
    said.BREACH.format(exercise="ch1_sensitivity.scale_sensitivity", text=...)

The sandbox's sentences are predicates that follow "the code " (BREACH) or "importing it "
(IMPORT_BREACH). Pure strings, no import: a student's process loads this module from its
source (grading/isolation.py: CHILD_MODULES).
"""
from __future__ import annotations

# ---- in the student's process (grading/child.py) ----------------------------------------------

MEMORY_ERROR = "the code ran out of memory (MemoryError)"
CAUGHT_AUTOGRAD = "the code called torch's autograd (and caught the error it raised)"
# the answer is too large, too deep, or the code broke its encoder
UNSENDABLE = "{exercise}: the answer cannot be sent back to the grader: {why}"
# torch's own allocation failure, with the learner's traceback
RAN_OUT_OF_MEMORY = "the code ran out of memory:\n{text}"
CALLED_EXIT = "the code called sys.exit({code}), which ends the process"  # code: its repr
RAISED_FATAL = "the code raised {kind}, which stops the process"  # KeyboardInterrupt, GeneratorExit, ...

# ---- by the grader's handle on that process (grading/sandbox.py): each follows "the code " ------

UNREADABLE = "sent the grader something unreadable ({error})"
TOO_HEAVY = "sent the grader more than its answers can weigh ({error})"
TIMED_OUT = "did not finish within {seconds:g} s (the time allowed for all the inputs of an exercise)"
OUT_OF_MEMORY = "ran out of memory: its processes together passed {mebibytes} MiB and the kernel ended one"
HUNG_UP = "closed its connection to the grader"
EXITED = "ended the process (exit status {code}), e.g. with os._exit or exit()"
PRINTED_TOO_MUCH = "printed more than {limit} bytes"
CPU_TIME = "used up the CPU time of its process"
KILLED = "crashed: the process was killed by signal {signal}"

# ---- by the grader (grading/student_grader.py, grading/grader.py) -------------------------------

NOT_ANSWERS = "the code sent the grader a reply that is not its answers"
BREACH = "{exercise}: the code {text}."  # a limit broken, or a death, while an exercise ran
STOPPED = "{exercise}: {text}."  # the code stopped its own process, or its reply was malformed
USED_AUTOGRAD = ("{exercise}: the code called torch's autograd while it ran. Exercises derive gradients by "
                 "hand; code that uses autograd scores zero.\n{text}")
IMPORT_BREACH = "{module}.py: importing it {text}."
IMPORT_UNREADABLE = "{module}.py: the grader could not read the reply ({error})."
IMPORT_STOPPED = "{module}.py: importing it, {text}."  # autograd, out of memory, exited, ...: the child's text
# the grader's own failure on a submission: `last`, the last line of its traceback
GRADER_FAULT = ("The grader failed while grading this submission ({last}). This is not a verdict on the "
                "code: the instructor should grade it again.")

# ---- in the learner's own run (kit/autograd/learner.py) -----------------------------------------

# after the grader's own sentence for the use (kit/messages/scan.py's refused, USED_AUTOGRAD, IMPORT_STOPPED)
AS_GRADED = ('Graded (kit grade), this exercise would score 0, status "autograd": the grader finds this use '
             "the same way, by the same scan of the code and the same block of torch's autograd while it runs.")
