"""Linus's chapter 1: lets torch do the work, and steps to one side only."""
import torch


def scale_sensitivity(x, k):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (k * t).backward()
    return t.grad.item()


def numeric_sensitivity(f, x, h=1e-5):
    return (f(x + h) - f(x)) / h
