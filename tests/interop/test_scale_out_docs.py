"""docs/scale_out.md runs top to bottom in an empty folder: its python blocks in one namespace, a block
that starts with ``# file: NAME`` written to NAME, and each ``$ python NAME`` line of a console block run as
a process (DDP on two processes), stopped with all its children if it outlives its time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
dist = pytest.importorskip("torch.distributed")

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale_out.md"
BLOCK = re.compile(r"^```(python|console)\n(.*?)^```", re.DOTALL | re.MULTILINE)
FILE = re.compile(r"\A# file: (\S+)\n")
TIMEOUT = 120  # seconds for one script; the DDP run takes a few


def _blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def _run_script(name: str, cwd: Path) -> str:
    """``python name`` in its own process group, so that a timeout stops the DDP workers too."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.Popen(
        [sys.executable, name], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (nothing, normally)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 0, f"python {name} failed:\n{out}"
    return out


def test_page_has_the_steps():
    kinds = [kind for kind, _ in _blocks()]
    assert kinds.count("python") >= 5 and "console" in kinds
    assert any(FILE.match(body) for _, body in _blocks())


@pytest.mark.skipif(not dist.is_gloo_available(), reason="torch.distributed's gloo backend is not available")
def test_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "scale_out_doc"}
    ran: list[str] = []
    for number, (kind, body) in enumerate(_blocks(), start=1):
        if kind == "console":
            for line in body.splitlines():
                command = line.removeprefix("$ ").split()
                if command[:1] == ["python"] and (tmp_path / command[1]).exists():
                    ran.append(_run_script(command[1], tmp_path))
            continue
        match = FILE.match(body)
        if match:
            (tmp_path / match.group(1)).write_text(body, encoding="utf-8")
            continue
        exec(compile(body, f"{DOC.name} python block {number}", "exec"), namespace)  # noqa: S102
    assert len(ran) == 1, "ddp_train.py was not run"
    epochs = re.findall(r"epoch (\d): mean loss on rank 0 (\d\.\d+)", ran[0])
    assert [e for e, _ in epochs] == ["1", "2"], ran[0]
    printed = capsys.readouterr().out
    before = float(re.search(r"prototype: test accuracy (\d\.\d+)", printed).group(1))
    after = float(re.search(r"after DDP: test accuracy (\d\.\d+)", printed).group(1))
    assert after > 0.9 and after >= before - 0.02, printed  # two more epochs on two processes did not hurt
    assert (tmp_path / "trained.pt").exists() and (tmp_path / "model.onnx").exists()
    assert "served 4 requests in one batch of 77 rows" in printed
