"""The epoch loop behind :func:`~deepdual.training.train`, its state held in one object.

:class:`_Loop` owns everything one run changes as it goes — the optimizer, the float64 evaluation
network, the per-epoch values, the records, the last finite snapshot of the parameters — so that
every step (evaluate, record, L-BFGS closure, divergence, end of epoch) is a method reading that
state explicitly. Its input is a :class:`_Config` of arguments already validated by ``train()``;
nothing here checks user input again (except what only shows during the run: the values returned
by a user's ``lr_schedule``).
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..networks import data_loss
from .history import History, TrainingDivergedError

#: Optimizers accepted by :func:`~deepdual.training.train`.
OPTIMIZERS = ("sgd", "adam", "gd", "lbfgs")
#: Named learning-rate schedules accepted by :func:`~deepdual.training.train` (a callable is accepted too).
LR_SCHEDULES = ("cosine", "step")

#: Window (in epochs) of the relative-decrease test behind ``tol``.
TOL_WINDOW = 10
#: Inner iterations of one L-BFGS epoch (one ``optimizer.step()``).
LBFGS_MAX_ITER = 20


@dataclass(frozen=True)
class _Config:
    """The validated arguments of one ``train()`` call."""

    beta: float
    loss: str
    optimizer: str
    lr: float
    momentum: float
    epochs: int
    batch_size: int | None
    lr_schedule: str | Callable[[int], float] | None
    seed: int
    device: torch.device
    dtype: torch.dtype
    recorders: dict[str, tuple[Callable, bool]]
    record_every: int
    callback: Callable | None
    progress: bool
    tol: float | None
    has_batchnorm: bool

    def settings(self) -> dict:
        """The training arguments as JSON types, for :attr:`History.settings`."""
        schedule = self.lr_schedule
        if schedule is not None and not isinstance(schedule, str):
            schedule = getattr(schedule, "__name__", "callable")
        return {
            "beta": self.beta, "loss": self.loss, "optimizer": self.optimizer, "lr": self.lr,
            "momentum": self.momentum, "epochs": self.epochs, "batch_size": self.batch_size,
            "lr_schedule": schedule, "seed": self.seed, "device": str(self.device),
            "record": list(self.recorders), "record_every": self.record_every, "tol": self.tol,
            "dtype": str(self.dtype).replace("torch.", ""),
        }


def _schedule(lr_schedule, epochs: int) -> Callable[[int], float]:
    """The multiplier of ``lr`` as a function of the 0-based epoch index."""
    if lr_schedule is None:
        return lambda e: 1.0
    if callable(lr_schedule):
        return lr_schedule
    if lr_schedule == "cosine":
        return lambda e: 0.5 * (1.0 + math.cos(math.pi * e / epochs))
    period = max(1, epochs // 4)
    return lambda e: 0.5 ** (e // period)


def _make_optimizer(name: str, params, lr: float, momentum: float) -> torch.optim.Optimizer:
    if name in ("sgd", "gd"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        # Adam's eps = 1e-8 is 0 in float16 (smallest normal 6.1e-5): a zero second moment then divides by 0
        eps = max(1e-8, float(torch.finfo(params[0].dtype).tiny)) if params else 1e-8
        return torch.optim.Adam(params, lr=lr, eps=eps)
    return torch.optim.LBFGS(params, lr=lr, max_iter=LBFGS_MAX_ITER, line_search_fn="strong_wolfe",
                             tolerance_grad=1e-12, tolerance_change=1e-14, history_size=20)


def _snapshot(network: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


class _Loop:
    """One training run of ``network`` on validated float64 data ``X``, ``Y`` (NumPy arrays).

    Construction moves the network and the data to the device and puts the network in training
    mode; :meth:`run` trains and returns the :class:`History`, restoring the network's mode however
    it ends.
    """

    def __init__(self, network: nn.Module, X: np.ndarray, Y: np.ndarray, config: _Config):
        self.network, self.config = network, config
        self.n_samples = X.shape[0]
        network.to(config.device)
        self.X64 = torch.as_tensor(X, dtype=torch.float64, device=config.device)
        self.Y64 = torch.as_tensor(Y, dtype=torch.float64, device=config.device)
        if config.dtype == torch.float64:
            self.Xt, self.Yt = self.X64, self.Y64
        else:
            self.Xt, self.Yt = self.X64.to(config.dtype), self.Y64.to(config.dtype)
        # float64 evaluation: the network itself, or a float64 shadow synchronized every epoch.
        self.shadow = None if config.dtype == torch.float64 else copy.deepcopy(network).to(torch.float64)
        self.was_training = network.training
        network.train()
        if self.shadow is not None:
            self.shadow.train()

        self.multiplier = _schedule(config.lr_schedule, config.epochs)
        params = [p for p in network.parameters() if p.requires_grad]
        self.opt = _make_optimizer(config.optimizer, params, config.lr, config.momentum)
        self.gen = torch.Generator()
        self.gen.manual_seed(config.seed)
        # Full-batch first-order steps on a float64 network reuse the step's own forward pass as the
        # exact evaluation of the previous epoch (same values, one forward pass fewer per epoch).
        self.fused = config.optimizer != "lbfgs" and config.batch_size is None and self.shadow is None

        self.objective: list[float] = []
        self.losses: list[float] = []
        self.penalties: list[float] = []
        self.records: dict[str, list] = {name: [] for name in config.recorders}
        self.record_epochs: list[int] = []
        # What a callback sees: the lists above, filled as training goes.
        self.live = {"objective": self.objective, "loss": self.losses, "penalty": self.penalties,
                     "records": self.records, "record_epochs": self.record_epochs}
        self.good: dict[str, torch.Tensor] | None = None  # parameters after the last finite epoch
        self.last_epoch = 0
        self.stopped_early = False
        self.bar = None

    # ------------------------------------------------------------------------------ measurements
    def evaluate(self) -> tuple[float, float, float]:
        """Data loss, penalty and P(θ) on the full batch, in float64."""
        net = self.network
        if self.shadow is not None:
            self.shadow.load_state_dict(self.network.state_dict())
            net = self.shadow
        with torch.no_grad():
            data = float(data_loss(net(self.X64), self.Y64, self.config.loss))
            pen = float(net.penalty())
        return data, pen, data + 0.5 * self.config.beta * pen

    def take_records(self, epoch: int) -> None:
        """Append every requested record, taken now, under ``epoch``."""
        if not self.config.recorders:
            return
        net64 = self.network if self.shadow is None else self.shadow  # synchronized by the last evaluate()
        # fork_rng: metrics must not touch the caller's global RNG (ParallelNet.to_mlp() reseeds it).
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            for name, (fn, builtin) in self.config.recorders.items():
                if builtin:  # float64 metrics
                    self.records[name].append(fn(net64, self.X64, self.Y64))
                else:  # user callables see the network being trained and its data
                    self.records[name].append(fn(self.network, self.Xt, self.Yt))
        self.record_epochs.append(epoch)

    # ------------------------------------------------------------------------------ steps
    def _lbfgs_closure(self) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=True)
        cfg, net = self.config, self.network
        value = data_loss(net(self.Xt), self.Yt, cfg.loss) + 0.5 * cfg.beta * net.penalty()
        value.backward()
        return value

    def _minibatch_steps(self) -> None:
        """One pass over the data in shuffled mini-batches (full batch when ``batch_size`` is None)."""
        cfg, net, n = self.config, self.network, self.n_samples
        size = n if cfg.batch_size is None else cfg.batch_size
        batches = list(torch.randperm(n, generator=self.gen).to(cfg.device).split(size))
        if cfg.has_batchnorm and len(batches) > 1 and batches[-1].numel() < 2:
            batches[-2:] = [torch.cat(batches[-2:])]
        for idx in batches:
            self.opt.zero_grad(set_to_none=True)
            value = data_loss(net(self.Xt[idx]), self.Yt[idx], cfg.loss) * (n / idx.numel())
            (value + 0.5 * cfg.beta * net.penalty()).backward()
            self.opt.step()

    def _fused_epoch(self, epoch: int, lr: float, previous_lr: float) -> bool:
        """One full-batch step whose forward pass also evaluates epoch ``epoch − 1``; True to stop."""
        cfg, net = self.config, self.network
        self.opt.zero_grad(set_to_none=True)
        data = data_loss(net(self.Xt), self.Yt, cfg.loss)
        pen = net.penalty()
        if epoch > 1 and self._end_of_epoch(epoch - 1, data.item(), pen.item(), previous_lr):
            return True
        (data + 0.5 * cfg.beta * pen).backward()
        self.opt.step()
        if epoch == cfg.epochs:
            self._end_of_epoch(epoch, *self.evaluate()[:2], lr)
        return False

    def _set_lr(self, epoch: int) -> float:
        """Set and return the learning rate of (1-based) ``epoch``."""
        factor = self.multiplier(epoch - 1)
        if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)) \
                or not math.isfinite(factor) or factor < 0:
            raise ValueError(f"`lr_schedule` returned {factor!r} for epoch index {epoch - 1}; "
                             "it must return a finite number >= 0.")
        lr = self.config.lr * float(factor)
        for group in self.opt.param_groups:
            group["lr"] = lr
        return lr

    # ------------------------------------------------------------------------------ bookkeeping
    def _diverged(self, epoch: int, value: float, lr: float) -> TrainingDivergedError:
        """Restore the last finite parameters and the network's mode; the error to raise."""
        if self.good is not None:
            self.network.load_state_dict(self.good)
        self.network.train(self.was_training)
        if epoch == 0:  # before any step: the scale of the data, β or the weights, not the learning rate
            return TrainingDivergedError(
                f"Training diverged at initialization: the objective P(θ) became {value} with lr={lr:g}, before "
                "any step: it overflows float64 at this scale; rescale `X` and `Y` towards 1, lower `beta`, or "
                "initialize the network with a smaller init_scale.",
                epoch=epoch, lr=lr,
            )
        restored = f" Parameters restored to epoch {epoch - 1}." if self.good is not None else ""
        other = " or use optimizer='lbfgs'" if self.config.optimizer != "lbfgs" else ""
        return TrainingDivergedError(
            f"Training diverged at epoch {epoch}: the objective P(θ) became {value} with lr={lr:g}. "
            f"Lower `lr` (e.g. lr={lr / 10:g}){other}.{restored}",
            epoch=epoch, lr=lr,
        )

    def _end_of_epoch(self, epoch: int, data: float, pen: float, lr: float) -> bool:
        """Store the full-batch values after ``epoch``; True when training must stop."""
        cfg = self.config
        obj = data + 0.5 * cfg.beta * pen
        if not math.isfinite(obj):
            raise self._diverged(epoch, obj, lr)
        self.good = _snapshot(self.network)
        self.last_epoch = epoch
        self.objective.append(obj)
        self.losses.append(data)
        self.penalties.append(pen)
        if self.bar is not None:
            self.bar.update(1)
            if epoch % max(1, cfg.epochs // 100) == 0:
                self.bar.set_postfix(objective=f"{obj:.6g}", refresh=False)
        if epoch % cfg.record_every == 0:
            self.take_records(epoch)
        stop = False
        if cfg.callback is not None:
            answer = cfg.callback(epoch, self.network, self.live)
            stop = isinstance(answer, (bool, np.bool_)) and bool(answer)
        if not stop and cfg.tol is not None and epoch > TOL_WINDOW:
            old = self.objective[-TOL_WINDOW - 1]
            stop = (old - obj) <= cfg.tol * max(abs(old), np.finfo(np.float64).tiny)
        self.stopped_early = stop and epoch < cfg.epochs
        return stop

    # ------------------------------------------------------------------------------ the run
    def _epochs(self) -> None:
        previous_lr = self.config.lr
        for epoch in range(1, self.config.epochs + 1):
            lr = self._set_lr(epoch)
            if self.fused:
                if self._fused_epoch(epoch, lr, previous_lr):
                    break
                previous_lr = lr
                continue
            if self.config.optimizer == "lbfgs":
                self.opt.step(self._lbfgs_closure)
            else:
                self._minibatch_steps()
            if self._end_of_epoch(epoch, *self.evaluate()[:2], lr):
                break

    def run(self) -> History:
        """Train for ``epochs`` (or until stopped); the network keeps its final parameters."""
        cfg, network = self.config, self.network
        start = time.perf_counter()
        _, _, initial = self.evaluate()
        if not math.isfinite(initial):
            raise self._diverged(0, initial, cfg.lr)
        self.take_records(0)
        self.good = _snapshot(network)
        if cfg.progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=cfg.epochs, desc="train", unit="epoch", file=sys.stderr, leave=False)
        try:
            with torch.enable_grad():
                self._epochs()
        except BaseException:
            network.train(self.was_training)
            raise
        finally:
            if self.bar is not None:
                self.bar.close()

        epoch = self.last_epoch
        if cfg.recorders and (not self.record_epochs or self.record_epochs[-1] != epoch):
            self.take_records(epoch)
        # BatchNorm buffers hold the full-batch statistics of X after evaluate(); copy them from the shadow.
        if self.shadow is not None:
            with torch.no_grad():
                network(self.Xt)
        network.train(self.was_training)
        arrays = [np.asarray(a, dtype=np.float64) for a in (self.objective, self.losses, self.penalties)]
        for a in arrays:
            a.flags.writeable = False
        return History(objective=arrays[0], loss=arrays[1], penalty=arrays[2], initial_objective=initial,
                       records=self.records, record_epochs=self.record_epochs, epochs_run=epoch,
                       seconds=time.perf_counter() - start, stopped_early=self.stopped_early,
                       settings=cfg.settings())
