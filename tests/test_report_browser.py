"""Load the report in headless Chromium: the claims table is present and every image loads."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from deepdual.report import write_report

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
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
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--allow-file-access-from-files",
           "--virtual-time-budget=5000", "--dump-dom", (out / "index.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert 'id="claims-table"' in dom
    assert "SKIPPED (no --cifar-dir)" in dom
    assert 'data-images-loaded="all"' in dom, dom[:500]

    # A broken image is detected.
    os.remove(out / "a.png")
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert 'data-images-loaded="broken"' in dom
