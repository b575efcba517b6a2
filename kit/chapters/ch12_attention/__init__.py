"""Chapter 12, attention: the backward passes of a transformer block's parts, then of the block.

The references are torch.autograd on the contract's torch expressions (expressions.py, which
chapter 13's GPT reuses for its blocks), in float64. Upstream gradients vary element by element
(kit.strategies.upstream_tensors). Layer norm, GELU and dropout draw hypothesis' own tensors,
repeats and all; attention, self-attention and the block draw uniform tensors from a seed (a
softmax of hypothesis' favourite numbers is flat or saturated, where mistakes hide), a quarter
of the attention draws with every key (or every query) equal. The heavy references draw fewer
examples: self_attention_backward a third of the profile's count (50 in grading), block_backward
0.15 (22).

Decisions the contract leaves open, stated on the learner's pages too:
- layernorm_backward draws D = x.shape[-1] from 1 to 5, D = 1 in one draw of nine: over one
  feature x̂ is 0 and the output is beta whatever x is, so dx = 0 and dgamma = 0 (and the
  unbiased variance of a misconception divides by 0). Shrinking goes to D = 2. x has one
  to three dims; eps is the default or passed in (1e-5, 1e-3, 0.1, 1), so an answer that
  ignores its eps is caught.
- gelu_backward's approximate is left to its default or passed in as "none" or "tanh".
- dropout_backward draws p from 0 (with an all-True mask, as the contract says), 0.1, 0.25,
  0.5 and 0.8; the mask is random at the others (it may drop everything or nothing).
- attention_backward: when not causal, Tq and Tk differ in most draws (a transposed answer then
  has the wrong shape); when causal, Tq = Tk (the contract's condition) and the first key is
  never masked, so no row of weights is empty.
- block_backward's hidden width varies from 1 to 8 (w_fc's rows), not only GPT-2's 4·C.

Mistakes of shape, dtype or keys are named by kit.diagnosis itself; the misconceptions here
name the mistakes of value, each computed by torch.autograd on the expression bent the way the
mistake bends it (mistakes.py): a path detached for a residual not added, a split of the heads
by the wrong columns, a scale or a mask left out.

The package, one job a module:
- declarations: each exercise's torch reference, followed by its `Exercise`;
- expressions: the contract's torch expressions the references differentiate;
- inputs: the strategies and the tensors of the worked examples;
- mistakes: the answers of the classic mistakes of value, for the diagnosis;
- estimates: the slopes measured by nudging, as in chapter 1 (not for self-attention and the
  block, whose weights are too many to nudge in a message);
- pictures: the heat maps of attention's gradients, yours beside torch's, for the report.
"""
from kit.chapters.ch12_attention.declarations import EXERCISES

__all__ = ["EXERCISES"]
