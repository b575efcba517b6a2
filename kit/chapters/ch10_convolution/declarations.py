"""Chapter 10's exercises: each torch reference, followed by its declaration.

The references are torch.autograd on the contract's torch expressions (torch.nn.functional and
kit/chapters/ch10_convolution/expressions.py), in float64.
"""
import torch
import torch.nn.functional as F

from kit.chapters.ch8_tensors.estimates import nudges, summed
from kit.chapters.ch10_convolution.expressions import batchnorm2d, cnn_loss
from kit.chapters.ch10_convolution.inputs import (
    AVG_POOL_EXAMPLES,
    BATCHNORM2D_EXAMPLES,
    CNN_EXAMPLES,
    CONV1D_EXAMPLES,
    CONV2D_EXAMPLES,
    MAX_POOL_EXAMPLES,
    avg_pools,
    batchnorm2ds,
    cnns,
    conv1ds,
    conv2ds,
    max_pools,
)
from kit.chapters.ch10_convolution.mistakes import (
    avg_assigned,
    avg_pool_gradient,
    batchnorm2d_constant_statistics,
    batchnorm2d_sums_over_batch_only,
    cnn_by_hand,
    convolved,
    db_averaged,
    db_last_sample,
    dw_averaged,
    dx_convolved,
    dx_cropped_at_corner,
    every_element,
    max_assigned,
    normalised_over,
    ones_at,
    stride_ignored,
)
from kit.chapters.ch10_convolution.pictures import heat_picture
from kit.diagnosis import Misconception, without_upstream
from kit.exercise import Exercise
from kit.messages.diagnosis import EPS_IGNORED, LOCAL_ALONE
from kit.reference import gradients

CNN_KEYS = ("x", "w_conv", "b_conv", "w_fc", "b_fc")

DB_AVERAGED = ("db is a mean; b is added at every position of every sample, so each of those outputs "
               "sends its upstream back to the same b, where they add up: db is upstream summed over "
               "the batch and every position.")
DB_LAST_SAMPLE = ("db holds the last sample's sum only: b is used in every sample of the batch, so add "
                  "every sample's share (db += ..., or sum over dim 0 as well).")
DW_AVERAGED = ("dw is divided by the batch size; every sample adds its own share to dw, and the shares "
               "add up (any mean is the loss's business).")
FLIPPED = ("Your gradients are those of a true convolution, the kernel flipped; torch's conv is a "
           "cross-correlation: output position i reads x[i + k]·w[k], the kernel as it is.")
DX_FLIPPED = ("dx has the kernel the wrong way round: output i used x[i + k]·w[k], so x[j] collects "
              "upstream[j - k]·w[k] for every k; as a sliding window over the padded upstream, that "
              "is the kernel flipped.")
CROPPED = ("Your dx is cut from the top-left corner of the padded input's gradient; the padding sits "
           "on every side: drop `padding` rows and columns at each edge (dx_padded[..., p:p + H, p:p + W]).")
STRIDE_DX = ("In dx, upstream[i, j] went back to the window at (i, j); with a stride, that window starts "
             "at (i·stride, j·stride): place each contribution there.")
STRIDE_BOTH = ("Your windows start at (i, j) instead of (i·stride, j·stride), in dx and in dw: the stride "
               "moves every window, forward and backward.")
EVERY_ELEMENT = ("You sent the gradient to every element of its window; only the window's largest value "
                 "reached the output, so only that one gets upstream, and the others 0.")
MAX_AS_AVERAGE = ("You spread upstream evenly over the window, as average pooling does; max pooling "
                  "passes the whole of it to the window's largest value, and nothing to the others.")
MAX_ASSIGNED = ("Where windows overlap and share their largest value, that value got only one window's "
                "gradient: it fed both outputs, so both gradients add up there (+=, not =).")
AVG_UNDIVIDED = ("You did not divide by the window size: each output is the mean of k·k values, so each "
                 "value gets upstream / (k·k) from every window it sits in.")
AVG_BY_K = ("You divided by kernel_size; a window holds kernel_size² values, and the mean divides by "
            "all of them.")
AVG_ASSIGNED = ("Where windows overlap, a value got only one window's share: it sits in several windows, "
                "and their shares add up (+=, not =).")
PER_POSITION = ("Your statistics are per position: the mean and variance over the batch only, one per "
                "(channel, row, column). Spatial batch norm takes one mean and one variance per "
                "channel, over the batch and every position: dims 0, 2 and 3.")
PER_SAMPLE = ("Your statistics are per sample and channel, over the rows and columns only; batch norm "
              "takes them over the batch too: dims 0, 2 and 3.")
UNBIASED = ("You used the unbiased variance (÷ (M - 1)); batch norm in training divides by M = N·H·W: "
            "unbiased=False.")
CONSTANT_STATS = ("You treated the batch mean and variance as constants (dx = upstream·gamma / √(σ² + "
                  "eps)); they are computed from x, so x also reaches every output of its channel "
                  "through them, and those paths add to dx.")
BN_AVERAGED = ("dgamma and dbeta are averaged over the positions; gamma and beta are used at every "
               "position of every sample, so sum over dims 0, 2 and 3.")
RELU_AT_ZERO = ("At a relu input of exactly 0 you let the gradient through; torch's relu passes nothing "
                "there: the gate is z > 0, not z >= 0.")
RELU_FORGOTTEN = "The gradient went through relu everywhere; relu blocks it where its input is <= 0."
TIES = ("Where a pooling window holds several equal largest values, you gave the gradient to each; torch "
        "gives it to the first of them in row-major order, and 0 to the others.")
CNN_EVERY = ("You sent each pooled gradient to all four values of its window; only the largest reached "
             "the output (the first, on a tie), so only it gets the gradient.")
CNN_MEAN = ("You left out the mean: cross-entropy averages over the N samples, so dlogits is divided "
            "by N, and every gradient after it too.")

EXERCISES: list[Exercise] = []


def conv1d_backward(x, w, b, upstream):
    return gradients(F.conv1d, x, w, b, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch10_convolution", name="conv1d_backward", reference=conv1d_backward,
    inputs=conv1ds(),
    draws=0.5,
    examples=CONV1D_EXAMPLES,
    domain="x (N, C, L), w (F, C, K), b (F,): N, C, F from 1 to 3, K from 1 to 4, L from K to 7, "
           "elements in [-5, 5]; upstream (N, F, L - K + 1); stride 1, no padding",
    hint="The same small machine w runs at every position i, reading x[i], ..., x[i + K - 1]: each "
         "weight collects upstream × the input it read at every position, each x[j] collects "
         "upstream × the weight it met from every window that covered it, and b from every output.",
    more="dw[f, c, k] = Σ over n, i of upstream[n, f, i]·x[n, c, i + k]; "
         "dx[n, c, i + k] += Σ over f of upstream[n, f, i]·w[f, c, k] for every i and k; "
         "db = upstream.sum(dim=(0, 2)).",
    misconceptions=(
        Misconception(DB_AVERAGED, db_averaged(conv1d_backward)),
        Misconception(DB_LAST_SAMPLE, db_last_sample(conv1d_backward)),
        Misconception(DW_AVERAGED, dw_averaged(conv1d_backward)),
        Misconception(FLIPPED, convolved(F.conv1d)),
        Misconception(DX_FLIPPED, dx_convolved(F.conv1d, conv1d_backward)),
        without_upstream(conv1d_backward),
    ),
    estimate=nudges(summed(F.conv1d), 0, 1, 2),
    tolerance="accumulated",
    answer_names=("dx", "dw", "db"),
    picture=heat_picture("ch10_convolution.conv1d_backward", CONV1D_EXAMPLES[2],
                         (("dx[0] (C × L)", 0, 0), ("dw[0] (C × K)", 1, 0)),
                         "conv1d_backward on two samples, two channels, three filters: yours | torch"),
))


def conv2d(x, w, b, stride=1, padding=0):
    return F.conv2d(x, w, b, stride=stride, padding=padding)


def conv2d_backward(x, w, b, upstream, stride=1, padding=0):
    return gradients(lambda x, w, b: conv2d(x, w, b, stride, padding), x, w, b, upstream=upstream)


def conv2d_estimate(x, w, b, upstream, stride=1, padding=0):
    return nudges(summed(lambda x, w, b: conv2d(x, w, b, stride, padding)), 0, 1, 2)(x, w, b, upstream)


EXERCISES.append(Exercise(
    module="ch10_convolution", name="conv2d_backward", reference=conv2d_backward,
    inputs=conv2ds(),
    draws=0.5,
    examples=CONV2D_EXAMPLES,
    domain="x (N, C, H, W), w (F, C, KH, KW), b (F,): N 1 or 2, C and F from 1 to 3, KH and KW from "
           "1 to 3 (often not square), H up to 6 and W up to 7 with H + 2·padding ≥ KH and "
           "W + 2·padding ≥ KW, elements in [-5, 5]; stride 1 or 2, padding 0 to 2 (wider than a "
           "kernel of 1), or both left at their defaults; upstream (N, F, Ho, Wo) with "
           "Ho = (H + 2·padding - KH) // stride + 1, and Wo alike",
    hint="Pad x, then look at one window: the output at (i, j) is the machine w on the patch of the "
         "padded x at (i·stride, j·stride). Every patch sends upstream × w back to the pixels it "
         "read, and upstream × pixels to w; where patches overlap, the contributions add up. Cut "
         "the padding off dx at the end.",
    more="xp = pad(x, p); for every output (i, j): patch = xp[:, :, i·s:i·s + KH, j·s:j·s + KW]; "
         "dw += Σₙ upstream[n, :, i, j] ⊗ patch[n]; dxp[:, :, i·s:i·s + KH, j·s:j·s + KW] += "
         "Σ_f upstream[:, f, i, j]·w[f]; db = upstream.sum(dim=(0, 2, 3)); dx = dxp[..., p:p + H, p:p + W].",
    misconceptions=(
        Misconception(DB_AVERAGED, db_averaged(conv2d_backward)),
        Misconception(DB_LAST_SAMPLE, db_last_sample(conv2d_backward)),
        Misconception(DW_AVERAGED, dw_averaged(conv2d_backward)),
        Misconception(FLIPPED, convolved(conv2d)),
        Misconception(DX_FLIPPED, dx_convolved(conv2d, conv2d_backward)),
        Misconception(CROPPED, dx_cropped_at_corner(conv2d_backward)),
        Misconception(STRIDE_DX, stride_ignored(conv2d_backward)),
        Misconception(STRIDE_BOTH, stride_ignored(conv2d_backward, in_dw=True)),
        Misconception(LOCAL_ALONE, ones_at(conv2d_backward, 3)),
    ),
    estimate=conv2d_estimate,
    tolerance="accumulated",
    answer_names=("dx", "dw", "db"),
    picture=heat_picture("ch10_convolution.conv2d_backward", CONV2D_EXAMPLES[4],
                         (("dx[0, 0]", 0, (0, 0)), ("dw[0, 0]", 1, (0, 0)), ("dw[1, 0]", 1, (1, 0))),
                         "conv2d_backward, stride 2, padding 1, a 2 × 3 kernel: yours | torch"),
))


def max_pool2d_backward(x, upstream, kernel_size, stride):
    return gradients(lambda x: F.max_pool2d(x, kernel_size, stride), x, upstream=upstream)[0]


def pool_estimate(pool):
    def estimate(x, upstream, kernel_size, stride):
        return nudges(lambda x: (upstream * pool(x, kernel_size, stride)).sum(), 0)(x)
    return estimate


EXERCISES.append(Exercise(
    module="ch10_convolution", name="max_pool2d_backward", reference=max_pool2d_backward,
    inputs=max_pools(),
    examples=MAX_POOL_EXAMPLES,
    domain="x (N, C, H, W) with N and C 1 or 2, H from kernel_size to 6 and W to 7, all its values "
           "different; (kernel_size, stride) one of (2, 1), (3, 1), (3, 2) (windows overlap), (2, 2), "
           "(3, 3), (1, 1) (they tile), (2, 3), (1, 2) (gaps between them); no padding; upstream "
           "(N, C, Ho, Wo), Ho = (H - kernel_size) // stride + 1",
    hint="A max is a switch: the output is its window's largest value, so only that value's nudge "
         "moves it. Route each upstream value back to its window's largest x; a value that is the "
         "largest of several windows collects from each of them.",
    more="dx = zeros_like(x); for every window (i, j) and every (n, c): find where the largest value "
         "of x[n, c, i·s:i·s + k, j·s:j·s + k] sits, and dx[n, c, there] += upstream[n, c, i, j].",
    misconceptions=(
        Misconception(EVERY_ELEMENT, every_element),
        Misconception(MAX_AS_AVERAGE, avg_pool_gradient),
        Misconception(MAX_ASSIGNED, max_assigned),
        Misconception(LOCAL_ALONE, ones_at(max_pool2d_backward, 1)),
    ),
    estimate=pool_estimate(F.max_pool2d),
    tolerance="accumulated",
    picture=heat_picture("ch10_convolution.max_pool2d_backward", MAX_POOL_EXAMPLES[3],
                         (("dx[0, 0]", None, (0, 0)), ("dx[0, 1]", None, (0, 1))),
                         "max_pool2d_backward, 3 × 3 windows with stride 2 (they overlap): yours | torch"),
))


def avg_pool2d_backward(x, upstream, kernel_size, stride):
    return avg_pool_gradient(x, upstream, kernel_size, stride)


EXERCISES.append(Exercise(
    module="ch10_convolution", name="avg_pool2d_backward", reference=avg_pool2d_backward,
    inputs=avg_pools(),
    examples=AVG_POOL_EXAMPLES,
    domain="x (N, C, H, W) with N and C 1 or 2, H from kernel_size to 6 and W to 7, elements in "
           "[-5, 5]; (kernel_size, stride) as in max_pool2d_backward; no padding; upstream "
           "(N, C, Ho, Wo)",
    hint="Each output is the mean of its window, a machine that multiplies each of its k·k inputs by "
         "1/(k·k) and adds them; a value in several windows collects from each.",
    more="dx = zeros_like(x); for every window (i, j): dx[:, :, i·s:i·s + k, j·s:j·s + k] += "
         "upstream[:, :, i, j, None, None] / k².",
    misconceptions=(
        Misconception(AVG_UNDIVIDED, every_element),
        Misconception(AVG_BY_K, lambda x, upstream, k, s: avg_pool_gradient(x, upstream, k, s) * k),
        Misconception(AVG_ASSIGNED, avg_assigned),
        Misconception(LOCAL_ALONE, ones_at(avg_pool2d_backward, 1)),
    ),
    estimate=pool_estimate(F.avg_pool2d),
    tolerance="accumulated",
    picture=heat_picture("ch10_convolution.avg_pool2d_backward", AVG_POOL_EXAMPLES[3],
                         (("dx[0, 0]", None, (0, 0)), ("dx[1, 0]", None, (1, 0))),
                         "avg_pool2d_backward, 3 × 3 windows with stride 2 (they overlap): yours | torch"),
))


def batchnorm2d_backward(x, gamma, beta, upstream, eps=1e-5):
    return gradients(lambda x, gamma, beta: batchnorm2d(x, gamma, beta, eps), x, gamma, beta, upstream=upstream)


def batchnorm2d_default_eps(x, gamma, beta, upstream, eps=1e-5):
    return batchnorm2d_backward(x, gamma, beta, upstream)  # the eps passed in, ignored


def batchnorm2d_estimate(x, gamma, beta, upstream, eps=1e-5):
    return nudges(lambda x, gamma, beta: (upstream * batchnorm2d(x, gamma, beta, eps)).sum(), 0, 1, 2)(x, gamma, beta)


EXERCISES.append(Exercise(
    module="ch10_convolution", name="batchnorm2d_backward", reference=batchnorm2d_backward,
    inputs=batchnorm2ds(),
    examples=BATCHNORM2D_EXAMPLES,
    domain="x (N, C, H, W) with N 1 to 3, C 1 to 3, H and W 1 to 4 and N·H·W ≥ 2, elements in "
           "[-5, 5]; gamma, beta (C,); upstream of x's shape; eps the default 1e-5 or one of 1e-5, "
           "1e-3, 0.1, 1",
    hint="It is chapter 8's batch norm with one column per channel: every value of a channel, over "
         "the batch and every position, is one row of that batch. Reshape, or sum over dims 0, 2 "
         "and 3 wherever chapter 8 summed over dim 0.",
    more="With M = N·H·W, x̂ over dims (0, 2, 3): dbeta = Σ upstream, dgamma = Σ upstream·x̂ (over "
         "0, 2, 3); dx = gamma / (M·√(σ² + eps)) · (M·upstream - dbeta - x̂·dgamma), gamma, dbeta "
         "and dgamma shaped (1, C, 1, 1).",
    misconceptions=(
        Misconception(PER_POSITION, normalised_over((0,))),
        Misconception(PER_SAMPLE, normalised_over((2, 3))),
        Misconception(UNBIASED, normalised_over((0, 2, 3), unbiased=True)),
        Misconception(CONSTANT_STATS, batchnorm2d_constant_statistics),
        Misconception(BN_AVERAGED, batchnorm2d_sums_over_batch_only(batchnorm2d_backward)),
        Misconception(EPS_IGNORED, batchnorm2d_default_eps),
    ),
    estimate=batchnorm2d_estimate,
    tolerance="accumulated",
    answer_names=("dx", "dgamma", "dbeta"),
))


def cnn_backward(x, w_conv, b_conv, w_fc, b_fc, targets):
    return dict(zip(CNN_KEYS, gradients(lambda *params: cnn_loss(*params, targets), x, w_conv, b_conv, w_fc, b_fc)))


EXERCISES.append(Exercise(
    module="ch10_convolution", name="cnn_backward", reference=cnn_backward,
    inputs=cnns(),
    examples=CNN_EXAMPLES,
    domain="x (N, C, H, W) with N 1 or 2, C 1 or 2, H and W in {2, 4, 6}, uniform in [-2, 2]; "
           "w_conv (F, C, 3, 3) with F 1 to 3, uniform in [-1, 1]; b_conv (F,) in [-0.5, 0.5]; w_fc "
           "(classes, F·H/2·W/2) in [-1, 1] with 2 or 3 classes, b_fc (classes,) in [-0.5, 0.5]; "
           "targets int64 (N,); the worked examples add an input of zeros (pooling ties, relu at 0)",
    hint="Go backwards one machine at a time, reusing your steps: cross-entropy, the linear layer "
         "(on the flattened pooled maps), a 2 × 2 max pooling with stride 2, relu (no gradient where "
         "its input is exactly 0), and conv2d with padding 1.",
    more="dlogits = (softmax(logits) - one_hot) / N; dflat = dlogits @ w_fc, dw_fc = dlogits.T @ flat, "
         "db_fc = dlogits.sum(0); dpooled = dflat reshaped (N, F, H/2, W/2); da = max_pool2d_backward "
         "(the first largest on a tie); dz = da·(z > 0); then conv2d_backward(x, w_conv, b_conv, dz, 1, 1).",
    misconceptions=(
        Misconception(RELU_AT_ZERO, cnn_by_hand(gate=lambda z: z >= 0)),
        Misconception(RELU_FORGOTTEN, cnn_by_hand(gate=lambda z: torch.ones_like(z, dtype=torch.bool))),
        Misconception(TIES, cnn_by_hand(route="ties")),
        Misconception(CNN_EVERY, cnn_by_hand(route="all")),
        Misconception(CNN_MEAN, cnn_by_hand(mean=False)),
        Misconception(FLIPPED, cnn_by_hand(flip=True)),
    ),
    tolerance="accumulated",
    draws=0.25,
    picture=heat_picture("ch10_convolution.cnn_backward", CNN_EXAMPLES[2],
                         (("x[1, 0]", "x", (1, 0)), ("x[0, 0] (all zeros: ties)", "x", (0, 0)),
                          ("w_conv[0, 0]", "w_conv", (0, 0))),
                         "cnn_backward on two samples, one of them all zeros: yours | torch"),
))
