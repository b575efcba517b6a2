"""Chapter 11: recurrence.

A recurrent network reads a sequence one step at a time with one and the same machine. At step
t the machine takes the input x_t and its own previous output h_{t-1}, the hidden state, and
makes the next one:

    h_t = tanh(x_t @ w_ih.T + h_{t-1} @ w_hh.T + b)        (the same w_ih, w_hh, b at every step)

Unroll the loop and it is just a long chain of machines, each feeding the next. So the
backward pass is nothing new: backprop through time is the chain rule run back along the
steps, from the last to the first. Two habits from earlier chapters do all the work:

- A value that feeds two places collects a gradient from both, and they add up. h_t feeds the
  loss (through whatever sits above the network) and the next step: its gradient is the
  outside one plus what step t + 1 sends back.
- Each weight is used at every step, so its gradient is the sum of its contributions from
  every step (and, as in chapter 8, from every row of the batch). Sums, not means.

The upstream convention. An upstream gradient given for a step is only what arrives there from
outside that step (from the loss, through the layers above). The loss whose gradients you
return is

    L = Σ_t Σ upstream[t]·h_t         (and, for an LSTM step, + Σ dc·c)

and the paths inside the cell and through the later steps are yours to add. With T = 2 and
one hidden unit: upstream = [1, 2] means L = 1·h_0 + 2·h_1. h_1 is reached from outside only,
so its gradient is 2; h_0 is reached from outside (1) and through h_1 (2 × the slope of h_1
with respect to h_0), so its gradient is 1 + that.

Shapes are torch's: xs (T, N, D) holds T steps of a batch of N rows of D inputs; hidden states
are (N, H); w_ih (H, D) and w_hh (H, H), or (4H, D) and (4H, H) for an LSTM's four gates.
Everything is torch.float64. Return new tensors and leave the ones you are given unchanged.
Use plain tensor operations only (no .backward(), no torch.autograd): autograd is what the
tests compare you with.

You may reuse your steps: put `from ch8_tensors import tanh_backward` (or any earlier chapter's
function) at the top of this file, and call rnn_step_backward from rnn_backward.

Run `pytest tests/test_ch11_recurrence.py` to check your answers against torch.autograd. Open
report.html afterwards to see, for a 16-step sequence, how big the gradient is at each step,
yours beside torch's: going back through many tanh steps it fades (it vanishes), and less so
through an LSTM's cell state.
"""
from torch import Tensor


def rnn_step_backward(x: Tensor, h_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor,
                      upstream: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The backward pass of one RNN step, h = tanh(x @ w_ih.T + h_prev @ w_hh.T + b).

    The step is two linear layers added up, then a tanh: a = x @ w_ih.T + h_prev @ w_hh.T + b
    and h = tanh(a). upstream (N, H) is the gradient of h.
    Derive: first the gradient of a, with tanh's slope (chapter 8: it is easiest written with
    the output, h, which you can recompute); then a sum passes its gradient unchanged to each
    of its terms, and each term is chapter 8's linear layer: x and w_ih are one, h_prev and
    w_hh the other, and b is added to every row (sum over the batch).
    Domain: x (N, D), h_prev (N, H), w_ih (H, D), w_hh (H, H), b (H,), upstream (N, H), with N
    from 1 to 3 and D and H from 1 to 4 (often different); x in [-2, 2], the others in [-1, 1].
    Return the tuple (dx, dh_prev, dw_ih, dw_hh, db), of the shapes of x, h_prev, w_ih, w_hh, b.
    Worked number (N = D = H = 1): x = [[1]], h_prev = [[0.5]], w_ih = [[0.5]], w_hh = [[-1]],
    b = [0], upstream = [[2]]: a = 0.5 - 0.5 = 0, h = 0 and tanh's slope there is 1, so the
    gradient of a is 2; dx = 2·0.5 = 1, dh_prev = 2·(-1) = -2, dw_ih = 2·1 = 2,
    dw_hh = 2·0.5 = 1, db = 2: ([[1]], [[-2]], [[2]], [[1]], [2]).
    """
    raise NotImplementedError("ch11_recurrence.rnn_step_backward")


def rnn_backward(xs: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor, upstream: Tensor) -> dict[str, Tensor]:
    """Backprop through time for h_t = tanh(xs[t] @ w_ih.T + h_{t-1} @ w_hh.T + b), t = 0 … T-1,
    starting from h_{-1} = h0.

    upstream (T, N, H) holds the outside gradient of every h_t: the loss is
    L = Σ_t Σ upstream[t]·h_t (see the top of this file). Run the steps forward, keeping every
    hidden state; then go back from the last step to the first. At step t the gradient of h_t
    is upstream[t] plus what step t + 1 sent back to its h_prev (nothing at the last step);
    feed that to one backward step (rnn_step_backward), keep its dx as the gradient of xs[t],
    send its dh_prev on to step t - 1, and add its dw_ih, dw_hh and db to the totals: the same
    weights served every step. What reaches h_{-1} at the end is h0's gradient.
    Domain: xs (T, N, D), h0 (N, H), w_ih (H, D), w_hh (H, H), b (H,), upstream (T, N, H):
    T from 1 to 5, N from 1 to 3, D and H from 1 to 4; xs in [-2, 2], the others in [-1, 1].
    Return a dict with the keys "xs", "h0", "w_ih", "w_hh", "b", each of its tensor's shape.
    Worked number (T = 2, N = D = H = 1): xs = [[[1]], [[0]]], h0 = [[0]], w_ih = [[1]],
    w_hh = [[0.5]], b = [0], upstream = [[[1]], [[2]]]. Forward: h_0 = tanh(1) ≈ 0.761594,
    h_1 = tanh(0.5·0.761594) ≈ 0.363399. Back: step 1 gets 2 from outside only; through tanh,
    2·(1 - 0.363399²) ≈ 1.735882, which is dxs[1] (times w_ih = 1) and sends 1.735882·0.5 ≈
    0.867941 back to h_0. Step 0 gets 1 + 0.867941 = 1.867941; through tanh,
    1.867941·(1 - 0.761594²) ≈ 0.784487 = dxs[0], and h0's gradient is 0.784487·0.5 ≈ 0.392244.
    The weights add up both steps: w_ih 0.784487·1 + 1.735882·0 ≈ 0.784487, w_hh
    0.784487·0 + 1.735882·0.761594 ≈ 1.322037, b 0.784487 + 1.735882 ≈ 2.520369.
    """
    raise NotImplementedError("ch11_recurrence.rnn_backward")


def lstm_step_backward(x: Tensor, h_prev: Tensor, c_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor,
                       dh: Tensor, dc: Tensor) -> dict[str, Tensor]:
    """The backward pass of one step of an LSTM cell, as torch.nn.LSTMCell computes it (with b
    in the place of its bias_ih + bias_hh).

    An LSTM keeps a second state, the cell state c, that it changes only by mixing, so that a
    gradient can travel back along it without being squashed at every step. The step:

        gates = x @ w_ih.T + h_prev @ w_hh.T + b      (N, 4H), split into four blocks of H
        i, f, g, o = the blocks, in that order: input, forget, cell candidate, output
        c = σ(f)·c_prev + σ(i)·tanh(g)
        h = σ(o)·tanh(c)

    dh and dc are the gradients arriving at h and c from outside (L = Σ dh·h + Σ dc·c). c also
    reaches the loss through h: its whole gradient is dc plus that path, and the path is yours
    to add.
    Derive: c's whole gradient first; then each gate's (each is a product: chapter 4), through
    σ or tanh (slopes written with their outputs: σ(1 - σ), 1 - tanh²); c_prev's gradient
    comes out of c = σ(f)·c_prev + ...; stack the four gate gradients in the order i, f, g, o
    and go back through the linear map as in rnn_step_backward.
    Domain: x (N, D), h_prev and c_prev (N, H), w_ih (4H, D), w_hh (4H, H), b (4H,), dh and dc
    (N, H): N from 1 to 3, D and H from 1 to 4; x and c_prev in [-2, 2], the others in [-1, 1].
    Return a dict with the keys "x", "h_prev", "c_prev", "w_ih", "w_hh", "b".
    Worked number (N = D = H = 1, every weight and bias 0): x = [[1]], h_prev = [[0]],
    c_prev = [[2]], dh = [[2]], dc = [[0.5]]. Every gate's pre-activation is 0: σ = 0.5 and
    tanh(g) = 0, so c = 0.5·2 = 1 and h = 0.5·tanh(1). c's whole gradient is
    0.5 + 2·0.5·(1 - tanh(1)²) ≈ 0.919974, and c_prev's is 0.919974·0.5 ≈ 0.459987. The gates:
    i gets 0.919974·tanh(g)·0.25 = 0, f gets 0.919974·c_prev·0.25 ≈ 0.459987, g gets
    0.919974·0.5·1 ≈ 0.459987, o gets 2·tanh(1)·0.25 ≈ 0.380797; so w_ih's gradient is
    [[0], [0.459987], [0.459987], [0.380797]] (times x = 1), b's the same, and x, h_prev and
    w_hh get 0 (the weights and h_prev are 0).
    """
    raise NotImplementedError("ch11_recurrence.lstm_step_backward")


def lstm_backward(xs: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor,
                  upstream: Tensor) -> dict[str, Tensor]:
    """Backprop through time for the LSTM cell of lstm_step_backward over xs (T, N, D), from h0
    and c0.

    upstream (T, N, H) holds the outside gradient of every h_t; the cell states get none from
    outside (L = Σ_t Σ upstream[t]·h_t). As in rnn_backward, run forward keeping every h_t and
    c_t, then go back from the last step; now two gradients travel back: h's, which joins the
    earlier step's upstream, and c's, which is that step's dc (0 at the last step). The weights
    add up their contributions from every step.
    Domain: xs (T, N, D), h0 and c0 (N, H), w_ih (4H, D), w_hh (4H, H), b (4H,), upstream
    (T, N, H): T from 1 to 5, N from 1 to 3, D and H from 1 to 4; xs and c0 in [-2, 2], the
    others in [-1, 1].
    Return a dict with the keys "xs", "h0", "c0", "w_ih", "w_hh", "b".
    Worked number (T = 2, N = D = H = 1, every weight and bias 0): xs = [[[1]], [[0]]],
    h0 = [[0]], c0 = [[2]], upstream = [[[1]], [[2]]]. Every gate is 0.5 and tanh(g) = 0, so
    c_0 = 1, c_1 = 0.5. Step 1: c_1's gradient is 2·0.5·(1 - tanh(0.5)²) ≈ 0.786448, and it
    sends 0.786448·0.5 ≈ 0.393224 back along the cell state. Step 0: c_0's gradient is that
    plus its own path through h_0, 1·0.5·(1 - tanh(1)²) ≈ 0.209987, so ≈ 0.603211, and c0's
    gradient is 0.603211·0.5 ≈ 0.301606. (h's path back is 0 here: w_hh is 0.)
    """
    raise NotImplementedError("ch11_recurrence.lstm_backward")


def clip_grad_norm(grads: list[Tensor], max_norm: float) -> list[Tensor]:
    """Clip gradients by their total norm, as torch.nn.utils.clip_grad_norm_(…, max_norm) leaves
    them; return new tensors.

    Through many steps a gradient can also explode instead of vanishing; a usual remedy is to
    shrink all the gradients together when they are too big, keeping their direction. The
    total is the 2-norm of all of them together, as if they were one long vector: the square
    root of the sum of every element's square. When max_norm / (total + 1e-6) is below 1, every
    gradient is multiplied by it; otherwise they stay as they are. Compute the factor with the
    1e-6 as written (it also keeps an all-zero list from dividing by 0).
    Return new tensors in every case, even when nothing is scaled (g.clone(), or g * factor),
    and [] for an empty list; do not scale the given tensors in place.
    Domain: grads a list of 0 to 4 float64 tensors, each 0-d, 1-d or 2-d with sides 1 to 4,
    elements in [-3, 3]; max_norm > 0, below, at and above the total.
    Worked number: grads = [[3, 4]] has total 5; with max_norm = 1 the factor is 1 / 5.000001,
    giving [0.59999988, 0.79999984]; with max_norm = 10 the factor would be above 1, so the
    answer is [3, 4] (a new tensor).
    """
    raise NotImplementedError("ch11_recurrence.clip_grad_norm")
