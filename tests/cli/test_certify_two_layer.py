"""``deepdual certify`` of a two-layer ReLU network on any data: the output names the bound and its time."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from torch import nn

import deepdual
from deepdual.cli.certify import run_certify


def _value(out: str, label: str) -> float:
    return float(next(line for line in out.splitlines() if line.startswith(label)).split()[-1])


def _planar(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1] ** 2


def test_convex_optimum_on_2d_data_is_certified_exactly(tmp_path, run_cli):
    X, y = _planar()
    sol = deepdual.convex_relu(X, y, beta=0.05)
    deepdual.save_network(sol.network, tmp_path / "net.pt")
    np.savez(tmp_path / "data.npz", X=X, y=y)
    code, out, err = run_cli(["certify", tmp_path / "net.pt", tmp_path / "data.npz", "--target", "y",
                              "--beta", "0.05"])
    assert code == 0 and err == "", err
    assert _value(out, "relative gap:") <= 1e-7
    assert _value(out, "lower bound:") <= _value(out, "objective:")
    assert "method:      two-layer ReLU dual (SPEC §6, no biases)" in out
    bound = next(line for line in out.splitlines() if line.startswith("bound:"))
    assert "arc sweep" in bound and "exact" in bound
    seconds = next(line for line in out.splitlines() if line.startswith("seconds:"))
    assert "(time budget 1 s)" in seconds and float(seconds.split()[1]) > 0


def test_saved_sequential_with_biases(tmp_path, run_cli):
    """A PyTorch Sequential saved through from_sequential: biases unregularized, certified (lower <= P)."""
    X, y = _planar(seed=1)
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    deepdual.save_network(deepdual.from_sequential(seq), tmp_path / "seq.pt")
    np.savez(tmp_path / "data.npz", X=X, y=y)
    code, out, err = run_cli(["certify", tmp_path / "seq.pt", tmp_path / "data.npz", "--target", "y",
                              "--beta", "0.1"])
    assert code == 0 and err == "", err
    assert "MLP, depth 2, relu, biases" in out and "unregularized biases" in out
    assert _value(out, "lower bound:") <= _value(out, "objective:")
    assert deepdual.objective(seq, X, y, beta=0.1) == pytest.approx(_value(out, "objective:"), rel=1e-11)


def test_time_budget_option_reaches_certify(tmp_path, capsys):
    """Where the parser offers --time-budget, its value is the certificate's budget."""
    X, y = _planar(seed=2)
    deepdual.save_network(deepdual.ParallelNet(2, 1, branches=3, activation="relu", seed=0), tmp_path / "n.pt")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    args = argparse.Namespace(model=str(tmp_path / "n.pt"), data=str(tmp_path / "d.npz"), target="y", beta=0.1,
                              rows="all", time_budget=0.25)
    assert run_certify(args) == 0
    assert "(time budget 0.25 s)" in capsys.readouterr().out
