"""One real Jupyter kernel (the venv's own ipykernel) shared by the notebook tests of a worker.

Starting a kernel and importing chainrule, matplotlib and torch in it is most of a notebook's cost, so the
kernel is started once per test session (per xdist worker) and each notebook starts from ``%reset -f``: a
clean namespace (a notebook that forgets an import still fails) with the modules already loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nbclient", reason="the notebook tests need the [notebook] extra")
pytest.importorskip("ipykernel", reason="the notebook tests need the [notebook] extra")

import nbformat  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
CELL_TIMEOUT_S = 60  # per cell; the slowest (the CNN's training loop) takes a few seconds


class Kernel:
    """A started kernel that runs notebooks one after the other, each from a clean namespace."""

    def __init__(self, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the inline backend, as in Jupyter
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env=env)
        self.cwd = cwd

    def run(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        """Execute ``nb`` in place (raises nbclient's CellExecutionError on the first failing cell)."""
        reset = nbformat.v4.new_code_cell("%reset -f")
        nb.cells.insert(0, reset)
        client = NotebookClient(
            nb,
            km=self.km,
            timeout=CELL_TIMEOUT_S,
            allow_errors=False,
            resources={"metadata": {"path": self.cwd}},
        )
        try:
            client.execute()
        finally:
            nb.cells.remove(reset)
        return nb

    def shutdown(self) -> None:
        self.km.shutdown_kernel(now=True)


def outputs_of(cell: Any) -> tuple[str, dict[str, Any]]:
    """A code cell's printed text (stdout and stderr) and the merged ``data`` of its rich outputs."""
    text, data = [], {}
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            text.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            data.update(out["data"])
            if "text/plain" in out["data"]:
                text.append(out["data"]["text/plain"])
    return "".join(text), data
