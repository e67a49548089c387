"""``--version``, ``--help`` for every verb, ``python -m chainrule`` and the console-script entry point."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule

VERBS = ["demo", "train", "explain", "graph", "bench"]


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"chainrule {chainrule.__version__}"
    assert chainrule.__version__ == importlib.metadata.version("chainrule")


def test_help_lists_every_verb(cli):
    result = cli("--help")
    assert result.returncode == 0, result.stderr
    for verb in VERBS:
        assert verb in result.stdout


def test_no_verb_prints_help(cli):
    result = cli()
    assert result.returncode == 0
    assert "usage: chainrule" in result.stdout


@pytest.mark.parametrize("verb", VERBS)
def test_verb_help(cli, verb):
    result = cli(verb, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: chainrule {verb}")
    assert result.stderr == ""


def test_unknown_verb_is_one_line(cli, user_error):
    user_error(cli("fly"), "'fly'")


def test_unknown_option_is_one_line(cli, user_error):
    user_error(cli("explain", "--example", "chain", "--colour"), "--colour")


def test_console_script_entry_point():
    """pyproject's ``chainrule = "_chainrule_cli:main"`` (outside the package, so a Ctrl-C while NumPy is
    imported is guarded too) points at a callable taking argv."""
    (entry,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "chainrule"]
    assert entry.value == "_chainrule_cli:main"
    main = entry.load()
    assert main(["explain", "--example", "scalar"]) == 0


def test_main_returns_two_on_user_error(tmp_path: Path, capsys):
    from chainrule.cli import main

    assert main(["graph", "--example", "chain", "--out", str(tmp_path / "g.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: ") and "g.txt" in err and err.count("\n") == 1


SCRIPT = Path(sys.executable).parent / "chainrule"


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed next to this Python")
def test_installed_script_runs():
    result = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("chainrule ")


SITE = '''
import importlib.abc, os, signal, sys


class Interrupt(importlib.abc.MetaPathFinder):
    """Send Ctrl-C while the command line is being imported (before main can run)."""

    def find_spec(self, name, path=None, target=None):
        if name == "chainrule.cli.train":
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, Interrupt())
'''


def test_ctrl_c_while_the_command_line_is_imported_is_one_line(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SITE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--epochs", "1", "--out", "run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "chainrule: interrupted" and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


NUMPY_SITE = SITE.replace('"chainrule.cli.train"', '"numpy"')


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed next to this Python")
def test_ctrl_c_while_numpy_is_imported_by_the_script_is_one_line(tmp_path):
    """Before: the script's entry point imported the chainrule package (NumPy first) outside any guard."""
    (tmp_path / "sitecustomize.py").write_text(NUMPY_SITE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [str(SCRIPT), "train", "--epochs", "1", "--out", "run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "chainrule: interrupted" and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
