"""Chapter 11's exercises: each torch reference, followed by its declaration.

The references are torch.autograd on the contract's expressions (kit/chapters/ch11_recurrence/
expressions.py), in float64; the LSTM cell is torch.lstm_cell, what torch.nn.LSTMCell runs, with
b as bias_ih and a zero bias_hh. clip_grad_norm's reference is torch.nn.utils.clip_grad_norm_
itself, run on clones.
"""
import torch

from kit.chapters.ch11_recurrence import mistakes as m
from kit.chapters.ch11_recurrence.expressions import lstm_cell, rnn_states, rnn_step
from kit.chapters.ch11_recurrence.inputs import (
    CLIP_EXAMPLES,
    LSTM_EXAMPLES,
    LSTM_STEP_EXAMPLES,
    RNN_EXAMPLES,
    RNN_STEP_EXAMPLES,
    clips,
    lstm_steps,
    lstms,
    rnn_steps,
    rnns,
)
from kit.chapters.ch11_recurrence.pictures import lstm_picture, rnn_picture
from kit.diagnosis import Misconception, without_upstream
from kit.drivers import call_for_new_tensors
from kit.exercise import Exercise
from kit.reference import gradients

TANH_FROM_INPUT = ("You wrote tanh's slope with its input: 1 - a², a the pre-activation; the slope is "
                   "1 - tanh(a)², which is 1 - h² with h the step's output.")
TANH_TWICE = ("You applied tanh to the output once more: 1 - tanh(h)²; h is tanh(a) already, so the "
              "slope is 1 - h².")
DH_PREV_WITHOUT_W_HH = ("dh_prev is the gradient of the pre-activation itself; h_prev reaches it through "
                        "h_prev @ w_hh.T, so it is that gradient times w_hh: da @ w_hh.")
DH_PREV_TRANSPOSED = ("dh_prev went through w_hh transposed (da @ w_hh.T); h_prev @ w_hh.T sends its "
                      "gradient back as da @ w_hh.")
DB_MEAN_BATCH = ("db is the mean over the batch; b is added to every row, so the rows' gradients add "
                 "up: sum over the batch.")
NO_NEXT_STEP = ("Each step used only its own upstream; h_t also feeds step t + 1, so the gradient "
                "coming back from there adds to it (dh = upstream[t] + what step t + 1 sends back "
                "through w_hh), before going through tanh.")
ONE_STEP_WEIGHTS = ("Your w_ih, w_hh and b hold one step's contribution only, as when = stands where "
                    "+= belongs; the same weights serve every step, so add every step's share up.")
ONE_STEP_BIAS = ("Your db holds one step's contribution only; b is used at every step, so add every "
                 "step's share up (over time and over the batch).")
DB_MEAN_TIME = ("db is averaged over the steps; b is used at every step and each use adds its own "
                "share: sum over time, not a mean.")
DB_MEAN_ALL = ("db is averaged over the batch and the steps; every row at every step adds its share "
               "to db: sum them.")
TANH_G_FROM_INPUT = ("The slope of tanh(g) is written with the pre-activation: 1 - g²; it is "
                     "1 - tanh(g)².")
TANH_C_FROM_INPUT = ("The slope of tanh(c) is written with c itself: 1 - c²; it is 1 - tanh(c)².")
TANH_BOTH_FROM_INPUT = ("Both tanh slopes are written with their inputs (1 - g², 1 - c²); each is "
                        "1 - tanh(·)² of its own input.")
SIGMOID_FROM_INPUT = ("The gates' σ slopes are written with their pre-activations, a·(1 - a); σ'(a) is "
                      "σ(a)·(1 - σ(a)), with the gate's value.")
NO_C_THROUGH_H = ("The cell state's gradient lacks the path through h: h = σ(o)·tanh(c) depends on c, so "
                  "c's gradient is dc + dh·σ(o)·(1 - tanh(c)²), not the outside dc alone.")
NO_OUTSIDE_DC = ("You left out dc, the gradient arriving at c from outside; add it to what comes from "
                 "h: dc + dh·σ(o)·(1 - tanh(c)²).")
DC_PREV_WITHOUT_F = ("dc_prev is missing the forget gate: c = σ(f)·c_prev + ..., so c_prev's gradient "
                     "is c's gradient times σ(f).")
NO_CELL_CARRY = ("The cell state's gradient is not carried back: c_{t-1} feeds c_t, so the gradient "
                 "of c_t times σ(f_t) adds to c_{t-1}'s, step after step.")
NO_NEXT_STEP_LSTM = ("Each step used only its own upstream for h; h_t also feeds step t + 1's gates, so "
                     "what step t + 1 sends back through w_hh adds to it.")

EXERCISES: list[Exercise] = []


def rnn_step_backward(x, h_prev, w_ih, w_hh, b, upstream):
    return gradients(rnn_step, x, h_prev, w_ih, w_hh, b, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch11_recurrence", name="rnn_step_backward", reference=rnn_step_backward,
    inputs=rnn_steps(),
    draws=0.5,
    examples=RNN_STEP_EXAMPLES,
    domain="x (N, D), h_prev (N, H), w_ih (H, D), w_hh (H, H), b (H,), upstream (N, H): N from 1 to 3, "
           "D and H from 1 to 4 (often different); x in [-2, 2], the others in [-1, 1], upstream in [-3, 3]",
    hint="Go back through tanh first (its slope is easiest written with the output h), then through the "
         "sum, which hands that same gradient to each of its two linear parts and to b.",
    more="da = upstream * (1 - h²) with h = tanh(a); dx = da @ w_ih, dh_prev = da @ w_hh, "
         "dw_ih = da.T @ x, dw_hh = da.T @ h_prev, db = da.sum(dim=0).",
    misconceptions=(
        without_upstream(rnn_step_backward),
        Misconception(TANH_FROM_INPUT, m.rnn_step_answer(m.bent_rnn_step(tanh=m.tanh_from_input))),
        Misconception(TANH_TWICE, m.rnn_step_answer(m.bent_rnn_step(tanh=m.tanh_twice))),
        Misconception(DH_PREV_WITHOUT_W_HH, m.rnn_step_answer(m.bent_rnn_step(carry="none"))),
        Misconception(DH_PREV_TRANSPOSED, m.rnn_step_answer(m.bent_rnn_step(carry="w_hh.T"))),
        Misconception(DB_MEAN_BATCH, m.scaled(rnn_step_backward, 4, lambda x, *rest: x.shape[0])),
        Misconception("Your dw_hh is transposed: row i of w_hh makes h[i], so dw_hh = da.T @ h_prev (and "
                      "dw_ih = da.T @ x alike); w_hh is square, so the shape could not tell.",
                      m.transposed(rnn_step_backward, 3)),
        Misconception("You left tanh out of the way back: the gradient of the pre-activation is "
                      "upstream times tanh's slope, 1 - h².", m.rnn_step_answer(
                          lambda x, h_prev, w_ih, w_hh, b: m.slope_of(torch.tanh, torch.ones_like)(
                              x @ w_ih.T + h_prev @ w_hh.T + b))),
    ),
    tolerance="accumulated",
    answer_names=("dx", "dh_prev", "dw_ih", "dw_hh", "db"),
))


def rnn_backward(xs, h0, w_ih, w_hh, b, upstream):
    return dict(zip(m.RNN_KEYS, gradients(rnn_states, xs, h0, w_ih, w_hh, b, upstream=upstream)))


def steps_of(xs, *rest):
    return xs.shape[0]


EXERCISES.append(Exercise(
    module="ch11_recurrence", name="rnn_backward", reference=rnn_backward,
    inputs=rnns(),
    draws=0.5,
    examples=RNN_EXAMPLES,
    domain="xs (T, N, D), h0 (N, H), w_ih (H, D), w_hh (H, H), b (H,), upstream (T, N, H): T from 1 to 5, "
           "N from 1 to 3, D and H from 1 to 4 (often different); xs in [-2, 2], the others in [-1, 1], "
           "upstream in [-3, 3]",
    hint="Run forward and keep every h_t; then walk back from the last step, giving each step its own "
         "upstream plus the gradient the step after it sent back to its h_prev, and add every step's "
         "weight gradients up.",
    more="dh_next = zeros; for t from T - 1 down to 0: dx_t, dh_next, dwi, dwh, dbt = "
         "rnn_step_backward(xs[t], h_{t-1}, w_ih, w_hh, b, upstream[t] + dh_next), adding dwi, dwh, dbt "
         "to the totals; h0's gradient is the last dh_next.",
    misconceptions=(
        without_upstream(rnn_backward),
        Misconception(NO_NEXT_STEP, m.rnn_answer(m.bent_states(carry_h=False))),
        Misconception(TANH_FROM_INPUT, m.rnn_answer(m.bent_states(m.bent_rnn_step(tanh=m.tanh_from_input)))),
        Misconception(TANH_TWICE, m.rnn_answer(m.bent_states(m.bent_rnn_step(tanh=m.tanh_twice)))),
        Misconception(DH_PREV_WITHOUT_W_HH, m.rnn_answer(m.bent_states(m.bent_rnn_step(carry="none")))),
        Misconception(DH_PREV_TRANSPOSED, m.rnn_answer(m.bent_states(m.bent_rnn_step(carry="w_hh.T")))),
        Misconception(ONE_STEP_WEIGHTS, m.rnn_answer(m.bent_states(one_step=("w_ih", "w_hh", "b")))),
        Misconception(ONE_STEP_BIAS, m.rnn_answer(m.bent_states(one_step=("b",)))),
        Misconception(DB_MEAN_TIME, m.scaled(rnn_backward, "b", steps_of)),
        Misconception(DB_MEAN_BATCH, m.scaled(rnn_backward, "b", lambda xs, *rest: xs.shape[1])),
        Misconception(DB_MEAN_ALL, m.scaled(rnn_backward, "b", lambda xs, *rest: xs.shape[0] * xs.shape[1])),
    ),
    tolerance="accumulated",
    picture=rnn_picture,
))


def lstm_step_backward(x, h_prev, c_prev, w_ih, w_hh, b, dh, dc):
    def loss(*args):
        h, c = lstm_cell(*args)
        return (dh * h).sum() + (dc * c).sum()
    return dict(zip(m.LSTM_STEP_KEYS, gradients(loss, x, h_prev, c_prev, w_ih, w_hh, b)))


def batch_of(x, *rest):
    return x.shape[0]


EXERCISES.append(Exercise(
    module="ch11_recurrence", name="lstm_step_backward", reference=lstm_step_backward,
    draws=0.33,
    inputs=lstm_steps(),
    examples=LSTM_STEP_EXAMPLES,
    domain="x (N, D), h_prev (N, H), c_prev (N, H), w_ih (4H, D), w_hh (4H, H), b (4H,), dh and dc "
           "(N, H): N from 1 to 3, D and H from 1 to 4 (often different); x and c_prev in [-2, 2], "
           "h_prev and the weights in [-1, 1], dh and dc in [-3, 3]",
    hint="Recompute the gates; find c's whole gradient first (the outside dc plus the path through "
         "h = σ(o)·tanh(c)), then each gate's, then stack the four in the order i, f, g, o and go "
         "back through the one linear map as in rnn_step_backward.",
    more="dc_all = dc + dh·σ(o)·(1 - tanh(c)²); do = dh·tanh(c)·σ(o)(1 - σ(o)), "
         "di = dc_all·tanh(g)·σ(i)(1 - σ(i)), df = dc_all·c_prev·σ(f)(1 - σ(f)), "
         "dg = dc_all·σ(i)·(1 - tanh(g)²); da = cat([di, df, dg, do], dim=1); c_prev's gradient "
         "is dc_all·σ(f); the rest as in rnn_step_backward with da.",
    misconceptions=(
        *(Misconception(m.order_sentence(order), m.lstm_step_answer(m.bent_cell(order=order)))
          for order in m.WRONG_ORDERS),
        Misconception(NO_C_THROUGH_H, m.lstm_step_answer(m.bent_cell(**m.cut_c_to_h))),
        Misconception(NO_OUTSIDE_DC, m.lstm_step_answer(m.bent_cell(), outside_dc=False)),
        Misconception(DC_PREV_WITHOUT_F, m.lstm_step_answer(m.bent_cell(**m.forget_through))),
        Misconception(TANH_BOTH_FROM_INPUT, m.lstm_step_answer(
            m.bent_cell(tanh_g=m.tanh_from_input, tanh_c=m.tanh_from_input))),
        Misconception(TANH_G_FROM_INPUT, m.lstm_step_answer(m.bent_cell(tanh_g=m.tanh_from_input))),
        Misconception(TANH_C_FROM_INPUT, m.lstm_step_answer(m.bent_cell(tanh_c=m.tanh_from_input))),
        Misconception(SIGMOID_FROM_INPUT, m.lstm_step_answer(m.bent_cell(sigmoid=m.sigmoid_from_input))),
        Misconception(DB_MEAN_BATCH, m.scaled(lstm_step_backward, "b", batch_of)),
    ),
    tolerance="accumulated",
))


def lstm_backward(xs, h0, c0, w_ih, w_hh, b, upstream):
    def loss(xs, h0, c0, w_ih, w_hh, b):
        h, c, total = h0, c0, 0.0
        for x, outside in zip(xs, upstream):
            h, c = lstm_cell(x, h, c, w_ih, w_hh, b)
            total = total + (outside * h).sum()
        return total
    return dict(zip(m.LSTM_KEYS, gradients(loss, xs, h0, c0, w_ih, w_hh, b)))


EXERCISES.append(Exercise(
    module="ch11_recurrence", name="lstm_backward", reference=lstm_backward,
    draws=0.33,
    inputs=lstms(),
    examples=LSTM_EXAMPLES,
    domain="xs (T, N, D), h0 and c0 (N, H), w_ih (4H, D), w_hh (4H, H), b (4H,), upstream (T, N, H): "
           "T from 1 to 5, N from 1 to 3, D and H from 1 to 4 (often different); xs and c0 in [-2, 2], "
           "h0 and the weights in [-1, 1], upstream in [-3, 3]",
    hint="As rnn_backward, with two gradients carried back instead of one: h's, which is added to the "
         "upstream of the step before, and c's, which becomes that step's dc (the last step's dc is 0).",
    more="dh_next = dc_next = zeros; for t from T - 1 down to 0: g = lstm_step_backward(xs[t], h_{t-1}, "
         "c_{t-1}, w_ih, w_hh, b, upstream[t] + dh_next, dc_next); dh_next, dc_next = g['h_prev'], "
         "g['c_prev']; add up g['w_ih'], g['w_hh'], g['b'].",
    misconceptions=(
        *(Misconception(m.order_sentence(order), m.bent_lstm(m.bent_cell(order=order)))
          for order in m.WRONG_ORDERS),
        Misconception(NO_C_THROUGH_H, m.bent_lstm(m.bent_cell(**m.cut_c_to_h))),
        Misconception(NO_CELL_CARRY, m.bent_lstm(carry_c=False)),
        Misconception(NO_NEXT_STEP_LSTM, m.bent_lstm(carry_h=False)),
        Misconception(DC_PREV_WITHOUT_F, m.bent_lstm(m.bent_cell(**m.forget_through))),
        Misconception(TANH_BOTH_FROM_INPUT, m.bent_lstm(
            m.bent_cell(tanh_g=m.tanh_from_input, tanh_c=m.tanh_from_input))),
        Misconception(TANH_G_FROM_INPUT, m.bent_lstm(m.bent_cell(tanh_g=m.tanh_from_input))),
        Misconception(TANH_C_FROM_INPUT, m.bent_lstm(m.bent_cell(tanh_c=m.tanh_from_input))),
        Misconception(SIGMOID_FROM_INPUT, m.bent_lstm(m.bent_cell(sigmoid=m.sigmoid_from_input))),
        Misconception(ONE_STEP_WEIGHTS, m.bent_lstm(one_step=("w_ih", "w_hh", "b"))),
        Misconception(ONE_STEP_BIAS, m.bent_lstm(one_step=("b",))),
        Misconception(DB_MEAN_TIME, m.scaled(lstm_backward, "b", steps_of)),
        Misconception(DB_MEAN_BATCH, m.scaled(lstm_backward, "b", lambda xs, *rest: xs.shape[1])),
    ),
    tolerance="accumulated",
    picture=lstm_picture,
))


def clip_grad_norm(grads, max_norm):
    clones = [torch.zeros_like(g) for g in grads]
    for clone, g in zip(clones, grads):
        clone.grad = g.clone()
    if clones:
        torch.nn.utils.clip_grad_norm_(clones, max_norm)
    return [clone.grad for clone in clones]


EXERCISES.append(Exercise(
    module="ch11_recurrence", name="clip_grad_norm", reference=clip_grad_norm,
    inputs=clips(),
    examples=CLIP_EXAMPLES,
    reference_name="torch.nn.utils.clip_grad_norm_",
    run=call_for_new_tensors,  # "always new tensors, even when nothing is scaled"
    domain="grads a list of 0 to 4 float64 tensors, each 0-d, 1-d or 2-d with sides 1 to 4, elements in "
           "[-3, 3]; max_norm > 0, drawn below, at, just above and above the gradients' total norm",
    hint="One norm for all of them together, the square root of every element's square added up; then "
         "one factor for every tensor, and only ever a shrinking one.",
    more="total = sqrt(Σ over the tensors of (g ** 2).sum()); coef = max_norm / (total + 1e-6); "
         "return [g * min(coef, 1.0) for g in grads].",
    misconceptions=(
        Misconception("You clipped each gradient by its own norm; clip_grad_norm_ takes one norm of "
                      "all of them together and scales every one by the same factor.", m.clip_each),
        Misconception("You divided by the total alone; torch divides by total + 1e-6 (which also keeps "
                      "an all-zero gradient from dividing by 0).", m.clip_without_eps),
        Misconception("You scaled small gradients up too; the factor max_norm / (total + 1e-6) is used "
                      "only when it is below 1, else the gradients stay as they are.", m.clip_unclamped),
        Misconception("Your total adds up the tensors' norms; the total is the norm of all the elements "
                      "together: the square root of the sum of all the squares.", m.clip_total(m.sum_of_norms)),
        Misconception("Your total is the sum of the squares without its square root.",
                      m.clip_total(m.sum_of_squares)),
        Misconception("You clamped each element to [-max_norm, max_norm] (clip_grad_value_); "
                      "clip_grad_norm_ scales every gradient by one factor, keeping their "
                      "directions.", m.clip_values),
        Misconception("You scaled only when total > max_norm; torch scales whenever max_norm / "
                      "(total + 1e-6) is below 1, which includes a total just under max_norm + 1e-6.",
                      m.clip_strictly_above),
    ),
    tolerance="accumulated",
))
