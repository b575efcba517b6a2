"""Chapter 11 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace. Every variant is written by
hand, as a learner would write it.
"""
import math

import torch

# ---- one RNN step -----------------------------------------------------------------------------


def rnn_step(x, h_prev, w_ih, w_hh, b, upstream, slope="output", dh_prev="w_hh", db="sum", dw_ih="right",
             dw_hh="right"):
    a = x @ w_ih.T + h_prev @ w_hh.T + b
    h = torch.tanh(a)
    local = {"output": 1 - h ** 2, "input": 1 - a ** 2, "twice": 1 - torch.tanh(h) ** 2}[slope]
    da = upstream * local
    back = {"w_hh": da @ w_hh, "none": da, "w_hh.T": da @ w_hh.T}[dh_prev]
    bias = da.sum(dim=0) if db == "sum" else da.mean(dim=0)
    weights_in = da.T @ x if dw_ih == "right" else x.T @ da
    weights_hh = da.T @ h_prev if dw_hh == "right" else h_prev.T @ da
    return da @ w_ih, back, weights_in, weights_hh, bias


def rnn_step_einsum(x, h_prev, w_ih, w_hh, b, upstream):
    h = torch.tanh(torch.einsum("nd,hd->nh", x, w_ih) + torch.einsum("nk,hk->nh", h_prev, w_hh) + b)
    da = upstream * (1 - h * h)
    return (torch.einsum("nh,hd->nd", da, w_ih), torch.einsum("nh,hk->nk", da, w_hh),
            torch.einsum("nh,nd->hd", da, x), torch.einsum("nh,nk->hk", da, h_prev), torch.einsum("nh->h", da))


def rnn_step_rows(x, h_prev, w_ih, w_hh, b, upstream):
    """One row of the batch at a time, adding each row's share of the weights' gradients."""
    dx, dh = torch.zeros_like(x), torch.zeros_like(h_prev)
    dw_ih, dw_hh, db = torch.zeros_like(w_ih), torch.zeros_like(w_hh), torch.zeros_like(b)
    for n in range(x.shape[0]):
        a = w_ih @ x[n] + w_hh @ h_prev[n] + b
        da = upstream[n] * (1 - torch.tanh(a) ** 2)  # 1 - tanh(a)², from the pre-activation: right
        dx[n], dh[n] = w_ih.T @ da, w_hh.T @ da
        dw_ih, dw_hh, db = dw_ih + torch.outer(da, x[n]), dw_hh + torch.outer(da, h_prev[n]), db + da
    return dx, dh, dw_ih, dw_hh, db


# ---- backprop through time for the RNN --------------------------------------------------------


def rnn_bptt(xs, h0, w_ih, w_hh, b, upstream, carry=True, accumulate=("w_ih", "w_hh", "b"), db_mean_time=False,
             **step):
    hs = [h0]
    for x in xs:
        hs.append(torch.tanh(x @ w_ih.T + hs[-1] @ w_hh.T + b))
    dxs = torch.zeros_like(xs)
    totals = {"w_ih": torch.zeros_like(w_ih), "w_hh": torch.zeros_like(w_hh), "b": torch.zeros_like(b)}
    dh_next = torch.zeros_like(h0)
    for t in range(xs.shape[0] - 1, -1, -1):
        dh = upstream[t] + dh_next if carry else upstream[t]
        dxs[t], dh_next, dwi, dwh, dbt = rnn_step(xs[t], hs[t], w_ih, w_hh, b, dh, **step)
        for key, part in (("w_ih", dwi), ("w_hh", dwh), ("b", dbt)):
            totals[key] = totals[key] + part if key in accumulate else part
    if db_mean_time:
        totals["b"] = totals["b"] / xs.shape[0]
    return {"xs": dxs, "h0": dh_next, **totals}


def rnn_recursive(xs, h0, w_ih, w_hh, b, upstream):
    """Recursive BPTT: the gradient reaching h_t is its upstream plus what h_{t+1}'s sends back."""
    steps = xs.shape[0]
    hs = [h0]
    for x in xs:
        hs.append(torch.tanh(x @ w_ih.T + hs[-1] @ w_hh.T + b))

    def pre_activation_gradient(t):  # the gradient of a_t, from the end of the sequence inwards
        reaching = upstream[t] if t == steps - 1 else upstream[t] + pre_activation_gradient(t + 1) @ w_hh
        return reaching * (1 - hs[t + 1] ** 2)

    das = [pre_activation_gradient(t) for t in range(steps)]
    return {"xs": torch.stack([da @ w_ih for da in das]), "h0": das[0] @ w_hh,
            "w_ih": sum(da.T @ x for da, x in zip(das, xs)), "w_hh": sum(da.T @ h for da, h in zip(das, hs)),
            "b": sum(da.sum(dim=0) for da in das)}


def rnn_two_passes(xs, h0, w_ih, w_hh, b, upstream):
    """First every pre-activation's gradient, then each weight's gradient at once, by einsum over t and n."""
    hs = [h0]
    for x in xs:
        hs.append(torch.tanh(torch.matmul(x, w_ih.T) + torch.matmul(hs[-1], w_hh.T) + b))
    states = torch.stack(hs)  # (T + 1, N, H)
    das = torch.zeros_like(upstream)
    carried = torch.zeros_like(h0)
    for t in reversed(range(xs.shape[0])):
        das[t] = (upstream[t] + carried) * (1 - states[t + 1] ** 2)
        carried = das[t] @ w_hh
    return {"xs": torch.einsum("tnh,hd->tnd", das, w_ih), "h0": carried,
            "w_ih": torch.einsum("tnh,tnd->hd", das, xs), "w_hh": torch.einsum("tnh,tnk->hk", das, states[:-1]),
            "b": torch.einsum("tnh->h", das)}


# ---- one LSTM step ------------------------------------------------------------------------------


def sigmoid(a):
    return 1 / (1 + torch.exp(-a))


def lstm_step(x, h_prev, c_prev, w_ih, w_hh, b, dh, dc, order="ifgo", path_through_h=True, outside_dc=True,
              tanh_c_slope="output", sigmoid_slope="output", forget_in_dc_prev=True):
    blocks = dict(zip(order, (x @ w_ih.T + h_prev @ w_hh.T + b).chunk(4, dim=1)))
    pre = [blocks[k] for k in "ifgo"]
    i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
    g = torch.tanh(blocks["g"])
    c = f * c_prev + i * g
    tanh_c = torch.tanh(c)
    c_slope = 1 - tanh_c ** 2 if tanh_c_slope == "output" else 1 - c ** 2
    dc_all = (dc if outside_dc else 0) + (dh * o * c_slope if path_through_h else 0)

    def s_slope(value, a):
        return value * (1 - value) if sigmoid_slope == "output" else a * (1 - a)

    grads = {"i": dc_all * g * s_slope(i, pre[0]), "f": dc_all * c_prev * s_slope(f, pre[1]),
             "g": dc_all * i * (1 - g ** 2), "o": dh * tanh_c * s_slope(o, pre[3])}
    da = torch.cat([grads[k] for k in order], dim=1)
    return {"x": da @ w_ih, "h_prev": da @ w_hh, "c_prev": dc_all * f if forget_in_dc_prev else dc_all,
            "w_ih": da.T @ x, "w_hh": da.T @ h_prev, "b": da.sum(dim=0)}


def lstm_step_per_gate(x, h_prev, c_prev, w_ih, w_hh, b, dh, dc):
    """Each gate with its own slices of the weights, and each slice's gradient on its own."""
    H = h_prev.shape[1]
    rows = {k: slice(n * H, (n + 1) * H) for n, k in enumerate("ifgo")}
    pre = {k: x @ w_ih[r].T + h_prev @ w_hh[r].T + b[r] for k, r in rows.items()}
    i, f, g, o = torch.sigmoid(pre["i"]), torch.sigmoid(pre["f"]), torch.tanh(pre["g"]), torch.sigmoid(pre["o"])
    c = f * c_prev + i * g
    dc_all = dc + dh * o * (1 - torch.tanh(c) ** 2)
    d = {"i": dc_all * g * i * (1 - i), "f": dc_all * c_prev * f * (1 - f), "g": dc_all * i * (1 - g ** 2),
         "o": dh * torch.tanh(c) * o * (1 - o)}
    dx = sum(d[k] @ w_ih[r] for k, r in rows.items())
    dh_prev = sum(d[k] @ w_hh[r] for k, r in rows.items())
    return {"x": dx, "h_prev": dh_prev, "c_prev": dc_all * f,
            "w_ih": torch.cat([d[k].T @ x for k in "ifgo"]), "w_hh": torch.cat([d[k].T @ h_prev for k in "ifgo"]),
            "b": torch.cat([d[k].sum(dim=0) for k in "ifgo"])}


def lstm_step_db_mean(*args):
    found = lstm_step(*args)
    return {**found, "b": found["b"] / args[0].shape[0]}


# ---- backprop through time for the LSTM -------------------------------------------------------


def lstm_bptt(xs, h0, c0, w_ih, w_hh, b, upstream, carry_h=True, carry_c=True, accumulate=True, **step):
    hs, cs = [h0], [c0]
    for x in xs:
        order = step.get("order", "ifgo")
        blocks = dict(zip(order, (x @ w_ih.T + hs[-1] @ w_hh.T + b).chunk(4, dim=1)))
        c = sigmoid(blocks["f"]) * cs[-1] + sigmoid(blocks["i"]) * torch.tanh(blocks["g"])
        cs.append(c)
        hs.append(sigmoid(blocks["o"]) * torch.tanh(c))
    dxs = torch.zeros_like(xs)
    totals = {"w_ih": torch.zeros_like(w_ih), "w_hh": torch.zeros_like(w_hh), "b": torch.zeros_like(b)}
    dh_next, dc_next = torch.zeros_like(h0), torch.zeros_like(c0)
    for t in reversed(range(xs.shape[0])):
        dh = upstream[t] + dh_next if carry_h else upstream[t]
        dc = dc_next if carry_c else torch.zeros_like(c0)
        found = lstm_step(xs[t], hs[t], cs[t], w_ih, w_hh, b, dh, dc, **step)
        dxs[t], dh_next, dc_next = found["x"], found["h_prev"], found["c_prev"]
        totals = {k: (v + found[k]) if accumulate else found[k] for k, v in totals.items()}
    return {"xs": dxs, "h0": dh_next, "c0": dc_next, **totals}


def lstm_recursive(xs, h0, c0, w_ih, w_hh, b, upstream):
    """Recursive BPTT: what reaches (h_t, c_t) comes from step t + 1's answer, computed first."""
    hs, cs = [h0], [c0]
    for x in xs:
        i, f, g, o = (x @ w_ih.T + hs[-1] @ w_hh.T + b).chunk(4, dim=1)
        c = torch.sigmoid(f) * cs[-1] + torch.sigmoid(i) * torch.tanh(g)
        cs.append(c)
        hs.append(torch.sigmoid(o) * torch.tanh(c))
    steps = xs.shape[0]

    def at(t):  # lstm_step_per_gate's answer for step t, fed what reaches h_t and c_t
        if t == steps - 1:
            dh, dc = upstream[t], torch.zeros_like(c0)
        else:
            later = at(t + 1)
            dh, dc = upstream[t] + later["h_prev"], later["c_prev"]
        return lstm_step_per_gate(xs[t], hs[t], cs[t], w_ih, w_hh, b, dh, dc)

    found = [at(t) for t in range(steps)]
    return {"xs": torch.stack([f["x"] for f in found]), "h0": found[0]["h_prev"], "c0": found[0]["c_prev"],
            **{k: sum(f[k] for f in found) for k in ("w_ih", "w_hh", "b")}}


def lstm_rows(xs, h0, c0, w_ih, w_hh, b, upstream):
    """One row of the batch at a time (a batch of one), adding up the rows' weight gradients."""
    parts = [lstm_bptt(xs[:, n:n + 1], h0[n:n + 1], c0[n:n + 1], w_ih, w_hh, b, upstream[:, n:n + 1])
             for n in range(xs.shape[1])]
    return {"xs": torch.cat([p["xs"] for p in parts], dim=1), "h0": torch.cat([p["h0"] for p in parts]),
            "c0": torch.cat([p["c0"] for p in parts]), **{k: sum(p[k] for p in parts) for k in ("w_ih", "w_hh", "b")}}


# ---- clip_grad_norm ---------------------------------------------------------------------------


def clip_each_own(grads, max_norm):
    return [g * min(1.0, max_norm / (g.norm().item() + 1e-6)) for g in grads]


def clip_no_eps(grads, max_norm):
    if not grads:
        return []
    total = torch.cat([g.flatten() for g in grads]).norm()
    return [g * (max_norm / total).clamp(max=1.0) for g in grads]


def clip_always(grads, max_norm):
    total = math.sqrt(sum((g ** 2).sum().item() for g in grads))
    return [g * (max_norm / (total + 1e-6)) for g in grads]


def clip_in_place(grads, max_norm):
    total = math.sqrt(sum((g ** 2).sum().item() for g in grads))
    for g in grads:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return grads


def clip_gives_back(grads, max_norm):
    total = math.sqrt(sum((g ** 2).sum().item() for g in grads))
    scale = max_norm / (total + 1e-6)
    return grads if scale >= 1.0 else [g * scale for g in grads]


def clip_gives_back_views(grads, max_norm):
    total = math.sqrt(sum((g ** 2).sum().item() for g in grads))
    return [g * (max_norm / (total + 1e-6)) if total + 1e-6 > max_norm else g.view(g.shape) for g in grads]


def clip_by_value(grads, max_norm):
    return [g.clamp(-max_norm, max_norm) for g in grads]


def clip_if_above(grads, max_norm):
    total = math.sqrt(sum((g ** 2).sum().item() for g in grads))
    return [g * max_norm / (total + 1e-6) if total > max_norm else g.clone() for g in grads]


def clip_sum_of_norms(grads, max_norm):
    total = sum(g.norm().item() for g in grads)
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]


def clip_cat(grads, max_norm):
    if not grads:
        return []
    total = torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads]))
    return [g * torch.clamp(max_norm / (total + 1e-6), max=1.0) for g in grads]


def clip_norm_of_norms(grads, max_norm):
    """As torch does it: the norm of the tensors' norms."""
    total = torch.stack([g.norm() for g in grads]).norm().item() if grads else 0.0
    factor = max_norm / (total + 1e-6)
    return [g * factor if factor < 1 else g.clone() for g in grads]


WRONG = [
    ("rnn_step_backward", "tanh' from the pre-activation: 1 - a²",
     lambda *args: rnn_step(*args, slope="input")),
    ("rnn_step_backward", "tanh applied to the output again: 1 - tanh(h)²",
     lambda *args: rnn_step(*args, slope="twice")),
    ("rnn_step_backward", "dh_prev without w_hh", lambda *args: rnn_step(*args, dh_prev="none")),
    ("rnn_step_backward", "dh_prev through w_hh.T", lambda *args: rnn_step(*args, dh_prev="w_hh.T")),
    ("rnn_step_backward", "db averaged over the batch", lambda *args: rnn_step(*args, db="mean")),
    ("rnn_step_backward", "forgets the upstream",
     lambda x, h_prev, w_ih, w_hh, b, upstream: rnn_step(x, h_prev, w_ih, w_hh, b, torch.ones_like(upstream))),
    ("rnn_step_backward", "dw_ih transposed: x.T @ da", lambda *args: rnn_step(*args, dw_ih="transposed")),
    ("rnn_step_backward", "dw_hh transposed: h_prev.T @ da", lambda *args: rnn_step(*args, dw_hh="transposed")),

    ("rnn_backward", "BPTT without the gradient from the next step", lambda *args: rnn_bptt(*args, carry=False)),
    ("rnn_backward", "weights' gradients overwritten at each step, not added",
     lambda *args: rnn_bptt(*args, accumulate=())),
    ("rnn_backward", "db overwritten at each step, not added",
     lambda *args: rnn_bptt(*args, accumulate=("w_ih", "w_hh"))),
    ("rnn_backward", "tanh' from the pre-activation", lambda *args: rnn_bptt(*args, slope="input")),
    ("rnn_backward", "the gradient sent back without w_hh", lambda *args: rnn_bptt(*args, dh_prev="none")),
    ("rnn_backward", "db averaged over time", lambda *args: rnn_bptt(*args, db_mean_time=True)),

    ("lstm_step_backward", "gates read in the order i, f, o, g", lambda *args: lstm_step(*args, order="ifog")),
    ("lstm_step_backward", "gates read in the order f, i, g, o", lambda *args: lstm_step(*args, order="figo")),
    ("lstm_step_backward", "c's gradient without the path through h",
     lambda *args: lstm_step(*args, path_through_h=False)),
    ("lstm_step_backward", "the outside dc left out", lambda *args: lstm_step(*args, outside_dc=False)),
    ("lstm_step_backward", "tanh(c)'s slope from c: 1 - c²", lambda *args: lstm_step(*args, tanh_c_slope="input")),
    ("lstm_step_backward", "σ' from the pre-activation", lambda *args: lstm_step(*args, sigmoid_slope="input")),
    ("lstm_step_backward", "dc_prev without σ(f)", lambda *args: lstm_step(*args, forget_in_dc_prev=False)),
    ("lstm_step_backward", "db averaged over the batch", lstm_step_db_mean),

    ("lstm_backward", "gates read in the order i, f, o, g", lambda *args: lstm_bptt(*args, order="ifog")),
    ("lstm_backward", "the cell state's gradient not carried back", lambda *args: lstm_bptt(*args, carry_c=False)),
    ("lstm_backward", "BPTT without h's gradient from the next step", lambda *args: lstm_bptt(*args, carry_h=False)),
    ("lstm_backward", "c's gradient without the path through h",
     lambda *args: lstm_bptt(*args, path_through_h=False)),
    ("lstm_backward", "weights' gradients overwritten at each step", lambda *args: lstm_bptt(*args, accumulate=False)),
    ("lstm_backward", "dc_prev without σ(f)", lambda *args: lstm_bptt(*args, forget_in_dc_prev=False)),

    ("clip_grad_norm", "each gradient clipped by its own norm", clip_each_own),
    ("clip_grad_norm", "total without the 1e-6", clip_no_eps),
    ("clip_grad_norm", "scales small gradients up too", clip_always),
    ("clip_grad_norm", "scales the given tensors in place", clip_in_place),
    ("clip_grad_norm", "gives back the same tensors when nothing is scaled", clip_gives_back),
    ("clip_grad_norm", "gives back views of the tensors when nothing is scaled", clip_gives_back_views),
    ("clip_grad_norm", "clamps each element (clip_grad_value_)", clip_by_value),
    ("clip_grad_norm", "scales only when total > max_norm", clip_if_above),
    ("clip_grad_norm", "total as the sum of the norms", clip_sum_of_norms),
]

RIGHT = [
    ("rnn_step_backward", "by einsum", rnn_step_einsum),
    ("rnn_step_backward", "a loop over the batch, 1 - tanh(a)² from the pre-activation", rnn_step_rows),
    ("rnn_backward", "unrolled, with a step function of its own", rnn_bptt),
    ("rnn_backward", "recursive BPTT", rnn_recursive),
    ("rnn_backward", "two passes: the pre-activations' gradients, then einsum over time", rnn_two_passes),
    ("lstm_step_backward", "stacked gates", lstm_step),
    ("lstm_step_backward", "per gate, with the weights' slices", lstm_step_per_gate),
    ("lstm_backward", "unrolled", lstm_bptt),
    ("lstm_backward", "recursive, per gate", lstm_recursive),
    ("lstm_backward", "a loop over the batch", lstm_rows),
    ("clip_grad_norm", "torch.cat and vector_norm", clip_cat),
    ("clip_grad_norm", "the norm of the norms, as torch", clip_norm_of_norms),
]
