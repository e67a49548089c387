"""Peak resident memory of 50 MLP-784 training steps (batch 128), each framework in a fresh subprocess.

The child reports its peak RSS (``VmHWM``), so the number includes the interpreter and the library itself:
that is what a user's training script costs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.harness import Result, blas_threads

CASE = "peak RSS, 50 MLP-784 training steps (fresh process)"
TARGET = 1.0
STEPS = 50
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _peak_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux: ``VmHWM`` from /proc (``ru_maxrss`` would include the parent's memory from before ``exec``).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def child(framework: str) -> None:
    """Run the steps with ``framework`` ("chainrule" or "torch") and print ``{"peak_mb": ...}``."""
    import numpy as np

    from benchmarks.bench_nn import _chainrule_nn, _classification_step, _data, _mlp

    x0, y0 = _data((128, 784), 10)
    if framework == "torch":
        import torch

        torch.set_num_threads(blas_threads()[0])
        nn, F, optim = torch.nn, torch.nn.functional, torch.optim
        x, y = torch.from_numpy(x0), torch.from_numpy(y0)
    else:
        import chainrule as cr

        found = _chainrule_nn()
        if found is None:
            print(json.dumps({"error": "nn not available"}))
            return
        nn, F, optim = found
        x, y = cr.tensor(x0), cr.tensor(y0)
    step, _ = _classification_step(_mlp(nn, (784, 512, 512, 10)), F, optim, x, y)
    start = _peak_mb()
    for _ in range(STEPS):
        loss = step()
    print(
        json.dumps({"peak_mb": _peak_mb(), "after_import_mb": start, "loss": float(np.asarray(loss.item()))})
    )


def _measure(framework: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
    code = f"from benchmarks.bench_memory import child; child({framework!r})"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=_ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> list[Result]:
    ours = _measure("chainrule")
    if "error" in ours:
        return [
            Result(
                case=CASE,
                chainrule_ms=float("nan"),
                anchor="torch",
                anchor_ms=None,
                target=TARGET,
                skipped=ours["error"],
            )
        ]
    try:
        theirs: dict | None = _measure("torch")
    except subprocess.CalledProcessError:
        theirs = None
    note = f"training adds chainrule {ours['peak_mb'] - ours['after_import_mb']:.1f} MB"
    if theirs:
        note += f", torch {theirs['peak_mb'] - theirs['after_import_mb']:.1f} MB"
    return [
        Result(
            case=CASE,
            chainrule_ms=ours["peak_mb"],
            anchor="torch",
            anchor_ms=theirs["peak_mb"] if theirs else None,
            target=TARGET,
            unit="MB",
            note=note,
            extra={"chainrule": ours, "torch": theirs},
        )
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
