"""Chapter 13: a tiny GPT.

Everything you have built comes together here: a language model that reads a sequence of tokens
and, at every position, scores each token of its vocabulary as the next one. Its parameters are
a dict:

    wte     (V, C)       one row of C numbers per token of the vocabulary (token embeddings)
    wpe     (T_max, C)   one row per position 0 … T_max - 1 (position embeddings)
    blocks  a list of chapter 12 block params (one dict per block, keys ln1_w, ln1_b, w_qkv,
            b_qkv, w_out, b_out, ln2_w, ln2_b, w_fc, b_fc, w_proj, b_proj)
    lnf_w, lnf_b (C,)    the final layer norm

and for tokens (B, T) with T <= T_max the machine is

    h_0    = wte[tokens] + wpe[:T]                      (B, T, C)
    h_l    = block_l(h_{l-1})     for each block, in order (chapter 12's pre-norm block)
    logits = layer_norm(h_L; lnf_w, lnf_b, eps 1e-5) @ wte.T      (B, T, V)
    loss   = cross_entropy(logits.view(B·T, V), targets.view(B·T)), the mean over all B·T positions

Look at wte: it is used twice, once to look the tokens up at the bottom and once as the output
layer at the top (tied weights: the same table reads tokens in and scores them out). When one
value feeds two machines, nudging it moves the loss through both, and the two sensitivities add
up: the sum rule again, as for a bias copied to every row or a residual path.

You may reuse your earlier work: put

    from ch12_attention import block_backward, layernorm_backward
    from ch8_tensors import cross_entropy_backward, embedding_backward

at the top of this file (the kit puts this folder first on sys.path while it imports it; import
at the top, not inside a function). Use plain tensor operations only: no .backward(), no
torch.autograd, no requires_grad; torch.nn.functional's forward functions (layer_norm, gelu,
cross_entropy) are fine for forward values.

A word on how the three exercises are checked. AdamW divides each step by the gradient's own
running size (√v̂), so a gradient that is off by a constant factor moves its parameter almost
exactly as the right one would: a loss curve barely notices. gpt_backward is therefore where a
wrong gradient must be caught, and it is checked gradient by gradient against torch.autograd;
train_gpt is about the optimizer and the loop (the loss recorded before each step, moments that
run on from step to step, the step number, the decay), checked against torch.optim.AdamW.

Run `pytest tests/test_ch13_gpt.py` to check your answers against torch. Open report.html
afterwards to see your loss curve beside torch's.

What you have built
-------------------
Chapter 1 began with a machine that multiplies by 3: nudge its input by 1 and its output moves
by 3. That number, the sensitivity, is all a gradient is. Chapter 2 chained machines and
multiplied their sensitivities; chapters 3 and 4 found the sensitivities of powers and
products; chapter 5 walked a small expression backwards by hand, and chapter 6 learned the
slopes of the functions networks are made of. Chapter 7 turned the bookkeeping into an engine
that records every operation and runs the chain rule back through it, adding up the
contributions of a value used twice. Chapter 8 did the same on whole tensors (matrix products,
softmax, cross-entropy, batch norm, embeddings), chapter 9 used the gradients to train a
network, chapters 10 and 11 followed one set of weights through every position of a convolution
and every step of a recurrence, and chapter 12 built attention and the transformer block.

Now, when train_gpt passes, you have trained a GPT whose every gradient is yours, and it learns
step for step as torch's AdamW would train it. Nothing in it is new in kind: each piece is a
machine with a sensitivity, chained, with the contributions of a value used several times added
up. That is all backpropagation is, at any size.

Where to go next:
- Make it bigger and give it real text: a character-level vocabulary from a book, T_max of a
  few hundred, several blocks; sample from it by feeding its own predictions back in.
- Make it faster: your gradients in float32 (the kit's report tells float32 rounding apart from
  mistakes), batched over many sequences, checked against your own float64 version.
- Add what real training adds: dropout in the blocks (chapter 12's dropout_backward), gradient
  clipping (chapter 11's clip_grad_norm) before each AdamW step, a learning-rate warm-up and
  decay, and weight decay only on the weight matrices, not on biases, layer norms or embeddings.
- Read the papers the pieces come from (attention, layer norm, Adam and AdamW, GPT), now that
  every equation in them is one you have differentiated yourself.
"""
import torch
from torch import Tensor


def gpt_backward(tokens: Tensor, targets: Tensor, params: dict, n_heads: int) -> tuple[float, dict]:
    """The loss of the tiny GPT and the gradient of every one of its parameters.

    Return (loss, grads): the loss as a Python float (loss.item()), and grads in exactly the
    structure of params: a dict with the keys wte, wpe, blocks, lnf_w, lnf_b, where blocks is a
    list with one dict per block, each with the twelve keys of the block's params; every
    gradient a new float64 tensor of its parameter's shape. Leave params and its tensors
    unchanged.

    Run the forward pass and keep the input of every block; then go back one machine at a time:
      - the loss: the mean over all B·T positions, so dlogits carries 1 / (B·T);
      - the output layer logits = ln_out @ wte.T: a matrix product (chapter 8), which gives
        wte its first gradient and ln_out its own;
      - the final layer norm, then the blocks from the last to the first, each handing the
        gradient of its input to the block before it (your chapter 12 block_backward already
        adds the residual paths' gradients);
      - h_0 = wte[tokens] + wpe[:T]: the lookup gives wte its second gradient (repeated tokens
        add up, as in embedding_backward), to be added to the first; position t of every
        sequence of the batch uses the same row wpe[t], so those add up over the batch.
    wpe's gradient is the full (T_max, C): its rows T … T_max - 1 were not used, and their
    gradient is 0.

    Domain: 1 or 2 blocks of 1 to 3 heads of width 1 or 2 (C = n_heads·width; the examples add
    3 blocks), V 2..6, T_max 1..5, T 1..T_max, B 1..3, hidden width 1..6; weights, biases and
    embeddings uniform in [-1, 1], layer norm weights in [0.5, 1.5]; tokens and targets int64
    (B, T), the tokens sometimes all alike.
    Worked number: with C = 1 every layer norm gives its bias whatever comes in (a single number
    minus its own mean is 0), which makes the model small enough to follow by hand. Take V = 2,
    T_max = 3, one block with one head, wte = [[1.], [-1.]], lnf_b = [0.5], tokens = [[0, 1]],
    targets = [[1, 0]]: the logits are [0.5, -0.5] at both positions, softmax [0.731059, 0.268941],
    the loss is (ln(1 + e) + ln(1 + e^-1)) / 2 ≈ 0.813262, the wte gradient is
    ≈ [[0.115529], [-0.115529]] (all of it from the output layer: no gradient gets through a
    layer norm of width 1), lnf_b's ≈ [0.462117], and every other gradient is 0 (torch's comes
    out as rounding noise of about 1e-14), wpe's of shape (3, 1).
    """
    raise NotImplementedError("ch13_gpt.gpt_backward")


def adamw_step(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: int, lr: float,
               betas: tuple[float, float], eps: float, weight_decay: float) -> tuple[Tensor, Tensor, Tensor]:
    """One step of AdamW for one parameter tensor: return the new (param, m, v).

    Plain SGD moves every parameter by lr times its gradient, so a parameter whose gradient is
    always tiny barely moves, and one whose gradient jumps about takes wild steps. Adam keeps two
    running averages per element, m of the gradient and v of its square, and steps by
    m / √v: about lr per step, in the direction the gradient has been pointing, whatever the
    gradient's size. With β1, β2 = betas:

        m = β1·m + (1 - β1)·grad          v = β2·v + (1 - β2)·grad²

    m and v start at zero, so for the first steps they are too small; dividing by (1 - β1^step)
    and (1 - β2^step) undoes that (m̂ and v̂), with `step` the number of this step, 1 for the first.
    The step is lr·m̂ / (√v̂ + eps), eps outside the square root. AdamW's weight decay is
    decoupled: it never enters the gradient or the moments; the parameter as given is shrunk by
    the factor (1 - lr·weight_decay), and then the step is subtracted. This is what one
    torch.optim.AdamW step does (amsgrad and maximize off) from the moments m and v.

    Return new tensors; leave param, grad, m and v unchanged.
    Domain: param, grad, m of one shape (1-D or 2-D, sides 1 to 5): param in [-5, 5], grad in
    [-2, 2], m in [-1, 1]; v >= 0, from 0 and 1e-10 up to 4; step 1 to 3000 (often 1); lr 1e-4 to
    0.5; β1 0 to 0.99, β2 0.5 to 0.9999; eps 1e-8, 1e-6, 1e-3 or 0.1; weight_decay 0, 0.01, 0.1
    or up to 0.5.
    Worked number: param = [1.], grad = [0.5], m = v = [0.], step 1, lr 0.1, betas (0.9, 0.999),
    eps 1e-8, weight_decay 0.01: m = [0.05], v = [0.00025], m̂ = [0.5], v̂ = [0.25]; the decay
    makes 0.999, the step is 0.1·0.5 / (0.5 + 1e-8) ≈ 0.1, and the new param is ≈ [0.899].
    """
    raise NotImplementedError("ch13_gpt.adamw_step")


def train_gpt(params: dict, tokens: Tensor, targets: Tensor, n_heads: int, steps: int, lr: float) -> list:
    """Train the GPT with AdamW for `steps` steps on the whole batch; return the loss before each.

    One optimizer over every parameter tensor (wte, wpe, every block's twelve, lnf_w, lnf_b:
    biases, layer norms and embeddings included; wte is one parameter, with the gradient of both
    its uses), as torch.optim.AdamW(all of them, lr=lr, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0.01) would run it: constant lr, zero moments at the start, and one step number
    shared by all the tensors, 1 at the first step. Each step: the loss and every gradient with
    the parameters as they are (your gpt_backward), recorded loss, then adamw_step for every
    tensor, with its own m and v carried on to the next step.

    Return a list of `steps` floats ([] for 0 steps): the loss before step 1, before step 2, …
    (the loss after the last step is not in it). Leave params and its tensors unchanged.
    As said above, a wrong gradient hardly shows in these losses (AdamW rescales it away):
    gpt_backward's own check is where your gradients are caught. This one checks the loop.

    Domain: the GPTs of gpt_backward; steps 1..4 (0 among the examples); lr 1e-3 to 0.1.
    Worked number: on gpt_backward's worked example, train_gpt(params, tokens, targets, 1, 3, 0.1)
    ≈ [0.813262, 0.756301, 0.722230].
    """
    raise NotImplementedError("ch13_gpt.train_gpt")
