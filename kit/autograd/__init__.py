"""The autograd ban, one for the learner's run and the grader: the static scan and the run-time block.

The curriculum forbids torch's autograd in an answer. Two checks find it, and both the learner's
own run (`pytest`, `kit check`, `kit watch`) and the grader (`kit grade`) use the same ones, so
that what passes locally is what scores when graded:

- scan/: reads a submission's modules (never imports them) and names the exercises whose code
  uses autograd (`kit.autograd.scan.scan(folder)`);
- block.py, with refusal.py, process.py, routes.py, operators.py and sweep.py: closes torch's
  routes to a derivative inside the process that runs the code. `block()` closes them for good
  (a grading child, grading/zygote.py); `install_gate()` and `learner_code()` close them only
  while learner code runs, so that the kit's own references keep using torch.autograd;
- learner.py: the hooks kit/implementation.py loads and calls the learner's code through.

kit/ never imports grading/: the students' template has no grader, and grading/ imports these
from here. A grading child holds block.py and the modules it imports, and learner.py, as sources
(grading/isolation.py: CHILD_MODULES), never this package's __init__ nor the scan: nothing here
may be needed from them in a child.
"""
