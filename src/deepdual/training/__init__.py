"""Gradient training of the paper's networks on exactly the objective P(θ) of eq. (2).

:func:`train` minimises

.. math::

    P(\\theta) = \\mathcal L(f_\\theta(X), Y) + \\frac{\\beta}{2}\\sum_j\\sum_l \\|W_{l,j}\\|_F^2

with the penalty written into the loss (never the optimizer's ``weight_decay``), so the objective it
records is the paper's and can be compared with closed forms and certificates. It returns a frozen
:class:`History` record: objective, data loss and penalty after every epoch (evaluated exactly, on
the full batch, in float64) and whatever structure metrics ``record`` asks for.

Modules
-------
history
    :class:`History` and :class:`TrainingDivergedError`.
recording
    The metrics ``record=`` accepts (:data:`RECORDS`).
_train (private)
    :func:`train`: every argument validated once, at the door, then the loop. Private so that
    ``deepdual.training.train`` is only ever the function, never a module.
_loop (private)
    The epoch loop, its state held in one object.
"""

from __future__ import annotations

from ._loop import LBFGS_MAX_ITER as LBFGS_MAX_ITER
from ._loop import LR_SCHEDULES, OPTIMIZERS
from ._loop import TOL_WINDOW as TOL_WINDOW
from ._train import train
from .history import History, TrainingDivergedError
from .recording import RECORDS

__all__ = ["train", "History", "TrainingDivergedError", "OPTIMIZERS", "LR_SCHEDULES", "RECORDS"]
