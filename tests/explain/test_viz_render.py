"""``chainrule.viz.render`` (.dot / pictures through Graphviz) and ``plot_history`` (PNG via matplotlib)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from chainrule import examples, viz

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_render_dot_writes_the_dot_text(tmp_path):
    out = viz.render(examples.chain(), tmp_path / "chain.dot")
    assert out.read_text(encoding="utf-8") == viz.to_dot(examples.chain())


def test_render_picture_without_dot_program_uses_matplotlib(tmp_path, monkeypatch):
    pytest.importorskip("grandalf")
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    out = viz.render(examples.chain(), tmp_path / "chain.png")
    assert out == tmp_path / "chain.png" and out.read_bytes().startswith(PNG_MAGIC)


def test_render_picture_goes_through_graphviz(tmp_path, monkeypatch):
    graphviz = pytest.importorskip("graphviz")
    calls = []

    def fake_pipe(self, format=None, **kwargs):
        calls.append((self.source, format))
        return b"<svg>fake</svg>"

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Source, "pipe", fake_pipe)
    out = viz.render(examples.scalar(), tmp_path / "graph.svg")
    assert out.read_bytes() == b"<svg>fake</svg>"
    assert calls and calls[0][1] == "svg" and calls[0][0].startswith("digraph chainrule {")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_render_png_with_real_dot(tmp_path):
    assert viz.render(examples.two_layer(), tmp_path / "g.png").read_bytes().startswith(PNG_MAGIC)


def test_render_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="unsupported format 'txt'"):
        viz.render(examples.chain(), tmp_path / "g.txt")


HISTORY = {
    "train_loss": [0.9, 0.5, 0.3, 0.25],
    "test_loss": [1.0, 0.6, 0.4, 0.38],
    "train_acc": [0.5, 0.7, 0.85, 0.9],
    "test_acc": [0.45, 0.65, 0.8, 0.82],
}


def test_plot_history_writes_a_png(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    backend = matplotlib.get_backend()
    fig = viz.plot_history(HISTORY, tmp_path / "curves.png", title="demo")
    data = (tmp_path / "curves.png").read_bytes()
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    assert matplotlib.get_backend() == backend  # the global backend is left alone
    assert viz.plot_training_curves is viz.plot_history


def test_plot_history_accepts_per_epoch_records(tmp_path):
    pytest.importorskip("matplotlib")
    records = [
        {"epoch": i, "train_loss": l, "train_accuracy": a} for i, (l, a) in enumerate([(1, 0.5), (0.5, 0.8)])
    ]
    viz.plot_history(records, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes().startswith(PNG_MAGIC)


def test_plot_history_rejects_empty_histories(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="empty"):
        viz.plot_history({}, tmp_path / "x.png")
    with pytest.raises(TypeError, match=r"a list of dicts or chainrule\.scalar\.train's History"):
        viz.plot_history(3, tmp_path / "x.png")


def test_optional_libraries_are_imported_lazily():
    code = (
        "import sys, chainrule, chainrule.viz, chainrule.explain, chainrule.examples\n"
        "chainrule.explain(chainrule.examples.chain())\n"
        "chainrule.viz.to_dot(chainrule.examples.two_layer())\n"
        "heavy = ('matplotlib', 'graphviz', 'grandalf', 'tqdm', 'IPython', 'torch')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
