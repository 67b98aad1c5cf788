"""Serve MathJax from the built site, so the pages render their mathematics without a network.

Sphinx's ``sphinx.ext.mathjax`` points at a CDN by default. This extension copies the MathJax 3 files that
the ``sphinx-mathjax-offline`` package (PyPI, in the ``docs`` extra) ships — only what the CHTML output of
TeX input needs — into ``_static/mathjax`` and points ``mathjax_path`` there. It fails the build when the
package is missing instead of falling back to a CDN.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

#: Files and folders of MathJax 3 copied into the site (the rest, ~20 MB of SVG output and speech rules,
#: is not used by ``tex-chtml.js``).
PARTS = ("tex-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y", "adaptors")


def _mathjax_dir() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")  # the package's folder name has dashes
    if spec is None or spec.origin is None:
        raise ExtensionError("MathJax for offline pages comes from the `sphinx-mathjax-offline` package: "
                             'pip install -e ".[docs]".')
    return Path(spec.origin).parent / "static" / "mathjax"


def _copy(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    src, dst = _mathjax_dir(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, dirs_exist_ok=True)
        else:
            (dst / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, dst / part)


def _configure(app, config):
    _mathjax_dir()  # fail early, before reading any page
    config.mathjax_path = "mathjax/tex-chtml.js"


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
