"""Run the command line the way a user does: ``python -m chainrule ...`` in a fresh process and folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
def cli_many(tmp_path: Path) -> Callable[..., list[subprocess.CompletedProcess]]:
    """``cli_many([args, args, ...])``: run several command lines at once (they are mostly start-up time)."""

    def run(arg_lists: list[list[str]], cwd: Path | None = None, timeout: float = 300) -> list:
        def one(args: list[str]) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "chainrule", *map(str, args)],
                cwd=cwd or tmp_path,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=_env(),
            )

        with ThreadPoolExecutor(max_workers=6) as pool:
            return list(pool.map(one, arg_lists))

    return run


def check_user_errors(
    cases: list[tuple[list[str], list[str]]], results: list[subprocess.CompletedProcess]
) -> None:
    """Every result is a one-line user error naming its needles; reports every failing case at once."""
    failures = []
    for (args, needles), result in zip(cases, results):
        try:
            assert_user_error(result, *needles)
        except AssertionError as error:
            failures.append(f"{args}: {error}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def user_error() -> Callable[..., str]:
    """The check every bad argument must pass: ``user_error(result, "needle", ...)``."""
    return assert_user_error


@pytest.fixture
def user_errors() -> Callable[..., None]:
    """``user_errors(cases, results)`` with ``cases = [(args, needles), ...]``."""
    return check_user_errors


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
