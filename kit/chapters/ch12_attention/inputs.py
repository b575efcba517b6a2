"""Chapter 12's inputs: the strategies that draw them, and the tensors of the worked examples.

Elementwise and layer-norm inputs come from kit.strategies.tensors, whose arrays often repeat
one value (a row of equal values has no spread for layer norm to divide by). The attention,
self-attention and block inputs are uniform random from a seed hypothesis draws, as chapter 9's
networks are: a softmax fed hypothesis' favourite numbers (all zeros, all equal) is flat or
saturated, and there most mistakes of value hide. A share of the attention draws still repeats
values (equal keys, equal queries) on purpose.
"""
import hypothesis.strategies as st
import torch

from kit.strategies import floats, shapes, upstreams

# one strategy per shape, built once: building a strategy costs more than drawing from it


def bools(values):
    return torch.tensor(values, dtype=torch.bool)


LEADING = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)  # none, one or two leading dims
ANY_SHAPE = shapes(min_dims=0, max_dims=3)  # 0-d to 3-d, sides 1 to 5
EPSILONS = st.sampled_from([None, None, 1e-5, 1e-3, 0.1, 1.0])  # None: the default
FEATURES = st.sampled_from([2, 3, 4, 5, 2, 3, 4, 5, 1])  # layer norm's D; shrinks to 2


def seeded(draw):
    """uniform(shape, low, high): float64 tensors from a seed hypothesis draws."""
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))

    def uniform(shape, low=-1.0, high=1.0):
        return low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)
    return uniform


@st.composite
def layernorms(draw):
    """(x, gamma, beta, upstream[, eps]): x with 1 to 3 dims, the last (D, 1 to 5) normalised.

    D = 1 in one draw of nine: over one feature x̂ is 0 and the output is beta whatever x is
    (dx = 0, dgamma = 0), which the contract allows and a learner's code must get right too.
    Shrinking goes to D = 2 (FEATURES' first value), so a mistake shown at any D is shown at
    D = 2, where the means and the variance still mean something."""
    features = draw(FEATURES)
    shape = (*draw(shapes(min_dims=0, max_dims=2)), features)
    x, gamma, beta = draw(floats(shape)), draw(floats((features,))), draw(floats((features,)))
    upstream = draw(upstreams(shape))
    eps = draw(EPSILONS)
    return (x, gamma, beta, upstream) if eps is None else (x, gamma, beta, upstream, eps)


@st.composite
def gelus(draw):
    """(x, upstream[, approximate]): any shape; approximate the default, "none" or "tanh"."""
    shape = draw(ANY_SHAPE)
    x, upstream = draw(floats(shape)), draw(upstreams(shape))
    approximate = draw(st.sampled_from([None, "none", "tanh", "tanh"]))
    return (x, upstream) if approximate is None else (x, upstream, approximate)


@st.composite
def dropouts(draw):
    """(mask, p, upstream): p = 0 (then the mask is all True) in a quarter of the draws."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    p = draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.8]))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))
    mask = torch.ones(shape, dtype=torch.bool) if p == 0 else torch.rand(shape, generator=generator) >= p
    return mask, p, draw(upstreams(shape))


@st.composite
def attentions(draw):
    """(q, k, v, upstream, causal): leading dims none, one or two; Tq and Tk from 1 to 5, drawn
    apart when not causal (so a transposed answer has the wrong shape), equal when causal; d
    from 1 to 4. q and k uniform in [-2, 2], v in [-3, 3]; in a quarter of the draws every key
    (or every query) is the same row repeated."""
    leading, causal, d = draw(LEADING), draw(st.booleans()), draw(st.integers(1, 4))
    if causal:
        tq = tk = draw(st.integers(1, 5))
    else:
        tq, tk = draw(st.sampled_from([(a, b) for a in range(1, 6) for b in range(1, 6) if a != b] + [(3, 3)]))
    uniform = seeded(draw)
    q, k, v = uniform((*leading, tq, d), -2, 2), uniform((*leading, tk, d), -2, 2), uniform((*leading, tk, d), -3, 3)
    repeat = draw(st.sampled_from(["none", "none", "none", "keys", "queries"]))
    if repeat == "keys":
        k = k[..., :1, :].expand(k.shape).clone()
    elif repeat == "queries":
        q = q[..., :1, :].expand(q.shape).clone()
    return q, k, v, draw(upstreams((*leading, tq, d))), causal


def head_shapes(draw):
    """(B, T, C, n_heads): n_heads 1 to 3 (several in two draws of three), head width 1 to 3."""
    n_heads = draw(st.sampled_from([1, 2, 2, 3]))
    hd = draw(st.integers(1, 3))
    return draw(st.integers(1, 2)), draw(st.integers(1, 4)), n_heads * hd, n_heads


@st.composite
def self_attentions(draw):
    """(x, w_qkv, b_qkv, w_out, b_out, n_heads, upstream) for x (B, T, C)."""
    b, steps, c, n_heads = head_shapes(draw)
    uniform = seeded(draw)
    return (uniform((b, steps, c), -2, 2), uniform((3 * c, c)), uniform((3 * c,)), uniform((c, c)),
            uniform((c,)), n_heads, draw(upstreams((b, steps, c))))


def block_params(uniform, c: int, hidden: int) -> dict:
    return {"ln1_w": uniform((c,), 0.5, 1.5), "ln1_b": uniform((c,), -0.5, 0.5),
            "w_qkv": uniform((3 * c, c)), "b_qkv": uniform((3 * c,), -0.5, 0.5),
            "w_out": uniform((c, c)), "b_out": uniform((c,), -0.5, 0.5),
            "ln2_w": uniform((c,), 0.5, 1.5), "ln2_b": uniform((c,), -0.5, 0.5),
            "w_fc": uniform((hidden, c)), "b_fc": uniform((hidden,), -0.5, 0.5),
            "w_proj": uniform((c, hidden)), "b_proj": uniform((c,), -0.5, 0.5)}


@st.composite
def blocks(draw):
    """(x, params, n_heads, upstream): x (B, T, C), hidden width 1 to 8."""
    b, steps, c, n_heads = head_shapes(draw)
    hidden = draw(st.integers(1, 8))
    uniform = seeded(draw)
    return uniform((b, steps, c), -2, 2), block_params(uniform, c, hidden), n_heads, draw(upstreams((b, steps, c)))


def fixed(seed: int):
    """The uniform tensors of a fixed seed: the examples beyond the worked numbers, and the pictures."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(shape, low=-1.0, high=1.0):
        return low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)
    return uniform


def attention_example(seed, leading, tq, tk, d, causal):
    u = fixed(seed)
    return (u((*leading, tq, d), -2, 2), u((*leading, tk, d), -2, 2), u((*leading, tk, d), -3, 3),
            u((*leading, tq, d), -3, 3), causal)


def self_attention_example(seed, b, steps, c, n_heads):
    u = fixed(seed)
    return (u((b, steps, c), -2, 2), u((3 * c, c)), u((3 * c,)), u((c, c)), u((c,)), n_heads,
            u((b, steps, c), -3, 3))


def block_example(seed, b, steps, c, n_heads, hidden):
    u = fixed(seed)
    return u((b, steps, c), -2, 2), block_params(u, c, hidden), n_heads, u((b, steps, c), -3, 3)
