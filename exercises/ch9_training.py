"""Chapter 9: training.

Everything so far measured sensitivities: how far the output moves when an input is nudged.
Training puts them to work. The network of chapter 8 is a row of machines whose settings are
its parameters, and at the end sits one number that says how wrong it is: the loss. Each
gradient tells how far the loss would move if that one parameter were nudged by 1. So nudge
every parameter a little in the opposite direction, and the loss goes down. Do it again, and
again: that is stochastic gradient descent (SGD), and it is how networks learn.

The network (the MLP of chapter 8), for x of shape (N, inputs) and N class indices `targets`:

    hidden = relu(x @ W1.T + b1)          W1: (hidden, inputs)   b1: (hidden,)
    logits = hidden @ W2.T + b2           W2: (classes, hidden)  b2: (classes,)
    loss   = cross_entropy(logits, targets), the mean over the N rows

`params` is a dict with the keys "W1", "b1", "W2", "b2". Compute the gradients by hand, as in
chapter 8: no autograd (no .backward(), no requires_grad). Plain tensor operations are fine,
and so is torch.nn.functional.cross_entropy for the forward value of the loss.

You may reuse your chapter 8 work: put

    from ch8_tensors import mlp_backward

at the top of this file. It works because, while the kit imports this file, it puts this
folder first on sys.path; so import it at the top, not inside a function.

Run `pytest tests/test_ch9_training.py` to check your answers against torch.optim.SGD.
Open report.html afterwards to see your loss curve beside torch's.
"""
import torch


def sgd_step(params: dict, x: torch.Tensor, targets: torch.Tensor, lr: float):
    """One step of plain SGD: return (the loss before the step, the new parameters).

    Two moves:
      1. With the parameters as they are, run the network forward to get the loss, and
         backward to get the gradient of the loss with respect to each of W1, b1, W2, b2.
      2. Move each parameter against its gradient, by lr times the gradient:
         the new W1 is W1 minus lr times dloss/dW1, and likewise for b1, W2, b2.

    Why against? Recall the hourly wage: at $10 an hour, one hour less takes $10 off the
    bill, and cutting hours saves most where the wage is highest. Likewise, if nudging a
    weight up by 1 would raise the loss by 3 (its gradient is 3), move it down, by lr·3:
    the loss falls by about 3·(lr·3). The parameters the loss is most sensitive to move
    the most; a gradient of 0 leaves its parameter where it is.

    Points to derive (chapter 8 did the backward pass of this network):
      - the loss is a mean over the N rows: how does that show up in dloss/dlogits?
      - the ReLU passes a gradient only where its input was > 0 (at exactly 0: nothing,
        as torch does).

    Leave `params` and its tensors unchanged: build new tensors (W1 - lr * dW1), never
    `W1 -= lr * dW1`, which would rewrite the caller's W1. Return the loss as a Python float
    (loss.item()) and a new dict with the same keys, each a float64 tensor of the same shape.

    Domain: N 1..6 rows, 1..4 inputs, 1..5 hidden units, 2..4 classes; x in [-2, 2], weights
    and biases in [-1, 1]; targets int64 class indices; lr in [0.01, 1].
    Worked number: with W1 = [[1.]], b1 = [0.], W2 = [[1.], [-1.]], b2 = [0., 0.],
    x = [[1.]], targets = [0] and lr = 0.5, the logits are [1, -1] and the loss is
    ln(1 + e^-2) ≈ 0.126928; the new b2 is ≈ [0.0596, -0.0596] and the new W1 ≈ [[1.1192]].
    """
    raise NotImplementedError("ch9_training.sgd_step")


def train(params: dict, x: torch.Tensor, targets: torch.Tensor, lr: float, steps: int) -> list:
    """Take `steps` SGD steps from `params`; return the loss before each step, a list of floats.

    Each step starts from the parameters the previous step returned; the first one from
    `params` itself, which stays unchanged. The list has exactly `steps` losses: the loss
    before step 1, before step 2, ..., before the last step (the loss after the last step
    is not in it). torch.optim.SGD with this lr and no momentum gives the same numbers.

    Your sgd_step does all the work: this function is a loop around it.

    Domain: as sgd_step, and steps 1..8.
    Worked number: on the worked example of sgd_step, train(params, x, targets, 0.5, 3)
    ≈ [0.126928, 0.062351, 0.040830]: the loss falls with every step.
    """
    raise NotImplementedError("ch9_training.train")
