"""Turn experiment records into ``results.json`` and a self-contained ``index.html``.

The page needs no server: plots are PNG files next to it (``<img src="NAME.png">``), styles are inline,
and a small script sets ``data-images-loaded`` on ``<body>`` once every image has loaded (used by the
browser test). The numbers each plot draws (``NAME.plot.json``, written by the runner) are embedded
under its image as ``<script type="application/json" class="plot-data" data-experiment="NAME">``, so
that what a figure shows can be checked from the page itself. ``results.json`` starts with
``"format": "deepdual-report"`` and the page carries
``<meta name="generator" content="deepdual reproduce">``, so that a later run knows the folder is ours.
"""

from __future__ import annotations

import datetime
import html
import json
import os

from ._io import atomic_write, atomic_write_json, environment

__all__ = ["write_report", "render_html", "claims_table", "read_plot_data", "REPORT_FORMAT", "REPORT_VERSION",
           "PLOT_FORMAT"]

#: ``results.json`` of a report carries ``"format": REPORT_FORMAT, "version": REPORT_VERSION``.
REPORT_FORMAT = "deepdual-report"
REPORT_VERSION = 1
#: ``NAME.plot.json`` (the numbers a plot draws) carries ``"format": PLOT_FORMAT``.
PLOT_FORMAT = "deepdual-plot-data"
#: Largest plot-data file embedded in the page.
MAX_PLOT_BYTES = 8 * 2**20

_STATUS_COLORS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "SKIPPED": "#9a6700"}


def claims_table(records) -> list[dict]:
    """All claim rows, each tagged with its experiment name, in record order."""
    rows = []
    for rec in records:
        for c in rec.get("claims", []):
            rows.append({"experiment": rec.get("name"), **c})
    return rows


def _summary(rows) -> dict:
    out = {"PASS": 0, "FAIL": 0, "SKIPPED": 0}
    for r in rows:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def _esc(x) -> str:
    return html.escape("" if x is None else str(x))


def read_plot_data(out: str, name) -> dict | None:
    """The plot data ``out/NAME.plot.json`` written by the runner, or None when absent, too large or not ours."""
    from ._io import loads_strict

    path = os.path.join(out, f"{name}.plot.json")
    try:
        if os.path.getsize(path) > MAX_PLOT_BYTES:
            return None
        with open(path, "rb") as fh:
            data = loads_strict(fh.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == PLOT_FORMAT else None


def _plot_script(name, data) -> str:
    if data is None:
        return ""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False).replace("</", "<\\/")
    return f"<script type='application/json' class='plot-data' data-experiment='{_esc(name)}'>{text}</script>"


def render_html(records, meta: dict, plot_data: dict | None = None) -> str:
    """The report page as a string (``plot_data``: experiment name → its plot data, embedded)."""
    plot_data = plot_data or {}
    rows = claims_table(records)
    summary = _summary(rows)
    env = meta.get("environment", {})
    pk = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items() if v)
    trs = []
    for r in rows:
        color = _STATUS_COLORS.get(r["status"], "#000")
        trs.append(
            f"<tr class='claim' data-status='{_esc(r['status'])}'><td>{_esc(r['id'])}</td><td>{_esc(r['claim'])}</td>"
            f"<td>{_esc(r['measured'])}</td><td>{_esc(r['threshold'])}</td>"
            f"<td style='color:{color};font-weight:bold'>{_esc(r['status'])}</td><td>{_esc(r['reason'])}</td></tr>")
    sections = []
    for rec in records:
        imgs = "".join(f"<img src='{_esc(p)}' alt='{_esc(rec.get('name'))} plot'>" for p in rec.get("plots", []))
        err = f"<pre class='err'>{_esc(rec['error'])}</pre>" if rec.get("error") else ""
        sections.append(
            f"<section id='{_esc(rec.get('name'))}'><h2>{_esc(rec.get('title', rec.get('name')))}</h2>"
            f"<p>{_esc(rec.get('description', ''))}</p>{err}{imgs}"
            f"{_plot_script(rec.get('name'), plot_data.get(rec.get('name')))}"
            f"<p class='meta'>computed in {float(rec.get('seconds') or 0):.1f} s; config hash "
            f"{_esc(rec.get('config_hash'))}</p></section>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="deepdual reproduce"><title>deepdual reproduce — Ergen &amp; Pilanci (2021)</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }}
.meta {{ color: #666; font-size: 0.85em; }} .err {{ color: #cf222e; white-space: pre-wrap; }}
</style></head>
<body data-images-loaded="pending">
<h1>Revealing the Structure of Deep Neural Networks via Convex Duality — reproduction</h1>
<p>Generated by <code>deepdual reproduce</code> ({_esc(meta.get('size'))} configuration) on {_esc(meta.get('date'))};
seed {_esc(meta.get('seed'))}, device {_esc(meta.get('device'))}; machine: {_esc(env.get('platform'))},
{_esc(env.get('cpu_count'))} CPU(s); Python {_esc(env.get('python'))}; {_esc(pk)}.
Wall time {float(meta.get('wall_seconds') or 0):.0f} s (experiments reused from an earlier run:
{_esc(', '.join(meta.get('reused', [])) or 'none')}).</p>
<h2 id="claims">Claims</h2>
<p id="summary">{summary['PASS']} PASS, {summary['FAIL']} FAIL, {summary['SKIPPED']} SKIPPED.</p>
<table id="claims-table"><thead><tr><th>Result</th><th>Claim</th><th>Measured</th><th>Threshold</th><th>Status</th>
<th>Reason</th></tr></thead><tbody>
{chr(10).join(trs)}
</tbody></table>
{chr(10).join(sections)}
<script>
(function () {{
  function check() {{
    var imgs = Array.prototype.slice.call(document.images);
    var done = imgs.every(function (im) {{ return im.complete; }});
    if (!done) {{ return false; }}
    var ok = imgs.every(function (im) {{ return im.naturalWidth > 0; }});
    document.body.setAttribute('data-images-loaded', ok ? 'all' : 'broken');
    document.body.setAttribute('data-image-count', String(imgs.length));
    return true;
  }}
  if (!check()) {{
    window.addEventListener('load', check);
    var t = setInterval(function () {{ if (check()) {{ clearInterval(t); }} }}, 50);
  }}
}})();
</script>
</body></html>
"""


def write_report(out: str, records, meta: dict | None = None) -> dict:
    """Write ``out/results.json`` and ``out/index.html`` from experiment records; return the results dict."""
    meta = dict(meta or {})
    meta.setdefault("date", datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
    meta["environment"] = environment()
    rows = claims_table(records)
    results = {"format": REPORT_FORMAT, "version": REPORT_VERSION, **meta, "summary": _summary(rows),
               "claims": rows, "experiments": {r.get("name"): r for r in records}}
    os.makedirs(out, exist_ok=True)
    atomic_write_json(os.path.join(out, "results.json"), results, indent=1)
    plots = {r.get("name"): read_plot_data(out, r.get("name")) for r in records if r.get("plots")}
    atomic_write(os.path.join(out, "index.html"), render_html(records, meta, plots))
    return results
