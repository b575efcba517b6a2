"""Chapter 9, training: plain SGD on the chapter 8 MLP, checked against torch.optim.SGD.

The model is logits = relu(x @ W1.T + b1) @ W2.T + b2 with the mean cross-entropy loss;
its parameters are a dict with the keys W1, b1, W2, b2. The references train a copy with
torch.autograd and torch.optim's plain SGD (no momentum), so the caller's tensors stay as
they are and the kit can tell whether the learner's code changed them.

`train`'s reference returns its losses as a list, as the contract says; a learner's tuple of
floats is accepted too (kit/compare.py compares the two kinds of sequence item by item).
"""
import hypothesis.strategies as st
import torch
import torch.nn.functional as F
from torch.optim.sgd import sgd as torch_sgd  # what torch.optim.SGD.step runs

from kit import pictures
from kit.diagnosis import Misconception
from kit.exercise import Exercise
from kit.reference import leaf
from kit.strategies import reals

KEYS = ("W1", "b1", "W2", "b2")


def logits(params: dict, x: torch.Tensor, relu=torch.relu) -> torch.Tensor:
    return relu(x @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"]


def sgd(params, x, targets, lr, steps, relu=torch.relu) -> tuple[list, dict]:
    """(the loss before each step, the parameters after the last), trained by torch on copies.

    The update is torch.optim.sgd.sgd, the function torch.optim.SGD.step runs, with SGD's
    defaults (no momentum, dampening, weight decay or Nesterov). The class itself is not used:
    its constructor imports torch._dynamo, which takes seconds, once per test run.
    `relu` is there for a misconception: a ReLU that passes the gradient at exactly 0.
    """
    leaves = [leaf(params[key]) for key in KEYS]
    losses = []
    for _ in range(steps):
        for p in leaves:
            p.grad = None
        loss = F.cross_entropy(logits(dict(zip(KEYS, leaves)), x, relu), targets)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            torch_sgd(leaves, [p.grad for p in leaves], [None] * len(leaves), foreach=False,
                      weight_decay=0.0, momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False)
    return list(losses), {key: p.detach().clone() for key, p in zip(KEYS, leaves)}


def step_run(params, x, targets, lr, relu=torch.relu):
    losses, new = sgd(params, x, targets, lr, 1, relu)
    return losses[0], new


def train_run(params, x, targets, lr, steps, relu=torch.relu):
    return sgd(params, x, targets, lr, steps, relu)[0]


# Misconceptions: torch's training, bent the way a learner's code bends it.

def relu_passing_at_zero(z):
    return z * (z >= 0)  # autograd's slope of this is 1 at z = 0, where torch.relu's is 0


# (sentence, lr as the mistaken code uses it, given lr and the number of rows N)
LR_MISTAKES = (
    ("You moved each parameter along its gradient, p + lr·g, which is uphill: step against it, "
     "p - lr·g, and the loss goes down.", lambda lr, n: -lr),
    ("Your step ignores lr: each parameter moved by its whole gradient, as if lr were 1; move it by "
     "lr times the gradient.", lambda lr, n: 1.0),
    ("Your step is lr·lr times the gradient: multiply by lr once.", lambda lr, n: lr * lr),
    ("Your parameters moved twice as far as they should: take lr times the gradient once.",
     lambda lr, n: 2 * lr),
    ("Your gradients are N times too large: they are those of the loss summed over the N rows. The "
     "loss is the mean over the rows, so dloss/dlogits carries a factor 1/N.", lambda lr, n: n * lr),
)
RELU_SENTENCE = ("Your ReLU passes the gradient where its input is exactly 0; torch's passes nothing "
                 "there: keep the gradient where the input is > 0, not >= 0.")


def shared_mistakes(run) -> tuple:
    """The mistakes of one SGD step, for sgd_step and train alike; run(params, x, targets, lr,
    *rest, relu=...) is the exercise's torch reference with its activation exposed."""
    return (
        *(Misconception(sentence, lambda params, x, targets, lr, *rest, bend=bend:
                        run(params, x, targets, bend(lr, len(targets)), *rest))
          for sentence, bend in LR_MISTAKES),
        Misconception(RELU_SENTENCE, lambda *args: run(*args, relu=relu_passing_at_zero)),
    )


def loss_after_step(params, x, targets, lr):
    return sgd(params, x, targets, lr, 2)[0][1], sgd_step(params, x, targets, lr)[1]


def biases_left(params, x, targets, lr):
    loss, new = sgd_step(params, x, targets, lr)
    return loss, {**new, "b1": params["b1"].clone(), "b2": params["b2"].clone()}


def summed_loss(params, x, targets, lr):
    loss, new = sgd_step(params, x, targets, len(targets) * lr)
    return len(targets) * loss, new


STEP_MISTAKES = (
    *shared_mistakes(step_run),
    Misconception("You returned the loss after the step; sgd_step returns the loss before it, "
                  "measured with the parameters it was given.", loss_after_step),
    Misconception("You used the loss summed over the rows: the loss is the mean over the N rows "
                  "(cross_entropy's default), and so are its gradients.", summed_loss),
    Misconception("Your biases b1 and b2 did not move: they are parameters too, and step against "
                  "their gradients like the weights.", biases_left),
)
TRAIN_MISTAKES = (
    Misconception("Your list holds the loss after each step; train records the loss before each one, "
                  "the first of them with params as given.",
                  lambda params, x, targets, lr, steps: sgd(params, x, targets, lr, steps + 1)[0][1:]),
    Misconception("Every step started again from the first params, so every loss is the same: give "
                  "each step the parameters the step before it returned.",
                  lambda params, x, targets, lr, steps: sgd(params, x, targets, lr, 1)[0] * steps),
    *shared_mistakes(train_run),
)


@st.composite
def problems(draw, *more):
    """(params, x, targets, *one draw from each of `more`): N 1..6 rows of 1..4 inputs,
    1..5 hidden units, 2..4 classes.

    The tensors are uniform random (targets: uniform classes), from a seed hypothesis draws.
    Hypothesis' own favourite numbers (0, 1, equal values) make exact ties: a hidden unit's
    input lands on the ReLU's switch point after a step, where the last bit of rounding
    decides whether it is on, and two right answers part ways. The worked examples cover
    the exact cases on purpose (a dead unit, an input of exactly 0 at the first step).
    """
    n, inputs = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    hidden, classes = draw(st.integers(1, 5)), draw(st.integers(2, 4))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))

    def uniform(shape, bound):
        return bound * (2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1)

    params = {"W1": uniform((hidden, inputs), 1.0), "b1": uniform((hidden,), 1.0),
              "W2": uniform((classes, hidden), 1.0), "b2": uniform((classes,), 1.0)}
    x = uniform((n, inputs), 2.0)
    targets = torch.randint(classes, (n,), generator=generator, dtype=torch.int64)
    return (params, x, targets, *(draw(strategy) for strategy in more))


learning_rates = reals(0.01, 1.0)


def as_params(W1, b1, W2, b2) -> dict:
    return {key: torch.tensor(value, dtype=torch.float64) for key, value in zip(KEYS, (W1, b1, W2, b2))}


# the worked number of the learner's page: one input, one hidden unit, two classes
TINY = (as_params([[1.0]], [0.0], [[1.0], [-1.0]], [0.0, 0.0]),
        torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([0], dtype=torch.int64))
# three rows; the ReLU is off for unit 0 on two rows and for unit 1 on one; a repeated class
SMALL = (as_params([[0.5, -1.0], [1.0, 0.25]], [0.1, -0.2], [[1.0, -0.5], [0.0, 0.5], [-1.0, 1.0]],
                   [0.0, 0.1, -0.1]),
         torch.tensor([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0]], dtype=torch.float64),
         torch.tensor([2, 0, 2], dtype=torch.int64))
# hidden unit 0's input is exactly 0 on both rows, where the ReLU passes no gradient (as torch):
# the unit gets no gradient, so in every right answer it stays exactly where it is, step after step
ZERO = (as_params([[1.0, -1.0], [0.5, 0.5]], [0.0, 0.25], [[1.0, 0.5], [-0.5, 1.0]], [0.0, 0.0]),
        torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64), torch.tensor([1, 0], dtype=torch.int64))
# the picture's run: four rows, two classes, long enough for a curve
CURVE = (as_params([[0.5, -0.5], [-0.3, 0.8], [0.9, 0.1]], [0.0, 0.1, -0.1],
                   [[0.2, -0.4, 0.3], [-0.1, 0.5, -0.2]], [0.0, 0.0]),
         torch.tensor([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]], dtype=torch.float64),
         torch.tensor([0, 1, 1, 0], dtype=torch.int64), 0.5, 40)


def loss_picture(impl) -> str:
    """The learner's loss curve on CURVE beside torch.optim.SGD's, as inline SVG."""
    from kit import registry

    params, x, targets, lr, steps = CURVE
    title = f"train: the loss before each step (lr={lr}, {steps} steps, {len(targets)} rows)"
    try:
        yours, _ = impl.call(registry.get("ch9_training.train"), CURVE)
        note = ""
    except Exception as error:  # not attempted, or broken: show torch's curve alone
        yours, note = None, str(error).splitlines()[0]
    return pictures.loss_curves(yours, train(*CURVE), title=title, note=note)


EXERCISES: list[Exercise] = []


def sgd_step(params, x, targets, lr):
    return step_run(params, x, targets, lr)


EXERCISES.append(Exercise(
    module="ch9_training", name="sgd_step", reference=sgd_step,
    inputs=problems(learning_rates),
    reference_name="torch.optim.SGD",
    examples=((*TINY, 0.5), (*SMALL, 0.1), (*ZERO, 0.3)),
    domain="N 1..6 rows of 1..4 inputs, 1..5 hidden units, 2..4 classes; x uniform in [-2, 2], "
           "weights and biases uniform in [-1, 1]; targets int64 class indices; lr in [0.01, 1]",
    hint="Measure the loss and every gradient with the parameters as they are, then move each "
         "parameter lr times its gradient downhill, into new tensors.",
    more="loss, grads = your forward and backward pass (the gradient of the mean loss, so "
         "dloss/dlogits = (softmax(logits) - one_hot(targets)) / N); then return "
         "loss, {key: params[key] - lr * grads[key] for key in params}.",
    misconceptions=STEP_MISTAKES,
    tolerance="accumulated",
    answer_names=("loss", "new params"),
))


def train(params, x, targets, lr, steps):
    return train_run(params, x, targets, lr, steps)


EXERCISES.append(Exercise(
    module="ch9_training", name="train", reference=train,
    inputs=problems(learning_rates, st.integers(1, 8)),
    reference_name="torch.optim.SGD",
    examples=((*TINY, 0.5, 3), (*SMALL, 0.1, 1), (*SMALL, 0.8, 8), (*ZERO, 0.3, 3)),
    domain="as sgd_step, with steps 1..8",
    hint="Write down the loss before each step, and give every step the parameters the step "
         "before it returned: steps losses in all.",
    more="losses = []; then steps times: loss, params = sgd_step(params, x, targets, lr) and "
         "losses.append(loss); return losses.",
    misconceptions=TRAIN_MISTAKES,
    tolerance="accumulated",
    picture=loss_picture,
))
