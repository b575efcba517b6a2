"""Chapter 13's exercises, a tiny GPT: each torch reference, followed by its declaration.

gpt_backward's reference is torch.autograd on kit/chapters/ch13_gpt/expressions.py's gpt_loss
(built on chapter 12's block), in float64; adamw_step's and train_gpt's are torch.optim.AdamW's
update (kit/chapters/ch13_gpt/optim.py).
"""

from kit import pictures
from kit.chapters.ch13_gpt.inputs import (
    CURVE,
    SAME_TOKEN,
    THREE_BLOCKS,
    TINY,
    TWO_BLOCKS,
    adamw_inputs,
    gpts,
    training_rates,
    training_steps,
)
from kit.chapters.ch13_gpt.mistakes import (
    bent_adamw,
    decay_without_lr,
    lookup_only,
    loss_and_gradients,
    output_only,
    residual_dropped,
    training,
    wpe_averaged,
    wpe_unwritten,
)
from kit.chapters.ch13_gpt.optim import one_step, trained
from kit.diagnosis import Misconception
from kit.exercise import Exercise
from kit.strategies import t

EXERCISES: list[Exercise] = []

RESIDUAL = ("A residual gradient was not added: in a block, h = x + attention(...) and y = h + mlp(...) "
            "hand their input on unchanged too, so the gradient arriving at the sum goes straight "
            "through to x (and to h) and adds to what comes back through the branch: the sum rule.")


def gpt_backward(tokens, targets, params, n_heads):
    return loss_and_gradients(tokens, targets, params, n_heads)


EXERCISES.append(Exercise(
    module="ch13_gpt", name="gpt_backward", reference=gpt_backward,
    inputs=gpts(),
    examples=(TINY, TWO_BLOCKS, SAME_TOKEN, THREE_BLOCKS),
    domain="1 or 2 blocks of 1 to 3 heads of width 1 or 2 (C = n_heads·width), V 2..6, T_max 1..5, "
           "T 1..T_max, B 1..3, hidden width 1..6; weights, biases and embeddings uniform in [-1, 1], "
           "layer norm weights in [0.5, 1.5]; tokens and targets int64 (B, T), tokens sometimes all "
           "alike; the examples add 3 blocks and C = 1",
    hint="Keep every block's input from the forward pass, then go back one machine at a time: the "
         "loss, the output layer, the final layer norm, the blocks from the last to the first, and "
         "the embeddings; wte is used twice, so its two gradients add up.",
    more="dlogits = (softmax(logits) - one_hot(targets)) / (B·T); dwte = dlogits.T @ ln_out "
         "(both flattened to rows); dh = layernorm_backward(h_L, lnf_w, lnf_b, dlogits @ wte)[0]; "
         "for each block from the last: g = block_backward(h_before, block, n_heads, dh), dh = g['x']; "
         "then dwte += embedding_backward(tokens, V, dh), and dwpe = zeros (T_max, C) with "
         "dwpe[:T] = dh.sum(dim=0).",
    misconceptions=(
        Misconception("Your wte gradient counts only the lookup wte[tokens]; wte is also the output "
                      "layer (logits = ... @ wte.T), and the gradients of both uses add up: "
                      "add dlogits.T @ ln_out.", lookup_only),
        Misconception("Your wte gradient counts only the output layer (logits = ... @ wte.T); wte's "
                      "rows are also looked up at the input, wte[tokens], and the gradients of both "
                      "uses add up: add the embedding gradient of dh_0.", output_only),
        Misconception(RESIDUAL, residual_dropped((False, False))),
        Misconception(RESIDUAL, residual_dropped((False, True))),
        Misconception(RESIDUAL, residual_dropped((True, False))),
        Misconception("wpe's gradient is divided by the batch size; every sequence of the batch adds "
                      "its gradient to the same rows of wpe, so sum over the batch, do not average "
                      "(the loss's mean is already in dlogits).", wpe_averaged(gpt_backward)),
        Misconception("wpe's gradient is NaN in the rows past T: they were never written. A buffer "
                      "from torch.empty_like holds whatever memory it gets (the kit fills it with NaN, "
                      "so you see it every run); positions no token used get gradient 0: start from "
                      "torch.zeros_like(wpe).", wpe_unwritten(gpt_backward)),
    ),
    tolerance="accumulated",
    draws=0.12,
    answer_names=("loss", "gradients"),
))


def adamw_step(param, grad, m, v, step, lr, betas, eps, weight_decay):
    return one_step(param, grad, m, v, step, lr, betas, eps, weight_decay)


EXERCISES.append(Exercise(
    module="ch13_gpt", name="adamw_step", reference=adamw_step,
    inputs=adamw_inputs(),
    reference_name="torch.optim.AdamW",
    examples=((t([1.0]), t([0.5]), t([0.0]), t([0.0]), 1, 0.1, (0.9, 0.999), 1e-8, 0.01),
              (t([1.0, -2.0]), t([0.5, 0.25]), t([0.1, -0.2]), t([0.04, 0.01]), 3, 0.01, (0.9, 0.999), 1e-8, 0.0),
              (t([[0.5, 2.0], [-1.0, 0.0]]), t([[1.0, -1.0], [0.0, 2.0]]), t([[0.2, 0.0], [0.5, -0.5]]),
               t([[1e-6, 0.0], [0.25, 1.0]]), 100, 0.5, (0.8, 0.99), 0.1, 0.1)),
    domain="param, grad, m of one shape (1-D or 2-D, sides 1 to 5): param in [-5, 5], grad in [-2, 2], "
           "m in [-1, 1]; v >= 0, from 0 and 1e-10 up to 4; step 1 to 3000 (often 1); lr 1e-4 to 0.5; "
           "β1 0 to 0.99, β2 0.5 to 0.9999; eps 1e-8, 1e-6, 1e-3 or 0.1; weight_decay 0, 0.01, 0.1 "
           "or up to 0.5",
    hint="Decay the parameter first (a shrink that does not touch the gradient), update both running "
         "averages, undo their start-at-zero bias with the step number, then step by lr·m̂ / (√v̂ + eps).",
    more="param·(1 - lr·wd); m = β1·m + (1 - β1)·g; v = β2·v + (1 - β2)·g²; m̂ = m / (1 - β1^step), "
         "v̂ = v / (1 - β2^step); new param = decayed - lr·m̂ / (√v̂ + eps); return (param, m, v).",
    misconceptions=(
        Misconception("You added the decay to the gradient (g + wd·param, L2 as in Adam); AdamW "
                      "decouples it: the gradient and the moments never see the decay, the "
                      "parameter is shrunk by param·(1 - lr·wd) on its own.", bent_adamw(l2=True)),
        Misconception("The bias correction of m is missing: m starts at 0, so divide it by "
                      "(1 - β1^step).", bent_adamw(correct_m=False)),
        Misconception("The bias correction of v is missing: v starts at 0, so divide it by "
                      "(1 - β2^step).", bent_adamw(correct_v=False)),
        Misconception("Both bias corrections are missing: m and v start at 0, so divide them by "
                      "(1 - β1^step) and (1 - β2^step).", bent_adamw(correct_m=False, correct_v=False)),
        Misconception("You numbered the steps from 0: `step` is 1 for the first step, and the "
                      "corrections use it as it is, 1 - β^step.", bent_adamw(number=lambda step: step + 1)),
        Misconception("Your corrections use step - 1; `step` is already the number of this step "
                      "(1 for the first): 1 - β^step.", bent_adamw(number=lambda step: step - 1)),
        Misconception("You applied the decay after the step, shrinking the stepped parameter; AdamW "
                      "shrinks the parameter as given, param·(1 - lr·wd), and then subtracts the step.",
                      bent_adamw(decay_after=True)),
        Misconception("eps is inside the square root, √(v̂ + eps); torch adds it after: √v̂ + eps.",
                      bent_adamw(eps_inside=True)),
        Misconception("You added eps to √v before its bias correction (the Adam paper's folded "
                      "form); torch adds eps to √v̂: lr·m̂ / (√v̂ + eps).", bent_adamw(eps_uncorrected=True)),
        Misconception("Your decay is param·(1 - wd); AdamW scales it by the learning rate too: "
                      "param·(1 - lr·wd).", bent_adamw(decay_without_lr=True)),
    ),
    tolerance="derivative",
    answer_names=("param", "m", "v"),
))


def train_gpt(params, tokens, targets, n_heads, steps, lr):
    return trained(params, tokens, targets, n_heads, steps, lr)


def loss_picture(impl) -> str:
    """The learner's loss curve on CURVE beside torch.optim.AdamW's, as inline SVG."""
    from kit import registry

    params, tokens, targets, n_heads, steps, lr = CURVE
    title = (f"train_gpt: the loss before each AdamW step (lr={lr}, {steps} steps, a four-token cycle, "
             f"B={tokens.shape[0]}, T={tokens.shape[1]})")
    try:
        yours, _ = impl.call(registry.get("ch13_gpt.train_gpt"), CURVE)
        note = ""
    except Exception as error:  # not attempted, or broken: show torch's curve alone
        yours, note = None, str(error).splitlines()[0]
    return pictures.loss_curves(yours, train_gpt(*CURVE), title=title, note=note)


def tiny_training(steps, lr):
    tokens, targets, params, n_heads = TINY
    return params, tokens, targets, n_heads, steps, lr


EXERCISES.append(Exercise(
    module="ch13_gpt", name="train_gpt", reference=train_gpt,
    inputs=gpts(training_steps, training_rates).map(lambda a: (a[2], a[0], a[1], a[3], a[4], a[5])),
    reference_name="torch.optim.AdamW",
    examples=(tiny_training(3, 0.1), tiny_training(0, 0.1),
              (TWO_BLOCKS[2], TWO_BLOCKS[0], TWO_BLOCKS[1], TWO_BLOCKS[3], 3, 0.01),
              (SAME_TOKEN[2], SAME_TOKEN[0], SAME_TOKEN[1], SAME_TOKEN[3], 1, 0.05)),
    domain="the GPTs of gpt_backward; steps 1..4 (and 0 among the examples); lr 1e-3 to 0.1",
    hint="Keep an m and a v of zeros for every parameter tensor; at each step record the loss, "
         "get every gradient with your gpt_backward, and give every tensor its adamw_step with the "
         "same step number, counted from 1.",
    more="Flatten params to a list of tensors (the blocks' too) with m = v = zeros; for step in "
         "1..steps: loss, grads = gpt_backward(...); losses.append(loss); for each tensor: "
         "p, m, v = adamw_step(p, g, m, v, step, lr, (0.9, 0.999), 1e-8, 0.01); rebuild params.",
    misconceptions=(
        Misconception("Your list holds the loss after each step; train_gpt records the loss before "
                      "each one, the first of them with params as given.", training(after=True)),
        Misconception("Your moments start again from zero at every step; m and v run on from one "
                      "step to the next (that memory is what Adam is).", training(reset=True)),
        Misconception("You added the decay to the gradients (L2, as in Adam); AdamW shrinks each "
                      "parameter by (1 - lr·0.01) on its own, and the moments never see the decay.",
                      training(decoupled=False)),
        Misconception("Your step number goes up once per parameter tensor; it counts the optimizer's "
                      "steps: every tensor takes step 1 together, then step 2, ...",
                      training(numbered=lambda step, i, count: (step - 1) * count + i + 1)),
        Misconception("Your decay is p·(1 - 0.01) at each step; AdamW's is p·(1 - lr·0.01).",
                      decay_without_lr),
    ),
    tolerance="accumulated",
    draws=0.03,
    picture=loss_picture,
))
