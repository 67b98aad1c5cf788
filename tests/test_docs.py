"""The documentation: the README's Python runs and prints what it says, the API reference lists every public
name, and the built site (Sphinx, gallery executed) renders in headless Chromium with its images.

The site is built by ``.ci/run`` before pytest (``python -m sphinx -W --keep-going -b html docs docs/_build/html``,
then ``DEEPDUAL_DOCS_BUILD=docs/_build/html``): this file then checks that build and fails if it is missing.
Without that variable the test builds the site itself into ``docs/_build/html`` (incrementally, under a lock, so
a second run costs seconds) and skips, saying why, only when Sphinx or Chromium is not installed.
"""

from __future__ import annotations

import fcntl
import importlib.util
import io
import math
import os
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import deepdual

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
BUILD_ENV = "DEEPDUAL_DOCS_BUILD"
BUILD_COMMAND = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS)]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
#: The pages that must render with their images: the index, a user-guide page, an API page, a gallery page.
PAGES = ["index.html", "user_guide/closed_forms.html", "generated/deepdual.closed_form.html",
         "auto_examples/plot_convex_relu_2d.html"]
#: Pages with mathematics, which MathJax (served from the site, no network) must typeset.
MATH_PAGES = ["index.html", "user_guide/closed_forms.html", "auto_examples/plot_convex_relu_2d.html"]
PUBLIC = sorted(n for n in deepdual.__all__ if not (n.startswith("__") and n.endswith("__")))


# ------------------------------------------------------------------------------------------------- README
def readme_examples(text: str) -> list[tuple[str, str | None]]:
    """``(code, expected_output)`` for every fenced ``python`` block of a markdown text.

    The expected output is the next fenced block without a language (or ``text``) when the prose between the
    two blocks contains "prints"; otherwise ``None``.
    """
    fence = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in fence.finditer(text)]
    out = []
    for i, (lang, body, _, end) in enumerate(blocks):
        if lang != "python":
            continue
        expected = None
        if i + 1 < len(blocks):
            nlang, nbody, nstart, _ = blocks[i + 1]
            if nlang in ("", "text") and "prints" in text[end:nstart]:
                expected = nbody
        out.append((body, expected))
    return out


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def same_output(expected: str, got: str) -> str | None:
    """``None`` when ``got`` matches ``expected``, else why not.

    The text between numbers must be equal (whitespace aside). Numbers of magnitude >= 1e-3 must agree to
    1e-3 relative; smaller ones are gaps and rounding errors, which vary with the BLAS: they must stay
    small, at most 10 times the printed value (or 1e-12).
    """
    def words(s):
        return [" ".join(part.split()) for part in _NUMBER.split(s)]

    if words(expected) != words(got):
        return f"text differs:\nexpected:\n{expected}\ngot:\n{got}"
    for e, g in zip(_NUMBER.findall(expected), _NUMBER.findall(got)):
        a, b = float(e), float(g)
        ok = math.isclose(a, b, rel_tol=1e-3) if abs(a) >= 1e-3 else abs(b) <= max(10 * abs(a), 1e-12)
        if not ok:
            return f"printed {e}, measured {g}:\nexpected:\n{expected}\ngot:\n{got}"
    return None


def test_same_output_rule():
    assert same_output("P* = 75.765212 gap = 1.8e-09\n", "P* = 75.765212  gap = 1.9e-09") is None
    assert same_output("P* = 75.765212\n", "P* = 75.9") is not None
    assert same_output("gap = 1.8e-09", "gap = 3.0e-07") is not None
    assert same_output("Theorem 2.4 (4, 4)", "Theorem 2.3 (4, 4)") is not None


def test_readme_has_a_checked_example():
    examples = readme_examples(README.read_text(encoding="utf-8"))
    assert examples, "README.md has no ```python block"
    assert any(expected for _, expected in examples), "no README example says what it prints"


def test_readme_python_blocks_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything an example writes lands here
    namespace: dict = {"__name__": "__readme__"}
    for i, (code, expected) in enumerate(readme_examples(README.read_text(encoding="utf-8"))):
        buf = io.StringIO()
        with redirect_stdout(buf):
            exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
        if expected is not None:
            why = same_output(expected, buf.getvalue())
            assert why is None, f"README.md python block {i + 1}: {why}"


# ------------------------------------------------------------------------------------------------- API page
def _api_page():
    spec = importlib.util.spec_from_file_location("deepdual_docs_api_page", DOCS / "_ext" / "api_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _autosummary_entries(rst: str) -> list[str]:
    names = []
    for block in re.findall(r"^\.\. autosummary::\n((?:   .*\n|\n)+)", rst, re.M):
        names += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith(":")]
    return names


def test_every_public_name_has_an_api_entry():
    """The API page is written from ``deepdual.__all__`` at each build: every public name has exactly one
    autosummary entry (and so a generated page), and ``__version__`` is mentioned."""
    rst = _api_page().render(deepdual.__all__, deepdual._WHERE)
    entries = _autosummary_entries(rst)
    assert sorted(entries) == PUBLIC, (set(PUBLIC) ^ set(entries))
    assert "__version__" in rst


def test_api_sections_name_only_real_modules():
    modules = {m for _, _, mods in _api_page().SECTIONS for m in mods}
    assert modules <= set(deepdual._EXPORTS), modules - set(deepdual._EXPORTS)


def test_a_new_public_name_lands_under_other():
    page = _api_page()
    titles = [title for title, _, _ in page.sections(["closed_form", "brand_new"], {"closed_form": "theorems"})]
    assert titles == ["Closed forms", "Other"]


# ------------------------------------------------------------------------------------------------- built site
def _have_sphinx() -> str | None:
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def _built_site() -> Path:
    """The built site: the one named by ``DEEPDUAL_DOCS_BUILD`` (CI), else an incremental build of our own."""
    given = os.environ.get(BUILD_ENV)
    if given:
        site = Path(given) if Path(given).is_absolute() else ROOT / given
        assert (site / "index.html").is_file(), f"{BUILD_ENV}={given} but {site}/index.html does not exist"
        return site
    missing = _have_sphinx()
    if missing:
        pytest.skip(f"Sphinx toolchain not installed ({missing} missing): pip install -e '.[docs]'")
    site = DOCS / "_build" / "html"
    site.parent.mkdir(parents=True, exist_ok=True)
    with open(site.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time (pytest-xdist workers, other checkouts' runs)
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.run(BUILD_COMMAND + [str(site)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=1800)
    assert proc.returncode == 0, f"docs build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return site


@pytest.fixture(scope="module")
def site() -> Path:
    return _built_site()


def _dump_dom(url: str, profile: Path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--allow-file-access-from-files", "--virtual-time-budget=10000",
           "--dump-dom", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


def _root_attrs(dom: str) -> dict[str, str]:
    m = re.search(r"<html\b([^>]*)>", dom)
    assert m, dom[:300]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))


@pytest.mark.slow
def test_built_site_has_a_page_for_every_public_name(site):
    missing = [n for n in PUBLIC if not (site / "generated" / f"deepdual.{n}.html").is_file()]
    assert not missing, f"no API page in {site} for {missing}"
    gallery = sorted(p.stem for p in (site / "auto_examples").glob("plot_*.html"))
    assert len(gallery) >= 8, gallery
    for stem in gallery:  # each example ran and drew at least one figure
        assert list((site / "_images").glob(f"sphx_glr_{stem}_*.png")), f"{stem} produced no figure"


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_its_images_in_chromium(site, page, tmp_path):
    path = site / page
    assert path.is_file(), f"{path} was not built"
    dom = _dump_dom(path.as_uri(), tmp_path / "profile")
    attrs = _root_attrs(dom)
    assert attrs.get("data-images-loaded") == "all", (page, attrs)
    assert int(attrs["data-images-count"]) >= 1, (page, attrs)
    if page in MATH_PAGES:
        assert attrs.get("data-math") == "done", (page, attrs)  # MathJax from the site typeset the math
        assert "<mjx-container" in dom


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_page_check_reports_a_broken_image(site, tmp_path):
    """The marker the page test reads does turn "broken" when an image is missing."""
    page = tmp_path / "broken.html"
    page.write_text(f'<html><body><img src="missing.png"><script src="{(site / "_static" / "page-check.js").as_uri()}">'
                    "</script></body></html>", encoding="utf-8")
    attrs = _root_attrs(_dump_dom(page.as_uri(), tmp_path / "profile"))
    assert attrs.get("data-images-loaded") == "broken", attrs
    assert "missing.png" in attrs.get("data-images-broken", "")
