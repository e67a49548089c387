"""The floor measurement computes what the benchmarked step computes (else its numbers would mean nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import floors


def test_numpy_only_step_computes_chainrules_gradients() -> None:
    import chainrule as cr

    a = cr.tensor(np.ones(8, np.float32), requires_grad=True)
    b = cr.tensor(np.ones(8, np.float32), requires_grad=True)
    (a * b + a).sum().backward()
    gx, gy = floors.tiny_step("numpy")()
    np.testing.assert_array_equal(gx, a.grad.numpy())
    np.testing.assert_array_equal(gy, b.grad.numpy())


@pytest.mark.parametrize("name", floors.STEPS)
def test_each_step_runs_from_the_command_line(name: str) -> None:
    if name == "torch":
        pytest.importorskip("torch")
    floors.main(["--step", name, "2"])


def test_no_valgrind_means_no_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(floors.shutil, "which", lambda _: None)
    assert floors.instructions_per_step("numpy", 1) is None
