"""What every result record shares: one ``relative_gap`` and one ``to_dict()``.

Records are frozen dataclasses with the same field names everywhere: ``objective`` (the attained
objective), ``lower_bound``, ``gap = objective − lower_bound``; ``relative_gap`` is
``gap / max(|objective|, tiny)`` in every record.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Record", "relative_gap"]

_TINY = float(np.finfo(float).tiny)


def relative_gap(gap, objective):
    """``gap / max(|objective|, tiny)``, or ``None`` when there is no gap."""
    if gap is None or objective is None:
        return None
    return float(gap) / max(abs(float(objective)), _TINY)


def _plain(value):
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 10_000 else None
    return None


class Record:
    """Mixin for result dataclasses: ``relative_gap`` (when the record has a ``gap``) and ``to_dict()``."""

    @property
    def relative_gap(self):
        """``gap / max(|objective|, tiny)`` (``None`` when the record carries no gap)."""
        return relative_gap(getattr(self, "gap", None), getattr(self, "objective", None))

    def to_dict(self) -> dict:
        """JSON-serializable fields (numbers, strings, small arrays as lists; networks and large arrays left out),
        plus ``relative_gap`` when the record has a ``gap``."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            plain = _plain(value)
            if plain is not None or value is None:
                out[f.name] = plain
        if hasattr(self, "gap"):  # a field or a property
            out["gap"] = _plain(self.gap)
            out["relative_gap"] = self.relative_gap
        return out
