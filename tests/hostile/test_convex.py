"""Hostile inputs to ``convex_relu`` and to the two-layer ReLU options of ``certify`` (issue 14).

Same contract as the rest of ``tests/hostile/`` (:func:`_hostile.run_case`): a correct, finite result or a
one-line ``ValueError``/``TypeError`` naming the argument; resource guards answer before allocating
(``fast``); the caller's arrays are never written.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _hostile import Registry, finite, run_case, same_as
from torch import nn

import deepdual
from deepdual.convex import PatternSet, sample_patterns
from deepdual.convex.bounds import direction_bound, matrix_direction_bound

R = Registry()

# The available memory is pinned to 16 GiB for every test here (tests/hostile/conftest.py).


_rng = np.random.default_rng(14)
X = _rng.standard_normal((12, 3))
y = np.sin(X[:, 0]) + X[:, 1]
Y2 = np.column_stack([y, X[:, 2]])
XBIG = _rng.standard_normal((3000, 8))  # an arrangement of ~1e21 cells: refused before any work
yBIG = XBIG[:, 0]


def _cr(X=X, Y=y, beta=0.1, **kw):
    kw.setdefault("time_budget", 2.0)
    kw.setdefault("bound_budget", 0.5)
    return deepdual.convex_relu(X, Y, beta=beta, **kw)


def _key(sol):
    return [sol.objective]


def _relu_net(d=3, k=1, **kw):
    return deepdual.ParallelNet(d, k, branches=4, activation="relu", seed=0, **kw)


def _seq(*layers):
    torch.manual_seed(0)
    return nn.Sequential(*layers).double()


def _nan_seq():
    seq = _seq(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        seq[0].weight[0, 0] = float("nan")
    return seq


def _with(a, i, j, v):
    a = np.array(a, dtype=np.float64, copy=True)
    a[i, j] = v
    return a


# ================================================================================ convex_relu
for _tag, _v in (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
    R.error(f"convex_relu-X-{_tag}", lambda _v=_v: _cr(X=_with(X, 0, 0, _v)), "X")
    R.error(f"convex_relu-Y-{_tag}", lambda _v=_v: _cr(Y=_with(Y2, 1, 1, _v)), "Y")
R.error("convex_relu-n0", lambda: _cr(X=np.zeros((0, 3)), Y=np.zeros(0)), "X")
R.error("convex_relu-X-1d", lambda: _cr(X=X[:, 0]), "X")
R.error("convex_relu-Y-3d", lambda: _cr(Y=np.zeros((12, 1, 1))), "Y")
R.error("convex_relu-rows-mismatch", lambda: _cr(Y=y[:-1]), "X", "Y")
R.error("convex_relu-Y-1e200", lambda: _cr(Y=y * 1e200), "Y")
R.error("convex_relu-X-1e-200", lambda: _cr(X=X * 1e-200), "X")
for _tag, _b in (("0", 0.0), ("neg", -1.0), ("nan", np.nan), ("inf", np.inf), ("str", "1"), ("bool", True),
                 ("none", None)):
    R.error(f"convex_relu-beta-{_tag}", lambda _b=_b: _cr(beta=_b), "beta")
for _name in ("time_budget", "bound_budget", "tol"):
    for _tag, _v in (("neg", -1.0), ("0", 0.0), ("nan", np.nan), ("inf", np.inf), ("str", "5")):
        R.error(f"convex_relu-{_name}-{_tag}", lambda _name=_name, _v=_v: _cr(**{_name: _v}), _name, fast=True)
for _name, _v in (("max_patterns", 0), ("max_patterns", 2.5), ("max_rounds", -1), ("max_iter", 0),
                  ("n_samples", 0), ("pricing_starts", 0), ("seed", -1), ("seed", 1.5)):
    R.error(f"convex_relu-{_name}-{_v}", lambda _name=_name, _v=_v: _cr(patterns="sample", **{_name: _v}), _name,
            fast=True)
for _name in ("bias", "pricing"):
    R.error(f"convex_relu-{_name}-str", lambda _name=_name: _cr(**{_name: "False"}), _name, fast=True)
R.error("convex_relu-patterns-unknown", lambda: _cr(patterns="all"), "patterns", fast=True)
R.error("convex_relu-patterns-other-X", lambda: _cr(patterns=sample_patterns(X[:, :2], 5)), "patterns", fast=True)
R.error("convex_relu-patterns-not-a-set", lambda: _cr(patterns=np.ones((12, 4), bool)), "patterns", fast=True)
# huge pattern budgets: a one-line refusal before enumerating, sampling or allocating anything
R.error("convex_relu-enumerate-1e21-cells", lambda: _cr(X=XBIG, Y=yBIG, patterns="enumerate", max_patterns=10**30),
        "max_patterns", fast=True)
R.error("convex_relu-enumerate-over-max", lambda: _cr(X=XBIG, Y=yBIG, patterns="enumerate"), "max_patterns", fast=True)
R.error("convex_relu-sample-1e12", lambda: _cr(X=XBIG, Y=yBIG, n_samples=10**12), "n_samples", fast=True)
# warm starts
R.error("convex_relu-warm-array", lambda: _cr(warm_start=np.ones((3, 4))), "warm_start", fast=True)
R.error("convex_relu-warm-tanh", lambda: _cr(warm_start=_seq(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))),
        "warm_start", fast=True)
R.error("convex_relu-warm-nan", lambda: _cr(warm_start=_nan_seq()), "warm_start", fast=True)
R.error("convex_relu-warm-features", lambda: _cr(warm_start=_relu_net(d=5)), "warm_start", fast=True)
R.error("convex_relu-warm-outputs", lambda: _cr(warm_start=_relu_net(k=2)), "warm_start", fast=True)
R.error("convex_relu-warm-deep", lambda: _cr(warm_start=deepdual.ParallelNet(3, 1, depth=3, activation="relu")),
        "warm_start", "network", fast=True)
R.error("convex_relu-device-unknown", lambda: _cr(device="tpu"), "device", fast=True)
# what must work: other dtypes and containers give the float64 answer, the caller's arrays untouched
R.works("convex_relu-X-float32", lambda: _cr(X=X.astype(np.float32), Y=y.astype(np.float32)),
        lambda sol: finite(sol.objective, sol.lower_bound))
R.works("convex_relu-X-int", lambda: _cr(X=np.round(3 * X).astype(int)),
        same_as(lambda: _cr(X=np.round(3 * X)), _key, rtol=1e-9))
R.works("convex_relu-torch-tensors", lambda: _cr(X=torch.tensor(X), Y=torch.tensor(y)),
        same_as(lambda: _cr(), _key, rtol=1e-9))
R.works("convex_relu-one-row", lambda: _cr(X=X[:1], Y=y[:1]), lambda sol: finite(sol.objective, sol.lower_bound))
R.works("convex_relu-zero-targets", lambda: _cr(Y=np.zeros(12)),
        lambda sol: (finite(sol.objective), np.testing.assert_equal(sol.objective, 0.0)))
R.works("convex_relu-zero-X", lambda: _cr(X=np.zeros((12, 3))),
        lambda sol: np.testing.assert_allclose(sol.objective, 0.5 * float(y @ y), rtol=1e-12))
R.works("convex_relu-duplicate-rows", lambda: _cr(X=np.vstack([X, X]), Y=np.concatenate([y, y])),
        lambda sol: finite(sol.objective, sol.lower_bound))
_XU, _yU = X.copy(), y.copy()
R.works("convex_relu-inputs-unchanged", lambda: _cr(X=_XU, Y=_yU, patterns="sample", n_samples=5),
        inputs=lambda: (_XU, _yU))
_XE = _with(X, 0, 0, np.nan)
R.error("convex_relu-inputs-unchanged-after-error", lambda: _cr(X=_XE), "X", inputs=lambda: (_XE,))

# ================================================================================ certify (two-layer ReLU)
for _tag, _v in (("neg", -1.0), ("0", 0.0), ("nan", np.nan), ("inf", np.inf), ("str", "1"), ("bool", True)):
    R.error(f"certify-time_budget-{_tag}", lambda _v=_v: deepdual.certify(_relu_net(), X, y, beta=0.1, time_budget=_v),
            "time_budget", fast=True)
R.error("certify-sequential-tanh",
        lambda: deepdual.certify(_seq(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), X, y, beta=0.1), "network",
        fast=True)
R.error("certify-sequential-final-relu",
        lambda: deepdual.certify(_seq(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1), nn.ReLU()), X, y, beta=0.1),
        "network", fast=True)
R.error("certify-sequential-nan", lambda: deepdual.certify(_nan_seq(), X, y, beta=0.1), "network", fast=True)
R.error("certify-sequential-features", lambda: deepdual.certify(_seq(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 1)),
                                                                X, y, beta=0.1), "X", fast=True)
R.error("certify-relu-X-nan", lambda: deepdual.certify(_relu_net(), _with(X, 2, 2, np.nan), y, beta=0.1), "X",
        fast=True)
R.error("certify-relu-Y-rows", lambda: deepdual.certify(_relu_net(), X, y[:5], beta=0.1), "X", "Y", fast=True)
R.works("certify-sequential-float16",
        lambda: deepdual.certify(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).half(), X, y, beta=0.1),
        lambda c: (finite(c.objective, c.lower_bound), np.testing.assert_array_less(c.lower_bound, c.objective)))
R.works("certify-huge-time-budget-returns-when-exact",  # 2-D data: the bound closes long before the budget
        lambda: deepdual.certify(_relu_net(d=2), X[:, :2], y, beta=0.1, time_budget=1e9),
        lambda c: (finite(c.lower_bound), np.testing.assert_equal(c.c_exact, True)), fast=True)
R.works("certify-one-row", lambda: deepdual.certify(_relu_net(), X[:1], y[:1], beta=0.1),
        lambda c: finite(c.objective, c.lower_bound))
R.works("certify-zero-X", lambda: deepdual.certify(_relu_net(bias=True, penalize_bias=True), np.zeros((12, 3)), y,
                                                   beta=0.1),
        lambda c: finite(c.objective, c.lower_bound))
R.works("certify-Y-mean-1e6",  # free output bias: the centred residual's rounding is accounted for
        lambda: deepdual.certify(_relu_net(bias=True), X, y + 1e6, beta=0.1),
        lambda c: (finite(c.lower_bound), np.testing.assert_array_less(c.lower_bound, c.objective * (1 + 1e-12))))

# ================================================================================ bounds
R.error("direction_bound-enough-neg", lambda: direction_bound(y, X, enough=-1.0), "enough", fast=True)
R.error("matrix_direction_bound-enough-nan", lambda: matrix_direction_bound(Y2, X, enough=np.nan), "enough", fast=True)
R.error("direction_bound-patterns-wrong", lambda: direction_bound(y, X, patterns=PatternSet(
    np.ones((5, 1), bool), np.ones((3, 1)), True, "x")), "patterns", fast=True)


# ------------------------------------------------------------------------------------------ the tests
def test_case_ids_are_unique_and_enough():
    ids = [c.id for c in R.cases]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", R.params())
def test_hostile_convex(case):
    run_case(case)


def test_certify_survives_an_eigensolve_that_does_not_converge():
    """Red-team find: X ~ 1e6, Y ~ 1e-3 and a trained Sequential made the Lagrangian bound's optimizer reach
    multipliers whose trust-region eigensolve raised LinAlgError from certify (budgets 0.5–2 s). Now the
    optimizer keeps its best proven bound and certify returns a valid certificate."""
    import json
    from pathlib import Path

    import torch
    from torch import nn

    data = json.loads((Path(__file__).parent / "data" / "lagrangian_eigh.json").read_text())
    seq = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    seq.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in data["state"].items()})
    X, Y = np.array(data["X"]), np.array(data["Y"])
    for budget in (0.5, 1.0):
        cert = deepdual.certify(seq, X, Y, beta=data["beta"], time_budget=budget)
        assert 0.0 <= cert.lower_bound <= cert.objective
        assert cert.objective == pytest.approx(deepdual.objective(seq, X, Y, beta=data["beta"]), rel=1e-12)
