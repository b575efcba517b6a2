"""Chapter 11: recurrence. Reference solutions, by hand."""
import torch
from torch import Tensor


def rnn_step_backward(x: Tensor, h_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor,
                      upstream: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    h = torch.tanh(x @ w_ih.T + h_prev @ w_hh.T + b)
    da = upstream * (1 - h ** 2)  # tanh's slope, from its output
    return da @ w_ih, da @ w_hh, da.T @ x, da.T @ h_prev, da.sum(dim=0)


def rnn_backward(xs: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor, upstream: Tensor) -> dict[str, Tensor]:
    hs = [h0]  # hs[t] is h_{t-1}
    for x in xs:
        hs.append(torch.tanh(x @ w_ih.T + hs[-1] @ w_hh.T + b))
    dxs = torch.zeros_like(xs)
    dw_ih, dw_hh, db = torch.zeros_like(w_ih), torch.zeros_like(w_hh), torch.zeros_like(b)
    dh_next = torch.zeros_like(h0)
    for t in reversed(range(xs.shape[0])):
        dx, dh_next, dwi, dwh, dbt = rnn_step_backward(xs[t], hs[t], w_ih, w_hh, b, upstream[t] + dh_next)
        dxs[t] = dx
        dw_ih, dw_hh, db = dw_ih + dwi, dw_hh + dwh, db + dbt
    return {"xs": dxs, "h0": dh_next, "w_ih": dw_ih, "w_hh": dw_hh, "b": db}


def _lstm_forward(x, h_prev, c_prev, w_ih, w_hh, b):
    i, f, g, o = (x @ w_ih.T + h_prev @ w_hh.T + b).chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c_prev + i * g
    return i, f, g, o, c, o * torch.tanh(c)


def lstm_step_backward(x: Tensor, h_prev: Tensor, c_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor,
                       dh: Tensor, dc: Tensor) -> dict[str, Tensor]:
    i, f, g, o, c, _ = _lstm_forward(x, h_prev, c_prev, w_ih, w_hh, b)
    tanh_c = torch.tanh(c)
    dc_all = dc + dh * o * (1 - tanh_c ** 2)  # the outside dc, and the path through h
    da = torch.cat([dc_all * g * i * (1 - i), dc_all * c_prev * f * (1 - f),
                    dc_all * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], dim=1)
    return {"x": da @ w_ih, "h_prev": da @ w_hh, "c_prev": dc_all * f,
            "w_ih": da.T @ x, "w_hh": da.T @ h_prev, "b": da.sum(dim=0)}


def lstm_backward(xs: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b: Tensor,
                  upstream: Tensor) -> dict[str, Tensor]:
    hs, cs = [h0], [c0]  # hs[t], cs[t] are h_{t-1}, c_{t-1}
    for x in xs:
        *_, c, h = _lstm_forward(x, hs[-1], cs[-1], w_ih, w_hh, b)
        hs.append(h)
        cs.append(c)
    dxs = torch.zeros_like(xs)
    totals = {"w_ih": torch.zeros_like(w_ih), "w_hh": torch.zeros_like(w_hh), "b": torch.zeros_like(b)}
    dh_next, dc_next = torch.zeros_like(h0), torch.zeros_like(c0)
    for t in reversed(range(xs.shape[0])):
        step = lstm_step_backward(xs[t], hs[t], cs[t], w_ih, w_hh, b, upstream[t] + dh_next, dc_next)
        dxs[t], dh_next, dc_next = step["x"], step["h_prev"], step["c_prev"]
        totals = {key: total + step[key] for key, total in totals.items()}
    return {"xs": dxs, "h0": dh_next, "c0": dc_next, **totals}


def clip_grad_norm(grads: list[Tensor], max_norm: float) -> list[Tensor]:
    total = sum(float((g ** 2).sum()) for g in grads) ** 0.5
    scale = min(max_norm / (total + 1e-6), 1.0)
    return [g * scale for g in grads]
