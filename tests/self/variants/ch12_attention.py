"""Chapter 12 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace. The block's variants are whole
functions: the reference solution's block_backward calls its own module's helpers, which a
replaced attribute does not reach.
"""
import math

import torch

KEYS = ("ln1_w", "ln1_b", "w_qkv", "b_qkv", "w_out", "b_out", "ln2_w", "ln2_b", "w_fc", "b_fc", "w_proj", "b_proj")


def rows(t):
    """Every dim but the last flattened: (rows, D)."""
    return t.reshape(-1, t.shape[-1])


# ---- layer norm -------------------------------------------------------------------------------

def layernorm_closed(x, gamma, beta, upstream, eps=1e-5, dim=-1, unbiased=False, constant=False):
    centred = x - x.mean(dim=dim, keepdim=True)
    count = x.shape[dim] - (1 if unbiased else 0)
    inv_std = 1 / torch.sqrt((centred ** 2).sum(dim=dim, keepdim=True) / count + eps)
    x_hat = centred * inv_std
    g = upstream * gamma
    dx = g * inv_std if constant else inv_std * (
        g - g.mean(dim=dim, keepdim=True) - x_hat * (g * x_hat).sum(dim=dim, keepdim=True) / count)
    return dx, rows(upstream * x_hat).sum(dim=0), rows(upstream).sum(dim=0)


def layernorm_step_by_step(x, gamma, beta, upstream, eps=1e-5):
    """Back through the graph one node at a time: x̂, then the variance, then the mean."""
    d = x.shape[-1]
    mean = x.sum(dim=-1, keepdim=True) / d
    centred = x - mean
    var = (centred * centred).sum(dim=-1, keepdim=True) / d
    std = torch.sqrt(var + eps)
    x_hat = centred / std
    dgamma = torch.einsum("...d,...d->d", upstream, x_hat)
    dbeta = torch.einsum("...d->d", upstream)
    dx_hat = upstream * gamma
    dstd = -(dx_hat * centred).sum(dim=-1, keepdim=True) / std ** 2
    dvar = dstd / (2 * std)
    dcentred = dx_hat / std + dvar * 2 * centred / d
    dmean = -dcentred.sum(dim=-1, keepdim=True)
    return dcentred + dmean / d, dgamma, dbeta


def layernorm_row_by_row(x, gamma, beta, upstream, eps=1e-5):
    """Each row's Jacobian written out, J = (I − 1/D − x̂ x̂ᵀ/D)/σ, times its upstream row."""
    d = x.shape[-1]
    dx = torch.empty_like(rows(x))
    for i, (row, up) in enumerate(zip(rows(x), rows(upstream))):
        var, mean = torch.var_mean(row, unbiased=False)
        x_hat = (row - mean) / torch.sqrt(var + eps)
        jacobian = (torch.eye(d, dtype=torch.float64) - 1 / d - torch.outer(x_hat, x_hat) / d) / torch.sqrt(var + eps)
        dx[i] = jacobian @ (up * gamma)
    x_hat_all = (x - x.mean(dim=-1, keepdim=True)) / torch.sqrt(x.var(dim=-1, unbiased=False, keepdim=True) + eps)
    return dx.reshape(x.shape), rows(upstream * x_hat_all).sum(dim=0), rows(upstream).sum(dim=0)


# ---- GELU -------------------------------------------------------------------------------------

C = math.sqrt(2 / math.pi)


def cdf(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def pdf(x):
    return torch.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def gelu_tanh_slope(x):
    u = C * (x + 0.044715 * x ** 3)
    return 0.5 * (1 + torch.tanh(u)) + 0.5 * x * (1 - torch.tanh(u) ** 2) * C * (1 + 3 * 0.044715 * x ** 2)


def gelu_via_sigmoid(x, upstream, approximate="none"):
    """0.5·(1 + tanh u) = σ(2u), and 1 − tanh²u = 4·σ(2u)·(1 − σ(2u)); ndtr for Φ."""
    if approximate == "tanh":
        s = torch.sigmoid(2 * C * (x + 0.044715 * x ** 3))
        return upstream * (s + x * 2 * s * (1 - s) * C * (1 + 3 * 0.044715 * x ** 2))
    return upstream * (torch.special.ndtr(x) + x * torch.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi))


def gelu_exact_always(x, upstream, approximate="none"):
    return upstream * (cdf(x) + x * pdf(x))


def gelu_mixed(x, upstream, approximate="none"):
    """The tanh form's Φ with the exact x·φ(x)."""
    if approximate == "tanh":
        return upstream * (0.5 * (1 + torch.tanh(C * (x + 0.044715 * x ** 3))) + x * pdf(x))
    return upstream * (cdf(x) + x * pdf(x))


def gelu_without_term(x, upstream, approximate="none"):
    if approximate == "tanh":
        return upstream * 0.5 * (1 + torch.tanh(C * (x + 0.044715 * x ** 3)))
    return upstream * cdf(x)


# ---- attention --------------------------------------------------------------------------------

def weights_of(q, k, causal, scale):
    scores = q @ k.transpose(-2, -1) * scale
    if causal:
        tq, tk = scores.shape[-2:]
        scores = scores.masked_fill(torch.ones(tq, tk, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(scores, dim=-1)


def attention_by_hand(q, k, v, upstream, causal, scale=None, backward_mask=True, dv_from_scores=False,
                      diagonal=False):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    weights = weights_of(q, k, causal and backward_mask, scale)
    dweights = upstream @ v.transpose(-2, -1)
    if diagonal:
        dscores = weights * (1 - weights) * dweights
    else:
        dscores = weights * (dweights - (dweights * weights).sum(dim=-1, keepdim=True))
    dv = ((q @ k.transpose(-2, -1) * scale) if dv_from_scores else weights).transpose(-2, -1) @ upstream
    return dscores @ k * scale, dscores.transpose(-2, -1) @ q * scale, dv


def attention_einsum(q, k, v, upstream, causal):
    d = q.shape[-1]
    scores = torch.einsum("...id,...jd->...ij", q, k) / math.sqrt(d)
    if causal:
        scores = scores + torch.full(scores.shape[-2:], float("-inf"), dtype=torch.float64).triu(1)
    p = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    p = p / p.sum(dim=-1, keepdim=True)
    dv = torch.einsum("...ij,...id->...jd", p, upstream)
    dp = torch.einsum("...id,...jd->...ij", upstream, v)
    ds = p * dp - p * torch.einsum("...ij,...ij->...i", p, dp).unsqueeze(-1)
    return (torch.einsum("...ij,...jd->...id", ds, k) / math.sqrt(d),
            torch.einsum("...ij,...id->...jd", ds, q) / math.sqrt(d), dv)


def attention_jacobian_per_row(q, k, v, upstream, causal):
    """On 2-D slices: each query row's softmax Jacobian diag(p) − p pᵀ written out."""
    lead = q.shape[:-2]
    q2, k2, v2, u2 = (t.reshape(-1, *t.shape[-2:]) for t in (q, k, v, upstream))
    dq, dk, dv = torch.zeros_like(q2), torch.zeros_like(k2), torch.zeros_like(v2)
    scale = q.shape[-1] ** -0.5
    for b in range(q2.shape[0]):
        p = weights_of(q2[b], k2[b], causal, scale)
        dv[b] = p.T @ u2[b]
        dp = u2[b] @ v2[b].T
        for i in range(p.shape[0]):
            ds_i = (torch.diag(p[i]) - torch.outer(p[i], p[i])) @ dp[i]
            dq[b, i] = ds_i @ k2[b] * scale
            dk[b] += torch.outer(ds_i, q2[b, i]) * scale
    return dq.reshape(*lead, *dq.shape[-2:]), dk.reshape(*lead, *dk.shape[-2:]), dv.reshape(*lead, *dv.shape[-2:])


# ---- self-attention ---------------------------------------------------------------------------

def split(t, n_heads, interleaved=False):
    b, steps, c = t.shape
    if interleaved:
        return t.reshape(b, steps, c // n_heads, n_heads).permute(0, 3, 1, 2)
    return t.reshape(b, steps, n_heads, c // n_heads).transpose(1, 2)


def join(a, interleaved=False, transpose=True):
    b, n_heads, steps, hd = a.shape
    if interleaved:
        return a.permute(0, 2, 3, 1).reshape(b, steps, n_heads * hd)
    return (a.transpose(1, 2) if transpose else a).reshape(b, steps, n_heads * hd)


def self_attention_by_hand(x, w_qkv, b_qkv, w_out, b_out, n_heads, upstream, interleaved=False, transpose=True,
                           scale_width=None):
    c = x.shape[-1]
    scale = 1 / math.sqrt(scale_width if scale_width else c // n_heads)
    q, k, v = (split(part, n_heads, interleaved) for part in (x @ w_qkv.T + b_qkv).split(c, dim=-1))
    p = weights_of(q, k, True, scale)
    a = join(p @ v, interleaved, transpose)
    y_rows, a_rows = rows(upstream), rows(a)
    da = split(upstream @ w_out, n_heads, interleaved) if transpose else (upstream @ w_out).reshape(q.shape)
    dp = da @ v.transpose(-2, -1)
    ds = p * (dp - (dp * p).sum(dim=-1, keepdim=True))
    grads = [ds @ k * scale, ds.transpose(-2, -1) @ q * scale, p.transpose(-2, -1) @ da]
    joined = [join(g, interleaved) for g in grads]
    dqkv = torch.cat(joined, dim=-1)
    return {"x": dqkv @ w_qkv, "w_qkv": rows(dqkv).T @ rows(x), "b_qkv": rows(dqkv).sum(dim=0),
            "w_out": y_rows.T @ a_rows, "b_out": y_rows.sum(dim=0)}


def self_attention_head_loop(x, w_qkv, b_qkv, w_out, b_out, n_heads, upstream):
    """One head at a time, on its own columns of q, k and v, with an einsum attention."""
    c = x.shape[-1]
    hd = c // n_heads
    qkv = torch.einsum("btc,oc->bto", x, w_qkv) + b_qkv
    a = torch.zeros_like(x)
    da = torch.einsum("btc,ci->bti", upstream, w_out)
    dqkv = torch.zeros_like(qkv)
    for h in range(n_heads):
        cols = slice(h * hd, (h + 1) * hd)
        q, k, v = qkv[..., cols], qkv[..., c:2 * c][..., cols], qkv[..., 2 * c:][..., cols]
        a[..., cols] = weights_of(q, k, True, hd ** -0.5) @ v
        dq, dk, dv = attention_einsum(q, k, v, da[..., cols], True)
        dqkv[..., cols], dqkv[..., c:2 * c][..., cols], dqkv[..., 2 * c:][..., cols] = dq, dk, dv
    return {"x": torch.einsum("bto,oc->btc", dqkv, w_qkv), "w_qkv": torch.einsum("bto,btc->oc", dqkv, x),
            "b_qkv": dqkv.sum(dim=(0, 1)), "w_out": torch.einsum("bto,bti->oi", upstream, a),
            "b_out": upstream.sum(dim=(0, 1))}


# ---- block ------------------------------------------------------------------------------------

def layer_norm(x, gamma, beta, eps=1e-5):
    var, mean = torch.var_mean(x, dim=-1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + torch.tanh(C * (x + 0.044715 * x ** 3)))
    return x * cdf(x)


def block_by_hand(first_residual=True, second_residual=True, approximate="none", layernorm=layernorm_closed,
                  attention=self_attention_by_hand, interleaved=False):
    def block_backward(x, params, n_heads, upstream):
        p = params
        ln1 = layer_norm(x, p["ln1_w"], p["ln1_b"])
        c = x.shape[-1]
        q, k, v = (split(t, n_heads, interleaved) for t in (ln1 @ p["w_qkv"].T + p["b_qkv"]).split(c, dim=-1))
        a = join(weights_of(q, k, True, (c // n_heads) ** -0.5) @ v, interleaved)
        h = x + a @ p["w_out"].T + p["b_out"]
        ln2 = layer_norm(h, p["ln2_w"], p["ln2_b"])
        f = ln2 @ p["w_fc"].T + p["b_fc"]
        g = gelu(f, approximate)
        slope = gelu_tanh_slope(f) if approximate == "tanh" else cdf(f) + f * pdf(f)
        df = (upstream @ p["w_proj"]) * slope
        dh_mlp, dln2_w, dln2_b = layernorm(h, p["ln2_w"], p["ln2_b"], df @ p["w_fc"])
        dh = (upstream if second_residual else 0) + dh_mlp
        sa = attention(ln1, p["w_qkv"], p["b_qkv"], p["w_out"], p["b_out"], n_heads, dh)
        dx_attn, dln1_w, dln1_b = layernorm(x, p["ln1_w"], p["ln1_b"], sa["x"])
        found = {"x": (dh if first_residual else 0) + dx_attn, "ln1_w": dln1_w, "ln1_b": dln1_b,
                 "w_qkv": sa["w_qkv"], "b_qkv": sa["b_qkv"], "w_out": sa["w_out"], "b_out": sa["b_out"],
                 "ln2_w": dln2_w, "ln2_b": dln2_b, "w_fc": rows(df).T @ rows(ln2), "b_fc": rows(df).sum(dim=0),
                 "w_proj": rows(upstream).T @ rows(g), "b_proj": rows(upstream).sum(dim=0)}
        return {key: found[key] for key in ("x", *KEYS)}
    return block_backward


WRONG = [
    ("layernorm_backward", "normalises down dim 0, as batch norm does",
     lambda x, gamma, beta, upstream, eps=1e-5: layernorm_closed(x, gamma, beta, upstream, eps, dim=0)),
    ("layernorm_backward", "treats the row's mean and variance as constants",
     lambda x, gamma, beta, upstream, eps=1e-5: layernorm_closed(x, gamma, beta, upstream, eps, constant=True)),
    ("layernorm_backward", "uses the unbiased variance",
     lambda x, gamma, beta, upstream, eps=1e-5: layernorm_closed(x, gamma, beta, upstream, eps, unbiased=True)),
    ("layernorm_backward", "ignores the eps it is given",
     lambda x, gamma, beta, upstream, eps=1e-5: layernorm_closed(x, gamma, beta, upstream)),

    ("gelu_backward", "drops the x·φ(x) term of the product rule", gelu_without_term),
    ("gelu_backward", "uses the exact form even for approximate='tanh'", gelu_exact_always),
    ("gelu_backward", "mixes the tanh form's Φ with the exact x·φ(x)", gelu_mixed),
    ("gelu_backward", "mixes the exact Φ with the tanh form's second term",
     lambda x, upstream, approximate="none": upstream * (gelu_tanh_slope(x) - 0.5 * (1 + torch.tanh(
         C * (x + 0.044715 * x ** 3))) + cdf(x)) if approximate == "tanh" else gelu_exact_always(x, upstream)),

    ("dropout_backward", "forgets the 1/(1 − p) scale", lambda mask, p, upstream: upstream * mask),
    ("dropout_backward", "multiplies by (1 − p)", lambda mask, p, upstream: upstream * mask * (1 - p)),
    ("dropout_backward", "divides by (1 − p) twice", lambda mask, p, upstream: upstream * mask / (1 - p) / (1 - p)),
    ("dropout_backward", "reads True as dropped", lambda mask, p, upstream: upstream * ~mask / (1 - p)),

    ("attention_backward", "leaves out the 1/√d scale",
     lambda q, k, v, upstream, causal: attention_by_hand(q, k, v, upstream, causal, scale=1.0)),
    ("attention_backward", "forgets the causal mask in the backward pass",
     lambda q, k, v, upstream, causal: attention_by_hand(q, k, v, upstream, causal, backward_mask=False)),
    ("attention_backward", "takes dv from the scores before the softmax",
     lambda q, k, v, upstream, causal: attention_by_hand(q, k, v, upstream, causal, dv_from_scores=True)),
    ("attention_backward", "keeps only the softmax Jacobian's diagonal",
     lambda q, k, v, upstream, causal: attention_by_hand(q, k, v, upstream, causal, diagonal=True)),

    ("self_attention_backward", "splits the heads interleaved, every n_heads-th column",
     lambda *args: self_attention_by_hand(*args, interleaved=True)),
    ("self_attention_backward", "joins the heads without the transpose",
     lambda *args: self_attention_by_hand(*args, transpose=False)),
    ("self_attention_backward", "scales by 1/√C instead of 1/√hd",
     lambda *args: self_attention_by_hand(*args, scale_width=args[0].shape[-1])),

    ("block_backward", "does not add the first residual's gradient", block_by_hand(first_residual=False)),
    ("block_backward", "does not add the second residual's gradient", block_by_hand(second_residual=False)),
    ("block_backward", "uses the tanh GELU", block_by_hand(approximate="tanh")),
    ("block_backward", "splits the heads interleaved",
     block_by_hand(attention=lambda *args: self_attention_by_hand(*args, interleaved=True), interleaved=True)),
]

RIGHT = [
    ("layernorm_backward", "step by step through the variance and the mean, einsum sums", layernorm_step_by_step),
    ("layernorm_backward", "each row's Jacobian written out", layernorm_row_by_row),

    ("gelu_backward", "σ(2u) for the tanh form's factor, ndtr for Φ", gelu_via_sigmoid),

    ("dropout_backward", "torch.where", lambda mask, p, upstream: torch.where(mask, upstream / (1 - p), 0.0)),

    ("attention_backward", "einsum", attention_einsum),
    ("attention_backward", "each row's softmax Jacobian written out", attention_jacobian_per_row),

    ("self_attention_backward", "one head at a time, einsum", self_attention_head_loop),
    ("self_attention_backward", "batched heads, by hand", self_attention_by_hand),

    ("block_backward", "step-by-step layer norm, one head at a time",
     block_by_hand(layernorm=layernorm_step_by_step, attention=self_attention_head_loop)),
]
