"""The paper's experiments: one module per figure, each with ``compute(config) -> record`` and
``plot(record, ax=None) -> Figure``, and the registry :data:`EXPERIMENTS` the runner walks.

Every module also exposes ``compute_<name>`` / ``plot_<name>`` aliases and ``CONFIGS`` with a
``"tiny"`` (tests), ``"quick"`` (``--quick``) and ``"full"`` size.
"""

from __future__ import annotations

import importlib

__all__ = ["EXPERIMENTS", "get"]

#: Experiment names in report order.
EXPERIMENTS = ("fig1", "fig2a", "fig2b", "fig3a", "fig3b", "fig4", "neural_collapse", "table1", "moons")


def get(name: str):
    """The module of experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; valid names: {', '.join(EXPERIMENTS)}.")
    return importlib.import_module(f"{__name__}.{name}")
