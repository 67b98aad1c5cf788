"""Batch normalization before the last ReLU (Theorem 4.4) and neural collapse (Corollary 4.3).

With the paper's batch normalization ``BN(h) = γ (I − 11ᵀ/n)h / ‖(I − 11ᵀ/n)h‖ + α 1/√n``, a unit
whose input ``A_{L−2} w`` can reach any direction (``range(A_{L−2}) = Rⁿ``) outputs *any* vector of
norm ``√(γ² + α²)``: the last two layers act like a two-layer ReLU network on whitened data, and the
optimum puts branch ``k`` on the normalized labels ``y_k/‖y_k‖``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .. import _validation as V
from ..duality.relu import relu_dual_bound
from ..networks import forward_numpy
from ..solution import Solution
from ._build import finish, required_branches

__all__ = ["batchnorm_closed_form", "last_hidden_class_means"]

#: Target share of the objective left to the layers before BN when ``regularize="all"``.
ALL_LAYERS_SLACK = 1e-12


def _preceding_activations(net, Xt: torch.Tensor) -> torch.Tensor:
    """``A_{L−2}`` of every branch, shape ``(m, n, m_{L−2})`` (``X`` broadcast for ``L = 2``)."""
    with torch.no_grad():
        if net.depth == 2:
            return Xt.expand(net.branches, *Xt.shape)
        return net.hidden_activations(Xt)[-2]


def batchnorm_closed_form(network, X, Y, *, beta: float) -> Solution:
    """Optimal last two layers of a ReLU network with batch normalization (Theorem 4.4).

    Keeps the layers before ``w_{L−1}`` of ``network`` (a ``ParallelNet`` with ``batchnorm=True``,
    ``activation="relu"`` and at least ``K`` branches) and sets, for class ``k`` on branch ``k``,

    .. math::

        w_{L-1,k} = A_{L-2,k}^{+} y_k,\\quad
        (\\gamma_k, \\alpha_k)
        = \\sqrt{s_k}\\,\\frac{(\\|y_k - \\bar y_k 1\\|,\\ \\sqrt n\\,\\bar y_k)}{\\|y_k\\|},\\quad
        w_{L,k} = \\sqrt{s_k}\\, e_k^T,\\quad s_k = (\\|y_k\\| - \\beta)_+ ,

    so the BN output of branch ``k`` is ``√s_k y_k/‖y_k‖`` and the network output's column ``k`` is
    ``s_k y_k/‖y_k‖``. With ``network.regularize == "last"`` (γ, α and ``w_L`` regularized, as in the
    theorem) the optimum is ``Σ_k ½(‖y_k‖ − s_k)² + β s_k``. With ``"all"`` (footnote 7) the same value
    is the infimum, approached by shrinking every layer before BN (BN removes their scale): the
    returned network is within ``1e-12`` relative of it and ``details["attained"]`` is False.

    Parameters
    ----------
    network : ParallelNet
        Supplies the architecture and the layers before the last hidden unit (copied, not modified).
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_classes)
        One-hot labels.
    beta : float

    Returns
    -------
    Solution
        ``lower_bound`` is the batch-norm relaxation bound of :func:`deepdual.certify`.

    Raises
    ------
    ValueError
        If ``Y`` is not one-hot, the network has fewer than ``K`` branches, or some ``y_k`` is not
        reachable: ``(I − 11ᵀ/n)y_k ∉ (I − 11ᵀ/n) range(A_{L−2,k})`` (needs ``m_{L−2} >= n``).

    References
    ----------
    Ergen & Pilanci (2021), Theorem 4.4, footnote 7, Corollary 4.3.
    """
    from ..networks import ParallelNet

    if not isinstance(network, ParallelNet) or not network.batchnorm or network.activation != "relu":
        raise ValueError("`network` must be a ParallelNet with batchnorm=True and activation='relu' (Theorem 4.4).")
    V.check_network(network)  # weights on a real device, all finite
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    beta = V.check_beta(beta, allow_zero=False)
    V.check_one_hot(Ya, theorem="Theorem 4.4")
    if Xa.shape[1] != network.in_features or Ya.shape[1] != network.out_features:
        raise ValueError(f"`X`/`Y` have shapes {Xa.shape}/{Ya.shape}; the network maps {network.in_features} "
                         f"features to {network.out_features} outputs.")
    n, K = Ya.shape
    m = required_branches(K, network.branches)
    net = copy.deepcopy(network).double()
    weights = [w.detach().numpy().copy() for w in net.weights]
    all_layers = net.regularize == "all"
    norms_y = np.linalg.norm(Ya, axis=0)
    amps = np.maximum(norms_y - beta, 0.0)
    optimum = float(np.sum(0.5 * np.minimum(norms_y, beta) ** 2 + beta * amps))  # σ − (σ − β)₊ = min(σ, β)
    if all_layers and net.depth > 2:
        pre = sum(float(np.sum(w**2)) for w in weights[:-2])
        if pre > 0:
            eps = np.sqrt(ALL_LAYERS_SLACK * max(optimum, 1.0) / (2.0 * beta * pre))
            for w in weights[:-2]:
                w *= min(eps, 1.0)
    net.set_weights(weights)
    A = _preceding_activations(net, torch.as_tensor(Xa)).numpy()
    center = np.eye(n) - 1.0 / n
    w_last = np.zeros_like(weights[-2])
    gamma = np.zeros(m)
    alpha = np.zeros(m)
    w_out = np.zeros_like(weights[-1])
    for k in range(K):
        yk = Ya[:, k]
        w = np.linalg.pinv(A[k]) @ yk
        reach = center @ (A[k] @ w - yk)
        target = center @ yk
        if np.linalg.norm(target) == 0 or np.linalg.norm(reach) > 1e-8 * max(np.linalg.norm(yk), 1.0):
            raise V.NoClosedFormError(
                f"Theorem 4.4 needs range(A_(L-2)) = Rⁿ so that class {k} can be reached; branch {k}'s "
                f"activations before BN have rank {np.linalg.matrix_rank(A[k])} < n = {n}. Widen the layer "
                "before batch normalization (at least n units) or use fewer samples."
            )
        if all_layers:
            w *= np.sqrt(ALL_LAYERS_SLACK * max(optimum, 1.0) / (beta * K)) / max(np.linalg.norm(w), 1e-300)
        w_last[k] = w.reshape(w_last[k].shape)
        scale = np.sqrt(amps[k]) / norms_y[k]
        gamma[k] = scale * np.linalg.norm(target)
        alpha[k] = scale * np.sqrt(n) * yk.mean()
        w_out[k, 0, k] = np.sqrt(amps[k])
    weights[-2] = w_last
    weights[-1] = w_out
    net.set_weights(weights, gamma=gamma, alpha=alpha)
    lower, _ = relu_dual_bound(Ya - forward_numpy(net.train(), Xa), np.eye(n), Ya, beta, x_norm=1.0)
    return finish(net, Xa, Ya, beta=beta, depth=net.depth, activation="relu", theorem="Theorem 4.4",
                  optimum=optimum, lower_bound=lower,
                  details={"class_norms": norms_y.tolist(), "amplitudes": amps.tolist(),
                           "regularize": net.regularize, "attained": not all_layers})


def last_hidden_class_means(network, X, labels) -> tuple[np.ndarray, np.ndarray]:
    """Last-hidden activations and their globally centered class means (Corollary 4.3).

    Parameters
    ----------
    network : ParallelNet or MLP
    X : array-like of shape (n_samples, n_features)
    labels : array-like of int of shape (n_samples,)

    Returns
    -------
    H : ndarray of shape (n_samples, n_units)
        ``A_{L−1}`` (for a ``ParallelNet`` one column per branch), float64.
    means : ndarray of shape (n_classes, n_units)
        Class means minus the global mean of ``H`` (Papyan et al., 2020). For the Theorem 4.4 network
        on balanced classes these are the columns of a simplex ETF (Corollary 4.3).
    """
    Xa = V.check_array(X, "X")
    lab = np.asarray(labels)
    if lab.shape != (Xa.shape[0],):
        raise ValueError(f"`labels` has shape {lab.shape}; expected ({Xa.shape[0]},).")
    ref = next(network.parameters())
    with torch.no_grad():
        A = network.hidden_activations(torch.as_tensor(Xa, dtype=ref.dtype))[-1]
    H = A.detach().cpu().double().numpy()
    if H.ndim == 3:  # ParallelNet: (m, n, 1) -> (n, m)
        H = H[:, :, 0].T
    classes = np.unique(lab)
    means = np.stack([H[lab == c].mean(axis=0) for c in classes]) - H.mean(axis=0)
    return H, means
