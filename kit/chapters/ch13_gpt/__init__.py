"""Chapter 13, a tiny GPT: every gradient of a GPT language model, and AdamW training it.

gpt_backward's reference is torch.autograd, in float64, on the contract's model
(expressions.gpt_loss, built on chapter 12's block in kit/chapters/ch12_attention/expressions.py):
h_0 = wte[tokens] + wpe[:T], the blocks, the final layer norm, logits @ wte.T, the mean
cross-entropy over all B·T positions. Its gradients come back in params' structure, wpe's the
full (T_max, C) with zeros past T, wte's the sum of its two uses (autograd adds them itself).
adamw_step's and train_gpt's references are torch.optim.AdamW's own update (optim.py: the
function AdamW.step runs, on the optimizer's state exp_avg, exp_avg_sq and step).

The GPTs are drawn as sizes and a seed (inputs.gpts): 1 or 2 blocks (3 in an example), 1 to 3
heads of width 1 or 2, V 2..6, T_max 1..5 with T 1..T_max (so often T < T_max and wpe has unused
rows), B 1..3, hidden width 1..6, tokens sometimes of one kind only (every token repeated); the
tensors come uniform from a torch generator on the seed. gpt_backward draws 0.12 and train_gpt
0.03 of the profile's examples (its reference trains up to four steps): in grading, 18 and 4
drawn inputs beside the worked examples. A learner's GPT by hand costs some 3 ms a call and
their training loop some 10 ms: more draws would make these two a fifth of a student's grading.

AdamW divides each step by the gradient's running size, so a loss curve barely notices a
gradient off by a constant: gpt_backward is checked gradient by gradient, and train_gpt's
misconceptions are the loop's and the optimizer's (the learner's page says so).

Decisions the contract leaves open, stated on the learner's pages too:
- adamw_step takes m and v as given at any step number (v >= 0, not necessarily what earlier
  steps would have left), as torch's state may hold them; the reference sets torch's state
  step to step - 1, which torch increments before its update, so that the update is step
  number `step`.
- The reference runs the function torch.optim.AdamW.step runs (torch.optim.adam.adam with
  decoupled weight decay, single-tensor, foreach and fused off), not the class itself: the
  class's constructor imports torch._dynamo, about two seconds once per process (chapter 9
  does the same with SGD). On the CPU in float64 the class runs exactly this update.
- adamw_step is compared on the "derivative" row (one closed form against another); the
  GPT's gradients and the training losses on "accumulated".
- With C = 1 (a worked example) every layer norm outputs its bias: no gradient reaches the
  blocks or the lookup, and torch's "zeros" there are rounding noise of about 1e-14, within
  the tolerance. Where a gradient is mathematically zero in every direction the loss can move
  (the key bias, which softmax ignores; the blocks when C = 1), AdamW's m / √v turns rounding
  noise into whole steps, but of parameters the loss does not depend on: the losses agree.
- train_gpt's misconceptions cannot name a loop that numbers the steps from 0: its first bias
  correction divides by 1 - β^0 = 0, and a NaN matches nothing. It is caught (the losses are
  NaN), not named.

Mistakes of shape, dtype or keys (wpe's gradient only (T, C), a list of the wrong length) are
named by kit.diagnosis itself.

The package, one job a module:
- declarations: each exercise's torch reference, followed by its `Exercise`, and the picture
  (train_gpt's loss curve beside torch's, on inputs.CURVE);
- expressions: the GPT's torch forward pass and loss, bendable for the misconceptions;
- optim: torch's AdamW update, one step or a whole training, bendable as well;
- inputs: the strategies and the GPTs of the worked examples;
- mistakes: the answers of the classic mistakes, for the diagnosis.
"""
from kit.chapters.ch13_gpt.declarations import EXERCISES

__all__ = ["EXERCISES"]
