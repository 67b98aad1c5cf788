"""The two-moons experiment: its claims at the tiny size, its numbers recomputed, determinism, the plot."""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepdual.experiments import EXPERIMENTS, get  # noqa: E402
from deepdual.experiments._common import config_hash  # noqa: E402
from deepdual.experiments.runner import experiment_config  # noqa: E402

moons = get("moons")


@pytest.fixture(scope="module")
def tiny():
    return moons.compute(experiment_config("moons", "tiny"))


def test_registered_with_the_common_interface():
    assert "moons" in EXPERIMENTS
    assert moons.compute_moons is moons.compute and moons.plot_moons is moons.plot
    assert set(moons.CONFIGS) == {"tiny", "quick", "full"}
    assert all(c["seeds"] >= 5 for c in moons.CONFIGS.values())


def test_tiny_record_claims_pass_and_are_strict_json(tiny):
    rec = tiny
    assert rec["name"] == "moons" and rec["config_hash"] == config_hash("moons", rec["config"])
    assert json.loads(json.dumps(rec, allow_nan=False)) == rec
    assert [c["status"] for c in rec["claims"]] == ["PASS"] * 5, rec["claims"]
    assert len(rec["data"]["runs"]) == 5
    assert rec["seconds"] < 30  # a few seconds on the reference machine; the suite's budget is 10 s


def _affine_patterns(x):
    """Every pattern 1[wᵀx_i + c ≥ 0] of 2-D points, by brute force: for a direction w between two critical
    angles (where two points project equally) every threshold set {i : wᵀx_i ≥ t}, plus the empty one."""
    crit = []
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx = x[i] - x[j]
            th = math.atan2(dx[1], dx[0]) + math.pi / 2
            crit += [th % (2 * math.pi), (th + math.pi) % (2 * math.pi)]
    crit = np.sort(crit)
    pats = {np.zeros(len(x), bool).tobytes()}
    for th in (crit + np.r_[crit[1:], crit[0] + 2 * math.pi]) / 2:
        proj = x @ np.array([math.cos(th), math.sin(th)])
        pats |= {(proj >= t).tobytes() for t in proj}
    return pats


def test_cover_count_against_brute_force():
    """Cells of n generic planes through 0 in R³ (rows of [X, 1] for 2-D points) = patterns counted by hand."""
    rng = np.random.default_rng(0)
    for n in (3, 6, 11):
        assert len(_affine_patterns(rng.standard_normal((n, 2)))) == moons.cover_count(n)


def test_numbers_recomputed_from_the_record(tiny):
    """The optimum's objective and every run's objective recomputed here; no run below the lower bound."""
    from deepdual.convex import enumerate_patterns

    d = tiny["data"]
    X, y = np.asarray(d["X"]), np.asarray(d["y"])
    assert set(y.tolist()) == {-1.0, 1.0}  # labels ±1: one output, one scalar program
    opt = d["optimum"]
    n = X.shape[0]
    assert opt["complete"] and opt["n_patterns"] == moons.cover_count(n) - 1
    assert opt["n_patterns"] == enumerate_patterns(np.hstack([X, np.ones((n, 1))])).n_patterns
    assert opt["lower_bound"] <= opt["objective"] and opt["gap"] <= 1e-6
    for r in d["runs"]:
        assert r["objective"] >= opt["lower_bound"]
        assert r["gap"] == pytest.approx(r["objective"] - opt["lower_bound"], abs=1e-15)
        assert np.asarray(r["grid"]).size == tiny["config"]["grid"] ** 2
    assert opt["accuracy"] == 1.0 and all(0.5 < r["accuracy"] <= 1.0 for r in d["runs"])


def test_deterministic_given_the_config():
    cfg = experiment_config("moons", "tiny") | {"n": 10, "seeds": 2, "epochs": 20, "grid": 10, "probes": 200}
    a, b = moons.compute(cfg), moons.compute(cfg)
    for rec in (a, b):
        rec.pop("seconds")
        rec["data"]["optimum"].pop("seconds")
        for r in rec["data"]["runs"]:
            r.pop("seconds")
    assert a == b


def test_plot_draws_every_panel(tiny, tmp_path):
    fig = moons.plot(tiny)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles[0].startswith("certified optimum") and sum(t.startswith("Adam, seed") for t in titles) == 5
    assert titles[-1] == "objectives"
    obj_ax = [ax for ax in fig.axes if ax.get_title() == "objectives"][0]
    (points,) = [ln for ln in obj_ax.get_lines() if ln.get_label() == "Adam runs"]
    np.testing.assert_allclose(points.get_ydata(), [r["objective"] for r in tiny["data"]["runs"]])
    fig.savefig(tmp_path / "moons.png")
    img = matplotlib.image.imread(tmp_path / "moons.png")
    ink = np.any(img[..., :3] < 0.5, axis=2).mean()
    assert 0.005 < ink < 0.5 and math.isfinite(ink)
