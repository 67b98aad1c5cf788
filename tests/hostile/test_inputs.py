"""Every public function and command, crossed with hostile inputs.

Each case either works correctly (the result is finite and equals the result on clean float64
data where that is checkable) or raises a one-line ``ValueError``/``TypeError`` whose message names
the argument: never a NaN result, a hang, or an exception from deep inside NumPy/PyTorch. Cases
that currently fail are marked ``xfail(strict=True)`` with the defect in the reason, so they show
up in the test report until fixed.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import deepdual
from deepdual import cli
from deepdual.theorems import batchnorm_closed_form
from deepdual.training import train

HAS_ESTIMATORS = importlib.util.find_spec("deepdual.estimators") is not None
HAS_EXPORT = importlib.util.find_spec("deepdual.export") is not None
HAS_RUNNER = importlib.util.find_spec("deepdual.experiments.runner") is not None


# ------------------------------------------------------------------------------------------ data
def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    Y = rng.standard_normal((6, 2))
    return X, Y


X0, Y0 = _data()
y0 = Y0[:, 0].copy()
XI = np.round(3 * X0).astype(np.int64)  # integer data
XW = deepdual.Whitener().fit_transform(np.random.default_rng(1).standard_normal((4, 6)))  # whitened rows
YW = deepdual.one_hot([0, 1, 2, 0]).Y
LABELS = np.array([0, 1, 0, 1, 0, 1])
XRD = np.random.default_rng(2).standard_normal((3, 5))  # 3 rows of rank 2
XRD[2] = XRD[0] + XRD[1]


def _net(d=4, k=2, **kw):
    return deepdual.ParallelNet(d, k, branches=3, seed=0, **kw)


def _meta(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64)).to("meta")


def _nan(a):
    a = np.array(a, dtype=np.float64, copy=True)
    a.flat[0] = np.nan
    return a


def _inf(a):
    a = np.array(a, dtype=np.float64, copy=True)
    a.flat[-1] = np.inf
    return a


def _strings(a):
    a = np.asarray(a).astype(object)
    a.flat[0] = "abc"
    return a


def _dup_rows(a):
    a = np.array(a, dtype=np.float64, copy=True)
    a[1] = a[0]
    return a


def _rank_deficient(a):
    a = np.array(a, dtype=np.float64, copy=True)
    a[:, -1] = a[:, 0] + a[:, 1]
    return a


# ------------------------------------------------------------------------------------------ cases
@dataclass
class Case:
    id: str
    call: Callable[[], Any]
    names: tuple[str, ...] = ()  # error expected: the message names one of these
    ok: Callable[[Any], None] | None = None  # works: check the result
    xfail: str | None = None
    errors: tuple[type, ...] = (ValueError, TypeError)


CASES: list[Case] = []


def error(id, call, *names, xfail=None, errors=(ValueError, TypeError)):
    CASES.append(Case(id, call, names=names, xfail=xfail, errors=errors))


def works(id, call, check=None, xfail=None):
    CASES.append(Case(id, call, ok=check or (lambda r: None), xfail=xfail))


def _finite(*values):
    for v in values:
        arr = np.asarray(v, dtype=np.float64)
        assert np.all(np.isfinite(arr)), f"non-finite result {v!r}"


def same_as(reference: Callable[[], Any], key: Callable[[Any], Any]):
    """Check: finite, and equal to ``key(reference())`` (the result on float64 data)."""
    def check(result):
        got, want = key(result), key(reference())
        _finite(got)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    return check


def matrix_cases(fname, arg, call, key, *, clean, one_d=True, empty=True, int_ok=True):
    """The hostile variants of a 2-D float argument ``arg`` of ``call(value)``."""
    error(f"{fname}-{arg}-nan", lambda: call(_nan(clean)), arg)
    error(f"{fname}-{arg}-inf", lambda: call(_inf(clean)), arg)
    if empty:
        error(f"{fname}-{arg}-empty", lambda: call(clean[:0]), arg)
    if one_d:
        error(f"{fname}-{arg}-1d", lambda: call(clean[:, 0]), arg)
    error(f"{fname}-{arg}-3d", lambda: call(clean[None]), arg)
    error(f"{fname}-{arg}-object-str", lambda: call(_strings(clean)), arg)
    error(f"{fname}-{arg}-str-dtype", lambda: call(np.full(clean.shape, "a")), arg)
    error(f"{fname}-{arg}-complex", lambda: call(clean + 1j), arg)
    error(f"{fname}-{arg}-meta-tensor", lambda: call(_meta(clean)), arg)
    if int_ok:
        ints = np.round(3 * clean).astype(np.int64)
        works(f"{fname}-{arg}-int", lambda: call(ints), same_as(lambda: call(ints.astype(np.float64)), key))
        works(f"{fname}-{arg}-object-num", lambda: call(clean.astype(object)), same_as(lambda: call(clean), key))
        bools = clean > 0
        works(f"{fname}-{arg}-bool", lambda: call(bools), same_as(lambda: call(bools.astype(np.float64)), key))
        works(f"{fname}-{arg}-float32-tensor", lambda: call(torch.as_tensor(clean, dtype=torch.float32)),
              same_as(lambda: call(clean.astype(np.float32).astype(np.float64)), key))


def beta_cases(fname, call, key, *, huge_ok=True, huge_check=None):
    error(f"{fname}-beta-nan", lambda: call(float("nan")), "beta")
    error(f"{fname}-beta-inf", lambda: call(float("inf")), "beta")
    error(f"{fname}-beta-negative", lambda: call(-1.0), "beta")
    error(f"{fname}-beta-str", lambda: call("0.1"), "beta")
    error(f"{fname}-beta-none", lambda: call(None), "beta")
    error(f"{fname}-beta-complex", lambda: call(0.1 + 0j), "beta")
    error(f"{fname}-beta-array", lambda: call(np.array([0.1, 0.2])), "beta")
    works(f"{fname}-beta-numpy-float", lambda: call(np.float64(0.1)), same_as(lambda: call(0.1), key))
    works(f"{fname}-beta-int", lambda: call(1), same_as(lambda: call(1.0), key))
    if huge_ok:
        works(f"{fname}-beta-huge", lambda: call(1e300), huge_check or (lambda r: _finite(key(r))))


# ---- closed_form ---------------------------------------------------------------------------------
def _cf_key(sol):
    return [sol.objective, sol.optimum]


def _cf(X=X0, Y=Y0, beta=0.1, **kw):
    return deepdual.closed_form(X, Y, beta=beta, depth=kw.pop("depth", 2), **kw)


matrix_cases("closed_form", "X", lambda v: _cf(X=v, Y=Y0[: len(v)] if np.ndim(v) >= 1 else Y0), _cf_key, clean=X0)
matrix_cases("closed_form", "Y", lambda v: _cf(Y=v), _cf_key, clean=Y0, one_d=False)
works("closed_form-Y-1d", lambda: _cf(Y=y0), same_as(lambda: _cf(Y=y0[:, None]), _cf_key))
error("closed_form-Y-wrong-rows", lambda: _cf(Y=Y0[:5]), "Y")
beta_cases("closed_form", lambda b: _cf(beta=b), _cf_key,
           huge_check=lambda s: np.testing.assert_allclose(s.objective, 0.5 * np.sum(Y0**2), rtol=1e-12))
error("closed_form-beta0-inconsistent", lambda: _cf(X=_dup_rows(X0), Y=Y0, beta=0.0), "beta")
works("closed_form-beta0-consistent", lambda: _cf(X=XW, Y=YW[:, :2], beta=0.0),
      lambda s: np.testing.assert_allclose(s.predict(XW), YW[:, :2], atol=1e-10))
works("closed_form-duplicated-rows", lambda: _cf(X=_dup_rows(X0)),
      lambda s: (_finite(s.objective, s.lower_bound), np.testing.assert_array_less(s.lower_bound, s.objective + 1e-9)))
works("closed_form-rank-deficient", lambda: _cf(X=_rank_deficient(X0)),
      lambda s: (_finite(s.objective, s.lower_bound), np.testing.assert_array_less(s.lower_bound, s.objective + 1e-9)))
error("closed_form-relu-whiten-rank-deficient",
      lambda: _cf(X=XRD, Y=deepdual.one_hot([0, 1, 0]).Y, activation="relu", whiten=True), "X")
error("closed_form-relu-whiten-duplicated-rows",
      lambda: _cf(X=_dup_rows(XW), Y=YW, activation="relu", whiten=True, depth=3), "X")
error("closed_form-relu-not-whitened", lambda: _cf(X=X0[:3].T[:3], Y=YW[:3], activation="relu", depth=3), "X")
error("closed_form-depth-1", lambda: _cf(depth=1), "depth")
error("closed_form-depth-float", lambda: _cf(depth=2.5), "depth")
error("closed_form-depth-str", lambda: _cf(depth="2"), "depth")
error("closed_form-depth-bool", lambda: _cf(depth=True), "depth")
error("closed_form-activation-bogus", lambda: _cf(activation="tanh"), "activation")
error("closed_form-branches-zero", lambda: _cf(branches=0), "branches")
error("closed_form-branches-too-few", lambda: _cf(Y=Y0, branches=1), "branches")

# ---- certify / objective -------------------------------------------------------------------------
for _fname, _fn, _key in (
    ("certify", lambda net, X, Y, beta: deepdual.certify(net, X, Y, beta=beta), lambda c: [c.objective, c.lower_bound]),
    ("objective", lambda net, X, Y, beta: deepdual.objective(net, X, Y, beta=beta), lambda v: v),
):
    def _call(X=X0, Y=Y0, beta=0.1, net=None, _fn=_fn):
        return _fn(net if net is not None else _net(), X, Y, beta)

    matrix_cases(_fname, "X", lambda v, _call=_call: _call(X=v, Y=Y0[: len(v)]), _key, clean=X0)
    matrix_cases(_fname, "Y", lambda v, _call=_call: _call(Y=v), _key, clean=Y0, one_d=False)
    error(f"{_fname}-X-wrong-features", lambda _call=_call: _call(X=X0[:, :3]), "X")
    error(f"{_fname}-Y-wrong-rows", lambda _call=_call: _call(Y=Y0[:5]), "Y")
    beta_cases(_fname, lambda b, _call=_call: _call(beta=b), _key)
    error(f"{_fname}-network-str", lambda _call=_call: _call(net="net"), "network")
    error(f"{_fname}-network-meta", lambda _call=_call: _call(net=_net(device="meta")), "network")
    works(f"{_fname}-duplicated-rows", lambda _call=_call: _call(X=_dup_rows(X0)), lambda r, _key=_key: _finite(_key(r)))
    works(f"{_fname}-rank-deficient", lambda _call=_call: _call(X=_rank_deficient(X0)), lambda r, _key=_key: _finite(_key(r)))

error("certify-beta0-not-interpolating", lambda: deepdual.certify(_net(), X0, Y0, beta=0.0), "beta")
works("certify-lower-bound-below-objective-huge-beta",
      lambda: deepdual.certify(_net(), X0, Y0, beta=1e300),
      lambda c: (_finite(c.objective, c.lower_bound), np.testing.assert_array_less(c.lower_bound, c.objective)))
error("objective-loss-bogus", lambda: deepdual.objective(_net(), X0, Y0, beta=0.1, loss="hinge"), "loss")


# ---- train ---------------------------------------------------------------------------------------
def _train(X=X0, Y=Y0, beta=0.1, net=None, **kw):
    kw.setdefault("epochs", 2)
    return train(net if net is not None else _net(), X, Y, beta=beta, progress=False, **kw)


def _train_key(h):
    return np.concatenate([[h.initial_objective], h.objective])


matrix_cases("train", "X", lambda v: _train(X=v, Y=Y0[: len(v)]), _train_key, clean=X0)
matrix_cases("train", "Y", lambda v: _train(Y=v), _train_key, clean=Y0, one_d=False)
beta_cases("train", lambda b: _train(beta=b), _train_key, huge_ok=False)
error("train-beta-huge-diverges", lambda: _train(beta=1e300, lr=1.0), "lr", "beta")
for _name, _bad in (("lr", float("nan")), ("lr", -1.0), ("lr", 0.0), ("epochs", 0), ("epochs", 2.5),
                    ("momentum", 1.5), ("batch_size", 0), ("seed", -1), ("optimizer", "rmsprop"),
                    ("loss", "hinge"), ("device", "meta"), ("device", "nonsense"), ("record", "bogus"),
                    ("lr_schedule", "bogus"), ("callback", 3), ("tol", -1.0)):
    error(f"train-{_name}-{_bad!r}", lambda _name=_name, _bad=_bad: _train(**{_name: _bad}), _name)
error("train-network-meta", lambda: _train(net=_net(device="meta")), "network", "device")
works("train-duplicated-rows", lambda: _train(X=_dup_rows(X0)), lambda h: _finite(_train_key(h)))

# ---- project, nuclear_norm_regression, scalar solvers ---------------------------------------------
matrix_cases("project", "X", lambda v: deepdual.project(v, Y0[: len(v)], beta=0.1), lambda P: P, clean=X0)
matrix_cases("project", "Y", lambda v: deepdual.project(X0, v, beta=0.1), lambda P: P, clean=Y0, one_d=False)
beta_cases("project", lambda b: deepdual.project(X0, Y0, beta=b), lambda P: P)
works("project-beta0", lambda: deepdual.project(X0, Y0, beta=0.0), lambda P: _finite(P))
works("project-rank-deficient", lambda: deepdual.project(Y0, _rank_deficient(X0), 0.1),
      lambda P: np.testing.assert_array_less(np.linalg.norm(_rank_deficient(X0).T @ P, 2), 0.1 + 1e-8))


def _nuc(X=X0, Y=Y0, beta=0.1):
    return deepdual.nuclear_norm_regression(X, Y, beta=beta, tol=1e-8)


error("nuclear_norm_regression-X-nan", lambda: _nuc(X=_nan(X0)), "X")
error("nuclear_norm_regression-X-1d", lambda: _nuc(X=X0[:, 0]), "X")
error("nuclear_norm_regression-X-empty", lambda: _nuc(X=X0[:0], Y=Y0[:0]), "X")
error("nuclear_norm_regression-X-str", lambda: _nuc(X=_strings(X0)), "X")
error("nuclear_norm_regression-Y-rows", lambda: _nuc(Y=Y0[:5]), "Y")
error("nuclear_norm_regression-beta-negative", lambda: _nuc(beta=-1.0), "beta")
error("nuclear_norm_regression-beta-nan", lambda: _nuc(beta=float("nan")), "beta")
works("nuclear_norm_regression-int-X", lambda: _nuc(X=XI), same_as(lambda: _nuc(X=XI.astype(float)), lambda r: r.objective))

_amp = deepdual.optimal_amplitude
works("optimal_amplitude-int-sigma", lambda: _amp(3, 0.5, 3), same_as(lambda: _amp(3.0, 0.5, 3), lambda r: r))
works("optimal_amplitude-huge-beta", lambda: _amp(2.0, 1e300, 3), lambda r: np.testing.assert_equal(r, 0.0))
works("optimal_amplitude-empty", lambda: _amp(np.array([]), 0.5, 3), lambda r: np.testing.assert_equal(np.shape(r), (0,)))
error("optimal_amplitude-sigma-nan", lambda: _amp(float("nan"), 0.5, 3), "sigma")
error("optimal_amplitude-sigma-str", lambda: _amp("abc", 0.5, 3), "sigma")
error("optimal_amplitude-sigma-complex", lambda: _amp(1 + 1j, 0.5, 3), "sigma")
error("optimal_amplitude-beta-negative", lambda: _amp(1.0, -0.5, 3), "beta")
error("optimal_amplitude-beta-nan", lambda: _amp(1.0, float("nan"), 3), "beta")
error("optimal_amplitude-depth-1", lambda: _amp(1.0, 0.5, 1), "depth")
error("optimal_amplitude-depth-float", lambda: _amp(1.0, 0.5, 2.5), "depth")

_rp = deepdual.ridge_path_solution
works("ridge_path_solution-rank-deficient", lambda: _rp(_rank_deficient(X0), y0, 0.1, 3), lambda r: _finite(r.v, r.objective))
works("ridge_path_solution-huge-beta", lambda: _rp(X0, y0, 1e300, 3), lambda r: np.testing.assert_equal(r.v, 0.0))
error("ridge_path_solution-X-nan", lambda: _rp(_nan(X0), y0, 0.1, 3), "X")
error("ridge_path_solution-X-1d", lambda: _rp(X0[:, 0], y0, 0.1, 3), "X")
error("ridge_path_solution-X-empty", lambda: _rp(X0[:0], y0[:0], 0.1, 3), "X")
error("ridge_path_solution-y-2d", lambda: _rp(X0, Y0, 0.1, 3), "y")
error("ridge_path_solution-y-rows", lambda: _rp(X0, y0[:5], 0.1, 3), "y")
error("ridge_path_solution-beta-negative", lambda: _rp(X0, y0, -0.1, 3), "beta")
error("ridge_path_solution-depth-1", lambda: _rp(X0, y0, 0.1, 1), "depth")

# ---- whitening and data --------------------------------------------------------------------------
XT = X0.T.copy()  # (4, 6): n <= d
matrix_cases("Whitener.fit", "X", lambda v: deepdual.Whitener().fit_transform(v), lambda r: r, clean=XT,
             int_ok=False)
works("Whitener.fit-int", lambda: deepdual.Whitener().fit_transform(np.round(3 * XT).astype(int)),
      same_as(lambda: deepdual.Whitener().fit_transform(np.round(3 * XT)), lambda r: r))
error("Whitener.fit-rank-deficient", lambda: deepdual.Whitener().fit(XRD), "X")
error("Whitener.fit-duplicated-rows", lambda: deepdual.Whitener().fit(_dup_rows(XT)), "X")
error("Whitener.fit-more-rows-than-features", lambda: deepdual.Whitener().fit(X0), "X")
error("Whitener.transform-wrong-features", lambda: deepdual.Whitener().fit(XT).transform(X0), "X")
error("Whitener.transform-nan", lambda: deepdual.Whitener().fit(XT).transform(_nan(XT)), "X")
error("Whitener.rtol-negative", lambda: deepdual.Whitener(rtol=-1.0).fit(XT), "rtol")

works("one_hot-int", lambda: deepdual.one_hot(LABELS), lambda e: np.testing.assert_equal(e.Y.sum(axis=1), 1.0))
works("one_hot-str", lambda: deepdual.one_hot(np.array(["a", "b", "a"])), lambda e: np.testing.assert_equal(e.Y.shape, (3, 2)))
error("one_hot-empty", lambda: deepdual.one_hot([]), "labels")
error("one_hot-2d", lambda: deepdual.one_hot(np.zeros((3, 2))), "labels")
error("one_hot-nan", lambda: deepdual.one_hot([0.0, np.nan, 1.0]), "labels")
error("one_hot-meta-tensor", lambda: deepdual.one_hot(_meta([0, 1, 0])), "labels")
error("one_hot-unknown-class", lambda: deepdual.one_hot([0, 1, 2], classes=[0, 1]), "labels")

_DIG_X = np.random.default_rng(3).standard_normal((40, 12))
_DIG_L = np.arange(40) % 2


def _under(X=_DIG_X, labels=_DIG_L, **kw):
    args = {"n": 4, "d": 6, "test_size": 4, "seed": 0, **kw}
    return deepdual.undersample_whitened(X, labels, **args)


works("undersample_whitened-int-X", lambda: _under(X=np.round(3 * _DIG_X).astype(int)),
      same_as(lambda: _under(X=np.round(3 * _DIG_X)), lambda s: s.X_train if hasattr(s, "X_train") else s.train.X))
error("undersample_whitened-X-nan", lambda: _under(X=_nan(_DIG_X)), "X")
error("undersample_whitened-X-1d", lambda: _under(X=_DIG_X[:, 0]), "X")
error("undersample_whitened-X-str", lambda: _under(X=_strings(_DIG_X)), "X")
error("undersample_whitened-X-meta", lambda: _under(X=_meta(_DIG_X)), "X")
error("undersample_whitened-labels-rows", lambda: _under(labels=_DIG_L[:10]), "labels")
error("undersample_whitened-n-greater-than-d", lambda: _under(n=8, d=6), "n")
error("undersample_whitened-n-not-multiple", lambda: _under(n=3), "n")
error("undersample_whitened-test-size-negative", lambda: _under(test_size=-1), "test_size")

# ---- metrics -------------------------------------------------------------------------------------
_H = np.random.default_rng(4).standard_normal((6, 3))


def _nc_key(r):
    return [r.nc1, r.nc2_norm_cv, r.nc2_cos_std, r.nc2_cos_mean_dev, r.nc2_etf_distance]


matrix_cases("neural_collapse", "H", lambda v: deepdual.neural_collapse(v, LABELS[: len(v)]), _nc_key, clean=_H,
             int_ok=False)
works("neural_collapse-int-H", lambda: deepdual.neural_collapse(np.round(3 * _H).astype(int), LABELS),
      same_as(lambda: deepdual.neural_collapse(np.round(3 * _H), LABELS), _nc_key))
error("neural_collapse-labels-rows", lambda: deepdual.neural_collapse(_H, LABELS[:5]), "labels")
error("neural_collapse-labels-float", lambda: deepdual.neural_collapse(_H, LABELS + 0.5), "labels")
error("neural_collapse-labels-str", lambda: deepdual.neural_collapse(_H, np.array(list("ababab"))), "labels")
error("neural_collapse-one-class", lambda: deepdual.neural_collapse(_H, np.zeros(6, int)), "labels")

works("layer_ranks-network", lambda: deepdual.layer_ranks(_net()), lambda r: np.testing.assert_equal(len(r), 2))
works("layer_ranks-int-matrices", lambda: deepdual.layer_ranks([np.eye(3, dtype=int)]), lambda r: np.testing.assert_equal(r, [3]))
error("layer_ranks-nan", lambda: deepdual.layer_ranks([_nan(np.eye(3))]), "network_or_matrices")
error("layer_ranks-1d", lambda: deepdual.layer_ranks([np.ones(3)]), "network_or_matrices")
error("layer_ranks-str", lambda: deepdual.layer_ranks("W"), "network_or_matrices")
error("layer_ranks-single-matrix", lambda: deepdual.layer_ranks(np.eye(3)), "network_or_matrices")
error("layer_ranks-meta", lambda: deepdual.layer_ranks([_meta(np.eye(3))]), "network_or_matrices")
error("layer_ranks-rtol-negative", lambda: deepdual.layer_ranks([np.eye(3)], rtol=-1.0), "rtol")


# ---- batchnorm_closed_form -----------------------------------------------------------------------
def _bn_net(**kw):
    return deepdual.ParallelNet(6, 3, depth=3, branches=3, hidden=20, activation="relu", batchnorm=True, seed=0, **kw)


_XBN = np.random.default_rng(5).standard_normal((6, 6))
_YBN = deepdual.one_hot([0, 1, 2, 0, 1, 2]).Y


def _bn(net=None, X=_XBN, Y=_YBN, beta=0.1):
    return batchnorm_closed_form(net if net is not None else _bn_net(), X, Y, beta=beta)


matrix_cases("batchnorm_closed_form", "X", lambda v: _bn(X=v, Y=_YBN[: len(v)]), _cf_key, clean=_XBN)
error("batchnorm_closed_form-Y-not-one-hot", lambda: _bn(Y=_YBN * 2), "Y")
error("batchnorm_closed_form-Y-nan", lambda: _bn(Y=_nan(_YBN)), "Y")
beta_cases("batchnorm_closed_form", lambda b: _bn(beta=b), _cf_key)
error("batchnorm_closed_form-network-no-bn", lambda: _bn(net=_net(6, 3, activation="relu")), "network", "batchnorm")
error("batchnorm_closed_form-network-str", lambda: _bn(net="net"), "network")
# duplicated rows make the pre-BN activations rank-deficient: Theorem 4.4 does not apply ("n", fewer samples)
error("batchnorm_closed_form-duplicated-rows", lambda: _bn(X=_dup_rows(_XBN)), "n")

# ---- constructors --------------------------------------------------------------------------------
for _kw, _name in (({"in_features": 0}, "in_features"), ({"in_features": 2.5}, "in_features"),
                   ({"in_features": "3"}, "in_features"), ({"out_features": 0}, "out_features"),
                   ({"depth": 1}, "depth"), ({"branches": 0}, "branches"), ({"activation": "tanh"}, "activation"),
                   ({"depth": 3, "hidden": [1, 2]}, "hidden"), ({"depth": 3, "hidden": 0}, "hidden"),
                   ({"regularize": "last"}, "regularize"), ({"device": "nonsense"}, "device")):
    _args = {"in_features": 3, "out_features": 2, **_kw}
    error(f"ParallelNet-{_name}-{_kw[_name]!r}", lambda _args=_args: deepdual.ParallelNet(**_args), _name)
for _widths in ([3], "abc", [3, 0, 1], [3, 2.5, 1], None):
    error(f"MLP-widths-{_widths!r}", lambda _w=_widths: deepdual.MLP(_w), "widths")
error("MLP-activation-bogus", lambda: deepdual.MLP([3, 2, 1], activation="tanh"), "activation")
error("ParallelNet.set_weights-nan", lambda: _net().set_weights([_nan(w.detach().numpy()) for w in _net().weights]),
      "weights")
error("ParallelNet.set_weights-shape", lambda: _net().set_weights([np.zeros((1, 1, 1))] * 2), "weights")

# ---- estimators ----------------------------------------------------------------------------------
if HAS_ESTIMATORS:
    from deepdual.estimators import DeepLinearRegressor, DeepReLUClassifier, SplineReLURegressor

    _XC = np.random.default_rng(6).standard_normal((4, 6))
    error("DeepReLUClassifier.fit-X-nan", lambda: DeepReLUClassifier().fit(_nan(_XC), [0, 1, 0, 1]), "X")
    error("DeepReLUClassifier.fit-X-1d", lambda: DeepReLUClassifier().fit(_XC[:, 0], [0, 1, 0, 1]), "X")
    # dependent_rows="raise" keeps the old refusal; the default drops dependent rows with a warning (issue 15)
    error("DeepReLUClassifier.fit-too-many-rows", lambda: DeepReLUClassifier(dependent_rows="raise").fit(X0, LABELS),
          "n_samples")
    error("DeepReLUClassifier.fit-beta-negative", lambda: DeepReLUClassifier(beta=-1.0).fit(_XC, [0, 1, 0, 1]), "beta")
    error("DeepReLUClassifier.fit-depth-1", lambda: DeepReLUClassifier(depth=1).fit(_XC, [0, 1, 0, 1]), "depth")
    error("DeepReLUClassifier.fit-duplicated-rows",
          lambda: DeepReLUClassifier(dependent_rows="raise").fit(_dup_rows(_XC), [0, 1, 0, 1]), "X")
    error("DeepReLUClassifier.fit-continuous-y", lambda: DeepReLUClassifier().fit(_XC, [0.1, 0.2, 0.3, 0.4]), "y")
    works("DeepReLUClassifier.fit-int-X", lambda: DeepReLUClassifier().fit(np.round(3 * _XC).astype(int), [0, 1, 0, 1]),
          same_as(lambda: DeepReLUClassifier().fit(np.round(3 * _XC), [0, 1, 0, 1]), lambda c: c.solution_.objective))
    error("DeepLinearRegressor.fit-X-inf", lambda: DeepLinearRegressor().fit(_inf(X0), y0), "X")
    error("DeepLinearRegressor.fit-y-str", lambda: DeepLinearRegressor().fit(X0, np.array(list("abcdef"))), "y")
    error("DeepLinearRegressor.fit-beta-nan", lambda: DeepLinearRegressor(beta=float("nan")).fit(X0, y0), "beta")
    works("DeepLinearRegressor.fit-huge-beta", lambda: DeepLinearRegressor(beta=1e300).fit(X0, y0),
          lambda r: np.testing.assert_allclose(r.predict(X0), y0.mean()))
    works("DeepLinearRegressor.fit-rank-deficient", lambda: DeepLinearRegressor().fit(_rank_deficient(X0), y0),
          lambda r: _finite(r.predict(X0)))
    error("SplineReLURegressor.fit-2-features", lambda: SplineReLURegressor().fit(X0[:, :2], y0), "X", "x")
    error("SplineReLURegressor.fit-nan", lambda: SplineReLURegressor().fit(_nan(X0[:, :1]), y0), "X", "x")
    error("SplineReLURegressor.fit-beta-negative", lambda: SplineReLURegressor(beta=-1.0).fit(X0[:, :1], y0), "beta")
    works("SplineReLURegressor.fit-duplicated-points", lambda: SplineReLURegressor().fit(_dup_rows(X0[:, :1]), y0),
          lambda r: _finite(r.predict(X0[:, :1])))
    error("SplineReLURegressor.fit-beta0-inconsistent",
          lambda: SplineReLURegressor(beta=0.0).fit(np.array([[0.0], [0.0], [1.0]]), [0.0, 1.0, 2.0]), "beta", "y")

# ---- export --------------------------------------------------------------------------------------
if HAS_EXPORT:
    from deepdual import export

    error("save_network-not-a-network", lambda: export.save_network("net", "/tmp/unused.pt"), "network")
    error("save_network-missing-folder", lambda: export.save_network(_net(), "/nonexistent/dir/net.pt"), "folder",
          errors=(FileNotFoundError,))
    error("save_network-metadata-not-json", lambda: export.save_network(_net(), "/tmp/unused.pt", metadata={"a": object()}),
          "metadata")
    error("load_network-missing-file", lambda: export.load_network("/nonexistent/net.pt"), "net.pt",
          errors=(FileNotFoundError,))

    def _garbage(tmp="/tmp/deepdual-hostile-garbage.pt"):
        with open(tmp, "wb") as fh:
            fh.write(b"not a model")
        return export.load_network(tmp)

    error("load_network-garbage-file", _garbage, "deepdual-hostile-garbage.pt")


# ---- CLI commands (in-process through cli.main: exit code 2, one line on stderr, no traceback) ----
@dataclass
class CliCase:
    id: str
    argv: Callable[[Any], list]  # tmp_path -> argv
    mentions: tuple[str, ...]
    xfail: str | None = None


def _csv(tmp, text, name="data.csv"):
    p = tmp / name
    p.write_text(text)
    return str(p)


_GOOD = "a,b,c,y\n" + "".join(f"{i},{i * i % 7},{(3 * i) % 5},{i % 2}\n" for i in range(8))

CLI_CASES = [
    CliCase("cli-fit-nan-feature", lambda t: ["fit", _csv(t, "a,b,y\n1,nan,0\n2,3,1\n"), "--target", "y"], ("'b'",)),
    CliCase("cli-fit-string-feature", lambda t: ["fit", _csv(t, "a,b,y\n1,x,0\n2,3,1\n"), "--target", "y"], ("'b'",)),
    CliCase("cli-fit-inf-target", lambda t: ["fit", _csv(t, "a,b,y\n1,2,inf\n2,3,1\n"), "--target", "y"], ("'y'",)),
    CliCase("cli-fit-empty-file", lambda t: ["fit", _csv(t, ""), "--target", "y"], ("empty",)),
    CliCase("cli-fit-header-only", lambda t: ["fit", _csv(t, "a,b,y\n"), "--target", "y"], ("data rows",)),
    CliCase("cli-fit-missing-target", lambda t: ["fit", _csv(t, _GOOD), "--target", "zz"], ("'zz'",)),
    CliCase("cli-fit-missing-file", lambda t: ["fit", str(t / "nope.csv"), "--target", "y"], ("nope.csv",)),
    CliCase("cli-fit-beta-nan", lambda t: ["fit", _csv(t, _GOOD), "--target", "y", "--beta", "nan"], ("--beta",)),
    CliCase("cli-fit-beta-negative", lambda t: ["fit", _csv(t, _GOOD), "--target", "y", "--beta", "-1"], ("--beta",)),
    CliCase("cli-fit-depth-1", lambda t: ["fit", _csv(t, _GOOD), "--target", "y", "--depth", "1"], ("--depth",)),
    CliCase("cli-fit-depth-str", lambda t: ["fit", _csv(t, _GOOD), "--target", "y", "--depth", "two"], ("--depth",)),
    CliCase("cli-fit-binary-file", lambda t: ["fit", _csv(t, "", "bin.csv") and _write_bytes(t / "bin.csv"), "--target", "y"],
            ("UTF-8",)),
    CliCase("cli-certify-garbage-model", lambda t: ["certify", _csv(t, "junk", "m.pt"), _csv(t, _GOOD), "--target", "y",
                                                "--beta", "0.1"], ("m.pt",)),
    CliCase("cli-certify-missing-model", lambda t: ["certify", str(t / "none.pt"), _csv(t, _GOOD), "--target", "y",
                                                "--beta", "0.1"], ("none.pt",)),
    CliCase("cli-certify-beta-inf", lambda t: ["certify", _csv(t, "junk", "m.pt"), _csv(t, _GOOD), "--target", "y",
                                           "--beta", "inf"], ("--beta",)),
    CliCase("cli-reproduce-only-bogus", lambda t: ["reproduce", "--only", "bogus", "--out", str(t / "rep")], ("bogus",),
            xfail=None if HAS_RUNNER else "deepdual.experiments.runner does not exist yet: `reproduce` fails with "
                                         "ModuleNotFoundError (exit 1) instead of naming --only"),
    CliCase("cli-sweep-missing-config", lambda t: ["sweep", str(t / "none.toml")], ("none.toml",)),
    CliCase("cli-sweep-bad-toml", lambda t: ["sweep", _csv(t, "kind = [\n", "s.toml")], ("TOML",)),
    CliCase("cli-sweep-negative-beta", lambda t: ["sweep", _csv(t, "[grid]\nbeta = [-1.0]\n", "s.toml")], ("grid.beta",)),
    CliCase("cli-sweep-jobs-zero", lambda t: ["sweep", _csv(t, "[grid]\nbeta = [1.0]\n", "s.toml"), "--jobs", "0"],
            ("n_jobs",)),
]


def _write_bytes(path):
    path.write_bytes(b"\xff\xfe\x00\x81binary")
    return str(path)


# ------------------------------------------------------------------------------------------ known defects
_META_NET = ("a network on the 'meta' device reaches torch: RuntimeError 'Tensor.item() cannot be called on meta "
             "tensors'; fix: call _validation.check_network(network) at entry")
_SKLEARN = ("sklearn's validate_data raises a multi-line ValueError (or one not naming the argument); fix: "
            "validate X/y with _validation.check_array/check_targets before validate_data")
# Known defects, each an xfail(strict=True) so it shows; all those found so far are fixed.
XFAILS: dict[str, str] = {}
for _c in CASES:
    if _c.id in XFAILS:
        _c.xfail = XFAILS[_c.id]


# ------------------------------------------------------------------------------------------ the tests
def _params(cases):
    out = []
    for c in cases:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def test_case_ids_are_unique():
    ids = [c.id for c in CASES] + [c.id for c in CLI_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", _params(CASES))
def test_hostile_input(case):
    if case.ok is not None:
        result = case.call()
        case.ok(result)
        return
    with pytest.raises(Exception) as info:
        case.call()
    exc = info.value
    assert isinstance(exc, case.errors), f"{type(exc).__name__} from deep inside: {exc}"
    msg = str(exc)
    assert msg and "\n" not in msg.strip(), f"message is not one line: {msg!r}"
    assert any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", msg) for n in case.names), \
        f"message does not name any of {case.names}: {msg!r}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", _params(CLI_CASES))
def test_hostile_command(case, tmp_path, capsys):
    argv = case.argv(tmp_path)
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, f"exit code {code}: {err!r}"
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert any(m in err for m in case.mentions), err


@pytest.mark.timeout(120)
def test_hostile_command_in_a_subprocess(tmp_path):
    """The same contract end to end: a real process, exit 2, one line on stderr."""
    import subprocess
    import sys

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,nan,0\n2,3,1\n")
    out = subprocess.run([sys.executable, "-m", "deepdual.cli", "fit", str(bad), "--target", "y"],
                         capture_output=True, text=True, timeout=110)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "'b'" in out.stderr and "Traceback" not in out.stderr
