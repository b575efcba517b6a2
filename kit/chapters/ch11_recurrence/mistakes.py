"""The answers of chapter 11's classic mistakes, for the diagnosis.

Most are torch.autograd on the contract's forward pass bent the way the mistake bends the
backward pass: a path the learner forgot is cut with .detach(), a slope the learner got wrong
is swapped in with `slope_of` (the right value going forward, the wrong slope coming back), a
gate order the learner misread is the cell read in that order. What comes out is exactly the
answer of a backward pass written with that one mistake. clip_grad_norm's mistakes are
written by hand.
"""
import itertools

import torch

from kit.chapters.ch11_recurrence.expressions import GATES, rnn_step, written_cell
from kit.reference import leaf

RNN_KEYS = ("xs", "h0", "w_ih", "w_hh", "b")
LSTM_STEP_KEYS = ("x", "h_prev", "c_prev", "w_ih", "w_hh", "b")
LSTM_KEYS = ("xs", "h0", "c0", "w_ih", "w_hh", "b")
WRONG_ORDERS = tuple("".join(p) for p in itertools.permutations(GATES) if "".join(p) != GATES)


def gradients(f, *args, upstream=None) -> tuple:
    """kit.reference.gradients, with a zero gradient for an argument a cut path leaves unreached."""
    xs = [leaf(a) for a in args]
    out = f(*xs)
    (out if upstream is None else (out * upstream).sum()).backward()
    return tuple(torch.zeros_like(a) if x.grad is None else x.grad.detach() for x, a in zip(xs, args))


def slope_of(value, slope):
    """a -> value(a) going forward, with slope(a) as its derivative coming back."""
    def bent(a):
        return value(a).detach() + (a - a.detach()) * slope(a.detach())
    return bent


# tanh' written with the pre-activation a instead of the output: 1 - a²
tanh_from_input = slope_of(torch.tanh, lambda a: 1 - a ** 2)
# tanh applied to the output once more: 1 - tanh(h)² with h = tanh(a)
tanh_twice = slope_of(torch.tanh, lambda a: 1 - torch.tanh(torch.tanh(a)) ** 2)
sigmoid_from_input = slope_of(torch.sigmoid, lambda a: a * (1 - a))


def straight_through(value, to):
    """value (computed from `to`), with the gradient reaching `to` unchanged (a slope of 1)."""
    return value.detach() + (to - to.detach())


def hidden_term(h_prev, w_hh, carry="w_hh"):
    """h_prev @ w_hh.T, with the gradient reaching h_prev as `carry` says: through w_hh (right),
    unchanged ("none": dh_prev = da), or through w_hh transposed ("w_hh.T": dh_prev = da @ w_hh.T)."""
    value = h_prev @ w_hh.T
    if carry == "none":
        return h_prev.detach() @ w_hh.T + (h_prev - h_prev.detach())
    if carry == "w_hh.T":
        wrong = h_prev @ w_hh.detach()
        return h_prev.detach() @ w_hh.T + (wrong - wrong.detach())
    return value


def bent_rnn_step(tanh=torch.tanh, carry="w_hh"):
    return lambda x, h_prev, w_ih, w_hh, b: tanh(x @ w_ih.T + hidden_term(h_prev, w_hh, carry) + b)


def rnn_step_answer(step):
    """rnn_step_backward's answer for the forward step `step`."""
    return lambda x, h_prev, w_ih, w_hh, b, upstream: gradients(step, x, h_prev, w_ih, w_hh, b, upstream=upstream)


def scaled(answer, key, divisor):
    """answer(*args) with the part `key` (an index or a dict key) divided by divisor(*args)."""
    def bent(*args):
        found = answer(*args)
        if isinstance(found, dict):
            return {**found, key: found[key] / divisor(*args)}
        return tuple(part / divisor(*args) if i == key else part for i, part in enumerate(found))
    return bent


def transposed(answer, index):
    """answer(*args) with its part `index` (a matrix) transposed."""
    def bent(*args):
        return tuple(part.T if i == index else part for i, part in enumerate(answer(*args)))
    return bent


def bent_states(step=rnn_step, carry_h=True, one_step=()):
    """The RNN's states (T, N, H) with: h_{t-1} cut from h_t for t ≥ 1 unless carry_h (each
    step gets its own upstream only), and the weights named in one_step (of "w_ih", "w_hh",
    "b") seen only by step 0 (overwritten, not added, in a loop that ends at t = 0)."""
    def states(xs, h0, w_ih, w_hh, b):
        h, hs = h0, []
        for time, x in enumerate(xs):
            given = {"w_ih": w_ih, "w_hh": w_hh, "b": b}
            used = {k: v.detach() if time > 0 and k in one_step else v for k, v in given.items()}
            h = step(x, h if carry_h or time == 0 else h.detach(), used["w_ih"], used["w_hh"], used["b"])
            hs.append(h)
        return torch.stack(hs)
    return states


def rnn_answer(states):
    return lambda xs, h0, w_ih, w_hh, b, upstream: dict(
        zip(RNN_KEYS, gradients(states, xs, h0, w_ih, w_hh, b, upstream=upstream)))


# ---- the LSTM -----------------------------------------------------------------------------------

def bent_cell(**bends):
    """written_cell with some of its pieces bent (its keyword arguments)."""
    return lambda x, h_prev, c_prev, w_ih, w_hh, b: written_cell(x, h_prev, c_prev, w_ih, w_hh, b, **bends)


cut_c_to_h = {"c_to_h": lambda c: c.detach()}  # h = σ(o)·tanh(c) passes nothing back to c
forget_through = {"forget": lambda f, c_prev: straight_through(f * c_prev, c_prev) + (f - f.detach()) * c_prev.detach()}


def lstm_step_answer(cell, outside_dc=True):
    """lstm_step_backward's answer for the cell `cell`; without outside_dc, dc is left out."""
    def answer(x, h_prev, c_prev, w_ih, w_hh, b, dh, dc):
        def loss(*args):
            h, c = cell(*args)
            return (dh * h).sum() + ((dc * c).sum() if outside_dc else 0.0)
        return dict(zip(LSTM_STEP_KEYS, gradients(loss, x, h_prev, c_prev, w_ih, w_hh, b)))
    return answer


def bent_lstm(cell=written_cell, carry_h=True, carry_c=True, one_step=()):
    """lstm_backward's answer with: the cell `cell`; h_{t-1} or c_{t-1} cut for t ≥ 1 unless
    carried; the weights in one_step seen by step 0 only."""
    def answer(xs, h0, c0, w_ih, w_hh, b, upstream):
        def loss(xs, h0, c0, w_ih, w_hh, b):
            h, c, total = h0, c0, 0.0
            for time, x in enumerate(xs):
                given = {"w_ih": w_ih, "w_hh": w_hh, "b": b}
                used = {k: v.detach() if time > 0 and k in one_step else v for k, v in given.items()}
                if time > 0:
                    h, c = (h if carry_h else h.detach()), (c if carry_c else c.detach())
                h, c = cell(x, h, c, used["w_ih"], used["w_hh"], used["b"])
                total = total + (upstream[time] * h).sum()
            return total
        return dict(zip(LSTM_KEYS, gradients(loss, xs, h0, c0, w_ih, w_hh, b)))
    return answer


def order_sentence(order: str) -> str:
    return (f"You read the gate rows in the order {', '.join(order)}; torch's LSTMCell stacks them "
            f"i, f, g, o (input, forget, cell candidate, output), H rows each, in w_ih, w_hh and b alike.")


# ---- clip_grad_norm, by hand ---------------------------------------------------------------------

def _norm(grads):
    return torch.cat([g.reshape(-1) for g in grads]).norm() if grads else torch.tensor(0.0, dtype=torch.float64)


def clip_each(grads, max_norm):
    return [g * min(1.0, max_norm / (float(g.norm()) + 1e-6)) for g in grads]


def clip_without_eps(grads, max_norm):
    total = float(_norm(grads))
    return [g * (min(1.0, max_norm / total) if total > 0 else 1.0) for g in grads]


def clip_unclamped(grads, max_norm):
    return [g * (max_norm / (float(_norm(grads)) + 1e-6)) for g in grads]


def clip_total(total):
    """Clipping right, but with the total computed as total(grads)."""
    def answer(grads, max_norm):
        return [g * min(1.0, max_norm / (total(grads) + 1e-6)) for g in grads]
    return answer


def sum_of_norms(grads):
    return sum(float(g.norm()) for g in grads)


def sum_of_squares(grads):
    return sum(float(g.norm()) ** 2 for g in grads)


def clip_values(grads, max_norm):
    return [g.clamp(-max_norm, max_norm) for g in grads]


def clip_strictly_above(grads, max_norm):
    total = float(_norm(grads))
    return [g * (max_norm / (total + 1e-6)) if total > max_norm else g.clone() for g in grads]
