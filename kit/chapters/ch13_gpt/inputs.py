"""Chapter 13's inputs: the strategies that draw them, and the tiny GPTs of the worked examples.

A GPT is drawn as its sizes (hypothesis integers, so that shrinking makes it smaller and keeps
T <= T_max by construction) and a seed; its tensors come from a torch generator on that seed.
Hypothesis' favourite numbers (0, 1, equal values) would make every weight alike and hide a
mistake; uniform random tensors do not.
"""
import hypothesis.strategies as st
import numpy as np
import torch
from hypothesis.extra import numpy as hnp

from kit.chapters.ch13_gpt.expressions import BLOCK_KEYS
from kit.strategies import floats, ix, positive, reals, shapes, t, upstreams


def random_gpt(seed: int, vocab: int, t_max: int, channels: int, hidden: int, n_blocks: int,
               scale: float = 1.0) -> dict:
    """A GPT's params: weights and biases uniform in [-scale, scale], layer norm weights in
    [1 - scale/2, 1 + scale/2]."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(*shape, centre=0.0, bound=scale):
        return centre + bound * (2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1)

    def block():
        c, h = channels, hidden
        shapes_ = {"ln1_w": (c,), "ln1_b": (c,), "w_qkv": (3 * c, c), "b_qkv": (3 * c,), "w_out": (c, c),
                   "b_out": (c,), "ln2_w": (c,), "ln2_b": (c,), "w_fc": (h, c), "b_fc": (h,), "w_proj": (c, h),
                   "b_proj": (c,)}
        return {key: uniform(*shapes_[key], centre=1.0, bound=scale / 2) if key.endswith("_w")
                else uniform(*shapes_[key]) for key in BLOCK_KEYS}

    return {"wte": uniform(vocab, channels), "wpe": uniform(t_max, channels),
            "blocks": [block() for _ in range(n_blocks)],
            "lnf_w": uniform(channels, centre=1.0, bound=scale / 2), "lnf_b": uniform(channels)}


def random_tokens(seed: int, vocab: int, batch: int, steps: int, used: int | None = None):
    """(tokens, targets), both (batch, steps) int64; tokens among the first `used` of the vocab."""
    generator = torch.Generator().manual_seed(seed + 1)
    tokens = torch.randint(used or vocab, (batch, steps), generator=generator, dtype=torch.int64)
    return tokens, torch.randint(vocab, (batch, steps), generator=generator, dtype=torch.int64)


@st.composite
def gpts(draw, *more):
    """(tokens, targets, params, n_heads, *one draw from each of `more`): 1 or 2 blocks, 1 to 3
    heads of width 1 or 2, V 2..6, T_max 1..5 and T 1..T_max, B 1..3, hidden 1..6; the tokens
    are sometimes drawn from fewer kinds than V (often one kind: every token the same)."""
    n_blocks, n_heads, width = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    vocab, t_max, batch, hidden = (draw(st.integers(2, 6)), draw(st.integers(1, 5)), draw(st.integers(1, 3)),
                                   draw(st.integers(1, 6)))
    steps = draw(st.integers(1, t_max))
    used = draw(st.one_of(st.none(), st.integers(1, vocab)))
    seed = draw(st.integers(0, 2**31 - 1))
    params = random_gpt(seed, vocab, t_max, n_heads * width, hidden, n_blocks)
    tokens, targets = random_tokens(seed, vocab, batch, steps, used)
    return (tokens, targets, params, n_heads, *(draw(strategy) for strategy in more))


def example(seed, vocab, t_max, steps, batch, n_heads, width, hidden, n_blocks, used=None):
    tokens, targets = random_tokens(seed, vocab, batch, steps, used)
    return tokens, targets, random_gpt(seed, vocab, t_max, n_heads * width, hidden, n_blocks), n_heads


def tiny() -> tuple:
    """The worked number: C = 1, so every layer norm gives its bias whatever comes in (x minus
    its own mean is 0): logits = lnf_b·wte.T = [0.5, -0.5] at both positions."""
    block = {key: t([0.5]) for key in BLOCK_KEYS}
    block.update(w_qkv=t([[0.5], [1.0], [-1.0]]), b_qkv=t([0.0, 0.5, 0.25]), w_out=t([[1.0]]),
                 w_fc=t([[1.0]]), b_fc=t([0.0]), w_proj=t([[2.0]]))
    params = {"wte": t([[1.0], [-1.0]]), "wpe": t([[0.25], [-0.5], [1.0]]), "blocks": [block],
              "lnf_w": t([1.5]), "lnf_b": t([0.5])}
    return ix([[0, 1]]), ix([[1, 0]]), params, 1


TINY = tiny()
# two blocks of two heads, T = 2 below T_max = 4, B = 2, a repeated token
TWO_BLOCKS = example(7, vocab=3, t_max=4, steps=2, batch=2, n_heads=2, width=2, hidden=5, n_blocks=2)
# one head, T = T_max = 3, every token the same
SAME_TOKEN = example(11, vocab=2, t_max=3, steps=3, batch=1, n_heads=1, width=2, hidden=3, n_blocks=1, used=1)
# three heads of width 1, three blocks, T = 1
THREE_BLOCKS = example(3, vocab=4, t_max=2, steps=1, batch=3, n_heads=3, width=1, hidden=2, n_blocks=3)


def curve_problem():
    """The picture's run: a four-token cycle to learn, the next token after each."""
    tokens = ix([[0, 1, 2, 3, 0, 1, 2, 3], [2, 3, 0, 1, 2, 3, 0, 1]])
    params = random_gpt(2024, vocab=4, t_max=8, channels=8, hidden=16, n_blocks=1, scale=0.3)
    return params, tokens, (tokens + 1) % 4, 2, 25, 0.05


CURVE = curve_problem()


# adamw_step: a parameter of one or two dims, sides 1 to 5
def moments(shape):
    """v >= 0, spread over magnitudes (and sometimes 0), so eps's place shows."""
    small = st.floats(-23.0, 0.0).map(lambda e: float(np.exp(e)))
    return hnp.arrays(np.float64, shape, elements=st.one_of(st.just(0.0), small, st.floats(0.0, 4.0))).map(
        lambda a: torch.tensor(a, dtype=torch.float64))


step_numbers = st.one_of(st.just(1), st.integers(1, 10), st.integers(1, 3000))
betas = st.tuples(st.one_of(st.sampled_from([0.9, 0.8, 0.5]), reals(0.0, 0.99)),
                  st.one_of(st.sampled_from([0.999, 0.99, 0.9]), reals(0.5, 0.9999)))
epsilons = st.sampled_from([1e-8, 1e-6, 1e-3, 0.1])
decays = st.one_of(st.just(0.0), st.sampled_from([0.01, 0.1]), reals(0.0, 0.5))
rates = positive(1e-4, 0.5)


@st.composite
def adamw_inputs(draw):
    shape = draw(shapes(min_dims=1, max_dims=2))
    param, grad = draw(floats(shape)), draw(upstreams(shape, -2.0, 2.0))
    m, v = draw(floats(shape, -1.0, 1.0)), draw(moments(shape))
    return (param, grad, m, v, draw(step_numbers), draw(rates), draw(betas), draw(epsilons), draw(decays))


training_steps = st.integers(1, 4)
training_rates = positive(1e-3, 0.1)
