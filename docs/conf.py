"""Sphinx configuration of the deepdual documentation.

Build (no network needed; the gallery in ``examples/`` is executed)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Open ``docs/_build/html/index.html``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # the examples solve tiny problems: one BLAS thread is fastest

import deepdual  # noqa: E402

project = "deepdual"
author = "the deepdual developers"
copyright = "2026, the deepdual developers"
release = version = deepdual.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "offline_mathjax",  # docs/_ext: MathJax served from the site, no CDN
    "api_page",  # docs/_ext: api.rst written from deepdual.__all__
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/sg_execution_times.rst"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "code"
pygments_style = "sphinx"

# -- API reference: autosummary + numpydoc --------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters section says it, once
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Gallery: every example is executed at each build --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/_",
    "within_subsection_order": "gallery_order.ExampleOrder",  # docs/_ext/gallery_order.py
    "doc_module": ("deepdual",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"deepdual": None},
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 0,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "plot_gallery": "True",
    "write_computation_times": True,
}

# -- HTML ---------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"deepdual {release}"
html_static_path = ["_static"]
html_js_files = ["page-check.js"]
html_css_files = ["deepdual.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting_started": []}
html_context = {"default_mode": "light"}


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """scikit-learn adds ``set_fit_request`` & co. to every estimator; their docstrings point into
    scikit-learn's own docs, so they are left out here."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)
