# Over 400 lines on purpose: one idea — the single validation vocabulary every entry point shares.
"""Every input check of deepdual, in one place.

Each helper takes the argument's *name* and raises ``ValueError`` or ``TypeError`` with a
one-line message that names the argument, the condition that failed and how to fix it.
Public entry points validate once; private solvers trust their input.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "check_network_data",
    "NoClosedFormError",
    "check_scalar",
    "identity_error",
    "as_float_array",
    "check_array",
    "check_targets",
    "check_beta",
    "check_depth",
    "check_positive_int",
    "check_choice",
    "check_one_hot",
    "check_whitened_rows",
    "orthonormal_side",
    "check_nonnegative_vector",
    "check_univariate",
    "tensor_to_numpy",
    "check_device",
    "check_network",
    "check_class_labels",
    "DATA_RANGE",
    "check_data_range",
    "check_bool",
    "check_seed",
    "check_dtype",
    "MAX_LAYERS",
    "check_layer_count",
    "available_memory",
    "check_memory",
    "check_finite_parameters",
]

#: Tolerance used to decide that a matrix identity (X Xᵀ = I, ...) holds.
IDENTITY_TOL = 1e-8

#: Frobenius norms of the data matrices deepdual computes with (``X``, ``Y``; zero is allowed too). The
#: objective ½‖f(X) − Y‖², the Gram matrices X Xᵀ and every norm are formed from squares of the entries, so
#: the squares must be finite, normal float64 numbers (about 1e-308 to 1e308): a norm in [1e-150, 1e150]
#: leaves room for sums over samples and for the network's weights. Rescale data outside it; the optimum
#: scales as P*(cY; β) = c² P*(Y; β c^(2/L−2)).
DATA_RANGE = (1e-150, 1e150)

#: Most layers a network may have. Every layer is its own tensor and a forward pass runs layer by layer
#: (about 0.1 ms per layer and call), so a deeper network takes minutes to build, evaluate and certify.
MAX_LAYERS = 10_000

#: The most torch seeds take: a signed 64-bit integer.
MAX_SEED = 2**63 - 1


class NoClosedFormError(ValueError):
    """Raised when no theorem of the paper gives the optimum for this input (a theorem's condition fails).

    A ``ValueError`` (the input is outside the theorem), distinct from malformed input: callers such as
    :func:`deepdual.certify` catch this one class to say "no certificate", never a bare ``ValueError``.
    """


def _to_numpy(x, name: str):
    """Convert array-likes and torch tensors to NumPy (see :func:`tensor_to_numpy`)."""
    return tensor_to_numpy(x, name)


def as_float_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a float64 NumPy array, rejecting non-numeric and non-finite entries."""
    arr = _to_numpy(x, name)
    if arr.dtype == object and arr.ndim == 0 and arr.item() is not None and hasattr(arr.item(), "toarray"):
        raise TypeError(f"`{name}` is a sparse matrix ({type(arr.item()).__name__}); deepdual works with dense "
                        f"arrays: pass {name}.toarray().")
    if arr.dtype == object or arr.dtype.kind in "USVOMm":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"`{name}` has dtype {arr.dtype} with non-numeric entries; pass a numeric array "
                "(encode categories as numbers first)."
            ) from None
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    if arr.dtype.kind == "c":
        raise TypeError(f"`{name}` is complex; deepdual works with real arrays only.")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"`{name}` contains {bad} NaN or infinite value(s); remove or impute them first."
        )
    return arr


def check_array(x, name: str = "X", *, ndim: int = 2, min_rows: int = 1, value_range: bool = True) -> np.ndarray:
    """Validate a data matrix: numeric, finite, ``ndim``-dimensional, non-empty; float64 copy.

    With ``value_range`` (the default) its Frobenius norm must be 0 or lie in :data:`DATA_RANGE`
    (:func:`check_data_range`); scale-invariant metrics pass ``value_range=False``.
    """
    arr = as_float_array(x, name)
    if arr.ndim != ndim:
        hint = ""
        if ndim == 2 and arr.ndim == 1:
            hint = " Reshape it with x.reshape(-1, 1) for one feature, or x.reshape(1, -1) for one sample."
        raise ValueError(f"`{name}` must be {ndim}-D, got shape {arr.shape}.{hint}")
    if arr.shape[0] < min_rows:
        raise ValueError(
            f"`{name}` has {arr.shape[0]} row(s); at least {min_rows} needed."
        )
    if ndim == 2 and arr.shape[1] < 1:
        raise ValueError(f"`{name}` has no columns (shape {arr.shape}); at least 1 feature needed.")
    if value_range:
        check_data_range(arr, name)
    return np.array(arr, dtype=np.float64, copy=True)


def check_targets(Y, n_rows: int, name: str = "Y", x_name: str = "X") -> np.ndarray:
    """Validate targets; a 1-D ``y`` becomes a column ``(n, 1)``. Rows must match ``X``."""
    arr = as_float_array(Y, name)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be 1-D or 2-D, got shape {arr.shape}.")
    if arr.shape[0] != n_rows:
        raise ValueError(
            f"`{x_name}` has {n_rows} rows but `{name}` has {arr.shape[0]}; pass one target row per sample."
        )
    if arr.shape[1] < 1:
        raise ValueError(f"`{name}` has no columns (shape {arr.shape}).")
    check_data_range(arr, name)
    return np.array(arr, dtype=np.float64, copy=True)


def check_scalar(value, name: str, *, target_type=numbers.Real, min_val=None, max_val=None,
                 include_boundaries: str = "both", allow_none: bool = False):
    """Validate a scalar parameter, in the manner of scikit-learn's ``check_scalar``.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, used in the message (``"`lr` == -1.0, must be > 0."``).
    target_type : type or tuple of types, default numbers.Real
        ``bool`` is never accepted as a number. Reals are returned as ``float``, integers as ``int``.
    min_val, max_val : float, optional
        Bounds; ``include_boundaries`` in ``{"both", "left", "right", "neither"}`` says which are allowed.
    allow_none : bool, default False
        Return ``None`` unchanged when given.

    Returns
    -------
    float, int or None

    Raises
    ------
    TypeError
        Wrong type (``bool`` counts as wrong for numbers).
    ValueError
        NaN, infinite, or outside the bounds.
    """
    if value is None and allow_none:
        return None
    if include_boundaries not in ("both", "left", "right", "neither"):
        raise ValueError(f"include_boundaries == {include_boundaries!r}, must be 'both', 'left', 'right' or "
                         "'neither'.")
    types = target_type if isinstance(target_type, tuple) else (target_type,)
    if isinstance(value, bool) or not isinstance(value, types):
        wanted = " or ".join("an integer" if t is numbers.Integral else "a real number" if t is numbers.Real
                             else t.__name__ for t in types)
        raise TypeError(f"`{name}` must be {wanted}, got {type(value).__name__} {value!r}.")
    integral = all(t is numbers.Integral or (isinstance(t, type) and issubclass(t, numbers.Integral))
                   for t in types)
    out = int(value) if integral else float(value)
    if not integral and not np.isfinite(out):
        raise ValueError(f"`{name}` == {out}, must be finite.")
    low_ok = include_boundaries in ("both", "left")
    high_ok = include_boundaries in ("both", "right")
    if min_val is not None and (out < min_val or (out == min_val and not low_ok)):
        raise ValueError(f"`{name}` == {out}, must be {'>=' if low_ok else '>'} {min_val}.")
    if max_val is not None and (out > max_val or (out == max_val and not high_ok)):
        raise ValueError(f"`{name}` == {out}, must be {'<=' if high_ok else '<'} {max_val}.")
    return out


def check_beta(beta, name: str = "beta", *, allow_zero: bool = True) -> float:
    """Validate the regularization strength ``β``: a finite real number, ``>= 0`` (or ``> 0``).

    For every other scalar parameter use :func:`check_scalar`.
    """
    return check_scalar(beta, name, min_val=0, include_boundaries="both" if allow_zero else "right")


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Validate an integer count ``>= minimum`` (bools are rejected)."""
    return check_scalar(value, name, target_type=numbers.Integral, min_val=minimum)


def check_depth(depth, name: str = "depth") -> int:
    """Validate a network depth L >= 2 (the paper's networks have at least two layers)."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {type(depth).__name__} {depth!r}.")
    if int(depth) < 2:
        raise ValueError(
            f"`{name}` == {int(depth)}, must be >= 2 (a network needs a hidden and an output layer)."
        )
    return int(depth)


def check_choice(value, name: str, choices: Iterable[str]):
    """Validate that ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"`{name}` == {value!r}, must be one of {', '.join(map(repr, choices))}.")
    return value


def check_widths(widths, name: str, count: int) -> list[int]:
    """Expand an int or a list of ints into ``count`` positive widths."""
    if isinstance(widths, numbers.Integral) and not isinstance(widths, bool):
        return [check_positive_int(widths, name)] * count
    if not isinstance(widths, Sequence) or isinstance(widths, str):
        raise TypeError(f"`{name}` must be an int or a list of ints, got {type(widths).__name__}.")
    if len(widths) != count:
        raise ValueError(f"`{name}` has {len(widths)} entries; this depth needs {count}.")
    return [check_positive_int(w, f"{name}[{i}]") for i, w in enumerate(widths)]


def check_one_hot(Y: np.ndarray, name: str = "Y", *, theorem: str = "This theorem") -> None:
    """Require a one-hot label matrix: entries in {0, 1}, exactly one 1 per row."""
    if Y.ndim != 2 or Y.shape[1] < 1:
        raise NoClosedFormError(f"{theorem} needs one-hot labels `{name}` of shape (n, K); got shape {Y.shape}.")
    binary = np.all((Y == 0) | (Y == 1))
    if not binary or not np.all(Y.sum(axis=1) == 1):
        raise NoClosedFormError(
            f"{theorem} needs one-hot labels: `{name}` must have entries in {{0, 1}} with exactly one 1 "
            "per row. Encode class labels first (e.g. deepdual.one_hot(labels))."
        )


def identity_error(G: np.ndarray) -> float:
    """``‖G − I‖_F``: the one test of a matrix identity (``XXᵀ = I``, ``XᵀX = I``) used everywhere.

    The Frobenius norm bounds the spectral norm and needs no eigensolve; every check of whitened or
    orthonormal data compares it with the same tolerance (:data:`IDENTITY_TOL`).
    """
    D = np.array(G, dtype=np.float64)
    D.flat[:: D.shape[0] + 1] -= 1.0  # the diagonal
    return float(np.linalg.norm(D))


def check_whitened_rows(X: np.ndarray, name: str = "X", *, theorem: str = "Theorem 4.3",
                        tol: float = IDENTITY_TOL, gram: np.ndarray | None = None) -> None:
    """Require X Xᵀ = I_n (whitened rows), which needs n <= d (``gram``: X Xᵀ when the caller has it)."""
    n, d = X.shape
    if n > d:
        raise NoClosedFormError(
            f"{theorem} needs X Xᵀ = I (whitened rows), impossible with n = {n} samples > d = {d} "
            "features. Use at most d samples, or a network with batch normalization (Theorem 4.4)."
        )
    err = identity_error(X @ X.T if gram is None else gram)
    if err > tol:
        raise NoClosedFormError(
            f"{theorem} needs X Xᵀ = I (whitened rows); got ‖X Xᵀ − I‖_F = {err:.3g}. "
            "Pass whiten=True or transform with deepdual.Whitener first."
        )


def orthonormal_side(X: np.ndarray, tol: float = IDENTITY_TOL) -> str | None:
    """Return ``"columns"`` if XᵀX = I, ``"rows"`` if XXᵀ = I, else ``None``."""
    n, d = X.shape
    if n >= d and identity_error(X.T @ X) <= tol:
        return "columns"
    if n <= d and identity_error(X @ X.T) <= tol:
        return "rows"
    return None


def check_nonnegative_vector(c: np.ndarray, name: str = "c", *, theorem: str = "Theorem 4.1") -> None:
    """Require all entries >= 0."""
    if np.any(c < 0):
        raise NoClosedFormError(
            f"{theorem} needs `{name}` >= 0 entrywise (X = c a₀ᵀ with c ≥ 0); got min {c.min():.3g}. "
            "Flip the sign of a₀ if every entry of c is <= 0; mixed signs are outside the theorem."
        )


def check_class_labels(labels, name: str = "labels", *, n_rows: int | None = None,
                       rows_name: str = "H") -> np.ndarray:
    """Validate integer class labels of shape ``(n,)``; return them as an int64 array.

    Integer dtypes are accepted as they are; float arrays only when every entry is integral
    (``2.0`` is class 2). One-hot matrices are rejected with a hint to take ``argmax``.
    """
    arr = _to_numpy(labels, name)
    if arr.dtype == object and arr.size and all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in arr.flat):
        arr = arr.astype(np.float64)  # an object array of numbers: checked as numbers below
    if arr.ndim == 2 and arr.shape[1] > 1:
        raise ValueError(
            f"`{name}` has shape {arr.shape}; pass integer class indices of shape (n,), "
            f"e.g. {name}.argmax(axis=1) for one-hot labels."
        )
    if arr.ndim == 2:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D integer class indices, got shape {arr.shape}.")
    if arr.dtype.kind == "b" or not (arr.dtype.kind in "iu" or arr.dtype.kind == "f"):
        raise TypeError(f"`{name}` has dtype {arr.dtype}; pass integer class indices.")
    if arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr)):
            raise ValueError(f"`{name}` contains NaN or infinite values; pass integer class indices.")
        if arr.size and not np.all(arr == np.round(arr)):
            raise TypeError(
                f"`{name}` has non-integer values (e.g. {arr[arr != np.round(arr)][0]!r}); "
                "pass integer class indices."
            )
    arr = arr.astype(np.int64)
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(
            f"`{rows_name}` has {n_rows} rows but `{name}` has {arr.shape[0]}; pass one label per sample."
        )
    return arr


def check_univariate(x, y, *, x_name: str = "x", y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Validate 1-D data with scalar targets: ``x`` of shape (n,) or (n, 1), ``y`` of shape (n,) or (n, 1).

    Returns float64 copies of shape ``(n,)``. Used by the 1-D two-layer ReLU solver (Theorem 4.2).
    """
    xa = as_float_array(x, x_name)
    if xa.ndim == 2:
        if xa.shape[1] != 1:
            raise ValueError(
                f"`{x_name}` has shape {xa.shape}: the 1-D solver (Theorem 4.2) needs a single feature; "
                "pass x of shape (n,) or (n, 1)."
            )
        xa = xa[:, 0]
    if xa.ndim != 1:
        raise ValueError(f"`{x_name}` must have shape (n,) or (n, 1), got shape {xa.shape}.")
    if xa.shape[0] < 1:
        raise ValueError(f"`{x_name}` is empty; at least one data point is needed.")
    ya = as_float_array(y, y_name)
    if ya.ndim == 2:
        if ya.shape[1] != 1:
            raise ValueError(
                f"`{y_name}` has shape {ya.shape}: the 1-D solver (Theorem 4.2) supports scalar outputs "
                "only; pass y of shape (n,) or (n, 1), or fit each output column separately."
            )
        ya = ya[:, 0]
    if ya.ndim != 1:
        raise ValueError(f"`{y_name}` must have shape (n,) or (n, 1), got shape {ya.shape}.")
    if ya.shape[0] != xa.shape[0]:
        raise ValueError(
            f"`{x_name}` has {xa.shape[0]} points but `{y_name}` has {ya.shape[0]}; pass one target per point."
        )
    check_data_range(xa, x_name)
    check_data_range(ya, y_name)
    return np.array(xa, dtype=np.float64, copy=True), np.array(ya, dtype=np.float64, copy=True)


def tensor_to_numpy(x, name: str):
    """Convert to NumPy; a tensor that cannot be read is a one-line ``ValueError`` naming ``name``.

    Tensors on the ``meta`` device hold no data; sparse tensors must be made dense first;
    dtypes NumPy lacks (``bfloat16``) are widened to float64. Any other input is passed to
    :func:`numpy.asarray` (strings are rejected with a ``TypeError``).
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor, without importing torch here
        device = getattr(x, "device", None)
        if getattr(device, "type", None) == "meta":
            raise ValueError(
                f"`{name}` is a tensor on the 'meta' device, which holds no data; pass a NumPy array or "
                "a tensor on 'cpu' or 'cuda'."
            )
        if str(getattr(x, "layout", "torch.strided")) != "torch.strided":
            raise ValueError(f"`{name}` is a sparse tensor ({x.layout}); pass {name}.to_dense().")
        t = x.detach().cpu()
        try:
            return t.numpy()
        except TypeError:  # bfloat16 and other dtypes without a NumPy equivalent
            import torch

            if t.is_complex():
                raise TypeError(f"`{name}` is complex; deepdual works with real arrays only.") from None
            return t.to(torch.float64).numpy()
    if isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` is a {type(x).__name__}; pass a numeric array.")
    return np.asarray(x)



def check_device(device, name: str = "device", *, allow_meta: bool = False):
    """Validate a torch device spec: ``None`` passes through; returns a ``torch.device``.

    Rejects strings torch does not parse, the data-less ``meta`` device, and CUDA when it is not
    available (or the index does not exist), each with a one-line ``ValueError`` naming ``name``.
    """
    if device is None:
        return None
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"`{name}` == {device!r} is not a torch device; pass 'cpu', 'cuda', 'cuda:0' or a torch.device."
        ) from None
    if dev.type == "meta" and not allow_meta:
        raise ValueError(f"`{name}` == 'meta' holds no data; pass 'cpu' or 'cuda'.")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"`{name}`: {name}='{dev}' requested but CUDA is not available; pass {name}='cpu'.")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"`{name}` == '{dev}' but only {torch.cuda.device_count()} CUDA device(s) exist.")
    return dev


def check_network_data(network, X: np.ndarray, Y: np.ndarray | None = None, *, x_name: str = "X",
                       y_name: str = "Y") -> None:
    """The one shape check of a network against its data: ``X`` columns = ``in_features``, ``Y`` columns =
    ``out_features``."""
    if X.shape[1] != network.in_features:
        raise ValueError(f"`{x_name}` has {X.shape[1]} features but the network expects {network.in_features}.")
    if Y is not None and Y.shape[1] != network.out_features:
        raise ValueError(f"`{y_name}` has {Y.shape[1]} columns but the network has {network.out_features} outputs.")


def check_network(network, name: str = "network"):
    """Require a deepdual network (``ParallelNet``/``MLP``) whose parameters hold data.

    Returns its first parameter (for dtype and device). ``TypeError`` for anything that is not a
    network with ``penalty``, ``in_features`` and ``out_features``; ``ValueError`` for a network on
    the ``meta`` device.
    """
    if not all(hasattr(network, a) for a in ("parameters", "penalty", "in_features", "out_features")):
        raise TypeError(f"`{name}` must be a deepdual ParallelNet or MLP, got {type(network).__name__}.")
    try:
        ref = next(network.parameters())
    except StopIteration:
        raise TypeError(f"`{name}` has no parameters.") from None
    if ref.device.type == "meta":
        raise ValueError(
            f"`{name}` is on the 'meta' device (no weights); build it on 'cpu' or move it with "
            f"{name}.to_empty(device='cpu') and set its weights."
        )
    check_finite_parameters(network, name)
    return ref


def safe_norm(a: np.ndarray) -> float:
    """Frobenius norm of a finite array without overflow or underflow of the squares (``max|a|·‖a/max|a|‖``)."""
    if a.size == 0:
        return 0.0
    top = float(np.max(np.abs(a)))
    if top == 0.0:
        return 0.0
    return top * float(np.linalg.norm(a / top))


def check_data_range(arr: np.ndarray, name: str) -> None:
    """Require a finite float array whose Frobenius norm is 0 or in :data:`DATA_RANGE` (one-line ``ValueError``)."""
    norm = safe_norm(arr)
    low, high = DATA_RANGE
    if norm == 0.0 or low <= norm <= high:
        return
    side = "large" if norm > high else "small"
    raise ValueError(
        f"`{name}` has norm {norm:.3g}, too {side} for float64 arithmetic: deepdual needs ‖{name}‖_F in "
        f"[{low:g}, {high:g}] (or 0) so that squares and the objective stay finite; rescale it, e.g. "
        f"{name} / {norm:.3g} (the optimum scales as P*(cY; β) = c² P*(Y; β c^(2/L−2)))."
    )


def check_bool(value, name: str) -> bool:
    """Require ``True``/``False`` (a NumPy bool too); strings such as ``"False"`` and numbers are refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"`{name}` must be True or False, got {type(value).__name__} {value!r}.")


def check_seed(seed, name: str = "seed", *, allow_none: bool = True):
    """A seed: ``None`` (when allowed) or an integer in ``[0, 2**63 − 1]`` (what torch generators take)."""
    if seed is None and allow_none:
        return None
    return check_scalar(seed, name, target_type=numbers.Integral, min_val=0, max_val=MAX_SEED)


_FLOAT_DTYPES = ("float64", "float32", "float16", "bfloat16")


def check_dtype(dtype, name: str = "dtype"):
    """A torch floating dtype (``torch.float64``, ``float32``, ``float16`` or ``bfloat16``)."""
    import torch

    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"`{name}` must be a torch dtype (torch.float64, torch.float32, torch.float16 or "
                        f"torch.bfloat16), got {type(dtype).__name__} {dtype!r}.")
    if str(dtype).removeprefix("torch.") not in _FLOAT_DTYPES:
        raise ValueError(f"`{name}` == {dtype}, must be a floating dtype (torch.float64, torch.float32, "
                         "torch.float16 or torch.bfloat16): the weights are trained by gradients.")
    return dtype


def check_layer_count(depth: int, name: str = "depth") -> int:
    """Cap a network's number of layers at :data:`MAX_LAYERS` (the time to build and run it)."""
    if depth > MAX_LAYERS:
        raise ValueError(
            f"`{name}` == {depth} layers, more than the {MAX_LAYERS} deepdual builds: every layer is a separate "
            f"tensor evaluated in turn (about 0.1 ms each per pass), so it would run for minutes to hours; "
            f"pass {name} <= {MAX_LAYERS}."
        )
    return depth


def available_memory() -> int:
    """Bytes this process can still allocate: the least of ``MemAvailable`` (Linux; else the physical
    memory), the cgroup limit left (containers) and the address-space limit (``ulimit -v``) left."""
    import os

    limits = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    if not limits:
        try:
            limits.append(int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES")))
        except (AttributeError, ValueError, OSError):
            pass
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            cap = fh.read().strip()
        if cap != "max":
            with open("/sys/fs/cgroup/memory.current") as fh:
                limits.append(int(cap) - int(fh.read().strip()))
    except (OSError, ValueError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as fh:
                used = int(fh.read().split()[0]) * int(os.sysconf("SC_PAGE_SIZE"))
            limits.append(soft - used)
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    return max(min(limits), 0) if limits else 1 << 62  # unknown: do not refuse


#: Requests up to this many bytes pass :func:`check_memory` without querying the system.
SMALL_REQUEST = 64 * 2**20


def check_memory(n_values: int, itemsize: int, *, what: str, fix: str, copies: int = 6) -> None:
    """Refuse up front a request for ``copies × n_values × itemsize`` bytes beyond :func:`available_memory`.

    ``copies`` counts the working copies a computation keeps (weights, gradients or closed-form work
    arrays, optimizer state), so the check holds before anything is allocated.
    """
    need = int(n_values) * int(itemsize) * int(copies)
    if need <= SMALL_REQUEST:
        return  # no need to ask the system (file reads) for what any machine running Python has
    have = available_memory()
    if need > have:
        raise ValueError(
            f"{what} has {int(n_values):.3g} parameters, needing about {need / 2**30:.3g} GiB ({copies} copies of "
            f"{itemsize} bytes each) but {have / 2**30:.3g} GiB of memory are available; {fix}."
        )


def check_finite_parameters(network, name: str = "network") -> None:
    """Refuse a network with NaN or infinite weights (or buffers), naming the first such tensor."""
    import torch

    with torch.no_grad():
        for pname, t in list(network.named_parameters()) + list(network.named_buffers()):
            if t.device.type == "meta":
                raise ValueError(f"`{name}` is on the 'meta' device (no weights); build it on 'cpu' or move it "
                                 f"with {name}.to_empty(device='cpu') and set its weights.")
            if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
                raise ValueError(
                    f"`{name}` has NaN or infinite values in {pname}; set finite weights (e.g. reload or "
                    "re-initialize the network) before evaluating it."
                )
