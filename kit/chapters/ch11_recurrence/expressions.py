"""The contract's torch expressions that chapter 11's references differentiate, in float64.

`rnn_step` and `rnn_states` are the contract's recurrence; `lstm_cell` is torch's own LSTM cell
(torch.lstm_cell, what torch.nn.LSTMCell runs), with b as bias_ih and a zero bias_hh.
`written_cell` is the same cell written out gate by gate, with every piece a learner can get
wrong exposed as an argument, so that kit/chapters/ch11_recurrence/mistakes.py can bend it.
"""
import torch

GATES = "ifgo"  # torch's order of the gate rows in w_ih, w_hh and b


def rnn_step(x, h_prev, w_ih, w_hh, b):
    return torch.tanh(x @ w_ih.T + h_prev @ w_hh.T + b)


def rnn_states(xs, h0, w_ih, w_hh, b, step=rnn_step):
    """Every hidden state h_0 … h_{T-1}, stacked (T, N, H)."""
    h, hs = h0, []
    for x in xs:
        h = step(x, h, w_ih, w_hh, b)
        hs.append(h)
    return torch.stack(hs)


def lstm_cell(x, h_prev, c_prev, w_ih, w_hh, b):
    """(h, c) of one step, as torch.nn.LSTMCell computes it with bias_ih = b and bias_hh = 0."""
    return torch.lstm_cell(x, (h_prev, c_prev), w_ih, w_hh, b, torch.zeros_like(b))


def written_cell(x, h_prev, c_prev, w_ih, w_hh, b, order=GATES, tanh_g=torch.tanh, tanh_c=torch.tanh,
                 sigmoid=torch.sigmoid, c_to_h=lambda c: c, forget=lambda f, c_prev: f * c_prev):
    """lstm_cell written out: `order` says which gate each block of H rows is read as."""
    blocks = dict(zip(order, (x @ w_ih.T + h_prev @ w_hh.T + b).chunk(4, dim=1)))
    c = forget(sigmoid(blocks["f"]), c_prev) + sigmoid(blocks["i"]) * tanh_g(blocks["g"])
    return sigmoid(blocks["o"]) * tanh_c(c_to_h(c)), c


def lstm_states(xs, h0, c0, w_ih, w_hh, b, cell=lstm_cell):
    """Every hidden state h_0 … h_{T-1}, stacked (T, N, H), and the last cell state."""
    h, c, hs = h0, c0, []
    for x in xs:
        h, c = cell(x, h, c, w_ih, w_hh, b)
        hs.append(h)
    return torch.stack(hs), c
