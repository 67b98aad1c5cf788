"""What :func:`~deepdual.training.train` can record along the way (``record=``), and how.

Each built-in record is a function ``fn(network, X, Y)`` of the float64 network (or its float64
shadow) and the float64 data; a user callable is stored under its ``__name__`` and sees the network
being trained and the data in its dtype.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from .. import _validation as V
from ..metrics import alignment, layer_norms, layer_ranks
from ..metrics.collapse import collapse_statistics

__all__ = ["RECORDS"]

#: Named metrics accepted by ``record=`` (a callable is accepted too).
RECORDS = ("ranks", "norms", "alignment", "neural_collapse", "weights")


def _record_ranks(net, X, Y):
    return list(layer_ranks(net))


def _record_norms(net, X, Y):
    return list(layer_norms(net))


def _record_alignment(net, X, Y):
    return [float(a) for a in alignment(net)]


def _record_weights(net, X, Y):
    return [np.array(W, dtype=np.float64, copy=True) for W in net.layer_matrices()]


def _record_neural_collapse(net, X, Y):
    H = net.hidden_activations(X)[-1]
    W_last = net.weights[-1]
    if H.dim() == 3:  # ParallelNet: (m, n, 1) -> (n, m); output layer (m, 1, K) -> (m, K)
        H = H.squeeze(-1).transpose(0, 1)
        W_last = W_last.reshape(W_last.shape[0], -1)
    out = net(X)
    nc = collapse_statistics(  # NaN, not an error, where the statistics are undefined (e.g. at initialization)
        H.detach().double().cpu().numpy(),
        Y.argmax(dim=1).cpu().numpy(),
        classifier=W_last.detach().double().cpu().numpy().T,  # rows = classes, (K, p)
        predictions=out.argmax(dim=1).cpu().numpy(),
        strict=False,
    )
    return dataclasses.asdict(nc)


_NAMED_RECORDS = {
    "ranks": _record_ranks,
    "norms": _record_norms,
    "alignment": _record_alignment,
    "neural_collapse": _record_neural_collapse,
    "weights": _record_weights,
}


def _check_record(record, network) -> dict[str, tuple[Callable, bool]]:
    """Validate ``record=``: map each requested name to ``(function, is_builtin)``."""
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
