"""Chapter 10, convolution: the backward steps of conv1d, conv2d, max and average pooling,
spatial batch norm, and a small CNN, by hand, against torch.autograd.

The references are torch.autograd on the contract's torch expressions (torch.nn.functional),
in float64. Sides are small: images up to 6 × 7, kernels up to 3 × 3 (4 in conv1d), channels
and filters up to 3, batches up to 3. Kernels and images are often not square; strides are 1
and 2 (pooling: 1 to 3), padding 0 to 2, so that padding wider than the kernel, rows and
columns that no window reaches (floor mode), overlapping windows (stride < kernel) and gaps
between them (stride > kernel) all come up in the drawn inputs and in the worked examples.
Upstream gradients vary element by element (kit.strategies.upstream_tensors).

Decisions the contract leaves open, stated on the learner's pages too:
- conv2d_backward is called with stride and padding passed by position, or, on some draws
  where they are 1 and 0, without them (their defaults).
- max_pool2d_backward's x is a permutation of distinct values, centred and scaled: no two values
  anywhere are equal, not only within a window, and shrinking keeps it so. (kernel_size, stride)
  is one of (2, 1), (3, 1), (3, 2), (2, 2), (3, 3), (1, 1), (2, 3), (1, 2); avg_pool2d_backward
  draws the same, and an x it does not need but gets, as torch's signature has it.
- batchnorm2d_backward draws N·H·W ≥ 2 (N = 1 included: the statistics run over the positions
  too); eps is the default or passed in (1e-5, 1e-3, 0.1, 1), so an answer that ignores it is
  caught.
- cnn_backward draws H and W in {2, 4, 6}, N and C 1 or 2, F 1 to 3, 2 or 3 classes, the tensors
  uniform random from a seed hypothesis draws: hypothesis' own favourite values (0, repeats) make
  near-ties in a pooling window, which two right answers summing in another order can break
  differently. The exact ties (an input of zeros with a positive bias: four equal values per
  window; torch gives the gradient to the first in row-major order) and relu's input at exactly
  0 (slope 0, as torch) are in the worked examples, where every order of summing is exact. It
  has no nudged estimate: a nudge straddles relu's kink and the pooling switch.
- Fewer draws where a learner's loops are slow (Exercise.draws): conv1d_backward and
  conv2d_backward draw half the profile's examples (75 in grading), cnn_backward a quarter (38):
  a by-hand convolution loops over the kernel's offsets in Python, a millisecond or more a call,
  and grading a class would spend most of its time there (benchmarks/grading.py).

Mistakes of shape, dtype or keys are named by kit.diagnosis itself (a db not summed over
positions has the wrong shape, for one); the misconceptions here name the mistakes of value,
each computed from torch's reference bent the way the mistake bends it (a true convolution in
place of the cross-correlation, the stride or padding mishandled, statistics over other dims),
or by hand (assignments where windows overlap, the network's routing at a tie).

The package, one job a module:
- declarations: each exercise's torch reference, followed by its `Exercise`;
- expressions: the contract's torch expressions the references differentiate;
- inputs: the strategies and the tensors of the worked examples;
- mistakes: the answers of the classic mistakes of value, for the diagnosis;
- pictures: the report's heat maps, the learner's gradients beside torch's.
"""
from kit.chapters.ch10_convolution.declarations import EXERCISES

__all__ = ["EXERCISES"]
