"""`pip install chainrule` alone (NumPy + safetensors): demo and train run to the end, saying what they skip.

The default suite builds a bare interpreter environment (``venv --without-pip``) that sees only NumPy,
safetensors and chainrule's sources, so no optional library (matplotlib, tqdm, torch, scikit-learn...) can
leak in from the development venv; the deep suite installs the built wheel with pip into a fresh venv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import chainrule
from chainrule import _optional

SRC = Path(chainrule.__file__).resolve().parent.parent
CORE = ("numpy", "numpy.libs", "safetensors")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CHAINRULE"))}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python that can import NumPy, safetensors and chainrule, and nothing else outside the stdlib."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = _python(venv)
    target = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    here = Path(sysconfig.get_paths()["purelib"])
    for name in CORE:
        if (here / name).exists():
            (target / name).symlink_to(here / name)
    (target / "chainrule_src.pth").write_text(f"{SRC}\n", encoding="utf-8")
    return python


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=_env()
    )


def test_the_bare_environment_has_no_extra(bare_python, tmp_path):
    probe = "import importlib.util as u; print([m for m in {mods} if u.find_spec(m)])".format(
        mods=["matplotlib", "tqdm", "torch", "sklearn", "graphviz", "onnx"]
    )
    result = _run(bare_python, "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    result = _run(
        bare_python, "-c", "import chainrule, numpy, safetensors; print(chainrule.__file__)", cwd=tmp_path
    )
    assert result.returncode == 0 and str(SRC) in result.stdout, result.stderr


def test_demo_runs_to_the_end_and_says_what_it_skips(bare_python, tmp_path):
    # Before: the demo stopped at section 4 (the digits needed scikit-learn).
    result = _run(bare_python, "-m", "chainrule", "demo", "--quick", "--out", "tour", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert [line[:4] for line in out.splitlines() if line.startswith("== ")] == [
        "== 1",
        "== 2",
        "== 3",
        "== 4",
        "== 5",
    ]
    assert "test accuracy:" in out and "done in" in out
    head = out.split("== 1.")[0]  # the notes come before any work
    assert "curves.png skipped: matplotlib is not installed (pip install 'chainrule[viz]')" in head
    assert "torch is not installed (pip install 'chainrule[torch]')" in head
    assert (tmp_path / "tour" / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / "tour" / "curves.png").exists()
    assert "Traceback" not in result.stderr


def test_train_digits_saves_and_says_no_curves(bare_python, tmp_path):
    # Before: train trained fully, then failed to save (safetensors was an extra) and left an empty folder.
    result = _run(
        bare_python,
        "-m",
        "chainrule",
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    note = [i for i, line in enumerate(lines) if "curves.png skipped: matplotlib is not installed" in line]
    first_epoch = next(i for i, line in enumerate(lines) if line.lstrip().startswith("epoch"))
    assert note and note[0] < first_epoch  # said before training
    assert (tmp_path / "run" / "model.safetensors").stat().st_size > 0
    assert (tmp_path / "run" / "metrics.json").exists()
    assert not (tmp_path / "run" / "curves.png").exists()
    # and the checkpoint loads back in the same bare environment
    check = "import chainrule as cr; print(sorted(cr.load('run/model.safetensors')))"
    loaded = _run(bare_python, "-c", check, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz is installed here")
def test_graph_pictures_without_graphviz_stop_before_work_naming_the_target(bare_python, tmp_path):
    """Before: the error came from inside the writer and named its temporary file."""
    result = _run(
        bare_python, "-m", "chainrule", "graph", "--example", "chain", "--out", "g.svg", cwd=tmp_path
    )
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("chainrule: error: writing g.svg needs matplotlib and grandalf")
    assert "tmp" not in line and "write g.dot" in line
    assert list(tmp_path.iterdir()) == []


def test_saving_is_core_and_every_extra_is_declared():
    """Before: safetensors was the 'io' extra, so a plain install trained and then could not save."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = sorted(re.split(r"[<>=!~ ]", dep)[0] for dep in project["dependencies"])
    assert core == ["numpy", "safetensors"]
    extras = project["optional-dependencies"]
    assert extras["io"] == [] and extras["data"] == []  # kept so older install lines still work
    for module, extra in _optional.EXTRAS.items():  # every hint names an extra that exists
        assert extra in extras, (module, extra)
    package_data = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert "digits.npz" in package_data["setuptools"]["package-data"]["chainrule.datasets"]


def test_optional_checks_find_modules_without_importing_them(monkeypatch):
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    assert _optional.available("numpy")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    assert not _optional.available("matplotlib")
    assert not _optional.available("no_such_package.sub")
    with pytest.raises(ImportError, match=r"curves needs matplotlib.*pip install 'chainrule\[viz\]'"):
        _optional.require("matplotlib", "viz", "curves")
    assert _optional.missing_note("matplotlib", "curves.png") == (
        "curves.png skipped: matplotlib is not installed (pip install 'chainrule[viz]')"
    )
    assert _optional.missing_note("numpy", "anything") is None
    assert _optional.install_hint("somepkg") == "pip install somepkg"


def test_demo_notes_name_each_missing_extra(monkeypatch):
    from chainrule.cli import demo

    for name in ("torch", "matplotlib", "tqdm"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(demo.sys.stderr, "isatty", lambda: True, raising=False)
    notes = demo.missing_extras(show_progress=True)
    joined = "\n".join(notes)
    for extra in ("torch", "viz", "progress"):
        assert f"chainrule[{extra}]" in joined


def test_import_chainrule_loads_no_optional_library(tmp_path):
    code = (
        "import sys, chainrule, chainrule.datasets, chainrule.nn, chainrule.optim, chainrule.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'matplotlib', 'tqdm', 'torch', 'sklearn', 'safetensors', 'onnx', 'cupy'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.deep
def test_the_wheel_ships_the_digits_and_needs_only_numpy_and_safetensors(tmp_path):
    """setuptools includes package data only when told: check the built wheel itself (deep: a build takes
    seconds, and writes build/ in the checkout)."""
    pytest.importorskip("setuptools")
    build = [sys.executable, "-m", "pip", "wheel", str(SRC.parent), "--no-deps", "--no-build-isolation", "-q"]
    result = subprocess.run([*build, "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("chainrule-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        digits = archive.read("chainrule/datasets/digits.npz")
    assert {"chainrule/datasets/digits.npz", "chainrule/datasets/DIGITS_LICENSE.txt"} <= names
    assert 20_000 < len(digits) < 60_000
    core = sorted(
        line.split()[1]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and ";" not in line
    )
    assert [c.split(">")[0] for c in core] == ["numpy", "safetensors"]


@pytest.mark.deep
def test_pip_install_of_the_wheel_alone_runs_demo_and_train(tmp_path):
    """The real thing: build the wheel, pip-install it (and its 2 dependencies) in a fresh venv, run both."""
    wheels = tmp_path / "wheels"
    root = SRC.parent
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(root),
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(wheels),
    ]
    subprocess.run(build, check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("chainrule-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = _python(venv)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    for args in (["demo", "--quick", "--out", "tour"], ["train", "--epochs", "1", "--out", "run"]):
        result = _run(python, "-m", "chainrule", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "model.safetensors").exists()
