# Over 400 lines on purpose: one idea — the model file format, written and read back against its schema.
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
a temporary file beside the target and renamed, so a failed save leaves nothing behind; a saved file
gets the usual permissions of a new file (``0666`` less the umask). Loading checks the file against
this format (every field present with its type, the weights matching the architecture, every value
finite) and names the file and the field of the first mismatch; a network with NaN or infinite
weights is never saved.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import fields

import numpy as np
import torch
from torch import nn

from ._io import atomic_write

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
    """Serialize in memory, then :func:`deepdual._io.atomic_write`: temp file, fsync, rename, with the
    usual permissions of a new file (``0666 & ~umask``), so a failed save leaves nothing behind."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write(path, buffer.getvalue())


def _payload(network, metadata) -> dict:
    _check_network(network)
    from ._validation import check_finite_parameters

    check_finite_parameters(network)  # a file that load_network would refuse is never written
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


def _bad(path, field: str, problem: str) -> ValueError:
    """The one-line error of a model file that does not match the format, naming the file and the field."""
    return ValueError(f"{path!r}: field {field!r} {problem}; the file is damaged or was not written by this version of "
                "deepdual — save the model again with deepdual.save_network / save_solution.")


def _read(path) -> dict:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model file {path!r}.")
    if not os.path.isfile(path):  # a directory, FIFO or device: never opened (a FIFO would block)
        raise ValueError(f"{path!r} is not a regular file; pass the model file written by deepdual.save_network "
                         "or `deepdual fit --save`.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of several kinds
        raise ValueError(f"{path!r} is not a model saved by deepdual (torch.load failed: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a model saved by deepdual (no {FORMAT!r} marker); "
                         "save models with deepdual.save_network or `deepdual fit --save`.")
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _bad(path, "version", f"is {version!r}, not a format version (an integer >= 1)")
    if version > FORMAT_VERSION:
        raise ValueError(f"{path!r} has format version {version}; this deepdual reads up to "
                         f"{FORMAT_VERSION}. Upgrade deepdual.")
    payload["_path"] = path
    return payload


def _json_field(payload: dict, field: str, *, required: bool = True, default: str = "{}") -> dict:
    """A JSON-object field of the file, parsed; errors name the file and the field."""
    path = payload["_path"]
    if field not in payload:
        if required:
            raise _bad(path, field, "is missing")
        text = default
    else:
        text = payload[field]
    if not isinstance(text, str):
        raise _bad(path, field, f"is a {type(text).__name__}, not a JSON string")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _bad(path, field, f"is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _bad(path, field, f"holds a JSON {type(value).__name__}, not an object")
    return value


_ARCH_KEYS = {
    "ParallelNet": {"class", "in_features", "out_features", "depth", "branches", "hidden", "activation", "bias",
                    "batchnorm", "regularize", "penalize_bias", "dtype", "training"},
    "MLP": {"class", "widths", "activation", "bias", "batchnorm", "regularize", "penalize_bias", "dtype",
            "training"},
}


def _architecture_of(payload: dict) -> dict:
    path = payload["_path"]
    arch = _json_field(payload, "architecture")
    cls_name = arch.get("class")
    if cls_name not in _ARCH_KEYS:
        raise _bad(path, "architecture.class", f"is {cls_name!r}, not one of {sorted(_ARCH_KEYS)}")
    unknown = sorted(set(arch) - _ARCH_KEYS[cls_name])
    if unknown:
        raise _bad(path, f"architecture.{unknown[0]}", f"is not an option of {cls_name}")
    dtype = arch.get("dtype", "float64")
    if dtype not in _DTYPES:
        raise _bad(path, "architecture.dtype", f"is {dtype!r}, not one of {sorted(_DTYPES)}")
    if not isinstance(arch.get("training", True), bool):
        raise _bad(path, "architecture.training", f"is {arch['training']!r}, not true or false")
    return arch


def _build(payload: dict):
    path = payload["_path"]
    arch = _architecture_of(payload)
    cls_name = arch.pop("class")
    dtype = _DTYPES[arch.pop("dtype", "float64")]
    training = arch.pop("training", True)
    classes = _network_classes()
    try:  # the constructors validate every option (types, ranges, sizes against memory)
        if cls_name == "MLP":
            if "widths" not in arch:
                raise ValueError("`widths` is missing")
            net = classes[cls_name](arch.pop("widths"), dtype=dtype, seed=0, **arch)
        else:
            for key in ("in_features", "out_features"):
                if key not in arch:
                    raise ValueError(f"`{key}` is missing")
            in_f, out_f = arch.pop("in_features"), arch.pop("out_features")
            net = classes[cls_name](in_f, out_f, dtype=dtype, seed=0, **arch)
    except (ValueError, TypeError) as exc:
        raise _bad(path, "architecture", f"describes no valid {cls_name} ({exc})") from None
    _load_state(net, payload)
    net.train(training)
    return net


def _load_state(net, payload: dict) -> None:
    """Check ``state_dict`` against the network built from the architecture, then load it."""
    path = payload["_path"]
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise _bad(path, "state_dict", "is missing" if state is None else f"is a {type(state).__name__}, not a dict")
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        key = (missing or extra)[0]
        raise _bad(path, f"state_dict[{key!r}]", "is missing (the architecture does not match the weights)" if missing
                   else "is not a tensor of this architecture (the architecture does not match the weights)")
    for key, ref in expected.items():
        t = state[key]
        if not isinstance(t, torch.Tensor):
            raise _bad(path, f"state_dict[{key!r}]", f"is a {type(t).__name__}, not a tensor")
        if tuple(t.shape) != tuple(ref.shape):
            raise _bad(path, f"state_dict[{key!r}]", f"has shape {tuple(t.shape)}; the architecture needs "
                       f"{tuple(ref.shape)}")
        if not t.is_floating_point() or t.dtype != ref.dtype:
            raise _bad(path, f"state_dict[{key!r}]", f"has dtype {str(t.dtype).removeprefix('torch.')}; the "
                       f"architecture needs {str(ref.dtype).removeprefix('torch.')}")
        if t.numel() and not bool(torch.isfinite(t).all()):
            raise _bad(path, f"state_dict[{key!r}]", "holds NaN or infinite values")
    net.load_state_dict(state)


def load_network(path):
    """Load the network of a file written by :func:`save_network` or :func:`save_solution`.

    Uses ``torch.load(path, weights_only=True)``. The file is checked against the format before
    anything is built: the architecture (known class and options, a valid network), every tensor of
    ``state_dict`` (names, shapes, dtypes, finite values); a mismatch is a one-line ``ValueError``
    naming the file and the field.

    Returns
    -------
    ParallelNet or MLP
        With the saved dtype and train/eval mode, on the CPU.
    """
    return _build(_read(path))


def load_metadata(path) -> dict:
    """The ``metadata`` dict stored with a model (``{}`` when none was given)."""
    return _json_field(_read(path), "metadata", required=False)


def _tensor_field(data: dict, key: str, path, ndim: int) -> np.ndarray:
    t = data.get(key)
    field = f"whitener.{key}"
    if not isinstance(t, torch.Tensor):
        raise _bad(path, field, "is missing" if t is None else f"is a {type(t).__name__}, not a tensor")
    if t.dtype != torch.float64 or t.dim() != ndim:
        raise _bad(path, field, f"is a {t.dim()}-D {str(t.dtype).removeprefix('torch.')} tensor, not a {ndim}-D "
                   "float64 one")
    arr = t.numpy().copy()
    if not np.all(np.isfinite(arr)):
        raise _bad(path, field, "holds NaN or infinite values")
    return arr


def _whitener(payload: dict, in_features: int | None = None):
    data = payload.get("whitener")
    if data is None:
        return None
    path = payload["_path"]
    if not isinstance(data, dict):
        raise _bad(path, "whitener", f"is a {type(data).__name__}, not a dict")
    from .whitening import Whitener

    Vt = _tensor_field(data, "components", path, 2)
    s = _tensor_field(data, "singular_values", path, 1)
    rtol_t = data.get("rtol")
    if not isinstance(rtol_t, torch.Tensor) or rtol_t.numel() != 1:
        raise _bad(path, "whitener.rtol", "is missing or not a scalar tensor")
    rtol = float(rtol_t)
    if not (math.isnan(rtol) or 0 <= rtol < 1):
        raise _bad(path, "whitener.rtol", f"is {rtol}, not in [0, 1) (or NaN for the default)")
    if s.size == 0:
        raise _bad(path, "whitener.singular_values", "is empty; a whitener needs at least one component")
    if Vt.shape[0] != s.size:
        raise _bad(path, "whitener.singular_values", f"has {s.size} values for {Vt.shape[0]} components; a whitener "
                   "needs one positive value per component")
    if np.any(s <= 0):
        raise _bad(path, "whitener.singular_values", f"holds {s.min():.3g}; a whitener divides by them, so every "
                   "one must be > 0")
    if in_features is not None and Vt.shape[1] != in_features:
        raise _bad(path, "whitener.components", f"maps {Vt.shape[1]} features but the network takes {in_features}")
    from ._validation import IDENTITY_TOL, identity_error

    if identity_error(Vt @ Vt.T) > IDENTITY_TOL * max(1, Vt.shape[0]):
        raise _bad(path, "whitener.components", "does not have orthonormal rows")
    w = Whitener(rtol=None if math.isnan(rtol) else rtol)
    w.components_ = Vt
    w.singular_values_ = s
    w.n_features_in_ = int(Vt.shape[1])
    w.n_samples_fit_ = int(Vt.shape[0])
    w.condition_number_ = float(s[0] / s[-1])
    return w


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _solution_record(payload: dict, network) -> dict:
    """The scalar fields of the saved Solution, each checked against its type and the network."""
    path = payload["_path"]
    rec = _json_field(payload, "solution")
    for name in (*_SOLUTION_SCALARS, "ranks"):
        if name not in rec:
            raise _bad(path, f"solution.{name}", "is missing")
    for name in ("objective", "optimum", "beta"):
        if not _real(rec[name]):
            raise _bad(path, f"solution.{name}", f"is {rec[name]!r}, not a finite number")
    for name in ("lower_bound", "gap"):
        if rec[name] is not None and not _real(rec[name]):
            raise _bad(path, f"solution.{name}", f"is {rec[name]!r}, not a finite number or null")
    if rec["beta"] < 0:
        raise _bad(path, "solution.beta", f"is {rec['beta']!r}, not >= 0")
    if not isinstance(rec["theorem"], str):
        raise _bad(path, "solution.theorem", f"is {rec['theorem']!r}, not a string")
    if rec["depth"] != network.depth or isinstance(rec["depth"], bool):
        raise _bad(path, "solution.depth", f"is {rec['depth']!r} but the network has depth {network.depth}")
    if rec["activation"] != network.activation:
        raise _bad(path, "solution.activation", f"is {rec['activation']!r} but the network's is "
                   f"{network.activation!r}")
    ranks = rec["ranks"]
    if not isinstance(ranks, list) or len(ranks) != network.depth or not all(
            isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in ranks):
        raise _bad(path, "solution.ranks", f"is {ranks!r}, not {network.depth} nonnegative integers")
    if not isinstance(rec.get("details", {}), dict):
        raise _bad(path, "solution.details", "is not an object")
    return rec


def load_solution(path):
    """Load a :class:`~deepdual.Solution` written by :func:`save_solution`.

    The returned record has the same network (bitwise), whitener and scalar fields; ``details``
    keeps only its JSON-representable entries. The file is checked as in :func:`load_network`, plus
    the record (every field present, finite numbers, depth and activation matching the network) and
    the whitener (finite, orthonormal components, positive singular values).
    """
    from .solution import Solution

    payload = _read(path)
    if "solution" not in payload:
        raise ValueError(f"{os.fspath(path)!r} holds a bare network (save_network), not a Solution; "
                         "load it with deepdual.load_network.")
    network = _build(payload)
    rec = _solution_record(payload, network)
    kwargs = {name: rec[name] for name in _SOLUTION_SCALARS}
    names = {f.name for f in fields(Solution)}
    kwargs = {k: v for k, v in kwargs.items() if k in names}
    return Solution(network=network, ranks=tuple(rec["ranks"]), whitener=_whitener(payload, network.in_features),
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
