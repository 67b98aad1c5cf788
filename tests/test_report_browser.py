"""The report in headless Chromium: the claims table is present, every image loads, a screenshot is taken,
and the numbers the figures draw (embedded in the page) show what the paper's figures show:

* Figure 1: every trained curve passes through the data (and stays on the spline interpolant between them);
* Figure 2a: the closed form's rank steps exactly at the singular values of YᵀX (the red lines).

The figures are checked from the plotted data (``NAME.plot.json``, embedded in ``index.html``), not pixels.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from deepdual.experiments.runner import reproduce
from deepdual.report import write_report

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
NO_CHROMIUM = "headless Chromium not installed (apt-get install chromium)"
_PLOT_DATA = re.compile(r"<script type=\"application/json\" class=\"plot-data\" data-experiment=\"([^\"]+)\">(.*?)</script>",
                        re.S)


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)


def _chromium(tmp_path, page, *extra):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--allow-file-access-from-files",
           "--virtual-time-budget=5000", *extra, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_report_renders_in_chromium(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    _png(out / "a.png")
    rec = {"name": "a", "title": "A", "description": "d", "plots": ["a.png"], "seconds": 1.0, "config_hash": "x",
           "claims": [{"id": "Fig 0", "claim": "c", "value": 1.0, "measured": "1", "threshold": "≤ 2",
                       "status": "PASS", "reason": ""},
                      {"id": "Fig 0b", "claim": "c", "value": None, "measured": "n/a", "threshold": "",
                       "status": "SKIPPED", "reason": "SKIPPED (no --cifar-dir)"}]}
    write_report(str(out), [rec], meta={"size": "tiny"})
    dom = _chromium(tmp_path, out / "index.html", "--dump-dom").stdout
    assert 'id="claims-table"' in dom
    assert "SKIPPED (no --cifar-dir)" in dom
    assert 'data-images-loaded="all"' in dom, dom[:500]

    # A broken image is detected.
    os.remove(out / "a.png")
    dom = _chromium(tmp_path, out / "index.html", "--dump-dom").stdout
    assert 'data-images-loaded="broken"' in dom


# ------------------------------------------------------------------------------------ the figures themselves
@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Figures 1 and 2a at the tiny size, written by ``reproduce`` (shared by the tests below)."""
    out = tmp_path_factory.mktemp("figures") / "rep"
    res = reproduce(out, size="tiny", only="fig1,fig2a", progress=False, verbose=False)
    return out, res


def _lines(plot: dict, axis: int = 0) -> list[dict]:
    return plot["axes"][axis]["lines"]


def check_fig1(plot: dict, config: dict) -> int:
    """Every trained curve passes within ``spline_tol·range(y)`` of every data point and of the interpolant
    between them; returns how many curves were checked."""
    lines = _lines(plot)
    (data,) = [ln for ln in lines if ln["label"] == "data"]
    (spline,) = [ln for ln in lines if ln["label"] == "linear spline interpolant"]
    x, y = np.asarray(data["x"]), np.asarray(data["y"])
    tol = config["spline_tol"] * float(np.ptp(y))
    trained = [ln for ln in lines if ln["label"].startswith("trained L=")]
    assert len(trained) == len(config["depths"])
    for ln in trained:
        t, v = np.asarray(ln["x"]), np.asarray(ln["y"])
        assert np.max(np.abs(np.interp(x, t, v) - y)) <= tol, (ln["label"], np.interp(x, t, v) - y)
        inside = (t >= x.min()) & (t <= x.max())
        between = np.interp(t[inside], np.asarray(spline["x"]), np.asarray(spline["y"]))
        assert np.max(np.abs(v[inside] - between)) <= tol, ln["label"]
    return len(trained)


def check_fig2a(plot: dict) -> int:
    """The closed-form curve changes value exactly at the red σᵢ lines, at each of them once; returns the
    number of steps."""
    lines = _lines(plot)
    sigmas = np.sort([ln["x"][0] for ln in lines if ln["kind"] == "vline"])
    (curve,) = [ln for ln in lines if ln["label"].startswith("closed form")]
    assert curve["drawstyle"] == "steps-post"
    bx, by = np.asarray(curve["x"]), np.asarray(curve["y"])
    steps = bx[1:][np.diff(by) != 0]  # steps-post: the value changes at x[i] when y[i] != y[i-1]
    assert sigmas.size >= 2 and steps.size == sigmas.size
    np.testing.assert_allclose(np.sort(steps), sigmas, rtol=1e-12, atol=0)
    assert np.all(np.diff(by) <= 0) and by[0] == sigmas.size and by[-1] == 0  # one rank lost at each σᵢ
    return int(steps.size)


def test_figures_show_what_the_paper_shows(report):
    """From the saved plot data (no browser needed)."""
    out, res = report
    fig1 = json.loads((out / "fig1.plot.json").read_text())
    fig2a = json.loads((out / "fig2a.plot.json").read_text())
    assert check_fig1(fig1, res["experiments"]["fig1"]["config"]) == 2
    assert check_fig2a(fig2a) == res["experiments"]["fig2a"]["config"]["K"]


def test_the_checks_catch_a_wrong_figure(report):
    """The checks above fail on a figure that misses the data or steps between the σᵢ."""
    out, res = report
    fig1 = json.loads((out / "fig1.plot.json").read_text())
    for ln in _lines(fig1):
        if ln["label"].startswith("trained L=2"):
            ln["y"] = [v + 0.1 for v in ln["y"]]
    with pytest.raises(AssertionError):
        check_fig1(fig1, res["experiments"]["fig1"]["config"])
    fig2a = json.loads((out / "fig2a.plot.json").read_text())
    for ln in _lines(fig2a):
        if ln["label"].startswith("closed form"):
            ln["x"] = [ln["x"][0]] + [v * 0.97 for v in ln["x"][1:]]  # steps moved off the σᵢ
    with pytest.raises(AssertionError):
        check_fig2a(fig2a)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_report_screenshot_and_embedded_figures(report, tmp_path):
    """Chromium renders the report (screenshot) and the figure data it parsed from the page pass the checks."""
    out, res = report
    shot = tmp_path / "index.png"
    _chromium(tmp_path, out / "index.html", f"--screenshot={shot}", "--window-size=1280,3000",
              "--hide-scrollbars")
    import matplotlib.image

    img = matplotlib.image.imread(shot)
    assert img.shape[0] >= 1000 and img.shape[1] >= 1000
    ink = np.any(img[..., :3] < 0.5, axis=2).mean()
    assert 0.005 < ink < 0.5, f"screenshot has {ink:.2%} dark pixels"
    dom = _chromium(tmp_path, out / "index.html", "--dump-dom").stdout
    assert 'data-images-loaded="all"' in dom and 'data-image-count="2"' in dom
    embedded = {name: json.loads(text) for name, text in _PLOT_DATA.findall(dom)}
    assert set(embedded) == {"fig1", "fig2a"}
    assert embedded["fig1"] == json.loads((out / "fig1.plot.json").read_text())
    assert check_fig1(embedded["fig1"], res["experiments"]["fig1"]["config"]) == 2
    assert check_fig2a(embedded["fig2a"]) == res["experiments"]["fig2a"]["config"]["K"]
