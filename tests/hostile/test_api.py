"""Hostile sizes, files and values across the public API (GitHub issue 13, API half).

Never stuck, never corrupting: every case returns a correct (finite) result or raises a one-line
``ValueError``/``TypeError`` naming the argument, within seconds, and leaves the caller's arrays as they
were. The contract is checked by :func:`_hostile.run_case`; ``tests/hostile/test_inputs.py`` holds the
first 399 cases, this file the issue's regressions and the new classes of hostile input:

* resource guards: huge ``depth``, ``branches``, ``hidden`` widths, ``K`` (each answered in < 5 s);
* the float64 value range: extreme but finite scales (1e-300 … 1e300) and subnormal data on every entry
  point, in-range extremes (1e±140) that must work, scale-free metrics that work at any scale;
* shapes at the edge: one row, one column, one sample per class, a single class;
* memory layouts: Fortran order, non-contiguous views, read-only and memory-mapped arrays;
* containers: pandas objects, torch tensors (``requires_grad``, meta, sparse, bfloat16/float16/int), sparse
  SciPy matrices, numeric strings;
* parameter types: bools and strings for every boolean or integer parameter, NumPy integers, float depths,
  seeds beyond 64 bits, dtypes that are not floating;
* networks with NaN weights, data beyond a float16 network's range, outputs that overflow;
* tampered model files (every field of the format) and the permissions of saved files;
* the caller's arrays unchanged after every call.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import pytest
import torch
from _hostile import Registry, finite, run_case, same_as

import deepdual
from deepdual.estimators import DeepLinearRegressor, DeepReLUClassifier, SplineReLURegressor
from deepdual.export import load_metadata, load_network, load_solution, save_network, save_solution
from deepdual.theorems import batchnorm_closed_form
from deepdual.training import train

R = Registry()

# The available memory is pinned to 16 GiB for every test here (tests/hostile/conftest.py).


# ------------------------------------------------------------------------------------------ data
_TMP = tempfile.TemporaryDirectory(prefix="deepdual-hostile-")  # removed when the process ends


def _folder():
    """A fresh folder for one case's files, inside :data:`_TMP`."""
    return tempfile.mkdtemp(dir=_TMP.name)


_rng = np.random.default_rng(13)
X = _rng.standard_normal((6, 4))
Y = _rng.standard_normal((6, 2))
y = Y[:, 0].copy()
XC = _rng.standard_normal((4, 6))  # n <= d: whitenable rows
LC = [0, 1, 0, 1]
YOH = deepdual.one_hot([0, 1, 2, 0]).Y
LABELS = np.array([0, 1, 0, 1, 0, 1])


def _net(d=4, k=2, **kw):
    kw.setdefault("seed", 0)
    return deepdual.ParallelNet(d, k, branches=3, **kw)


def _nan_net():
    net = _net()
    with torch.no_grad():
        net.weights[0][0, 0, 0] = float("nan")
    return net


def _bn_nan_net():
    net = deepdual.ParallelNet(6, 3, depth=3, branches=3, hidden=20, activation="relu", batchnorm=True, seed=0)
    with torch.no_grad():
        net.weights[0][0, 0, 0] = float("nan")
    return net


_XBN = np.random.default_rng(5).standard_normal((6, 6))


def _cf(X=X, Y=Y, beta=0.1, depth=2, **kw):
    return deepdual.closed_form(X, Y, beta=beta, depth=depth, **kw)


def _cf_key(sol):
    return [sol.objective, sol.optimum]


def _train(X=X, Y=Y, net=None, **kw):
    kw.setdefault("epochs", 2)
    kw.setdefault("progress", False)
    return train(net if net is not None else _net(), X, Y, beta=0.1, **kw)


def _readonly(a):
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


def _memmap(a):
    path = os.path.join(_folder(), "a.dat")
    m = np.memmap(path, dtype=np.float64, mode="w+", shape=a.shape)
    m[:] = a
    m.flush()
    return np.memmap(path, dtype=np.float64, mode="r", shape=a.shape)


def _noncontiguous(a):
    wide = np.repeat(np.asarray(a, dtype=np.float64), 2, axis=1)
    return wide[:, ::2]


def _pandas():
    return pytest.importorskip("pandas")  # the pandas class is skipped (not failed) without pandas


# ================================================================================ issue regressions
# ---- sizes nobody checked: answered at once, nothing allocated
R.error("issue-closed_form-depth-1e6", lambda: _cf(Y=y, beta=0.5, depth=10**6), "depth", fast=True)
R.error("issue-DeepReLUClassifier-depth-1e6", lambda: DeepReLUClassifier(depth=10**6).fit(XC, LC), "depth", fast=True)
R.error("issue-DeepLinearRegressor-depth-1e6", lambda: DeepLinearRegressor(depth=10**6).fit(X, y), "depth", fast=True)
R.error("issue-closed_form-branches-1e8", lambda: _cf(Y=y, beta=0.5, branches=10**8), "branches", fast=True)
_XWIDE = np.random.default_rng(1).standard_normal((3, 10**5))
R.works("issue-DeepLinearRegressor-100k-features-no-identity",  # coef_ without a d x d identity (74.5 GiB)
        lambda: DeepLinearRegressor().fit(_XWIDE, [1, 2, 3]),
        lambda r: (np.testing.assert_equal(r.coef_.shape, (10**5,)),
                   np.testing.assert_allclose(r.predict(_XWIDE), _XWIDE @ r.coef_ + r.intercept_, rtol=1e-10)),
        fast=True)

# ---- NaN/inf results returned as if fine
R.error("issue-closed_form-Y-1e200", lambda: _cf(Y=Y * 1e200), "Y")
R.error("issue-certify-X-1e200", lambda: deepdual.certify(_net(), X * 1e200, Y, beta=0.1), "X")
for _s in (1e154, 1e200):
    R.error(f"issue-DeepLinearRegressor-y-{_s:g}", lambda _s=_s: DeepLinearRegressor().fit(X, y * _s), "y")
    R.error(f"issue-SplineReLURegressor-y-{_s:g}", lambda _s=_s: SplineReLURegressor().fit(X[:, :1], y * _s), "y")
R.error("issue-neural_collapse-identical-features", lambda: deepdual.neural_collapse(np.ones((4, 3)), [0, 0, 1, 1]), "H")
for _fname, _call in (("objective", lambda n: deepdual.objective(n, X, Y, beta=0.1)),
                      ("certify", lambda n: deepdual.certify(n, X, Y, beta=0.1)),
                      ("train", lambda n: _train(net=n)),
                      ("layer_ranks", lambda n: deepdual.layer_ranks(n)),
                      ("save_network", lambda n: save_network(n, os.path.join(_folder(), "n.pt")))):
    R.error(f"issue-{_fname}-nan-weights", lambda _call=_call: _call(_nan_net()), "network", "network_or_matrices")
R.error("issue-batchnorm_closed_form-nan-weights",
        lambda: batchnorm_closed_form(_bn_nan_net(), _XBN, deepdual.one_hot([0, 1, 2, 0, 1, 2]).Y, beta=0.1), "network")

# ---- internal exceptions instead of a clear message
R.error("issue-closed_form-X-1e-200", lambda: _cf(X=X * 1e-200), "X")
R.error("issue-closed_form-X-1e-160", lambda: _cf(X=X * 1e-160, Y=y, depth=3), "X")
R.error("issue-DeepLinearRegressor-X-1e-200", lambda: DeepLinearRegressor().fit(X * 1e-200, y), "X")


def _csr(a):
    sparse = pytest.importorskip("scipy.sparse")
    return sparse.csr_matrix(a)


R.error("issue-closed_form-sparse-X", lambda: _cf(X=_csr(X)), "X")
R.error("issue-certify-sparse-Y", lambda: deepdual.certify(_net(), X, _csr(Y), beta=0.1), "Y")
R.error("issue-DeepLinearRegressor-sparse-X", lambda: DeepLinearRegressor().fit(_csr(X), y), "X")
_YSTR = np.array([f"{v:.17g}" for v in y])
R.works("issue-DeepLinearRegressor-numeric-string-y", lambda: DeepLinearRegressor().fit(X, _YSTR),
        same_as(lambda: DeepLinearRegressor().fit(X, np.array([float(v) for v in _YSTR])), lambda r: r.predict(X)))
R.works("issue-SplineReLURegressor-numeric-string-y", lambda: SplineReLURegressor().fit(X[:, :1], _YSTR),
        same_as(lambda: SplineReLURegressor().fit(X[:, :1], np.array([float(v) for v in _YSTR])),
                lambda r: r.predict(X[:, :1])))
for _opt, _kw in (("sgd", {}), ("adam", {}), ("lbfgs", {"lr": 1.0}), ("sgd-minibatch", {"batch_size": 2})):
    R.works(f"issue-train-float16-{_opt}",
            lambda _opt=_opt, _kw=_kw: _train(net=deepdual.MLP([4, 5, 2], seed=0, dtype=torch.float16), epochs=3,
                                              optimizer=_opt.split("-")[0], **_kw),
            lambda h: finite(h.objective, h.initial_objective))
R.works("issue-train-float16-parallel-records",
        lambda: _train(net=_net(dtype=torch.float16), record=["ranks", "norms", "neural_collapse"]),
        lambda h: finite(h.objective))
R.error("issue-ParallelNet-seed-2**70", lambda: _net(seed=2**70), "seed")
R.error("issue-train-seed-2**70", lambda: _train(seed=2**70), "seed")
R.error("issue-ParallelNet-dtype-int64", lambda: _net(dtype=torch.int64), "dtype")
R.error("issue-numerical_rank-3d", lambda: deepdual.numerical_rank(np.ones((2, 3, 4))), "A")
with pytest.warns(FutureWarning):
    _AMP_POS = deepdual.optimal_amplitude(1e300, 0.1, 3)  # the positional form (deprecated), once
R.works("issue-optimal_amplitude-1e300", lambda: deepdual.optimal_amplitude(1e300, beta=0.1, depth=3),
        lambda r: (np.testing.assert_allclose(r, 1e300, rtol=1e-12), np.testing.assert_equal(r, _AMP_POS)))
R.error("issue-closed_form-whiten-str", lambda: _cf(X=XC, Y=YOH, whiten="False"), "whiten")
R.error("issue-DeepReLUClassifier-whiten-str", lambda: DeepReLUClassifier(whiten="False").fit(XC, LC), "whiten")


# ---- tampered model files: one line naming the file and the field, never a NaN prediction
def _saved_solution(folder):
    sol = deepdual.closed_form(XC, YOH, beta=0.1, depth=3, activation="relu", whiten=True)
    path = os.path.join(folder, "good.pt")
    save_solution(sol, path, metadata={"note": "hostile"})
    return path


def _tampered(edit):
    def call(loader=load_solution):
        folder = _folder()
        payload = torch.load(_saved_solution(folder), weights_only=True)
        edit(payload)
        path = os.path.join(folder, "tampered.pt")
        torch.save(payload, path)
        try:
            out = loader(path)
        except ValueError as exc:  # the message names the file (the case checks the field)
            assert "tampered.pt" in str(exc), f"the message does not name the file: {exc}"
            raise
        if loader is load_solution:  # a loaded solution must predict finite values
            finite(out.predict(XC))
        return out
    return call


def _edit_json(field, change):
    def edit(payload):
        record = json.loads(payload[field])
        change(record)
        payload[field] = json.dumps(record)
    return edit


def _set(key, value):
    return lambda d: d.__setitem__(key, value)


def _pop(key):
    return lambda d: d.pop(key)


_TAMPER = {  # id: (edit of the payload, the field the message must name)
    "dtype-int8": (_edit_json("architecture", _set("dtype", "int8")), "architecture.dtype"),
    "dtype-float32-weights-float64": (_edit_json("architecture", _set("dtype", "float32")), "state_dict['weights.0']"),
    "architecture-missing": (_pop("architecture"), "architecture"),
    "architecture-not-json": (_set("architecture", "{oops"), "architecture"),
    "architecture-a-list": (_set("architecture", "[1, 2]"), "architecture"),
    "architecture-unknown-class": (_edit_json("architecture", _set("class", "Transformer")), "architecture.class"),
    "architecture-unknown-option": (_edit_json("architecture", _set("colour", "red")), "architecture.colour"),
    "architecture-in_features-missing": (_edit_json("architecture", _pop("in_features")), "architecture"),
    "architecture-depth-changed": (_edit_json("architecture", _set("depth", 4)), "architecture"),
    "architecture-depth-huge": (_edit_json("architecture", _set("depth", 10**6)), "architecture"),
    "architecture-branches-huge": (_edit_json("architecture", _set("branches", 10**10)), "architecture"),
    "architecture-depth-string": (_edit_json("architecture", _set("depth", "3")), "architecture"),
    "architecture-training-string": (_edit_json("architecture", _set("training", "yes")), "architecture.training"),
    "version-string": (_set("version", "1"), "version"),
    "weights-nan": (lambda p: p["state_dict"]["weights.0"].fill_(float("nan")), "state_dict['weights.0']"),
    "weights-inf": (lambda p: p["state_dict"]["weights.1"].fill_(float("inf")), "state_dict['weights.1']"),
    "weights-int": (lambda p: p["state_dict"].__setitem__("weights.0", p["state_dict"]["weights.0"].long()),
                    "state_dict['weights.0']"),
    "weights-missing": (lambda p: p["state_dict"].pop("weights.1"), "state_dict['weights.1']"),
    "weights-extra": (lambda p: p["state_dict"].__setitem__("weights.9", torch.zeros(1)), "state_dict['weights.9']"),
    "weights-reshaped": (lambda p: p["state_dict"].__setitem__("weights.0", torch.zeros(3, 3, 3, dtype=torch.float64)),
                         "state_dict['weights.0']"),
    "state_dict-missing": (_pop("state_dict"), "state_dict"),
    "solution-objective-missing": (_edit_json("solution", _pop("objective")), "solution.objective"),
    "solution-ranks-missing": (_edit_json("solution", _pop("ranks")), "solution.ranks"),
    "solution-objective-nan": (_edit_json("solution", _set("objective", float("nan"))), "solution.objective"),
    "solution-objective-string": (_edit_json("solution", _set("objective", "1.0")), "solution.objective"),
    "solution-depth-changed": (_edit_json("solution", _set("depth", 5)), "solution.depth"),
    "solution-not-json": (_set("solution", "{"), "solution"),
    "whitener-emptied": (_set("whitener", {"components": torch.zeros(0, 6, dtype=torch.float64),
                                           "singular_values": torch.zeros(0, dtype=torch.float64),
                                           "rtol": torch.tensor(float("nan"), dtype=torch.float64)}),
                         "whitener.singular_values"),
    "whitener-singular-values-0": (lambda p: p["whitener"]["singular_values"].zero_(), "whitener.singular_values"),
    "whitener-singular-values-nan": (lambda p: p["whitener"]["singular_values"].fill_(float("nan")),
                                     "whitener.singular_values"),
    "whitener-components-missing": (lambda p: p["whitener"].pop("components"), "whitener.components"),
    "whitener-wrong-features": (lambda p: p["whitener"].__setitem__("components", torch.eye(4, 5, dtype=torch.float64)),
                                "whitener.components"),
    "whitener-not-orthonormal": (lambda p: p["whitener"]["components"].mul_(2.0), "whitener.components"),
}
for _id, (_edit, _field) in _TAMPER.items():
    R.error(f"issue-load_solution-{_id}", _tampered(_edit), repr(_field), fast=True)
R.error("issue-load_metadata-not-json",
        lambda: _tampered(_set("metadata", "{oops"))(load_metadata), "'metadata'")
R.error("issue-load_network-weights-nan",
        lambda: _tampered(lambda p: p["state_dict"]["weights.2"].fill_(float("nan")))(load_network),
        "state_dict['weights.2']")


def _mode_of_saved_file(umask):
    previous = os.umask(umask)
    try:
        path = os.path.join(_folder(), "net.pt")
        save_network(_net(), path)
    finally:
        os.umask(previous)
    return os.stat(path).st_mode & 0o777


R.works("issue-save_network-mode-follows-umask-022", lambda: _mode_of_saved_file(0o022),
        lambda mode: np.testing.assert_equal(oct(mode), oct(0o644)))
R.works("issue-save_network-mode-follows-umask-077", lambda: _mode_of_saved_file(0o077),
        lambda mode: np.testing.assert_equal(oct(mode), oct(0o600)))


def _round_trip_predicts_bitwise():
    folder = _folder()
    return load_solution(_saved_solution(folder))


R.works("issue-load_solution-untampered-round-trip", _round_trip_predicts_bitwise,
        lambda s: np.testing.assert_array_equal(
            s.predict(XC), deepdual.closed_form(XC, YOH, beta=0.1, depth=3, activation="relu", whiten=True).predict(XC)))


# ================================================================================ new classes
# ---- resource guards: huge sizes, answered at once (< 5 s), naming the size to reduce
R.error("ParallelNet-depth-1e6", lambda: deepdual.ParallelNet(4, 2, depth=10**6), "depth", fast=True)
R.error("ParallelNet-branches-1e10", lambda: deepdual.ParallelNet(4, 2, branches=10**10), "branches", fast=True)
R.error("ParallelNet-hidden-1e6-squared", lambda: deepdual.ParallelNet(4, 2, depth=4, hidden=[10**6, 10**6]),
        "hidden", fast=True)
R.error("MLP-widths-1e6-squared", lambda: deepdual.MLP([4, 10**6, 10**6, 2]), "widths", fast=True)
R.error("MLP-100k-layers", lambda: deepdual.MLP([4] * 10**5), "widths", fast=True)
R.error("closed_form-hidden-1e6-squared", lambda: _cf(Y=y, depth=4, hidden=[10**6, 10**6]), "hidden", fast=True)
R.error("closed_form-branches-1e10", lambda: _cf(branches=10**10), "branches", fast=True)
R.error("DeepReLUClassifier-depth-10001", lambda: DeepReLUClassifier(depth=10_001).fit(XC, LC), "depth", fast=True)
R.error("simplex_etf-K-1e6", lambda: deepdual.simplex_etf(10**6), "K", fast=True)
R.works("closed_form-depth-3-branches-20000-fast",  # ranks branch by branch: no (m x m) block-diagonal SVD
        lambda: _cf(Y=y, depth=3, branches=20_000), lambda s: (finite(s.objective), np.testing.assert_equal(s.ranks[1], 1)),
        fast=True)
R.works("layer_ranks-20000-branches-fast", lambda: deepdual.layer_ranks(deepdual.ParallelNet(4, 2, depth=3, branches=20_000,
                                                                                             seed=0)),
        lambda r: np.testing.assert_equal(r, [4, 20_000, 2]), fast=True)
R.works("layer_norms-20000-branches-fast",
        lambda: deepdual.layer_norms(deepdual.ParallelNet(4, 2, depth=3, branches=20_000, seed=0)),
        lambda r: finite([n.frobenius for n in r]), fast=True)
R.works("train-epochs-1e12-stopped-by-callback", lambda: _train(epochs=10**12, callback=lambda e, n, h: e >= 2),
        lambda h: np.testing.assert_equal(h.epochs_run, 2), fast=True)
R.works("closed_form-depth-np-int64-100", lambda: _cf(Y=y, depth=np.int64(100)),
        same_as(lambda: _cf(Y=y, depth=100), _cf_key))

# ---- the float64 value range: outside it a clear error, at its extremes a correct result
_OUT_OF_RANGE = {"1e-300": 1e-300, "1e300": 1e300, "subnormal": 5e-324}
for _tag, _s in _OUT_OF_RANGE.items():
    R.error(f"closed_form-X-{_tag}", lambda _s=_s: _cf(X=X * _s), "X")
    R.error(f"closed_form-Y-{_tag}", lambda _s=_s: _cf(Y=Y * _s), "Y")
    R.error(f"certify-Y-{_tag}", lambda _s=_s: deepdual.certify(_net(), X, Y * _s, beta=0.1), "Y")
    R.error(f"objective-X-{_tag}", lambda _s=_s: deepdual.objective(_net(), X * _s, Y, beta=0.1), "X")
    R.error(f"train-X-{_tag}", lambda _s=_s: _train(X=X * _s), "X")
    R.error(f"project-Y-{_tag}", lambda _s=_s: deepdual.project(X, Y * _s, beta=0.1), "Y")
    R.error(f"nuclear_norm_regression-X-{_tag}", lambda _s=_s: deepdual.nuclear_norm_regression(X * _s, Y, beta=0.1), "X")
    R.error(f"ridge_path_solution-y-{_tag}", lambda _s=_s: deepdual.ridge_path_solution(X, y * _s, beta=0.1, depth=3), "y")
    R.error(f"DeepReLUClassifier-X-{_tag}", lambda _s=_s: DeepReLUClassifier().fit(XC * _s, LC), "X")
    R.error(f"Solution.predict-X_new-{_tag}", lambda _s=_s: _cf().predict(X * _s), "X_new")
for _tag, (_sx, _sy) in {"X-1e-140": (1e-140, 1.0), "X-1e140": (1e140, 1.0), "Y-1e-140": (1.0, 1e-140),
                         "Y-1e140": (1.0, 1e140), "both-1e140": (1e140, 1e140)}.items():
    R.works(f"closed_form-depth3-scalar-{_tag}", lambda _sx=_sx, _sy=_sy: _cf(X=X * _sx, Y=y * _sy, depth=3),
            lambda s: finite(s.objective, s.lower_bound, s.network.weights[0].detach().numpy()))
    R.works(f"ridge_path_solution-depth5-{_tag}",
            lambda _sx=_sx, _sy=_sy: deepdual.ridge_path_solution(X * _sx, y * _sy, beta=0.1, depth=5),
            lambda r: finite(r.objective, r.v))
    R.works(f"closed_form-relu-rank-one-{_tag}",  # the rank-one test of Theorem 4.1 at any scale of X
            lambda _sx=_sx, _sy=_sy: _cf(X=np.outer([1.0, 2, 3, 4, 5, 6], [1.0, -2, 0.5, 3]) * _sx, Y=Y * _sy,
                                         depth=3, activation="relu"),
            lambda s: (finite(s.objective), np.testing.assert_equal(s.theorem, "Proposition 4.2")))
    R.works(f"certify-closed-form-depth3-{_tag}",
            lambda _sx=_sx, _sy=_sy: deepdual.certify(_cf(X=X * _sx, Y=y * _sy, depth=3).network, X * _sx, y * _sy,
                                                      beta=0.1),
            lambda c: (finite(c.objective, c.lower_bound), np.testing.assert_array_less(c.gap, 1e-9 * abs(c.objective)
                                                                                          + 1e-300)))
R.error("objective-overflowing-network", lambda: deepdual.objective(_net(init_scale=1e100), X * 1e100, Y, beta=0.1),
        "network", "X")
R.error("certify-overflowing-network", lambda: deepdual.certify(_net(init_scale=1e100), X * 1e100, Y, beta=0.1),
        "network", "X")
R.error("train-overflowing-network", lambda: _train(X=X * 1e100, net=_net(init_scale=1e100)), "X", "beta", "lr")
R.error("train-float16-network-X-beyond-65504", lambda: _train(X=X * 1e5, net=_net(dtype=torch.float16)), "X")
R.error("train-bfloat16-network-Y-beyond-range", lambda: _train(Y=Y * 1e140, net=_net(dtype=torch.bfloat16)), "Y",
        "lr", "beta")
_XSUB = X.copy()
_XSUB[0, 0] = 5e-324  # one subnormal entry among normal ones: ordinary data
_XZ = X.copy()
_XZ[0, 0] = 0.0
R.works("closed_form-one-subnormal-entry", lambda: _cf(X=_XSUB), same_as(lambda: _cf(X=_XZ), _cf_key, rtol=1e-10))
R.works("closed_form-Y-zero", lambda: _cf(Y=np.zeros_like(Y)), lambda s: np.testing.assert_equal(s.objective, 0.0))
for _tag, _s in {"1e-300": 1e-300, "1e300": 1e300, "subnormal": 1e-310}.items():  # scale-free metrics: any scale
    R.works(f"numerical_rank-{_tag}", lambda _s=_s: deepdual.numerical_rank(X * _s),
            lambda r: np.testing.assert_equal(r, 4))
    R.works(f"neural_collapse-H-{_tag}", lambda _s=_s: deepdual.neural_collapse(X * _s, LABELS),
            lambda r: np.testing.assert_allclose(
                [r.nc1, r.nc2_norm_cv, r.nc2_etf_distance],
                [getattr(deepdual.neural_collapse(X, LABELS), k) for k in ("nc1", "nc2_norm_cv", "nc2_etf_distance")],
                rtol=1e-6, atol=1e-12))
    R.works(f"layer_norms-{_tag}", lambda _s=_s: deepdual.layer_norms([X * _s]),
            lambda r: (finite(r[0].frobenius), np.testing.assert_array_less(0.0, r[0].frobenius)))
    R.works(f"alignment-{_tag}", lambda _s=_s: deepdual.alignment([X.T * _s, X]),
            lambda r: np.testing.assert_allclose(r, deepdual.alignment([X.T, X]), rtol=1e-6))
R.works("optimal_amplitude-subnormal-sigma", lambda: deepdual.optimal_amplitude(5e-324, beta=1e-300, depth=3),
        lambda r: finite(r))
R.works("amplitude_threshold-beta-1e300", lambda: deepdual.amplitude_threshold(beta=1e300, depth=3), lambda r: finite(r))

# ---- shapes at the edge
R.works("closed_form-one-row", lambda: _cf(X=X[:1], Y=Y[:1]), lambda s: finite(_cf_key(s)))
R.works("closed_form-one-column", lambda: _cf(X=X[:, :1]), lambda s: finite(_cf_key(s)))
R.error("closed_form-no-columns", lambda: _cf(X=X[:, :0]), "X")
R.error("closed_form-Y-no-columns", lambda: _cf(Y=Y[:, :0]), "Y")
R.works("closed_form-relu-one-sample", lambda: _cf(X=XC[:1], Y=deepdual.one_hot([0]).Y, activation="relu", whiten=True,
                                                   depth=3), lambda s: finite(_cf_key(s)))
R.works("certify-one-row", lambda: deepdual.certify(_net(), X[:1], Y[:1], beta=0.1),
        lambda c: (finite(c.objective, c.lower_bound), np.testing.assert_array_less(c.lower_bound, c.objective + 1e-12)))
R.works("train-one-row", lambda: _train(X=X[:1], Y=Y[:1]), lambda h: finite(h.objective))
R.works("DeepLinearRegressor-one-sample", lambda: DeepLinearRegressor().fit(X[:1], y[:1]),
        lambda r: np.testing.assert_allclose(r.predict(X), y[0], rtol=1e-12))
R.works("DeepReLUClassifier-one-sample", lambda: DeepReLUClassifier().fit(XC[:1], ["a"]),
        lambda r: np.testing.assert_array_equal(r.predict(XC), ["a"] * 4))
R.works("DeepReLUClassifier-single-class", lambda: DeepReLUClassifier().fit(XC, [7, 7, 7, 7]),
        lambda r: np.testing.assert_array_equal(r.predict(XC), [7, 7, 7, 7]))
R.error("DeepReLUClassifier-labels-nan", lambda: DeepReLUClassifier().fit(XC, [0.0, np.nan, 0.0, 1.0]), "y")
R.works("SplineReLURegressor-one-point", lambda: SplineReLURegressor().fit(X[:1, :1], y[:1]),
        lambda r: np.testing.assert_allclose(r.predict(X[:, :1]), y[0], rtol=1e-9))
R.works("SplineReLURegressor-constant-x", lambda: SplineReLURegressor().fit(np.ones((6, 1)), y),
        lambda r: np.testing.assert_allclose(r.predict(np.ones((1, 1))), y.mean(), rtol=1e-9))
R.works("Whitener-one-row", lambda: deepdual.Whitener().fit_transform(XC[:1]),
        lambda r: np.testing.assert_allclose(np.linalg.norm(r), 1.0, rtol=1e-12))
R.works("neural_collapse-one-sample-per-class", lambda: deepdual.neural_collapse(X[:2], [0, 1]),
        lambda r: np.testing.assert_equal(r.nc1, 0.0))
R.works("numerical_rank-empty", lambda: deepdual.numerical_rank(np.zeros((0, 3))), lambda r: np.testing.assert_equal(r, 0))
R.works("layer_norms-empty-matrix", lambda: deepdual.layer_norms([np.zeros((0, 3))]),
        lambda r: np.testing.assert_equal((r[0].operator, r[0].frobenius), (0.0, 0.0)))
R.works("DeepLinearRegressor-duplicated-rows", lambda: DeepLinearRegressor().fit(np.vstack([X, X]), np.concatenate([y, y])),
        lambda r: finite(r.predict(X), r.coef_))
R.works("closed_form-spline-duplicated-points", lambda: _cf(X=np.repeat(X[:3, :1], 2, axis=0), Y=np.repeat(y[:3], 2),
                                                            activation="relu", bias=True),
        lambda s: finite(_cf_key(s)))

# ---- memory layouts: the same result as on a fresh C-ordered float64 array
_LAYOUTS = {"fortran": np.asfortranarray, "noncontiguous": _noncontiguous, "readonly": _readonly, "memmap": _memmap}
for _lay, _make in _LAYOUTS.items():
    R.works(f"closed_form-X-{_lay}", lambda _make=_make: _cf(X=_make(X)), same_as(lambda: _cf(), _cf_key))
    R.works(f"certify-Y-{_lay}", lambda _make=_make: deepdual.certify(_net(), X, _make(Y), beta=0.1),
            same_as(lambda: deepdual.certify(_net(), X, Y, beta=0.1), lambda c: [c.objective, c.lower_bound]))
    R.works(f"train-X-{_lay}", lambda _make=_make: _train(X=_make(X)),
            same_as(lambda: _train(), lambda h: h.objective))
    R.works(f"DeepLinearRegressor-X-{_lay}", lambda _make=_make: DeepLinearRegressor().fit(_make(X), y),
            same_as(lambda: DeepLinearRegressor().fit(X, y), lambda r: r.predict(X)))
    R.works(f"Whitener-X-{_lay}", lambda _make=_make: deepdual.Whitener().fit_transform(_make(XC)),
            same_as(lambda: deepdual.Whitener().fit_transform(XC), lambda r: r))
    R.works(f"neural_collapse-H-{_lay}", lambda _make=_make: deepdual.neural_collapse(_make(X), LABELS),
            same_as(lambda: deepdual.neural_collapse(X, LABELS), lambda r: [r.nc1, r.nc2_etf_distance]))


# ---- pandas objects (skipped inside the case when pandas is missing)
def _df(a, columns=None):
    return _pandas().DataFrame(np.asarray(a), columns=columns)


def _series(a):
    return _pandas().Series(np.asarray(a))


R.works("closed_form-DataFrame-Series", lambda: _cf(X=_df(X), Y=_series(y)), same_as(lambda: _cf(Y=y), _cf_key))
R.works("certify-DataFrames", lambda: deepdual.certify(_net(), _df(X), _df(Y), beta=0.1),
        same_as(lambda: deepdual.certify(_net(), X, Y, beta=0.1), lambda c: [c.objective, c.lower_bound]))
R.works("train-DataFrames", lambda: _train(X=_df(X), Y=_df(Y)), same_as(lambda: _train(), lambda h: h.objective))
R.works("DeepLinearRegressor-DataFrame-named-columns",
        lambda: DeepLinearRegressor().fit(_df(X, list("abcd")), _series(y)),
        lambda r: (np.testing.assert_array_equal(r.feature_names_in_, list("abcd")),
                   np.testing.assert_allclose(r.predict(_df(X, list("abcd"))), DeepLinearRegressor().fit(X, y).predict(X),
                                              rtol=1e-12)))
R.works("DeepLinearRegressor-Series-numeric-strings", lambda: DeepLinearRegressor().fit(_df(X), _series(_YSTR)),
        same_as(lambda: DeepLinearRegressor().fit(X, y), lambda r: r.predict(X), rtol=1e-10))
R.works("DeepReLUClassifier-DataFrame-string-labels", lambda: DeepReLUClassifier().fit(_df(XC), _series(list("abab"))),
        lambda r: np.testing.assert_array_equal(r.predict(_df(XC)), list("abab")))
R.works("neural_collapse-DataFrame-Series", lambda: deepdual.neural_collapse(_df(X), _series(LABELS)),
        same_as(lambda: deepdual.neural_collapse(X, LABELS), lambda r: [r.nc1, r.nc2_etf_distance]))
R.error("closed_form-DataFrame-string-column", lambda: _cf(X=_df(np.array([["a"] * 4] * 6))), "X")

# ---- torch tensors: requires_grad, meta, sparse, half precisions, integers
R.works("closed_form-X-requires-grad", lambda: _cf(X=torch.tensor(X, requires_grad=True)),
        same_as(lambda: _cf(), _cf_key))
R.works("certify-X-requires-grad", lambda: deepdual.certify(_net(), torch.tensor(X, requires_grad=True), Y, beta=0.1),
        same_as(lambda: deepdual.certify(_net(), X, Y, beta=0.1), lambda c: [c.objective, c.lower_bound]))
R.works("objective-Y-requires-grad", lambda: deepdual.objective(_net(), X, torch.tensor(Y, requires_grad=True), beta=0.1),
        same_as(lambda: deepdual.objective(_net(), X, Y, beta=0.1), lambda v: v))
R.works("train-X-requires-grad", lambda: _train(X=torch.tensor(X, requires_grad=True)),
        same_as(lambda: _train(), lambda h: h.objective))
R.works("neural_collapse-H-requires-grad", lambda: deepdual.neural_collapse(torch.tensor(X, requires_grad=True), LABELS),
        same_as(lambda: deepdual.neural_collapse(X, LABELS), lambda r: [r.nc1, r.nc2_etf_distance]))
for _dt in (torch.bfloat16, torch.float16, torch.int32, torch.int64):
    _name = str(_dt).removeprefix("torch.")
    _T = (torch.as_tensor(np.round(3 * X)) if not _dt.is_floating_point else torch.as_tensor(X)).to(_dt)
    R.works(f"closed_form-X-{_name}-tensor", lambda _T=_T: _cf(X=_T),
            same_as(lambda _T=_T: _cf(X=_T.double().numpy()), _cf_key))
    R.works(f"numerical_rank-{_name}-tensor", lambda _T=_T: deepdual.numerical_rank(_T),
            lambda r: np.testing.assert_equal(r, 4))
R.error("closed_form-X-sparse-tensor", lambda: _cf(X=torch.as_tensor(X).to_sparse()), "X")
R.error("train-Y-meta-tensor", lambda: _train(Y=torch.as_tensor(Y).to("meta")), "Y")
R.error("neural_collapse-H-meta-tensor", lambda: deepdual.neural_collapse(torch.as_tensor(X).to("meta"), LABELS), "H")
R.error("numerical_rank-complex-tensor", lambda: deepdual.numerical_rank(torch.as_tensor(X + 1j)), "A")

# ---- NumPy bools and object arrays
R.works("DeepLinearRegressor-bool-X", lambda: DeepLinearRegressor().fit(X > 0, y),
        same_as(lambda: DeepLinearRegressor().fit((X > 0).astype(float), y), lambda r: r.predict((X > 0).astype(float))))
R.works("DeepLinearRegressor-bool-y", lambda: DeepLinearRegressor().fit(X, y > 0),
        same_as(lambda: DeepLinearRegressor().fit(X, (y > 0).astype(float)), lambda r: r.predict(X)))
R.works("neural_collapse-object-int-labels", lambda: deepdual.neural_collapse(X, LABELS.astype(object)),
        same_as(lambda: deepdual.neural_collapse(X, LABELS), lambda r: [r.nc1, r.nc2_etf_distance]))
R.error("neural_collapse-bool-labels", lambda: deepdual.neural_collapse(X, LABELS.astype(bool)), "labels")
R.error("numerical_rank-object-strings", lambda: deepdual.numerical_rank(np.array([["a", "b"]], dtype=object)), "A")

# ---- booleans must be bools: strings, numbers and None are refused; NumPy bools are bools
for _fname, _make in (("closed_form-whiten", lambda v: _cf(X=XC, Y=YOH, whiten=v)),
                      ("closed_form-bias", lambda v: _cf(bias=v)),
                      ("ParallelNet-bias", lambda v: _net(bias=v)),
                      ("ParallelNet-batchnorm", lambda v: _net(batchnorm=v)),
                      ("ParallelNet-penalize_bias", lambda v: _net(bias=True, penalize_bias=v)),
                      ("MLP-bias", lambda v: deepdual.MLP([4, 3, 2], bias=v)),
                      ("DeepReLUClassifier-whiten", lambda v: DeepReLUClassifier(whiten=v).fit(XC, LC)),
                      ("DeepLinearRegressor-fit_intercept", lambda v: DeepLinearRegressor(fit_intercept=v).fit(X, y)),
                      ("train-progress", lambda v: _train(progress=v))):
    _arg = _fname.split("-")[1]
    for _bad in ("False", 1, None):
        if _bad is None and _arg == "progress":
            continue  # progress=None means "when stderr is a terminal"
        R.error(f"{_fname}-{_bad!r}", lambda _make=_make, _bad=_bad: _make(_bad), _arg)
R.works("closed_form-whiten-numpy-bool", lambda: _cf(X=XC, Y=YOH, whiten=np.bool_(True)),
        same_as(lambda: _cf(X=XC, Y=YOH, whiten=True), _cf_key))

# ---- integer parameters: bools, strings and floats refused; NumPy integers accepted
for _fname, _arg, _make in (
        ("closed_form", "branches", lambda v: _cf(branches=v)),
        ("closed_form", "max_iter", lambda v: _cf(max_iter=v)),
        ("closed_form", "depth", lambda v: _cf(depth=v)),
        ("ParallelNet", "in_features", lambda v: deepdual.ParallelNet(v, 2)),
        ("ParallelNet", "out_features", lambda v: deepdual.ParallelNet(4, v)),
        ("ParallelNet", "branches", lambda v: deepdual.ParallelNet(4, 2, branches=v)),
        ("ParallelNet", "hidden", lambda v: deepdual.ParallelNet(4, 2, depth=3, hidden=v)),
        ("ParallelNet", "seed", lambda v: deepdual.ParallelNet(4, 2, seed=v)),
        ("train", "epochs", lambda v: _train(epochs=v)),
        ("train", "batch_size", lambda v: _train(batch_size=v)),
        ("train", "record_every", lambda v: _train(record_every=v)),
        ("train", "seed", lambda v: _train(seed=v)),
        ("optimal_amplitude", "depth", lambda v: deepdual.optimal_amplitude(1.0, beta=0.1, depth=v)),
        ("ridge_path_solution", "depth", lambda v: deepdual.ridge_path_solution(X, y, beta=0.1, depth=v)),
        ("alignment", "k", lambda v: deepdual.alignment([X.T, X], k=v)),
        ("simplex_etf", "K", lambda v: deepdual.simplex_etf(v)),
        ("NeuralCollapseAccumulator", "num_classes", lambda v: deepdual.NeuralCollapseAccumulator(v, 3)),
        ("neural_collapse", "num_classes", lambda v: deepdual.neural_collapse(X, LABELS, num_classes=v)),
        ("DeepLinearRegressor", "depth", lambda v: DeepLinearRegressor(depth=v).fit(X, y))):
    for _bad in (True, "3", 3.0):
        R.error(f"{_fname}-{_arg}-{_bad!r}", lambda _make=_make, _bad=_bad: _make(_bad), _arg)
R.error("ParallelNet-seed-negative", lambda: _net(seed=-1), "seed")
R.error("ParallelNet-seed-2**64", lambda: _net(seed=2**64), "seed")
R.error("closed_form-branches-negative", lambda: _cf(branches=-1), "branches")
R.works("ParallelNet-seed-numpy-int", lambda: _net(seed=np.int64(5)),
        lambda n: np.testing.assert_array_equal(n.weights[0].detach().numpy(), _net(seed=5).weights[0].detach().numpy()))
R.works("ParallelNet-seed-2**63-1", lambda: _net(seed=2**63 - 1), lambda n: finite(n.weights[0].detach().numpy()))
R.works("closed_form-branches-numpy-int", lambda: _cf(branches=np.int32(3)), same_as(lambda: _cf(branches=3), _cf_key))
R.works("train-epochs-numpy-int", lambda: _train(epochs=np.int64(2)), same_as(lambda: _train(epochs=2), lambda h: h.objective))
R.error("closed_form-depth-numpy-float", lambda: _cf(depth=np.float64(3.0)), "depth")

# ---- other parameters of the wrong kind
for _tag, _bad in (("str", "float32"), ("numpy-type", np.float32), ("complex64", torch.complex64),
                  ("bool", torch.bool), ("None", None)):
    R.error(f"ParallelNet-dtype-{_tag}", lambda _bad=_bad: _net(dtype=_bad), "dtype")
R.error("MLP-dtype-int32", lambda: deepdual.MLP([4, 3, 2], dtype=torch.int32), "dtype")
for _bad in (float("nan"), -1.0, float("inf"), "1"):
    R.error(f"ParallelNet-init_scale-{_bad!r}", lambda _bad=_bad: _net(init_scale=_bad), "init_scale")
R.error("closed_form-activation-uppercase", lambda: _cf(activation="ReLU"), "activation")
R.error("closed_form-tol-string", lambda: _cf(tol="1e-8"), "tol")
R.error("DeepLinearRegressor-tol-string", lambda: DeepLinearRegressor(tol="x").fit(X, y), "tol")
R.error("Whitener-rtol-bool", lambda: deepdual.Whitener(rtol=True).fit(XC), "rtol")
R.error("neural_collapse-zero-classifier", lambda: deepdual.neural_collapse(X, LABELS, classifier=np.zeros((4, 2))),
        "classifier")
R.error("neural_collapse-class-mean-at-the-centre",  # class 1's mean equals the mean of the class means
        lambda: deepdual.neural_collapse(np.array([[-1.0, 0], [-1, 0.1], [0, 0], [0, 0.1], [1, 0], [1, 0.1]]),
                                         [0, 0, 1, 1, 2, 2]), "H")
R.works("train-records-collapsed-features-as-nan",  # during training undefined statistics are recorded, not raised
        lambda: _train(net=_net(init_scale=0.0), record=["neural_collapse"]),
        lambda h: np.testing.assert_equal(np.isnan(h.records["neural_collapse"][0]["nc1"]), True))


# ---- the caller's arrays are never modified (checked bitwise after every call, errors included)
def _inputs(*arrays):
    return lambda: arrays


_XM, _YM = X.copy(), Y.copy()
_XT, _YT = torch.tensor(X), torch.tensor(Y)
_XCM, _ym = XC.copy(), y.copy()
_UNCHANGED = {
    "closed_form": (lambda: _cf(X=_XM, Y=_YM), (_XM, _YM)),
    "closed_form-whiten": (lambda: _cf(X=_XCM, Y=YOH, whiten=True, activation="relu", depth=3), (_XCM,)),
    "closed_form-tensors": (lambda: _cf(X=_XT, Y=_YT), (_XT, _YT)),
    "certify": (lambda: deepdual.certify(_net(), _XM, _YM, beta=0.1), (_XM, _YM)),
    "objective-tensors": (lambda: deepdual.objective(_net(), _XT, _YT, beta=0.1), (_XT, _YT)),
    "train": (lambda: _train(X=_XM, Y=_YM), (_XM, _YM)),
    "train-tensors": (lambda: _train(X=_XT, Y=_YT), (_XT, _YT)),
    "project": (lambda: deepdual.project(_XM, _YM, beta=0.1), (_XM, _YM)),
    "ridge_path_solution": (lambda: deepdual.ridge_path_solution(_XM, _ym, beta=0.1, depth=3), (_XM, _ym)),
    "DeepLinearRegressor": (lambda: DeepLinearRegressor().fit(_XM, _ym).predict(_XM), (_XM, _ym)),
    "DeepReLUClassifier": (lambda: DeepReLUClassifier().fit(_XCM, LC).predict(_XCM), (_XCM,)),
    "Whitener": (lambda: deepdual.Whitener().fit(_XCM).transform(_XCM), (_XCM,)),
    "neural_collapse": (lambda: deepdual.neural_collapse(_XM, LABELS), (_XM, LABELS)),
    "numerical_rank": (lambda: deepdual.numerical_rank(_XM), (_XM,)),
}
for _id, (_call, _arrays) in _UNCHANGED.items():
    R.works(f"unchanged-{_id}", _call, inputs=_inputs(*_arrays))
_XBAD = X.copy()
_XBAD[0, 0] = np.nan
R.error("unchanged-closed_form-after-error", lambda: _cf(X=_XBAD), "X", inputs=_inputs(_XBAD))


# ------------------------------------------------------------------------------------------ the tests
def test_case_ids_are_unique_and_enough():
    ids = [c.id for c in R.cases]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", R.params())
def test_hostile_api(case):
    run_case(case)
