"""``chainrule demo --quick``: every section runs, prints what it shows, and writes its pictures."""

from __future__ import annotations

import importlib.util
import math
import sys
from xml.etree import ElementTree

PNG = b"\x89PNG\r\n\x1a\n"


def test_demo_quick(cli, tmp_path):
    result = cli("demo", "--quick", "--out", "tour", "--no-progress")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    headings = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split(".")[0] for h in headings] == ["== 1", "== 2", "== 3", "== 4", "== 5"]
    # 1. y = 3*x1 + 5*x2: the derivatives are the coefficients
    assert "dy/dx1 = 3 " in out and "dy/dx2 = 5 " in out
    # 2. seed 001's chain at 0.5: d/dx (exp(x^2))^2 = 4x exp(2x^2)
    assert repr(4 * 0.5 * math.exp(2 * 0.5**2))[:15] in out
    assert "3.297442541400256" in out
    # 3. the two-layer net, checked numerically and (when installed) against PyTorch
    assert "every step agrees" in out
    if importlib.util.find_spec("torch") is not None:
        assert "equal to PyTorch" in out
    else:
        assert "torch is not installed" in out
    # 4. training reports a test accuracy
    assert "test accuracy:" in out
    # 5. the pictures
    assert (tmp_path / "tour" / "graph.dot").read_text().startswith("digraph")
    if importlib.util.find_spec("grandalf") and importlib.util.find_spec("matplotlib"):  # no Graphviz needed
        svg = ElementTree.parse(tmp_path / "tour" / "graph.svg").getroot()
        assert "W1" in {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert (tmp_path / "tour" / "curves.png").read_bytes().startswith(PNG)
    assert not [p for p in (tmp_path / "tour").iterdir() if p.name.startswith(".")]  # no temporary files


def test_demo_errors(cli_many, user_errors, tmp_path):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    cases = [
        (["--out", "file.txt/tour"], ["file.txt"]),
        (["--epochs", "-1"], ["--epochs", "'-1'"]),
        (["--epochs", "many"], ["'many'"]),
    ]
    user_errors(cases, cli_many([["demo", *args] for args, _ in cases]))
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_two_layer_section_without_torch(monkeypatch, capsys):
    """Without PyTorch the demo says so instead of failing."""
    from chainrule.cli import demo

    monkeypatch.setitem(sys.modules, "torch", None)  # as if not installed: find_spec and import fail
    demo.two_layer()
    out = capsys.readouterr().out
    assert "torch is not installed" in out and "every step agrees" in out
