"""The public :func:`train`: arguments validated once, at the door, then the epoch loop of :mod:`._loop`."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .. import _validation as V
from ..networks import LOSSES, PaperBatchNorm
from ._loop import LR_SCHEDULES, OPTIMIZERS, _Config, _Loop
from .history import History
from .recording import _check_record

__all__ = ["train"]


def train(network: nn.Module, X, Y, *, beta: float, loss: str = "squared", optimizer: str = "sgd",
          lr: float = 1e-2, momentum: float = 0.0, epochs: int = 100, batch_size: int | None = None,
          lr_schedule: str | Callable[[int], float] | None = None, seed: int = 0, device=None,
          record=(), record_every: int = 1, callback: Callable | None = None,
          progress: bool | None = None, tol: float | None = None) -> History:
    """Train ``network`` in place by minimising the regularized objective P(θ) of paper eq. (2).

    .. math::

        P(\\theta) = \\mathcal L(f_\\theta(X), Y) + \\frac{\\beta}{2}\\sum_{j}\\sum_{l}\\|W_{l,j}\\|_F^2,
        \\qquad \\mathcal L = \\tfrac12\\|f_\\theta(X) - Y\\|_F^2 \\ \\text{or}\\
        -\\sum_i \\langle y_i, \\log\\mathrm{softmax}(f_\\theta(x_i))\\rangle .

    The penalty is part of the loss that is differentiated (no optimizer ``weight_decay``); biases
    are not penalized, batch-norm ``γ, α`` are. A mini-batch ``B`` of size ``b`` contributes
    ``(n / b)·L_B + (β/2)·Σ‖W‖²``, an unbiased estimate of P(θ).

    Parameters
    ----------
    network : ParallelNet or MLP
        Trained in place (moved to ``device`` if one is given). Its dtype is kept; float64 by default.
    X : array-like or tensor of shape (n_samples, n_features)
    Y : array-like or tensor of shape (n_samples, n_outputs) or (n_samples,)
        Targets; for ``loss="cross_entropy"`` rows of class probabilities (e.g. one-hot).
    beta : float
        Regularization strength ``β >= 0``.
    loss : {"squared", "cross_entropy"}, default "squared"
        Both are summed over samples.
    optimizer : {"sgd", "adam", "gd", "lbfgs"}, default "sgd"
        ``"sgd"``: torch SGD with ``momentum`` (full batch when ``batch_size`` is None).
        ``"adam"``: torch Adam. ``"gd"``: full-batch plain gradient descent. ``"lbfgs"``: full-batch
        L-BFGS with strong-Wolfe line search, one epoch = one ``step()`` of up to 20 iterations; the
        choice for high precision on small problems (use ``lr=1``).
    lr : float, default 1e-2
        Learning rate (> 0), multiplied by ``lr_schedule(epoch)``.
    momentum : float, default 0.0
        Momentum of ``"sgd"``, in [0, 1); must be 0 for other optimizers.
    epochs : int, default 100
        Number of passes over the data.
    batch_size : int, optional
        Mini-batch size for ``"sgd"``/``"adam"`` (capped at ``n_samples``); None is full batch.
        Batches are reshuffled every epoch with a generator seeded by ``seed``.
    lr_schedule : {"cosine", "step"} or callable, optional
        ``"cosine"``: ``½(1 + cos(π e / epochs))``; ``"step"``: halve every ``epochs // 4`` epochs;
        a callable maps the 0-based epoch index to a multiplier of ``lr``.
    seed : int, default 0
        Seed of the mini-batch shuffling. Runs with the same seed, network initialization and
        machine are bit-identical.
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ... The network and the data are moved there. None: the network's
        device. Data given as tensors must already live on that device.
    record : str, callable or list of them, default ()
        Metrics logged every ``record_every`` epochs, at initialization (epoch 0) and at the end:
        ``"ranks"`` (:func:`deepdual.metrics.layer_ranks`), ``"norms"`` (``layer_norms``),
        ``"alignment"`` (``alignment``), ``"neural_collapse"`` (``neural_collapse`` of the last hidden
        activations, with labels ``argmax Y``, the last layer as classifier and the network's
        predictions; stored with ``dataclasses.asdict``), ``"weights"`` (copies of
        ``network.layer_matrices()``), or ``fn(network, X, Y)`` stored under ``fn.__name__``
        (``X``, ``Y`` as tensors on the training device).
    record_every : int, default 1
    callback : callable, optional
        ``callback(epoch, network, history)`` after every epoch (``epoch`` 1-based; ``history`` a dict
        of the lists recorded so far, to be read, not modified). Returning True stops training.
    progress : bool, optional
        Show a tqdm progress bar. None: only when stderr is a terminal and ``epochs >= 200``.
    tol : float, optional
        Stop when P decreased by less than ``tol`` (relative) over the last 10 epochs.

    Returns
    -------
    History

    Raises
    ------
    TrainingDivergedError
        The objective became NaN or infinite; the parameters are restored to the last finite state.
    ValueError, TypeError
        Invalid arguments (named in the message).

    References
    ----------
    Ergen & Pilanci (2021), eq. (2).

    Examples
    --------
    >>> import numpy as np
    >>> from deepdual import ParallelNet
    >>> from deepdual.training import train
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 3))
    >>> net = ParallelNet(5, 3, branches=8, seed=0)
    >>> hist = train(net, X, Y, beta=0.5, optimizer="lbfgs", lr=1.0, epochs=30)
    >>> hist.final_objective <= hist.initial_objective
    True
    """
    # every argument checked once, here; the loop trusts them
    ref = _check_network(network)
    target = _resolve_device(device, ref, X, Y)
    Xa, Ya = _check_data(network, X, Y, ref.dtype)
    beta = V.check_beta(beta)
    V.check_choice(loss, "loss", LOSSES)
    if loss == "cross_entropy":
        _check_probability_rows(Ya)
    has_batchnorm = any(isinstance(m, PaperBatchNorm) for m in network.modules())
    V.check_choice(optimizer, "optimizer", OPTIMIZERS)
    lr = V.check_scalar(lr, "lr", min_val=0, include_boundaries="right")
    momentum = _check_momentum(momentum, optimizer)
    epochs = V.check_positive_int(epochs, "epochs")
    batch_size = _check_batch_size(batch_size, optimizer, Xa.shape[0], has_batchnorm)
    if lr_schedule is not None and not callable(lr_schedule):
        V.check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    seed = V.check_seed(seed, allow_none=False)
    record_every = V.check_positive_int(record_every, "record_every")
    recorders = _check_record(record, network)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable, got {type(callback).__name__}.")
    tol = V.check_scalar(tol, "tol", min_val=0, include_boundaries="right", allow_none=True)

    # then the loop
    config = _Config(beta=beta, loss=loss, optimizer=optimizer, lr=lr, momentum=momentum, epochs=epochs,
                     batch_size=batch_size, lr_schedule=lr_schedule, seed=seed, device=target, dtype=ref.dtype,
                     recorders=recorders, record_every=record_every, callback=callback,
                     progress=_show_progress(progress, epochs), tol=tol, has_batchnorm=has_batchnorm)
    return _Loop(network, Xa, Ya, config).run()


# ---------------------------------------------------------------------------------------- validation
def _check_network(network) -> torch.Tensor:
    if not isinstance(network, nn.Module):
        raise TypeError(f"`network` must be a deepdual ParallelNet or MLP, got {type(network).__name__}.")
    return V.check_network(network)


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    if a.type == "cuda":
        ia = a.index if a.index is not None else torch.cuda.current_device()
        ib = b.index if b.index is not None else torch.cuda.current_device()
        return ia == ib
    return True


def _resolve_device(device, ref: torch.Tensor, X, Y) -> torch.device:
    """The device training runs on; refuses unavailable CUDA and data tensors elsewhere."""
    if device is None:
        target, source = ref.device, "the network's device"
    else:
        target = V.check_device(device)
        source = "`device`"
    for name, A in (("X", X), ("Y", Y)):
        if isinstance(A, torch.Tensor) and not _same_device(A.device, target):
            raise ValueError(
                f"`{name}` is on device '{A.device}' but training runs on '{target}' ({source}); "
                f"move it with {name}.to('{target}'), pass a NumPy array, or set `device`."
            )
    return target


def _check_data(network, X, Y, dtype=torch.float64) -> tuple[np.ndarray, np.ndarray]:
    """``X``, ``Y`` as float64 arrays of the network's input and output sizes, representable in ``dtype``."""
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    V.check_network_data(network, Xa, Ya)
    if dtype != torch.float64:
        limit = float(torch.finfo(dtype).max)
        for name, A in (("X", Xa), ("Y", Ya)):
            top = float(np.max(np.abs(A)))
            if top > limit / 16:  # room for the first layer's sums
                raise ValueError(
                    f"`{name}` has entries up to {top:.3g}, beyond what the {str(dtype).removeprefix('torch.')} "
                    f"network can hold (max {limit:.3g}); rescale `{name}` or train a float32/float64 network."
                )
    return Xa, Ya


def _check_probability_rows(Y: np.ndarray) -> None:
    if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            "loss='cross_entropy' needs target rows `Y` that are probability vectors (entries >= 0, "
            "each row summing to 1), e.g. one-hot labels."
        )


def _check_momentum(momentum, optimizer: str) -> float:
    momentum = V.check_scalar(momentum, "momentum", min_val=0, max_val=1, include_boundaries="left")
    if momentum and optimizer != "sgd":
        raise ValueError(f"`momentum` == {momentum} is only used by optimizer='sgd' (got {optimizer!r}); leave it 0.")
    return momentum


def _check_batch_size(batch_size, optimizer: str, n_samples: int, has_batchnorm: bool) -> int | None:
    """The mini-batch size, capped at ``n_samples``; None (full batch) stays None."""
    if batch_size is None:
        return None
    batch_size = V.check_positive_int(batch_size, "batch_size")
    if optimizer in ("gd", "lbfgs"):
        raise ValueError(
            f"optimizer={optimizer!r} is full-batch; `batch_size` must be None (got {batch_size}). "
            "Use optimizer='sgd' or 'adam' for mini-batches."
        )
    batch_size = min(batch_size, n_samples)
    if has_batchnorm and batch_size < 2:
        raise ValueError(f"`batch_size` == {batch_size}: batch normalization needs batches of >= 2 samples.")
    return batch_size


def _show_progress(progress, epochs: int) -> bool:
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty()) and epochs >= 200
    return V.check_bool(progress, "progress")
