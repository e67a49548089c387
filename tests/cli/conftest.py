"""Run the command line the way a user does: ``python -m chainrule ...`` in a fresh process and folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CHAINRULE_DEBUG", None)
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "100"
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.fixture
def cli(tmp_path: Path) -> Runner:
    """``cli("train", "--epochs", "1", cwd=...)`` → CompletedProcess (text, stdout and stderr captured)."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "chainrule", *map(str, args)],
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_env(),
        )

    return run


@pytest.fixture
def user_error() -> Callable[..., str]:
    """The check every bad argument must pass: ``user_error(result, "needle", ...)``."""
    return assert_user_error


def assert_user_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit status 2, nothing but one ``chainrule: error: ...`` line on stderr, naming every needle."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("chainrule: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line
