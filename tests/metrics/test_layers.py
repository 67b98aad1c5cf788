"""Tests of deepdual.metrics.layers: numerical rank, layer norms, alignment of consecutive layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepdual import MLP
from deepdual.metrics import LayerNorm, alignment, layer_norms, layer_ranks, numerical_rank


def _orthogonal(n, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def _matrix_with_singular_values(s, shape, rng):
    U = _orthogonal(shape[0], rng)[:, : len(s)]
    Vt = _orthogonal(shape[1], rng)[: len(s)]
    return (U * np.asarray(s)) @ Vt


def test_numerical_rank_counts_singular_values_above_relative_tolerance():
    rng = np.random.default_rng(0)
    s = [10.0, 1.0, 1e-4, 2e-5, 5e-6, 1e-9]
    A = _matrix_with_singular_values(s, (8, 7), rng)
    # thresholds rtol·σ_1 = 1e-5 (default 1e-6 · 10) between 2e-5 and 5e-6.
    assert numerical_rank(A) == 4
    assert numerical_rank(A, rtol=1e-3) == 2
    assert numerical_rank(A, rtol=1.5e-6) == 4
    assert numerical_rank(A, rtol=0.4e-6) == 5
    assert numerical_rank(A.T.astype(np.float32), rtol=1e-3) == 2
    assert numerical_rank(torch.from_numpy(A)) == 4
    assert numerical_rank(np.zeros((3, 4))) == 0


def test_layer_ranks_and_norms_of_constructed_and_network_layers():
    rng = np.random.default_rng(1)
    W1 = _matrix_with_singular_values([3.0], (5, 4), rng)  # rank one
    W2 = _matrix_with_singular_values([2.0, 1.0], (4, 3), rng)
    assert layer_ranks([W1, W2]) == [1, 2]
    n1, n2 = layer_norms([W1, W2])
    assert isinstance(n1, LayerNorm)
    assert n1.operator == pytest.approx(3.0) and n1.frobenius == pytest.approx(3.0)
    assert n2.operator == pytest.approx(2.0) and n2.frobenius == pytest.approx(np.sqrt(5.0))
    net = MLP([3, 6, 2], seed=0)
    mats = net.layer_matrices()
    norms = layer_norms(net)
    assert [x.frobenius for x in norms] == pytest.approx([np.linalg.norm(W) for W in mats])
    assert layer_ranks(net) == [3, 2]  # generic random layers have full rank


def test_alignment_is_one_for_aligned_and_zero_for_orthogonal_layers():
    rng = np.random.default_rng(2)
    a, b, c = rng.standard_normal(5), rng.standard_normal(4), rng.standard_normal(3)
    b_perp = rng.standard_normal(4)
    b_perp -= b_perp @ b / (b @ b) * b
    W1 = np.outer(a, b)  # right singular vector ∝ b
    assert alignment([W1, np.outer(b, c)]) == [pytest.approx(1.0)]
    assert alignment([W1, np.outer(b_perp, c)]) == [pytest.approx(0.0, abs=1e-12)]
    # a 45° rotation of the entry direction gives cos² = 1/2
    e = np.eye(4)
    assert alignment([np.outer(a, e[0]), np.outer(e[0] + e[1], c)]) == [pytest.approx(0.5)]
    # k = 2: subspace span(e0, e1) vs span(e0, e2) -> cos² angles 1 and 0
    A = np.zeros((3, 4))
    A[0, 0], A[1, 1] = 2.0, 1.0
    B = np.zeros((4, 3))
    B[0, 0], B[2, 1] = 2.0, 1.0
    assert alignment([A, B], k=2) == [pytest.approx(0.5)]
    assert alignment([A]) == []


def test_alignment_rejects_bad_input():
    with pytest.raises(ValueError, match="must chain"):
        alignment([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="`k` == 3, must be <= 2"):
        alignment([np.ones((2, 3)), np.ones((3, 2))], k=3)
    with pytest.raises(TypeError, match="list of layer matrices"):
        alignment(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"network_or_matrices\[1\]` must be a 2-D"):
        layer_norms([np.ones((2, 3)), np.ones(3)])


def test_numerical_rank_rejects_bad_tolerance_and_layer_lists():
    with pytest.raises(ValueError, match="`rtol` == -1.0, must be >= 0"):
        numerical_rank(np.eye(2), rtol=-1.0)
    with pytest.raises(ValueError, match="`rtol` == nan, must be finite"):
        layer_ranks([np.eye(2)], rtol=float("nan"))
    with pytest.raises(TypeError, match="`rtol` must be a real number"):
        numerical_rank(np.eye(2), rtol="1e-6")
    with pytest.raises(TypeError, match="must be a network with a layer_matrices\\(\\) method"):
        layer_ranks(3)
