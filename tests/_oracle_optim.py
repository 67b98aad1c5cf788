"""The oracle tests' own optimizer (independent of deepdual.train): Adam, then restarted L-BFGS."""

from __future__ import annotations

import contextlib
import math

import torch


@contextlib.contextmanager
def one_thread():
    """Tiny tensors: threading only adds overhead."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def adam_then_lbfgs(params, per_seed, *, lr, adam_steps, lbfgs_iter, lbfgs_restarts):
    """Minimize ``per_seed().sum()`` over ``params``: Adam with a 100-fold decaying learning rate,
    then L-BFGS (strong Wolfe) restarted with a fresh history after each stall at a ReLU kink."""
    with one_thread():
        opt = torch.optim.Adam(params, lr=lr)
        decay = (1e-2) ** (1.0 / max(adam_steps, 1))
        for _ in range(adam_steps):
            opt.zero_grad()
            per_seed().sum().backward()
            opt.step()
            for group in opt.param_groups:
                group["lr"] *= decay
        prev = math.inf
        for _ in range(lbfgs_restarts):
            opt = torch.optim.LBFGS(params, lr=1.0, max_iter=lbfgs_iter, history_size=50, tolerance_grad=1e-14,
                                    tolerance_change=1e-13, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = per_seed().sum()
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                val = float(per_seed().sum())
            if val >= prev - 1e-14 * abs(val):
                break
            prev = val
