"""Save and load networks and closed-form solutions; export to ``torch.nn.Sequential``.

A saved model is one ``.pt`` file written with :func:`torch.save` holding only plain types, so it
loads with ``torch.load(path, weights_only=True)`` (no pickled code is executed):

* ``"format"``: ``"deepdual-model"``, ``"version"``: 1;
* ``"architecture"``: a JSON string, the network's ``config()`` plus ``"dtype"`` and ``"training"``;
* ``"state_dict"``: the network's ``state_dict()`` (tensors);
* ``"whitener"``: ``{"components": V^T, "singular_values": σ}`` tensors, or absent;
* ``"solution"``: a JSON string with the scalar fields of a :class:`~deepdual.Solution`, or absent;
* ``"metadata"``: a JSON string of any user metadata (``{}`` by default).

Every array is stored as a float64 tensor, so round trips are bitwise exact. Files are written to
a temporary file beside the target and renamed, so a failed save leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import fields

import numpy as np
import torch
from torch import nn

__all__ = ["save_network", "load_network", "save_solution", "load_solution", "load_metadata",
           "to_sequential", "FORMAT", "FORMAT_VERSION"]

FORMAT = "deepdual-model"
FORMAT_VERSION = 1

_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
           "bfloat16": torch.bfloat16}
_SOLUTION_SCALARS = ("objective", "optimum", "lower_bound", "gap", "theorem", "beta", "depth", "activation")


def _network_classes():
    from .networks import MLP, ParallelNet

    return {"ParallelNet": ParallelNet, "MLP": MLP}


def _check_network(network) -> None:
    if not isinstance(network, nn.Module) or not callable(getattr(network, "config", None)):
        raise TypeError(
            f"`network` must be a deepdual ParallelNet or MLP, got {type(network).__name__}. "
            "For a plain torch module, use torch.save(module.state_dict(), path)."
        )


def _json(value, name: str) -> str:
    try:
        return json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be JSON-serializable (dicts, lists, str, numbers): {exc}.") from None


def _architecture(network) -> dict:
    cfg = dict(network.config())
    dtype = next(network.parameters()).dtype
    cfg["dtype"] = str(dtype).removeprefix("torch.")
    cfg["training"] = bool(network.training)
    return cfg


def _jsonable_details(details: dict) -> dict:
    out = {}
    for key, value in details.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue  # not representable as plain JSON: left out of the file
        out[str(key)] = value
    return out


def _write(payload: dict, path) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to {path!r}: folder {folder!r} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=".deepdual-", suffix=".pt.tmp", dir=folder)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _payload(network, metadata) -> dict:
    _check_network(network)
    meta = {} if metadata is None else metadata
    if not isinstance(meta, dict):
        raise TypeError(f"`metadata` must be a dict or None, got {type(metadata).__name__}.")
    state = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
    return {"format": FORMAT, "version": FORMAT_VERSION,
            "architecture": _json(_architecture(network), "architecture"),
            "state_dict": state, "metadata": _json(meta, "metadata")}


def save_network(network, path, *, metadata: dict | None = None) -> None:
    """Save a :class:`~deepdual.ParallelNet` or :class:`~deepdual.MLP` (weights + architecture).

    Parameters
    ----------
    network : ParallelNet or MLP
        Closed-form or trained; any dtype (restored as saved), stored on the CPU.
    path : str or path-like
        Target ``.pt`` file (replaced atomically).
    metadata : dict, optional
        JSON-serializable extra information, read back with :func:`load_metadata`.
    """
    _write(_payload(network, metadata), path)


def save_solution(solution, path, *, metadata: dict | None = None) -> None:
    """Save a :class:`~deepdual.Solution`: its network, its whitener and its scalar record.

    After :func:`load_solution`, ``predict`` on raw (unwhitened) points gives bitwise the same
    output as before saving.

    Parameters
    ----------
    solution : Solution
        E.g. ``deepdual.closed_form(...)`` or a fitted estimator's ``solution_``.
    path : str or path-like
    metadata : dict, optional
        JSON-serializable extra information.
    """
    from .solution import Solution

    if not isinstance(solution, Solution):
        raise TypeError(f"`solution` must be a deepdual Solution, got {type(solution).__name__}; "
                        "use save_network for a bare network.")
    payload = _payload(solution.network, metadata)
    record = {name: getattr(solution, name) for name in _SOLUTION_SCALARS}
    record["ranks"] = [int(r) for r in solution.ranks]
    record["details"] = _jsonable_details(solution.details)
    payload["solution"] = _json(record, "solution")
    w = solution.whitener
    if w is not None:
        if not (hasattr(w, "components_") and hasattr(w, "singular_values_")):
            raise TypeError(f"Cannot save the solution's whitener of type {type(w).__name__}; "
                            "only deepdual.Whitener is supported.")
        payload["whitener"] = {
            "components": torch.from_numpy(np.array(w.components_, dtype=np.float64)),
            "singular_values": torch.from_numpy(np.array(w.singular_values_, dtype=np.float64)),
            "rtol": torch.tensor(float("nan") if w.rtol is None else float(w.rtol), dtype=torch.float64),
        }
    _write(payload, path)


def _read(path) -> dict:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file {path!r}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of several kinds
        raise ValueError(f"{path!r} is not a model saved by deepdual (torch.load failed: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a model saved by deepdual (no {FORMAT!r} marker); "
                         "save models with deepdual.save_network or `deepdual fit --save`.")
    if int(payload.get("version", 0)) > FORMAT_VERSION:
        raise ValueError(f"{path!r} has format version {payload['version']}; this deepdual reads up to "
                         f"{FORMAT_VERSION}. Upgrade deepdual.")
    return payload


def _build(payload: dict):
    arch = json.loads(payload["architecture"])
    cls_name = arch.pop("class")
    classes = _network_classes()
    if cls_name not in classes:
        raise ValueError(f"Unknown network class {cls_name!r} in the model file.")
    dtype = _DTYPES[arch.pop("dtype", "float64")]
    training = arch.pop("training", True)
    if cls_name == "MLP":
        widths = arch.pop("widths")
        net = classes[cls_name](widths, dtype=dtype, seed=0, **arch)
    else:
        in_f, out_f = arch.pop("in_features"), arch.pop("out_features")
        net = classes[cls_name](in_f, out_f, dtype=dtype, seed=0, **arch)
    net.load_state_dict(payload["state_dict"])
    net.train(bool(training))
    return net


def load_network(path):
    """Load the network of a file written by :func:`save_network` or :func:`save_solution`.

    Uses ``torch.load(path, weights_only=True)``.

    Returns
    -------
    ParallelNet or MLP
        With the saved dtype and train/eval mode, on the CPU.
    """
    return _build(_read(path))


def load_metadata(path) -> dict:
    """The ``metadata`` dict stored with a model (``{}`` when none was given)."""
    return json.loads(_read(path).get("metadata", "{}"))


def _whitener(payload: dict):
    data = payload.get("whitener")
    if data is None:
        return None
    from .whitening import Whitener

    rtol = float(data["rtol"])
    w = Whitener(rtol=None if np.isnan(rtol) else rtol)
    Vt = data["components"].numpy().copy()
    s = data["singular_values"].numpy().copy()
    w.components_ = Vt
    w.singular_values_ = s
    w.n_features_in_ = int(Vt.shape[1])
    w.n_samples_fit_ = int(Vt.shape[0])
    w.condition_number_ = float(s[0] / s[-1])
    return w


def load_solution(path):
    """Load a :class:`~deepdual.Solution` written by :func:`save_solution`.

    The returned record has the same network (bitwise), whitener and scalar fields; ``details``
    keeps only its JSON-representable entries.
    """
    from .solution import Solution

    payload = _read(path)
    if "solution" not in payload:
        raise ValueError(f"{os.fspath(path)!r} holds a bare network (save_network), not a Solution; "
                         "load it with deepdual.load_network.")
    rec = json.loads(payload["solution"])
    kwargs = {name: rec[name] for name in _SOLUTION_SCALARS}
    names = {f.name for f in fields(Solution)}
    kwargs = {k: v for k, v in kwargs.items() if k in names}
    return Solution(network=_build(payload), ranks=tuple(rec["ranks"]), whitener=_whitener(payload),
                    details=rec.get("details", {}), **kwargs)


def load_whitener(path):
    """The :class:`~deepdual.Whitener` stored with a solution, or ``None``."""
    return _whitener(_read(path))


def to_sequential(network) -> nn.Sequential:
    """A plain ``torch.nn.Sequential`` with identical outputs (block-diagonal for a ParallelNet).

    The layers are ``nn.Linear`` (weights transposed), ``nn.ReLU``/``nn.Identity`` and, with batch
    normalization, :class:`~deepdual.PaperBatchNorm`; it can be fine-tuned with any PyTorch code.

    Parameters
    ----------
    network : ParallelNet or MLP
    """
    _check_network(network)
    return network.to_sequential()


__all__ += ["load_whitener"]
