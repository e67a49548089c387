"""The docs site's hooks (docs/mkdocs_hooks.py): MathJax is the site's own copy, no page loads from a CDN.

The full check (build the site, open it in Chromium) is ``make docs-check``; these are the fast parts.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("mkdocs", reason="the docs hooks need the [docs] extra")

ROOT = Path(__file__).resolve().parents[2]


def _hooks():
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "docs" / "mkdocs_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(dest: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(dest_uri=dest, src_uri=dest.replace("/index.html", ".ipynb")))


def _mathjax_url() -> str:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return re.search(r'custom_mathjax_url:\s*"([^"]+)"', text)[1]


def test_mathjax_url_is_the_sites_own_copy() -> None:
    hooks = _hooks()
    page = (
        '<!-- Load mathjax -->\n<script src="@mathjax@/MathJax.js?config=X"> </script>\n'
        '<script type="module">\n  const d = document.querySelectorAll(".jp-Mermaid > pre.mermaid");\n'
        '  const mermaid = (await import("https://cdnjs.cloudflare.com/ajax/libs/mermaid/11/mermaid.esm.min.mjs"));'
        "\n</script>\n<p>text</p>"
    )
    out = hooks.on_post_page(page, _page("tutorials/01_scalar_engine/index.html"), {})
    assert '<script src="../../assets/mathjax/MathJax.js?config=X">' in out
    assert "cdnjs" not in out and "mermaid" not in out and "<p>text</p>" in out
    assert 'webFont: "STIX-Web"' in out  # MathJax is told which fonts the copy has
    out = hooks.on_post_page(page, _page("index.html"), {})
    assert '<script src="assets/mathjax/MathJax.js?config=X">' in out


@pytest.mark.parametrize(
    "tag",
    [
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>',
        '<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/highlight.js/11.8.0/x.min.css">',
        '<script src="//unpkg.com/x.js"></script>',
    ],
)
def test_a_page_that_loads_from_another_host_fails_the_build(tag: str) -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="would load from another host"):
        _hooks().on_post_page(f"<html>{tag}</html>", _page("explain/index.html"), {})


def test_links_to_other_sites_are_fine() -> None:
    page = '<a href="https://www.mkdocs.org/">MkDocs</a> <a href="https://pytorch.org/docs/">torch</a>'
    assert _hooks().on_post_page(page, _page("index.html"), {}) == page


def test_the_configured_mathjax_files_are_shipped() -> None:
    """mkdocs.yml's MathJax configuration file must exist in the copied package (else a 404 offline)."""
    pytest.importorskip("jupyter_server_mathjax", reason="needs the [docs] extra")
    url = _mathjax_url()
    assert url.startswith("@mathjax@/MathJax.js?config=")
    static = _hooks()._mathjax_source()
    for name in url.split("config=")[1].split(","):
        assert (static / "config" / f"{name}.js").is_file(), name
    assert (static / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").is_dir()


def test_post_build_copies_mathjax_and_pygments_css(tmp_path: Path) -> None:
    pytest.importorskip("jupyter_server_mathjax", reason="needs the [docs] extra")
    _hooks().on_post_build({"site_dir": str(tmp_path)})
    assert (tmp_path / "assets" / "mathjax" / "MathJax.js").is_file()
    assert ".codehilite" in (tmp_path / "css" / "pygments.css").read_text()
