"""Chapter 7, an autograd engine: a scalar `Value` that remembers how it was made and sends
gradient back to the Values it was made from.

Every exercise needs the learner's class, `module.Value` (symbol "Value"), and each is graded
on its own, so one broken piece never zeroes another.

The eight operations (add, mul, pow, exp, log, relu, sigmoid, tanh), one node at a time
(`run_step`): the driver makes the inputs with the learner's Value and gives each a grad it
already holds (never 0, so `=` where `+=` belongs is seen), builds the one operation, sets
out.grad to a random upstream number and calls `out._backward()` once. The answer is
`{"out.data", "a.grad", "b.grad"}`, a grad for each input that is a Value. An input may be a
number on either side (`2 * a`, `a + 1`) or the same Value twice (`a * a`, `a + a`). torch
(`torch_step`) does the same with leaves whose `.grad` is set beforehand: backward adds into it.
The learner's `backward()` is never called.

`backward`, on small expression graphs (`Graph`: plain data, built by the driver with the
learner's Value and by the reference with torch). Only the traversal is graded: the driver
builds the graph with `known_engine(Value)`, a subclass of the learner's class whose graded
operations run the learner's own method (forward value, `_prev`) and then give the new node a
`_backward` known to be right (`known_backward`: the local derivatives of kit.known_engine's
GRADED records, of the operands' numbers, by hand, since drivers run in the grading sandbox
where autograd is blocked). A node
the learner's method makes is of the learner's class; it is moved into the subclass
(`out.__class__ = Known`, which adds no slots) so that the operations applied to it later are
the subclass's too. `-a`, `a - b`, `a / b`, `1 - a`, `2 / a` are built from the graded
operations in the stub, so their nodes go backward correctly as well; a learner who rewrites
one of them with a `_backward` of its own keeps it, and it is graded here, as the curriculum
puts them under `backward`. The graph is made of fresh Values (every grad 0), so
`out.backward()` must set out.grad = 1.0 itself, and run each `_backward` once, after every
node made from it. The answer is `{"out.data", "out.grad", "a.grad", ...}` for every leaf.

What the kit knows about one operation is one record in two halves: `kit.drivers.Operation`
(name, spelling, forward: no answer, sent to every grading child) and `kit.known_engine.Graded`
(the learner's methods, forward value and local derivative: sent only to the child that grades
`backward`); the declaration of its step exercise, with the operation's mistakes, is here.

The package, one job a module:
- declarations: each exercise's torch reference, followed by its `Exercise`;
- references: torch's side of a step (`torch_step`) and the nudged estimates;
- inputs: the strategies of the step exercises;
- graphs: the drawn and the worked expression graphs of `backward`;
- plain: `Plain`, the stub's Value without derivatives, built from the records;
- mistakes: the answers of the classic mistakes, for the diagnosis;
- pictures: the report's picture of the learner's engine.
"""
from kit.chapters.ch7_engine.declarations import EXERCISES

__all__ = ["EXERCISES"]
