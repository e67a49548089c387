"""mkdocs hooks: the site serves its own MathJax, and no built page may load anything from another host.

A reader may be offline, so the tutorials' math (``$...$`` in Markdown cells, and the explain reports'
HTML) is typeset by the MathJax 2 that the pip package ``jupyter-server-mathjax`` ships, copied into the
site at ``assets/mathjax/``. mkdocs.yml gives mkdocs-jupyter the URL ``@mathjax@/MathJax.js?...``; each
page gets ``@mathjax@`` replaced by the relative path from that page to the copy.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

MATHJAX_TOKEN = "@mathjax@"
# That package ships MathJax's HTML-CSS output with the STIX-Web fonts only (no TeX fonts, no image
# fonts): tell MathJax so, or it asks for font files the copy does not have. Read at MathJax's start-up.
_FONT_CONFIG = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {
  availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>"""
MATHJAX_DIR = "assets/mathjax"
PYGMENTS_CSS = "css/pygments.css"  # the Markdown pages' code colours (codehilite), in place of highlight.js

# nbconvert's template always emits a Mermaid loader that imports from a CDN when a page has Mermaid
# diagrams. The tutorials have none; the loader is dropped so that no page names another host.
_MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>', re.S
)
# What would make a browser fetch from another host: src/href/import of an absolute http(s) URL.
_REMOTE = re.compile(
    r"""(?:\bsrc\s*=\s*|\bhref\s*=\s*(?=["'][^"']*\.(?:css|js)\b)|\bimport\s*\(\s*|url\()["']?(https?:)?//"""
)


def _mathjax_source() -> Path:
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise PluginError("the tutorials need MathJax: pip install 'chainrule[docs]'") from None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (static / "MathJax.js").is_file():
        raise PluginError(f"jupyter-server-mathjax has no MathJax.js in {static}")
    return static


def on_post_page(output: str, page: Any, config: Any) -> str:
    if MATHJAX_TOKEN in output:
        here = posixpath.dirname(page.file.dest_uri)
        output = output.replace(MATHJAX_TOKEN, posixpath.relpath(MATHJAX_DIR, here or "."))
        output = output.replace("<!-- Load mathjax -->", "<!-- Load mathjax -->" + _FONT_CONFIG, 1)
        output = _MERMAID_LOADER.sub("", output)
    remote = _REMOTE.search(output)
    if remote:
        start = max(remote.start() - 80, 0)
        raise PluginError(
            f"{page.file.src_uri} would load from another host: ...{output[start : remote.end() + 80]}..."
        )
    return output


def on_post_build(config: Any) -> None:
    from pygments.formatters import HtmlFormatter

    css = Path(config["site_dir"]) / PYGMENTS_CSS
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(HtmlFormatter(style="default").get_style_defs(".codehilite"), encoding="utf-8")
    target = Path(config["site_dir"]) / MATHJAX_DIR
    if target.exists():
        shutil.rmtree(target)
    # The localisations are the only part MathJax's TeX-AMS_CHTML-full configuration never loads here.
    shutil.copytree(_mathjax_source(), target, ignore=shutil.ignore_patterns("localization"))
