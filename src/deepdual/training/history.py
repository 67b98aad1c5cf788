"""The record of one training run (:class:`History`) and the error of a diverged one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._io import to_jsonable

__all__ = ["History", "TrainingDivergedError"]


class TrainingDivergedError(ValueError):
    """The objective became NaN or infinite during :func:`~deepdual.training.train`.

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
    """Record of one :func:`~deepdual.training.train` run.

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
            "records": {k: to_jsonable(v) for k, v in self.records.items()},
            "record_epochs": list(self.record_epochs),
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
            "stopped_early": self.stopped_early,
            "settings": to_jsonable(self.settings),
        }
