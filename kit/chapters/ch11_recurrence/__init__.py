"""Chapter 11, recurrence: backprop through time for a tanh RNN and an LSTM, and gradient clipping.

The references are torch.autograd on the contract's expressions (expressions.py), in float64:
the RNN step tanh(x @ w_ih.T + h_prev @ w_hh.T + b) and its unrolled loop; the LSTM cell is
torch.lstm_cell (what torch.nn.LSTMCell runs, checked equal to it with bias_ih = b and
bias_hh = 0), one step or unrolled; clip_grad_norm's reference is
torch.nn.utils.clip_grad_norm_ itself, on clones of the gradients. Every tolerance is the
"accumulated" row: the gradients are sums over the batch and the steps, and the clipping total
is a sum of squares.

Sizes stay small so that the chapter is cheap: T 1..5 steps, N 1..3 rows, D and H 1..4 with
D ≠ H in half of the draws. Upstream gradients vary element by element, and so does dc.
The references are light (a few milliseconds); a learner's loop over the steps is what costs
in grading, and drawing an LSTM's four gates' weights: the RNN exercises draw half of the
profile's examples (75 in grading), the LSTM exercises a third (50), clip_grad_norm all.

The upstream convention is the contract's: an upstream gradient given for a step is what
arrives there from outside that step; the loss is L = Σ upstream·h (+ Σ dc·c), and the paths
inside the cell and through later steps are the learner's to add. The learner's pages show it
with T = 2 and H = 1 scalars.

Decisions the contract leaves open, stated on the learner's pages too:
- lstm_backward's loss has no outside gradient for any cell state: the last step's dc is 0.
- clip_grad_norm on an empty list returns [] (torch's total would be 0); a list with an
  all-zero total is left as it is (the factor max_norm / 1e-6 is above 1). max_norm is drawn
  relative to the total: well below, exactly at, a hair below or above, and above it, so the
  comparison with 1 and the 1e-6 both matter. The kit compares values; that the tensors
  returned are new ones the contract asks, and an answer scaling the given tensors in place is
  caught as writing into an argument.

Mistakes of shape, dtype or keys are named by kit.diagnosis itself; the misconceptions here
(mistakes.py) are autograd on the forward pass bent the way the mistake bends the backward
pass (a path cut with .detach(), a wrong slope swapped in, the gates read in another order),
or, for clipping, written by hand.

The package, one job a module:
- declarations: each exercise's torch reference, followed by its `Exercise`;
- expressions: the contract's torch expressions, and the LSTM cell written out to be bent;
- inputs: the strategies, the worked examples and the pictures' long sequence;
- mistakes: the answers of the classic mistakes, for the diagnosis;
- pictures: log10 ‖dxs[t]‖ per step of the long sequence, yours beside torch's.
"""
from kit.chapters.ch11_recurrence.declarations import EXERCISES

__all__ = ["EXERCISES"]
