"""Gradient training of the paper's networks on exactly the objective P(θ) of eq. (2).

:func:`train` minimises

.. math::

    P(\\theta) = \\mathcal L(f_\\theta(X), Y) + \\frac{\\beta}{2}\\sum_j\\sum_l \\|W_{l,j}\\|_F^2

with the penalty written into the loss (never the optimizer's ``weight_decay``), so the objective it
records is the paper's and can be compared with closed forms and certificates. It returns a frozen
:class:`History` record: objective, data loss and penalty after every epoch (evaluated exactly, on
the full batch, in float64) and whatever structure metrics ``record`` asks for.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import _validation as V
from .networks import LOSSES, PaperBatchNorm, data_loss

__all__ = ["train", "History", "TrainingDivergedError", "OPTIMIZERS", "LR_SCHEDULES", "RECORDS"]

#: Optimizers accepted by :func:`train`.
OPTIMIZERS = ("sgd", "adam", "gd", "lbfgs")
#: Named learning-rate schedules accepted by :func:`train` (a callable is accepted too).
LR_SCHEDULES = ("cosine", "step")
#: Named metrics accepted by ``record=`` (a callable is accepted too).
RECORDS = ("ranks", "norms", "alignment", "neural_collapse", "weights")

#: Window (in epochs) of the relative-decrease test behind ``tol``.
TOL_WINDOW = 10
#: Inner iterations of one L-BFGS epoch (one ``optimizer.step()``).
LBFGS_MAX_ITER = 20


class TrainingDivergedError(ValueError):
    """The objective became NaN or infinite during :func:`train`.

    The network's parameters have been restored to the last epoch with a finite objective.

    Attributes
    ----------
    epoch : int
        The (1-based) epoch after which the objective was not finite (0: at initialization).
    lr : float
        The learning rate in use.
    """

    def __init__(self, message: str, *, epoch: int, lr: float):
        super().__init__(message)
        self.epoch = epoch
        self.lr = lr


@dataclass(frozen=True)
class History:
    """Record of one :func:`train` run.

    Attributes
    ----------
    objective, loss, penalty : ndarray of shape (epochs_run,)
        After each epoch, on the full batch, in float64: P(θ) of eq. (2), the data loss
        (``½‖f(X) − Y‖²_F`` or the summed cross-entropy) and ``Σ‖W‖²_F``, so that
        ``objective = loss + beta / 2 * penalty``.
    initial_objective : float
        P(θ) at initialization (before the first epoch).
    records : dict of str to list
        For each name in ``record``, one value per entry of ``record_epochs``.
    record_epochs : list of int
        Epochs at which ``records`` were taken (0 is the initialization).
    epochs_run : int
        Number of epochs completed.
    seconds : float
        Wall-clock duration of the run.
    stopped_early : bool
        True when ``callback`` or ``tol`` ended the run before ``epochs``.
    settings : dict
        The training arguments (JSON-serializable), for experiment records.
    """

    objective: np.ndarray
    loss: np.ndarray
    penalty: np.ndarray
    initial_objective: float
    records: dict[str, list] = field(default_factory=dict)
    record_epochs: list[int] = field(default_factory=list)
    epochs_run: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    settings: dict = field(default_factory=dict)

    @property
    def final_objective(self) -> float:
        """P(θ) after the last epoch (the initial value if no epoch ran)."""
        return float(self.objective[-1]) if self.objective.size else self.initial_objective

    @property
    def best_objective(self) -> float:
        """Smallest P(θ) seen, initialization included."""
        return float(min(self.initial_objective, *self.objective)) if self.objective.size else self.initial_objective

    def to_dict(self) -> dict:
        """A JSON-serializable dict of every field (and the two properties)."""
        return {
            "objective": self.objective.tolist(),
            "loss": self.loss.tolist(),
            "penalty": self.penalty.tolist(),
            "initial_objective": self.initial_objective,
            "final_objective": self.final_objective,
            "best_objective": self.best_objective,
            "records": {k: _jsonable(v) for k, v in self.records.items()},
            "record_epochs": list(self.record_epochs),
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
            "stopped_early": self.stopped_early,
            "settings": _jsonable(self.settings),
        }


def _jsonable(value):
    """Recursively convert arrays, tensors, dataclasses and NumPy scalars to JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # namedtuple
        return _jsonable(value._asdict())
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


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


def _check_float(value, name: str, *, positive: bool = False, allow_none: bool = False):
    if value is None and allow_none:
        return None
    return V.check_beta(value, name, allow_zero=not positive)


def _check_probability_rows(Y: np.ndarray) -> None:
    if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            "loss='cross_entropy' needs target rows `Y` that are probability vectors (entries >= 0, "
            "each row summing to 1), e.g. one-hot labels."
        )


def _record_functions(record, network) -> dict[str, tuple[Callable, bool]]:
    """Map each requested record name to ``(function, is_builtin)``."""
    if record is None:
        return {}
    if isinstance(record, str) or callable(record):
        record = (record,)
    if not isinstance(record, Sequence):
        raise TypeError(
            f"`record` must be a name, a callable or a list of them, got {type(record).__name__}."
        )
    out: dict[str, tuple[Callable, bool]] = {}
    for item in record:
        if isinstance(item, str):
            V.check_choice(item, "record", RECORDS)
            name, fn, builtin = item, _NAMED_RECORDS[item], True
        elif callable(item):
            name = getattr(item, "__name__", None)
            if not isinstance(name, str):
                raise TypeError(f"`record` callable {item!r} has no __name__; wrap it in a named function.")
            fn, builtin = item, False
        else:
            raise TypeError(f"`record` entries must be names or callables, got {type(item).__name__}.")
        if name in out:
            raise ValueError(f"`record` asks for {name!r} twice; names must be unique.")
        if name == "neural_collapse" and getattr(network, "out_features", 2) < 2:
            raise ValueError("`record` asks for 'neural_collapse', which needs K >= 2 output classes.")
        out[name] = (fn, builtin)
    return out


# ---------------------------------------------------------------------------------------- records
def _record_ranks(net, X, Y):
    from .metrics import layer_ranks

    return list(layer_ranks(net))


def _record_norms(net, X, Y):
    from .metrics import layer_norms

    return list(layer_norms(net))


def _record_alignment(net, X, Y):
    from .metrics import alignment

    return [float(a) for a in alignment(net)]


def _record_weights(net, X, Y):
    return [np.array(W, dtype=np.float64, copy=True) for W in net.layer_matrices()]


def _record_neural_collapse(net, X, Y):
    from .metrics import neural_collapse

    H = net.hidden_activations(X)[-1]
    W_last = net.weights[-1]
    if H.dim() == 3:  # ParallelNet: (m, n, 1) -> (n, m); output layer (m, 1, K) -> (m, K)
        H = H.squeeze(-1).transpose(0, 1)
        W_last = W_last.reshape(W_last.shape[0], -1)
    out = net(X)
    nc = neural_collapse(
        H.detach().double().cpu().numpy(),
        Y.argmax(dim=1).cpu().numpy(),
        classifier=W_last.detach().double().cpu().numpy().T,  # rows = classes, (K, p)
        predictions=out.argmax(dim=1).cpu().numpy(),
    )
    return dataclasses.asdict(nc) if dataclasses.is_dataclass(nc) else nc


_NAMED_RECORDS = {
    "ranks": _record_ranks,
    "norms": _record_norms,
    "alignment": _record_alignment,
    "neural_collapse": _record_neural_collapse,
    "weights": _record_weights,
}


# ---------------------------------------------------------------------------------------- helpers
def _schedule(lr_schedule, epochs: int) -> Callable[[int], float]:
    if lr_schedule is None:
        return lambda e: 1.0
    if callable(lr_schedule):
        return lr_schedule
    V.check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    if lr_schedule == "cosine":
        return lambda e: 0.5 * (1.0 + math.cos(math.pi * e / epochs))
    period = max(1, epochs // 4)
    return lambda e: 0.5 ** (e // period)


def _make_optimizer(name: str, params, lr: float, momentum: float):
    if name in ("sgd", "gd"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.LBFGS(params, lr=lr, max_iter=LBFGS_MAX_ITER, line_search_fn="strong_wolfe",
                             tolerance_grad=1e-12, tolerance_change=1e-14, history_size=20)


def _has_batchnorm(network: nn.Module) -> bool:
    return any(isinstance(m, PaperBatchNorm) for m in network.modules())


def _snapshot(network: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def _show_progress(progress, epochs: int) -> bool:
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty()) and epochs >= 200
    return bool(progress)


# ---------------------------------------------------------------------------------------- train
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
    # ---- validation (once, at entry)
    ref = _check_network(network)
    target = _resolve_device(device, ref, X, Y)
    Xa = V.check_array(X, "X")
    Ya = V.check_targets(Y, Xa.shape[0])
    n = Xa.shape[0]
    if Xa.shape[1] != network.in_features:
        raise ValueError(f"`X` has {Xa.shape[1]} features but the network expects {network.in_features}.")
    if Ya.shape[1] != network.out_features:
        raise ValueError(f"`Y` has {Ya.shape[1]} columns but the network has {network.out_features} outputs.")
    beta = V.check_beta(beta)
    V.check_choice(loss, "loss", LOSSES)
    if loss == "cross_entropy":
        _check_probability_rows(Ya)
    V.check_choice(optimizer, "optimizer", OPTIMIZERS)
    lr = _check_float(lr, "lr", positive=True)
    momentum = _check_float(momentum, "momentum")
    if momentum >= 1:
        raise ValueError(f"`momentum` == {momentum}, must be < 1.")
    if momentum and optimizer != "sgd":
        raise ValueError(f"`momentum` == {momentum} is only used by optimizer='sgd' (got {optimizer!r}); leave it 0.")
    epochs = V.check_positive_int(epochs, "epochs")
    if batch_size is not None:
        batch_size = V.check_positive_int(batch_size, "batch_size")
        if optimizer in ("gd", "lbfgs"):
            raise ValueError(
                f"optimizer={optimizer!r} is full-batch; `batch_size` must be None (got {batch_size}). "
                "Use optimizer='sgd' or 'adam' for mini-batches."
            )
        batch_size = min(batch_size, n)
    has_bn = _has_batchnorm(network)
    if has_bn and batch_size is not None and batch_size < 2:
        raise ValueError(f"`batch_size` == {batch_size}: batch normalization needs batches of >= 2 samples.")
    if lr_schedule is not None and not callable(lr_schedule):
        V.check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    seed = V.check_positive_int(seed, "seed", minimum=0)
    record_every = V.check_positive_int(record_every, "record_every")
    recorders = _record_functions(record, network)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable, got {type(callback).__name__}.")
    tol = _check_float(tol, "tol", positive=True, allow_none=True)

    settings = {
        "beta": beta, "loss": loss, "optimizer": optimizer, "lr": lr, "momentum": momentum,
        "epochs": epochs, "batch_size": batch_size,
        "lr_schedule": lr_schedule if lr_schedule is None or isinstance(lr_schedule, str)
        else getattr(lr_schedule, "__name__", "callable"),
        "seed": seed, "device": str(target), "record": list(recorders), "record_every": record_every,
        "tol": tol, "dtype": str(ref.dtype).replace("torch.", ""),
    }

    # ---- data and network on the device
    network.to(target)
    dtype = ref.dtype
    X64 = torch.as_tensor(Xa, dtype=torch.float64, device=target)
    Y64 = torch.as_tensor(Ya, dtype=torch.float64, device=target)
    Xt, Yt = (X64, Y64) if dtype == torch.float64 else (X64.to(dtype), Y64.to(dtype))
    # float64 evaluation: the network itself, or a float64 shadow synchronized every epoch.
    shadow = None if dtype == torch.float64 else copy.deepcopy(network).to(torch.float64)
    was_training = network.training
    network.train()
    if shadow is not None:
        shadow.train()

    def evaluate() -> tuple[float, float, float]:
        net = network
        if shadow is not None:
            shadow.load_state_dict(network.state_dict())
            net = shadow
        with torch.no_grad():
            data = float(data_loss(net(X64), Y64, loss))
            pen = float(net.penalty())
        return data, pen, data + 0.5 * beta * pen

    def take_records(epoch: int) -> None:
        if not recorders:
            return
        net64 = network if shadow is None else shadow  # synchronized by the evaluate() just before
        # fork_rng: metrics must not touch the caller's global RNG (ParallelNet.to_mlp() reseeds it).
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            for name, (fn, builtin) in recorders.items():
                if builtin:  # float64 metrics
                    records[name].append(fn(net64, X64, Y64))
                else:  # user callables see the network being trained and its data
                    records[name].append(fn(network, Xt, Yt))
        record_epochs.append(epoch)

    multiplier = _schedule(lr_schedule, epochs)
    params = [p for p in network.parameters() if p.requires_grad]
    opt = _make_optimizer(optimizer, params, lr, momentum)
    gen = torch.Generator()
    gen.manual_seed(seed)

    def lbfgs_closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        value = data_loss(network(Xt), Yt, loss) + 0.5 * beta * network.penalty()
        value.backward()
        return value

    objective: list[float] = []
    losses: list[float] = []
    penalties: list[float] = []
    records: dict[str, list] = {name: [] for name in recorders}
    record_epochs: list[int] = []
    live = {"objective": objective, "loss": losses, "penalty": penalties,
            "records": records, "record_epochs": record_epochs}

    def diverged(epoch: int, value: float, current_lr: float, good: dict | None):
        if good is not None:
            network.load_state_dict(good)
        network.train(was_training)
        where = "at initialization" if epoch == 0 else f"at epoch {epoch}"
        restored = f" Parameters restored to epoch {epoch - 1}." if good is not None else ""
        other = " or use optimizer='lbfgs'" if optimizer != "lbfgs" else ""
        return TrainingDivergedError(
            f"Training diverged {where}: the objective P(θ) became {value} with lr={current_lr:g}. "
            f"Lower `lr` (e.g. lr={current_lr / 10:g}){other}.{restored}",
            epoch=epoch, lr=current_lr,
        )

    start = time.perf_counter()
    _, _, initial = evaluate()
    if not math.isfinite(initial):
        raise diverged(0, initial, lr, None)
    take_records(0)
    state = {"good": _snapshot(network), "stopped": False, "last": 0}

    def end_of_epoch(epoch: int, data: float, pen: float, current_lr: float) -> bool:
        """Store the full-batch values after ``epoch``; True when training must stop."""
        obj = data + 0.5 * beta * pen
        if not math.isfinite(obj):
            raise diverged(epoch, obj, current_lr, state["good"])
        state["good"] = _snapshot(network)
        state["last"] = epoch
        objective.append(obj)
        losses.append(data)
        penalties.append(pen)
        if bar is not None:
            bar.update(1)
            if epoch % max(1, epochs // 100) == 0:
                bar.set_postfix(objective=f"{obj:.6g}", refresh=False)
        if epoch % record_every == 0:
            take_records(epoch)
        stop = False
        if callback is not None:
            answer = callback(epoch, network, live)
            stop = isinstance(answer, (bool, np.bool_)) and bool(answer)
        if not stop and tol is not None and epoch > TOL_WINDOW:
            old = objective[-TOL_WINDOW - 1]
            stop = (old - obj) <= tol * max(abs(old), np.finfo(np.float64).tiny)
        state["stopped"] = stop and epoch < epochs
        return stop

    # Full-batch first-order steps on a float64 network reuse the step's own forward pass as the
    # exact evaluation of the previous epoch (same values, one forward pass fewer per epoch).
    fused = optimizer != "lbfgs" and batch_size is None and shadow is None
    bar = None
    if _show_progress(progress, epochs):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="train", unit="epoch", file=sys.stderr, leave=False)
    try:
        with torch.enable_grad():
            previous_lr = lr
            for epoch in range(1, epochs + 1):
                factor = multiplier(epoch - 1)
                if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)) \
                        or not math.isfinite(factor) or factor < 0:
                    raise ValueError(f"`lr_schedule` returned {factor!r} for epoch index {epoch - 1}; "
                                     "it must return a finite number >= 0.")
                current_lr = lr * float(factor)
                for group in opt.param_groups:
                    group["lr"] = current_lr
                if fused:
                    opt.zero_grad(set_to_none=True)
                    data_t = data_loss(network(Xt), Yt, loss)
                    pen_t = network.penalty()
                    if epoch > 1 and end_of_epoch(epoch - 1, data_t.item(), pen_t.item(), previous_lr):
                        break
                    (data_t + 0.5 * beta * pen_t).backward()
                    opt.step()
                    if epoch == epochs:
                        end_of_epoch(epoch, *evaluate()[:2], current_lr)
                    previous_lr = current_lr
                    continue
                if optimizer == "lbfgs":
                    opt.step(lbfgs_closure)
                else:
                    batches = list(torch.randperm(n, generator=gen).to(target).split(batch_size))
                    if has_bn and len(batches) > 1 and batches[-1].numel() < 2:
                        batches[-2:] = [torch.cat(batches[-2:])]
                    for idx in batches:
                        opt.zero_grad(set_to_none=True)
                        value = data_loss(network(Xt[idx]), Yt[idx], loss) * (n / idx.numel())
                        (value + 0.5 * beta * network.penalty()).backward()
                        opt.step()
                if end_of_epoch(epoch, *evaluate()[:2], current_lr):
                    break
    except BaseException:
        network.train(was_training)
        raise
    finally:
        if bar is not None:
            bar.close()
    epoch, stopped_early = state["last"], state["stopped"]
    if recorders and (not record_epochs or record_epochs[-1] != epoch):
        take_records(epoch)
    # BatchNorm buffers hold the full-batch statistics of X after evaluate(); copy them from the shadow.
    if shadow is not None:
        with torch.no_grad():
            network(Xt)
    network.train(was_training)

    arrays = [np.asarray(a, dtype=np.float64) for a in (objective, losses, penalties)]
    for a in arrays:
        a.flags.writeable = False
    return History(objective=arrays[0], loss=arrays[1], penalty=arrays[2], initial_objective=initial,
                   records=records, record_epochs=record_epochs, epochs_run=epoch,
                   seconds=time.perf_counter() - start, stopped_early=stopped_early, settings=settings)
