"""Chapter 8, tensors: the backward steps of a small network's layers, on whole tensors at once.

The references are torch.autograd on the contract's torch expressions (torch.nn.functional),
in float64. Sides are small (1 to 5). At least half of the drawn shapes have all their sizes
different, so that a transposed answer comes out with the wrong shape instead of passing by
luck; the others may repeat sizes (square matrices), where a transposed answer has the wrong
values.
Upstream gradients vary element by element (kit.strategies.upstream_tensors).

Decisions the contract leaves open, stated on the learner's pages too:
- batchnorm_backward draws N >= 2: with one row the variance is 0, x̂ is 0 whatever x is, and
  torch.nn.functional.batch_norm refuses a batch of one in training mode. eps is the default
  or passed in (1e-5, 1e-3, 0.1, 1), so an answer that ignores its eps is caught.
- embedding_backward takes indices of any shape, as W[indices] does: 1-D (N,) or 2-D (B, T)
  here, with upstream of shape indices.shape + (D,).
- mlp_backward follows torch at relu's kink: no gradient where h = x @ W1.T + b1 is exactly 0
  (an example puts a whole row there, so a mask h >= 0 is caught). It has no nudged estimate:
  a nudge straddles the kink.

Mistakes of shape, dtype or keys are named by kit.diagnosis itself; the misconceptions here
name the mistakes of value, each computed from torch's reference bent the way the mistake bends
it (or, for the network, by hand).

The package, one job a module:
- declarations: each exercise's torch reference, followed by its `Exercise`;
- expressions: the contract's torch expressions the references differentiate;
- inputs: the strategies and the tensors of the worked examples;
- mistakes: the answers of the classic mistakes of value, for the diagnosis;
- estimates: the slopes measured by nudging, as in chapter 1.
"""
from kit.chapters.ch8_tensors.declarations import EXERCISES

__all__ = ["EXERCISES"]
